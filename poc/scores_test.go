package poc

import (
	"context"
	"slices"
	"testing"
)

// TestMeasureScores checks the score samples' shape and that the real
// matcher separates the synthetic fingers: genuine scores above impostor
// ones.
func TestMeasureScores(t *testing.T) {
	sc, err := MeasureScores(context.Background(), 3, 2000, 200, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Impostor) < 2000 || len(sc.Impostor)%10 != 0 || len(sc.Genuine) != 200 {
		t.Fatalf("%d impostor and %d genuine scores: want at least 2000 (whole tens) and 200", len(sc.Impostor), len(sc.Genuine))
	}
	imp, gen := slices.Clone(sc.Impostor), slices.Clone(sc.Genuine)
	slices.Sort(imp)
	slices.Sort(gen)
	if gen[len(gen)/2] <= imp[len(imp)*99/100] {
		t.Errorf("median genuine score %.4f not above the 99th percentile of impostor scores %.4f", gen[len(gen)/2], imp[len(imp)*99/100])
	}
	again, err := MeasureScores(context.Background(), 3, 2000, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Impostor, sc.Impostor) || !slices.Equal(again.Genuine, sc.Genuine) {
		t.Error("the same seed gave other scores (or the worker count changed them)")
	}
}
