package fingerprint_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestDirectionConvention compares our minutiae with those a commercial
// extractor (SecuGen, the ISO records of openafis_secugen_iso) found in the
// same FVC2002 DB1 images: minutiae paired by position must have the same
// direction, which checks that ours follow the ISO/IEC 19794-2 convention
// (endings point into the ridge, bifurcations between the fork's branches).
// Those records were made from images resized to 300 x 400 without
// keeping the aspect ratio, so the positions and angles are mapped through
// that resize first.
func TestDirectionConvention(t *testing.T) {
	imgDir := shareddata.Dir(t, "fingerprints/fvc2002_DB1_B")
	isoDir := shareddata.Dir(t, "fingerprints/openafis_secugen_iso/fvc2002/DB1_B")
	pairs, off := 0, 0
	for _, name := range []string{"101_1", "102_1", "103_1", "104_1", "105_1", "106_1", "107_1", "108_1"} {
		ours, img := extractFile(t, filepath.Join(imgDir, name+".tif"), 500)
		theirs := isoTemplate(t, filepath.Join(isoDir, name+".iso"))
		sx := float64(theirs.Width) / float64(img.Rect.Dx())
		sy := float64(theirs.Height) / float64(img.Rect.Dy())
		for _, m := range ours.Minutiae {
			x, y := float64(m.X)*sx, float64(m.Y)*sy
			a := math.Atan2(math.Sin(m.Angle)*sy, math.Cos(m.Angle)*sx)
			best, bd := -1, 6.0
			for j, n := range theirs.Minutiae {
				if d := math.Hypot(float64(n.X)-x, float64(n.Y)-y); d < bd {
					best, bd = j, d
				}
			}
			if best < 0 {
				continue
			}
			pairs++
			d := math.Mod(math.Abs(theirs.Minutiae[best].Angle-a), 2*math.Pi)
			if d > math.Pi {
				d = 2*math.Pi - d
			}
			if d >= math.Pi/6 {
				off++
			}
		}
	}
	t.Logf("%d minutiae paired by position, %d differ in direction by 30° or more", pairs, off)
	if pairs < 100 || off*10 > pairs {
		t.Errorf("%d pairs, %d with directions 30° or more apart", pairs, off)
	}
}
