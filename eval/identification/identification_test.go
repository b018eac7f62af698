package identification

import (
	"context"
	"slices"
	"testing"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestFVCDefaults runs two real FVC sets through a node with the default
// configuration: the counts follow the protocol (impression 1 of every
// other finger enrolled, impressions 2-8 of every finger searched), no
// non-mated search ends in a hit, and most mated ones do.
func TestFVCDefaults(t *testing.T) {
	sets := []Set{
		{Dir: shareddata.Dir(t, "fingerprints/fvc2002_DB1_B"), DPI: 500},
		{Dir: shareddata.Dir(t, "fingerprints/fvc2004_DB3_B"), DPI: 512},
	}
	res, err := Run(context.Background(), sets, Options{DataDir: t.TempDir(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res.Rates)
	if res.GalleryIdentities != 10 || res.MatedSearches != 70 || res.NonmatedSearches != 70 || len(res.Sets) != 2 {
		t.Fatalf("%d identities, %d mated and %d non-mated searches in %d sets; want 10, 70, 70, 2",
			res.GalleryIdentities, res.MatedSearches, res.NonmatedSearches, len(res.Sets))
	}
	if res.Tail != engine.FVCFingerTail.Source || res.FalseHits != 0 || res.FPIRHigh <= 0 {
		t.Errorf("tail %s: %d false hits, FPIR interval [%v, %v]", res.Tail, res.FalseHits, res.FPIRLow, res.FPIRHigh)
	}
	if res.FNIR > 0.2 || res.FNIRLow > res.FNIR || res.FNIRHigh < res.FNIR {
		t.Errorf("FNIR %v [%v, %v]: want at most 0.2 inside its interval", res.FNIR, res.FNIRLow, res.FNIRHigh)
	}
	// With a tail lighter than real images' (the default's scores × 0.6;
	// the synthetic tail served until issue 14 made synthetic impostors
	// score like real ones), the same searches make false hits: the
	// evaluation sees what the tail does.
	light := engine.FVCFingerTail
	light.Points = slices.Clone(light.Points)
	for i := range light.Points {
		light.Points[i].Score *= 0.6
	}
	light.Mean *= 0.6
	res, err = Run(context.Background(), sets, Options{DataDir: t.TempDir(), Tail: &light, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.FalseHits == 0 {
		t.Errorf("synthetic tail on real images: no false hit in %d non-mated searches", res.NonmatedSearches)
	}
}
