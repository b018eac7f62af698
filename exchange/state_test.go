package exchange

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/sqlite"
)

func openState(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "gb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func releaseLeaves(t *testing.T, p *partnership, caseID string) int {
	t.Helper()
	return countLeaves(t, p, audit.KindRelease, caseID)
}

// TestStateSurvivesRestart: with its state in the store, a responder
// started again on the same store and log still refuses a replay inside
// the signature window, counts the day's quota from where it was, delivers
// a release confirmed before the restart exactly once, and keeps a
// suspension. Without a store, the same replay is accepted after a restart
// (the control).
func TestStateSurvivesRestart(t *testing.T) {
	bg := context.Background()
	for _, durable := range []bool{true, false} {
		var st store.ExchangeState
		if durable {
			st = openState(t)
		}
		p := newPartnershipState(t, func(a *Agreement) { a.Searches[Tenprint] = SearchRule{DailyQuota: 3} }, st)
		rng := rand.New(rand.NewPCG(5, 13))
		people := p.enrol(rng, 3, "GBR")
		gb := Address{"GB", "gb-node"}

		// A hand-sealed request, sent once before the restart.
		fingers, _ := encodeProbe(freshProbe(rng))
		raw, _, _ := NewSealer(p.us, p.clock.Now).Seal(MsgStep1Request, p.agreement.ID, gb,
			Step1Request{Purpose: BorderScreening, LegalBasis: "b", Officer: "o-1", SearchType: Tenprint, Fingers: fingers})
		hc := p.rawClient(p.us.TLS)
		if st, _, body := p.post(t, hc, PathStep1, append([]byte(nil), raw...)); st != http.StatusOK {
			t.Fatalf("first send: HTTP %d %s", st, body)
		}
		// A hit, a disclosure request and the examiner's confirmation;
		// the requester has not polled yet.
		res, err := p.client.Step1(bg, border(probeOf(t, people[1])))
		if err != nil || res.Outcome != "hit" {
			t.Fatalf("step 1: %+v, %v", res, err)
		}
		caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		p.confirmFirst(t, caseID)

		p.restart(t)

		st1, _, _ := p.post(t, hc, PathStep1, append([]byte(nil), raw...))
		if durable && st1 != http.StatusUnauthorized {
			t.Fatalf("replay after restart: HTTP %d, want 401 replayed", st1)
		}
		if !durable {
			if st1 != http.StatusOK {
				t.Fatalf("control: replay after an in-memory restart: HTTP %d, want 200 (the hole the store closes)", st1)
			}
			continue
		}
		// Quota 3: two used before the restart, so one more passes, then 429.
		if _, err := p.client.Step1(bg, border(freshProbe(rng))); err != nil {
			t.Fatalf("third search of the day: %v", err)
		}
		_, err = p.client.Step1(bg, border(freshProbe(rng)))
		if rf := refusalReason(t, err); rf.Reason != ReasonQuota {
			t.Fatalf("fourth search after restart: %v, want %s", err, ReasonQuota)
		}
		status, rel, err := p.client.Status(bg, caseID)
		if err != nil || status != StatusReleased || rel == nil || rel.Fields["names"] == "" {
			t.Fatalf("status after restart: %s %+v %v, want the release", status, rel, err)
		}
		status, rel, err = p.client.Status(bg, caseID)
		if err != nil || status != StatusDelivered || rel != nil {
			t.Fatalf("second poll: %s %+v %v, want delivered and nothing", status, rel, err)
		}
		if n := releaseLeaves(t, p, caseID); n != 1 {
			t.Fatalf("%d release leaves for case %s, want 1", n, caseID)
		}
		if err := p.resp.Suspend(p.agreement.ID, "dpa-1"); err != nil {
			t.Fatal(err)
		}
		p.restart(t)
		p.clock.Advance(24 * 60 * 60 * 1e9) // a new day: the quota is no reason to refuse
		_, err = p.client.Step1(bg, border(probeOf(t, people[2])))
		if rf := refusalReason(t, err); rf.Reason != ReasonSuspended {
			t.Fatalf("search after suspension and restart: %v, want %s", err, ReasonSuspended)
		}
	}
}

// TestReleaseExactlyOnceAfterCrashInDelivery: a node stopped after it wrote
// a case's release leaf but before its store recorded the delivery (the
// store says delivering) delivers the release on the next poll, proving the
// leaf it wrote, and writes no second one.
func TestReleaseExactlyOnceAfterCrashInDelivery(t *testing.T) {
	bg := context.Background()
	st := openState(t)
	p := newPartnershipState(t, nil, st)
	people := p.enrol(rand.New(rand.NewPCG(7, 1)), 2, "GBR")
	res, err := p.client.Step1(bg, border(probeOf(t, people[0])))
	if err != nil {
		t.Fatal(err)
	}
	caseID, _, err := p.client.RequestDisclosure(bg, res.Reference, nil, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	p.confirmFirst(t, caseID)

	// What deliver does before the crash: the store says delivering, the
	// release leaf is written.
	cs, err := st.Cases(bg)
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases in the store: %d, %v", len(cs), err)
	}
	var c caseState
	if err := json.Unmarshal(cs[0].Data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusReleased || c.Release == nil {
		t.Fatalf("stored case after confirmation: %s, release %v", c.Status, c.Release)
	}
	c.Status = caseDelivering
	cs[0].Status, cs[0].Data = c.Status, must(json.Marshal(c))
	if err := st.PutCase(bg, cs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.log.Append(audit.Leaf{Time: p.clock.Now(), Kind: audit.KindRelease, Partner: "US", Agreement: p.agreement.ID,
		Case: caseID, Purpose: string(BorderScreening), Outcome: StatusReleased, Fields: []string{"names"}}); err != nil {
		t.Fatal(err)
	}
	p.restart(t)

	status, rel, err := p.client.Status(bg, caseID)
	if err != nil || status != StatusReleased || rel == nil {
		t.Fatalf("poll after the crash: %s %+v %v, want the release", status, rel, err)
	}
	if status, rel, _ = p.client.Status(bg, caseID); status != StatusDelivered || rel != nil {
		t.Fatalf("second poll: %s %+v", status, rel)
	}
	if n := releaseLeaves(t, p, caseID); n != 1 {
		t.Fatalf("%d release leaves, want 1", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
