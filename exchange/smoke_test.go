package exchange

import (
	"context"
	"math/rand/v2"
	"testing"
)

func TestStep1Step2RoundTrip(t *testing.T) {
	p := newPartnership(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	people := p.enrol(rng, 5, "GBR")
	ctx := context.Background()
	res, err := p.client.Step1(ctx, border(freshProbe(rng)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "no_hit" {
		t.Fatalf("fresh probe: %+v", res)
	}
	res, err = p.client.Step1(ctx, border(probeOf(t, people[2])))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "hit" || res.CandidateCount != 1 || res.Reference == "" {
		t.Fatalf("enrolled probe: %+v", res)
	}
	caseID, _, err := p.client.RequestDisclosure(ctx, res.Reference, nil, "cbp-officer-42")
	if err != nil {
		t.Fatal(err)
	}
	p.confirmFirst(t, caseID)
	st, rel, err := p.client.Status(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if st != StatusReleased || rel.Fields["names"] != people[2].fields["names"] {
		t.Fatalf("status %s release %+v", st, rel)
	}
	if len(p.client.Checkpoints()) == 0 {
		t.Fatal("client kept no checkpoints")
	}
}
