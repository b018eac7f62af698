package poc

import (
	"context"
	"testing"
)

// TestCheckExtrapolationSmall is `ebsp poc check-extrapolation` at test
// size: the false matches a direct 1:N run shows must fall within the
// interval the extrapolation from an independent calibration sample states.
func TestCheckExtrapolationSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("real matcher calls; skipped with -short")
	}
	res, err := CheckExtrapolation(context.Background(), CheckOptions{
		Seed: 11, Calibration: 10_000, GalleryPeople: 150, Probes: 20, Expected: 15,
		Progress: func(format string, a ...any) { t.Logf(format, a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		t.Logf("%d finger(s): threshold %.4f, %d pairs, predicted %.1f [%d, %d], observed %d", r.Fingers, r.Threshold, r.Pairs, r.Predicted, r.PredictedLow, r.PredictedHigh, r.Observed)
		if !r.Agree {
			t.Errorf("%d finger(s): observed %d false matches outside the predicted %d to %d", r.Fingers, r.Observed, r.PredictedLow, r.PredictedHigh)
		}
		if r.PredictedHigh == 0 {
			t.Errorf("%d finger(s): prediction interval [0, 0]: the check would not be a check", r.Fingers)
		}
	}
	if len(res.Rows) != 2 || res.TotalComparisons != 150*20*3 {
		t.Errorf("%d rows, %d comparisons: want 2 rows and %d", len(res.Rows), res.TotalComparisons, 150*20*3)
	}
}
