package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ebsp/ebsp/store"
)

// testExchangeState checks store.ExchangeState: every kind of state reads
// back as written and replaces what it replaces, a quota count never
// goes down, the first use of a nonce wins, and pruning drops only what
// is past.
func testExchangeState(t *testing.T, open Opener) {
	s, ok := open(t).(store.ExchangeState)
	if !ok {
		t.Fatal("the engine does not implement store.ExchangeState")
	}
	ctx := ctxT(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 123000, time.UTC)

	// Agreement status: last write wins.
	for _, susp := range []bool{true, false, true} {
		if err := s.SetAgreementStatus(ctx, store.AgreementStatus{Agreement: "US-GB", Suspended: susp, Actor: "dpa-1", Changed: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetAgreementStatus(ctx, store.AgreementStatus{Agreement: "US-DE", Actor: "ops-2", Changed: t0}); err != nil {
		t.Fatal(err)
	}
	st, err := s.AgreementStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AgreementStatus{{Agreement: "US-DE", Actor: "ops-2", Changed: t0}, {Agreement: "US-GB", Suspended: true, Actor: "dpa-1", Changed: t0}}
	if len(st) != 2 || st[0] != want[0] || st[1] != want[1] {
		t.Fatalf("AgreementStatuses = %+v, want %+v", st, want)
	}

	// Quotas: per day, raised by PutQuota, never lowered, pruned by day.
	for _, q := range []store.ExchangeQuota{
		{Agreement: "US-GB", Partner: "GB", SearchType: "tenprint", Day: "2026-02-28", Used: 7},
		{Agreement: "US-GB", Partner: "GB", SearchType: "tenprint", Day: "2026-03-01", Used: 1},
		{Agreement: "US-GB", Partner: "GB", SearchType: "tenprint", Day: "2026-03-01", Used: 2},
		{Agreement: "US-GB", Partner: "GB", SearchType: "tenprint", Day: "2026-03-01", Used: 1}, // lower: ignored
		{Agreement: "US-GB", Partner: "GB", SearchType: "latent", Day: "2026-03-01", Used: 5},
	} {
		if err := s.PutQuota(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := s.Quotas(ctx, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].SearchType != "latent" || qs[0].Used != 5 || qs[1].Used != 2 {
		t.Fatalf("Quotas(2026-03-01) = %+v", qs)
	}
	if err := s.PutQuota(ctx, store.ExchangeQuota{Agreement: "US-GB", Partner: "GB", SearchType: "tenprint", Day: "2026-03-01", Used: -1}); err == nil {
		t.Error("PutQuota accepted a negative count")
	}

	// Nonces: the first use wins; the same nonce from another sender is
	// another key.
	n1 := bytes.Repeat([]byte{1}, 16)
	for i, c := range []struct {
		sender string
		nonce  []byte
		exp    time.Time
		fresh  bool
	}{
		{"GB/gb-node", n1, t0.Add(2 * time.Minute), true},
		{"GB/gb-node", n1, t0.Add(3 * time.Minute), false},
		{"DE/de-node", n1, t0.Add(-time.Minute), true},
	} {
		fresh, err := s.RememberNonce(ctx, c.sender, c.nonce, c.exp)
		if err != nil || fresh != c.fresh {
			t.Fatalf("RememberNonce #%d = %v, %v; want %v", i, fresh, err, c.fresh)
		}
	}
	ns, err := s.Nonces(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Sender != "GB/gb-node" || !bytes.Equal(ns[0].Nonce, n1) || !ns[0].Expires.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Nonces(t0) = %+v", ns)
	}

	// Cases: upsert, list by id, delete.
	for _, c := range []store.ExchangeCase{
		{ID: "bb", Agreement: "US-GB", Status: "awaiting", Data: []byte(`{"a":1}`)},
		{ID: "aa", Agreement: "US-DE", Status: "queued", Data: []byte(`{}`)},
		{ID: "bb", Agreement: "US-GB", Status: "released", Data: []byte(`{"a":2}`)},
	} {
		if err := s.PutCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "aa" || cs[1].Status != "released" || string(cs[1].Data) != `{"a":2}` {
		t.Fatalf("Cases = %+v", cs)
	}
	if err := s.DeleteCase(ctx, "aa"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCase(ctx, "missing"); err != nil {
		t.Fatalf("DeleteCase(missing) = %v, want nil", err)
	}
	if cs, _ = s.Cases(ctx); len(cs) != 1 || cs[0].ID != "bb" {
		t.Fatalf("after DeleteCase: %+v", cs)
	}

	// Pruning drops expired nonces and past days only.
	if err := s.PruneExchange(ctx, t0, "2026-03-01"); err != nil {
		t.Fatal(err)
	}
	if ns, _ = s.Nonces(ctx, time.Time{}); len(ns) != 1 || ns[0].Sender != "GB/gb-node" {
		t.Fatalf("after prune, nonces = %+v", ns)
	}
	if qs, _ = s.Quotas(ctx, "2026-02-28"); len(qs) != 0 {
		t.Fatalf("after prune, 2026-02-28 quotas = %+v", qs)
	}
	if fresh, _ := s.RememberNonce(ctx, "DE/de-node", n1, t0.Add(time.Minute)); !fresh {
		t.Error("a pruned nonce is still held")
	}
}

// testEncounterIdentity checks store.EncounterFinder: an enrolled
// encounter names its identity; an unknown one is ErrNotFound.
func testEncounterIdentity(t *testing.T, open Opener) {
	s := open(t)
	f, ok := s.(store.EncounterFinder)
	if !ok {
		t.Fatal("the engine does not implement store.EncounterFinder")
	}
	e := SampleEnrolment()
	mustEnroll(t, s, e)
	if id, err := f.EncounterIdentity(ctxT(t), e.Encounter.ID); err != nil || id != e.Identity.ID {
		t.Fatalf("EncounterIdentity(%s) = %q, %v; want %q", e.Encounter.ID, id, err, e.Identity.ID)
	}
	if _, err := f.EncounterIdentity(ctxT(t), "no-such-encounter"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EncounterIdentity(unknown) = %v, want ErrNotFound", err)
	}
}
