package poc

import (
	"strings"
	"testing"
)

// TestDETDrawsOnlyObservedPoints: a threshold at which no false match (or
// no false non-match) was seen is not drawn, and the caption says it.
func TestDETDrawsOnlyObservedPoints(t *testing.T) {
	sc, err := SmallScenario()
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Scenario: sc, ImpostorScores: 1000, GenuineScores: 100, DET: []DETCurve{
		{Fingers: 1, Impostor: 1000, Genuine: 100, Points: []DETPoint{{0.1, 0.5, 0}, {0.2, 0.05, 0.01}, {0.3, 0.01, 0.05}, {0.4, 0.001, 0.2}}},
		{Fingers: 10, Impostor: 100, Genuine: 10, Points: []DETPoint{{0.1, 0.3, 0}, {0.2, 0.01, 0.1}, {0.3, 0, 0.2}, {0.4, 0, 0.3}}},
	}}
	var det *figure
	for _, f := range r.figures() {
		if f.ID == "det" {
			det = &f
		}
	}
	if det == nil {
		t.Fatal("no DET figure")
	}
	svg := string(det.SVG)
	// Only the points with both rates above zero are drawn: three of the
	// 1-finger curve (not its FNMR=0 point), one of the 10-finger curve
	// (not its FNMR=0 point nor its two FMR=0 points).
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Fatalf("%d polylines, want 2", n)
	}
	for i, pl := range strings.Split(svg, "<polyline")[1:] {
		pts := pl[strings.Index(pl, `points="`)+8:]
		pts = pts[:strings.Index(pts, `"`)]
		if n, want := len(strings.Fields(pts)), []int{3, 1}[i]; n != want {
			t.Errorf("curve %d draws %d points, want %d: %s", i, n, want, pts)
		}
	}
	for _, want := range []string{
		"1 finger: at its 1 loosest thresholds no false non-match was observed among 100 comparisons (rate below 0.01), with a false-match rate of 0.5 or more.",
		"10 fingers: at its 2 strictest thresholds no false match was observed among 100 comparisons (false-match rate below 0.01), with a false non-match rate of 20% or more; at its 1 loosest thresholds no false non-match was observed among 10 comparisons",
	} {
		if !strings.Contains(det.Caption, want) {
			t.Errorf("caption lacks %q:\n%s", want, det.Caption)
		}
	}
}
