package eval

import "testing"

// TestERC: four samples, the lowest-quality one (index 3) in the only
// failing genuine comparison; rejecting it removes the false non-match.
func TestERC(t *testing.T) {
	q := []float64{50, 60, 70, 10}
	pairs := []QualityPair{
		{0, 1, true, 0.9}, {2, 3, true, 0.1}, // genuine: one miss
		{0, 2, false, 0.2}, {0, 3, false, 0.05}, {1, 2, false, 0.15}, {1, 3, false, 0.12},
	}
	pts, err := ERC(q, pairs, 0.001, []float64{0, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if pts[0].FNMR != 0.5 || pts[0].Rejected != 0 || pts[0].Genuine != 2 {
		t.Errorf("no rejection: %+v, want FNMR 0.5 over 2 genuine", pts[0])
	}
	if pts[1].FNMR != 0 || pts[1].Rejected != 1 || pts[1].Genuine != 1 || pts[1].Impostor != 2 {
		t.Errorf("25%% rejected: %+v, want FNMR 0 over 1 genuine, 2 impostor", pts[1])
	}
	if _, err := ERC(q, pairs, 0.001, []float64{1}); err == nil {
		t.Error("rejecting everything: no error")
	}
	if _, err := ERC(q, []QualityPair{{0, 9, true, 1}}, 0.001, []float64{0}); err == nil {
		t.Error("pair outside the samples: no error")
	}
}
