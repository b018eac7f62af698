package poc

import (
	"context"
	"testing"
)

// TestQuotaRefusals runs the small scenario under a daily quota below the
// day's searches: every partner answers the first searches of the day and
// refuses the rest, and the model, the nodes' metrics and the partners'
// logs count the same refusals.
func TestQuotaRefusals(t *testing.T) {
	s := smallScenario(t)
	s.Agreement.DailyQuota = 10
	s.Extrapolation.ImpostorComparisons, s.Extrapolation.GenuineComparisons = 2000, 100
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := RunWith(context.Background(), s, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := (s.Border.Simulated - s.Agreement.DailyQuota) * len(s.Partners())
	for _, m := range rep.Models {
		if m.Model == ModelPrum && m.Refused != want {
			t.Errorf("prum: %d refused by quota, want %d", m.Refused, want)
		}
	}
	for _, a := range rep.Audit {
		if a.Requests != s.Agreement.DailyQuota || a.Refusals != s.Border.Simulated-s.Agreement.DailyQuota {
			t.Errorf("%s's log: %d requests, %d refusals: want %d and %d", a.State, a.Requests, a.Refusals, s.Agreement.DailyQuota, s.Border.Simulated-s.Agreement.DailyQuota)
		}
	}
	for _, ns := range rep.Nodes {
		if ns.State == s.Home || ns.Hub {
			continue
		}
		if got := ns.Decisions["hit"] + ns.Decisions["no_hit"]; got != int64(s.Agreement.DailyQuota) {
			t.Errorf("%s answered %d partner searches: want the quota, %d", ns.State, got, s.Agreement.DailyQuota)
		}
	}
}
