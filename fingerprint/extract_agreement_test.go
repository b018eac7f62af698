package fingerprint_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// agreementFloor is the least recall and precision, per set, of our
// minutiae against the commercial extractor's (see TestExtractAgreement):
// far below what is measured, so that it fails on a broken extraction, not
// on a change of policy. Measured: recall 0.71-0.90, precision 0.53-0.76
// (0.61-0.79 and 0.71-0.83 while filter.go still applied the spur, island
// and bridge rules).
const agreementFloor = 0.4

// TestExtractAgreement measures how far our minutiae agree with those a
// commercial extractor (SecuGen FDx SDK, the ISO/IEC 19794-2 records of
// openafis_secugen_iso) found in the same images: two minutiae agree when
// they lie within 10 px (at 500 ppi) and 30° of each other, paired one to
// one, nearest first. Recall is the fraction of the commercial minutiae we
// also find, precision the fraction of ours that it also found. Neither
// extractor is ground truth, but the two figures over hundreds of minutiae
// move much less from chance than an EER over 280 genuine pairs, which
// makes them a steady check that a change to the extraction finds the
// minutiae another extractor sees. Those records were made from images
// resized to 300 x 400 without keeping the aspect ratio, so positions and
// angles are mapped back through that resize first.
func TestExtractAgreement(t *testing.T) {
	sets := []struct {
		dir, iso string
		dpi      int
	}{
		{"fvc2002_DB1_B", "fvc2002/DB1_B", 500},
		{"fvc2002_DB2_B", "fvc2002/DB2_B", 569},
		{"fvc2002_DB3_B", "fvc2002/DB3_B", 500},
		{"fvc2004_DB2_B", "fvc2004/DB2_B", 500},
		{"fvc2004_DB3_B", "fvc2004/DB3_B", 512},
	}
	for _, s := range sets {
		imgDir := shareddata.Dir(t, filepath.Join("fingerprints", s.dir))
		isoDir := shareddata.Dir(t, filepath.Join("fingerprints/openafis_secugen_iso", s.iso))
		var paired, ours, theirs int
		for finger := 101; finger <= 110; finger++ {
			for _, imp := range []int{1, 5} {
				name := fmt.Sprintf("%d_%d", finger, imp)
				p, o, th := agreement(t, filepath.Join(imgDir, name+".tif"), filepath.Join(isoDir, name+".iso"), s.dpi)
				paired, ours, theirs = paired+p, ours+o, theirs+th
			}
		}
		recall := float64(paired) / float64(theirs)
		precision := float64(paired) / float64(ours)
		t.Logf("%s: ours %d, commercial %d, agreeing %d: recall %.3f, precision %.3f", s.dir, ours, theirs, paired, recall, precision)
		if recall < agreementFloor || precision < agreementFloor {
			t.Errorf("%s: recall %.3f, precision %.3f, want at least %.2f", s.dir, recall, precision, agreementFloor)
		}
	}
}

// agreement extracts the image and pairs its minutiae with the record's;
// it returns the pairs and the two counts.
func agreement(t *testing.T, imgPath, isoPath string, dpi int) (paired, ours, theirs int) {
	t.Helper()
	tpl, _ := extractFile(t, imgPath, dpi)
	ref := isoTemplate(t, isoPath)
	if ref.Width == 0 || ref.Height == 0 {
		t.Fatalf("%s: record without image size", isoPath)
	}
	// From the record's frame to ours (both have y down; angles y up).
	sx := float64(tpl.Width) / float64(ref.Width)
	sy := float64(tpl.Height) / float64(ref.Height)
	type point struct{ x, y, a float64 }
	pts := make([]point, len(ref.Minutiae))
	for j, n := range ref.Minutiae {
		pts[j] = point{float64(n.X) * sx, float64(n.Y) * sy, math.Atan2(math.Sin(n.Angle)*sy, math.Cos(n.Angle)*sx)}
	}
	// Greedy one-to-one pairing, nearest pair first.
	type cand struct {
		i, j int
		d    float64
	}
	var cands []cand
	for i, m := range tpl.Minutiae {
		for j, n := range pts {
			d := math.Hypot(n.x-float64(m.X), n.y-float64(m.Y))
			a := math.Mod(math.Abs(n.a-m.Angle), 2*math.Pi)
			if a > math.Pi {
				a = 2*math.Pi - a
			}
			if d < 10 && a < math.Pi/6 {
				cands = append(cands, cand{i, j, d})
			}
		}
	}
	for k := 1; k < len(cands); k++ { // insertion sort: a few hundred candidates
		for l := k; l > 0 && cands[l].d < cands[l-1].d; l-- {
			cands[l], cands[l-1] = cands[l-1], cands[l]
		}
	}
	usedA := make([]bool, len(tpl.Minutiae))
	usedB := make([]bool, len(pts))
	for _, c := range cands {
		if !usedA[c.i] && !usedB[c.j] {
			usedA[c.i], usedB[c.j] = true, true
			paired++
		}
	}
	return paired, len(tpl.Minutiae), len(pts)
}
