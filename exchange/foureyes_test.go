package exchange

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ebsp/ebsp/audit"
)

// Four eyes: under an agreement that asks for it, one examiner's
// confirmation releases nothing; the same examiner cannot confirm twice;
// a second examiner must confirm the same candidate, and only then are
// the fields released. Every step is a leaf, with the reason of a
// rejection.
func TestFourEyesNeedsTwoExaminers(t *testing.T) {
	p := newPartnership(t, func(a *Agreement) { a.FourEyes = true })
	const second, secondSecret = "gb-examiner-9", "another secret"
	p.resp.examiners = NewStaticExaminers(map[string]string{examinerID: examinerSecret, second: secondSecret})
	rng := rand.New(rand.NewPCG(9, 1))
	people := p.enrol(rng, 3, "GBR")
	res, err := p.client.Step1(bg, border(probeOf(t, people[0])))
	if err != nil {
		t.Fatal(err)
	}
	caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "cbp-officer-42")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.resp.DecideCase(bg, examinerID, examinerSecret, caseID, Decision{Confirm: true, Candidate: people[0].id}); err != nil {
		t.Fatal(err)
	}
	if st, rel, err := p.client.Status(bg, caseID); err != nil || st != StatusQueued || rel != nil {
		t.Fatalf("after one confirmation: %s %+v %v", st, rel, err)
	}
	if p.gallery.discl.Load() != 0 {
		t.Fatal("store read after one confirmation of a four-eyes case")
	}
	q, err := p.resp.Queue(second, secondSecret)
	if err != nil || len(q) != 1 || q[0].ConfirmedBy != examinerID || q[0].ConfirmedCandidate != people[0].id {
		t.Fatalf("queue after one confirmation: %+v %v", q, err)
	}
	if err := p.resp.DecideCase(bg, examinerID, examinerSecret, caseID, Decision{Confirm: true, Candidate: people[0].id}); err == nil {
		t.Fatal("the same examiner confirmed twice")
	}
	if err := p.resp.DecideCase(bg, second, secondSecret, caseID, Decision{Confirm: true, Candidate: "gb-id-999999"}); err == nil {
		t.Fatal("the second examiner confirmed another candidate")
	}
	if err := p.resp.DecideCase(bg, second, secondSecret, caseID, Decision{Confirm: true, Candidate: people[0].id}); err != nil {
		t.Fatal(err)
	}
	st, rel, err := p.client.Status(bg, caseID)
	if err != nil || st != StatusReleased || rel.Fields["names"] != people[0].fields["names"] {
		t.Fatalf("after two confirmations: %s %+v %v", st, rel, err)
	}

	// A rejection by the second examiner releases nothing.
	res, _ = p.client.Step1(bg, border(probeOf(t, people[1])))
	caseID, _, _ = p.client.RequestDisclosure(bg, res.Reference, nil, "cbp-officer-42")
	if err := p.resp.DecideCase(bg, examinerID, examinerSecret, caseID, Decision{Confirm: true, Candidate: people[1].id}); err != nil {
		t.Fatal(err)
	}
	if err := p.resp.DecideCase(bg, second, secondSecret, caseID, Decision{Reason: "not_a_code"}); err == nil {
		t.Fatal("accepted an unknown reason code")
	}
	if err := p.resp.DecideCase(bg, second, secondSecret, caseID, Decision{Reason: "minutiae_disagree"}); err != nil {
		t.Fatal(err)
	}
	if st, rel, err := p.client.Status(bg, caseID); err != nil || st != StatusRejected || rel != nil {
		t.Fatalf("after a rejection: %s %+v %v", st, rel, err)
	}
	var got []string
	for _, l := range p.leaves(t) {
		if l.Kind == audit.KindExaminer {
			got = append(got, l.Outcome+":"+l.Actor+":"+l.Reason)
		}
	}
	want := []string{"confirmed_first:" + examinerID + ":", "confirmed:" + second + ":",
		"confirmed_first:" + examinerID + ":", "rejected:" + second + ":minutiae_disagree"}
	if !slices.Equal(got, want) {
		t.Fatalf("examiner leaves:\n got %v\nwant %v", got, want)
	}
	if _, err := p.resp.Queue("intruder", "x"); !errors.Is(err, ErrNotExaminer) {
		t.Fatal(err)
	}
}
