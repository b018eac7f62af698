package audit

import (
	"testing"
	"time"
)

func TestStatistics(t *testing.T) {
	d1 := t0
	d2 := t0.Add(24 * time.Hour)
	leaves := []Leaf{
		{Time: d1, Kind: KindRequest, Partner: "GB"},
		{Time: d1, Kind: KindDecision, Partner: "GB", Outcome: OutcomeHit, Candidates: 1},
		{Time: d1, Kind: KindRequest, Partner: "GB"},
		{Time: d1, Kind: KindDecision, Partner: "GB", Outcome: OutcomeNoHit},
		{Time: d1, Kind: KindRefusal, Partner: "GB", Reason: "quota_exceeded"},
		{Time: d1, Kind: KindRefusal, Partner: "GB", Reason: "quota_exceeded"},
		{Time: d1, Kind: KindRefusal, Partner: "GB", Reason: "purpose_not_permitted"},
		{Time: d1, Kind: KindExaminer, Partner: "GB", Outcome: OutcomeConfirmed},
		{Time: d1, Kind: KindRelease, Partner: "GB", Fields: []string{"names"}},
		{Time: d2, Kind: KindExaminer, Partner: "GB", Outcome: OutcomeRejected},
		{Time: d2, Kind: KindRequest, Partner: "MX"},
		{Time: d2, Kind: KindExpiry, Partner: "MX"},
		{Time: d2, Kind: KindRetention, Count: 3},
	}
	rows, err := Statistics(leaves, Day)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (GB day 1, GB day 2, MX day 2): %+v", len(rows), rows)
	}
	gb1 := rows[0]
	if gb1.Partner != "GB" || gb1.Period != "2026-03-01" || gb1.Requests != 2 || gb1.Hits != 1 || gb1.NoHits != 1 ||
		gb1.Confirmed != 1 || gb1.Releases != 1 || gb1.Refusals["quota_exceeded"] != 2 || gb1.Refusals["purpose_not_permitted"] != 1 {
		t.Fatalf("GB day 1: %+v", gb1)
	}
	if rows[1].Rejected != 1 || rows[2].Partner != "MX" || rows[2].Expired != 1 || rows[2].Requests != 1 {
		t.Fatalf("rows %+v", rows[1:])
	}
	m, _ := Statistics(leaves, Month)
	if len(m) != 2 || m[0].Requests != 2 || m[0].Rejected != 1 {
		t.Fatalf("monthly %+v", m)
	}
	if _, err := Statistics(leaves, "week"); err == nil {
		t.Fatal("unknown period accepted")
	}
}
