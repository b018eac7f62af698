package fingerprint

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// extractSets are the shared FVC sets with their resolutions (PROVENANCE.md).
var extractSets = []struct {
	dir string
	dpi int
}{
	{"fvc2002_DB1_B", 500},
	{"fvc2002_DB2_B", 569},
	{"fvc2002_DB3_B", 500},
	{"fvc2004_DB2_B", 500},
	{"fvc2004_DB3_B", 512},
}

func extractLoad(t testing.TB, set, name string) *image.Gray {
	t.Helper()
	dir := shareddata.Dir(t, filepath.Join("fingerprints", set))
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := raster.Decode(data, 0)
	if err != nil {
		t.Fatalf("%s/%s: %v", set, name, err)
	}
	return img
}

// TestExtractFVC extracts two impressions of every shared set and checks
// the template is sane: a plausible number of minutiae, inside the image,
// angles in range, qualities set.
func TestExtractFVC(t *testing.T) {
	for _, s := range extractSets {
		for _, name := range []string{"101_1.tif", "105_3.tif"} {
			img := extractLoad(t, s.dir, name)
			tpl, err := Extract(img, s.dpi, nil)
			if err != nil {
				t.Errorf("%s/%s: %v", s.dir, name, err)
				continue
			}
			n := len(tpl.Minutiae)
			t.Logf("%s/%s: %d minutiae, quality %d", s.dir, name, n, tpl.Quality)
			if n < 10 || n > 100 {
				t.Errorf("%s/%s: %d minutiae, want 10 to 100", s.dir, name, n)
			}
			if tpl.DPI != 500 || tpl.Quality < 1 || tpl.Quality > 100 {
				t.Errorf("%s/%s: DPI %d quality %d", s.dir, name, tpl.DPI, tpl.Quality)
			}
			wantW := int(math.Round(float64(img.Rect.Dx()) * 500 / float64(s.dpi)))
			if s.dpi == 500 {
				wantW = img.Rect.Dx()
			}
			if tpl.Width != wantW {
				t.Errorf("%s/%s: width %d, want %d", s.dir, name, tpl.Width, wantW)
			}
			kinds := map[MinutiaType]int{}
			for _, m := range tpl.Minutiae {
				kinds[m.Type]++
				if m.X < 0 || m.Y < 0 || m.X >= tpl.Width || m.Y >= tpl.Height {
					t.Errorf("%s/%s: minutia %+v outside %dx%d", s.dir, name, m, tpl.Width, tpl.Height)
				}
				if m.Angle < 0 || m.Angle >= 2*math.Pi || m.Quality < 1 || m.Quality > 100 {
					t.Errorf("%s/%s: minutia %+v: angle or quality out of range", s.dir, name, m)
				}
			}
			if kinds[Ending] == 0 || kinds[Bifurcation] == 0 {
				t.Errorf("%s/%s: types %v, want both endings and bifurcations", s.dir, name, kinds)
			}
		}
	}
}

// TestExtractDeterministic checks that the same image gives the same
// template, and that a Transparency sees every stage without changing it.
func TestExtractDeterministic(t *testing.T) {
	img := extractLoad(t, "fvc2002_DB1_B", "102_2.tif")
	a, err := Extract(img, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Stage]any{}
	b, err := Extract(img, 500, &Options{Transparency: TransparencyFunc(func(s Stage, d any) { seen[s] = d })})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two extractions of one image differ")
	}
	for _, s := range []Stage{StageResampled, StageMask, StageOrientation, StageFrequency, StageEnhanced,
		StageBinary, StageSkeleton, StageRawMinutiae, StageQuality, StageMinutiae} {
		if seen[s] == nil {
			t.Errorf("stage %s not seen", s)
		}
	}
	if ms, _ := seen[StageMinutiae].([]Minutia); !reflect.DeepEqual(ms, a.Minutiae) {
		t.Errorf("stage minutiae differ from the template's")
	}
	raw, _ := seen[StageRawMinutiae].([]Minutia)
	if len(raw) <= len(a.Minutiae) {
		t.Errorf("%d raw minutiae, %d kept: the filter removed nothing", len(raw), len(a.Minutiae))
	}
	if f, _ := seen[StageOrientation].(*OrientationField); f == nil || len(f.Angle) != f.Cols*f.Rows {
		t.Errorf("orientation field malformed")
	}
}

// TestExtractRotated checks that rotating the image by 90° rotates the
// minutiae: most minutiae of the rotated image have a counterpart at the
// rotated position with the angle turned by 90°.
func TestExtractRotated(t *testing.T) {
	img := extractLoad(t, "fvc2002_DB1_B", "103_1.tif")
	a, err := Extract(img, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	rot := image.NewGray(image.Rect(0, 0, h, w))
	// Counter-clockwise by 90° (y up): pixel (x, y) goes to (y, w-1-x).
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			rot.Pix[(w-1-x)*h+y] = img.Pix[y*img.Stride+x]
		}
	}
	b, err := Extract(rot, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	for _, m := range a.Minutiae {
		x, y := m.Y, w-1-m.X
		for _, n := range b.Minutiae {
			if math.Hypot(float64(n.X-x), float64(n.Y-y)) <= 4 && minAngleDiff(n.Angle, m.Angle+math.Pi/2) < math.Pi/8 {
				matched++
				break
			}
		}
	}
	t.Logf("%d of %d minutiae found again after rotation (%d in the rotated image)", matched, len(a.Minutiae), len(b.Minutiae))
	if matched*10 < len(a.Minutiae)*6 {
		t.Errorf("only %d of %d minutiae survive a 90° rotation", matched, len(a.Minutiae))
	}
}

// TestExtractQualityOrder checks the sample quality ranks a good
// impression above a blurred copy of itself, and that noise and blank
// images are refused.
func TestExtractQualityOrder(t *testing.T) {
	img := extractLoad(t, "fvc2002_DB1_B", "101_1.tif")
	good, err := Extract(img, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A copy with heavy noise added: still a finger, but a poor one.
	rng := rand.New(rand.NewPCG(1, 2))
	noisy := image.NewGray(img.Rect)
	for i, v := range img.Pix {
		noisy.Pix[i] = clampByte(float64(v) + rng.NormFloat64()*70)
	}
	poor, err := Extract(noisy, 500, nil)
	if err == nil {
		t.Logf("good quality %d, noisy %d", good.Quality, poor.Quality)
		if poor.Quality >= good.Quality {
			t.Errorf("noisy copy has quality %d, the original %d", poor.Quality, good.Quality)
		}
	} else if !errors.Is(err, ErrNoFingerprint) {
		t.Errorf("noisy copy: %v", err)
	}

	pure := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range pure.Pix {
		pure.Pix[i] = uint8(rng.IntN(256))
	}
	if tpl, err := Extract(pure, 500, nil); err == nil && tpl.Quality >= good.Quality/2 {
		t.Errorf("white noise gave %d minutiae with quality %d", len(tpl.Minutiae), tpl.Quality)
	}
}

// TestExtractClarity checks the block clarity that minutia quality is
// read from: on an ideal ridge pattern (concentric rings of a 9 px period)
// nearly all of the grey-level variation is ridge profile, so clarity is
// near 1, and the same pattern under heavy noise scores well below it.
func TestExtractClarity(t *testing.T) {
	rings := image.NewGray(image.Rect(0, 0, 256, 256))
	noisy := image.NewGray(rings.Rect)
	rng := rand.New(rand.NewPCG(3, 4))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			r := math.Hypot(float64(x)-96, float64(y)-160)
			v := 128 + 80*math.Cos(2*math.Pi*r/9)
			rings.Pix[y*256+x] = clampByte(v)
			noisy.Pix[y*256+x] = clampByte(v + rng.NormFloat64()*80)
		}
	}
	meanClarity := func(img *image.Gray) float64 {
		var q *QualityField
		_, err := Extract(img, 500, &Options{Transparency: TransparencyFunc(func(s Stage, d any) {
			if s == StageQuality {
				q = d.(*QualityField)
			}
		})})
		if err != nil && !errors.Is(err, ErrNoFingerprint) {
			t.Fatal(err)
		}
		if q == nil {
			t.Fatal("no quality stage")
		}
		var s float64
		n := 0
		for _, v := range q.Clarity {
			if v > 0 {
				s += v
				n++
			}
		}
		return s / float64(max(n, 1))
	}
	clean, poor := meanClarity(rings), meanClarity(noisy)
	t.Logf("mean clarity: rings %.3f, rings with noise %.3f", clean, poor)
	if clean < 0.8 || clean > 1 {
		t.Errorf("clarity of an ideal ridge pattern %.3f, want 0.8 to 1", clean)
	}
	if poor > clean-0.2 {
		t.Errorf("clarity with noise %.3f, without %.3f: want at least 0.2 lower", poor, clean)
	}
}

func TestExtractErrors(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range blank.Pix {
		blank.Pix[i] = 200
	}
	grad := image.NewGray(image.Rect(0, 0, 300, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			grad.Pix[y*300+x] = uint8(x * 255 / 300)
		}
	}
	for _, c := range []struct {
		name string
		img  *image.Gray
		dpi  int
		want error
	}{
		{"nil", nil, 500, ErrTooSmall},
		{"tiny", image.NewGray(image.Rect(0, 0, 63, 300)), 500, ErrTooSmall},
		{"tiny after resampling", image.NewGray(image.Rect(0, 0, 120, 300)), 1000, ErrTooSmall},
		{"huge side", image.NewGray(image.Rect(0, 0, 5000, 10)), 500, ErrTooLarge},
		{"huge area", image.NewGray(image.Rect(0, 0, 2100, 2100)), 500, ErrTooLarge},
		{"low dpi", blank, 100, ErrResolution},
		{"high dpi", blank, 5000, ErrResolution},
		{"negative dpi", blank, -500, ErrResolution},
		{"blank", blank, 500, ErrBlank},
		{"gradient", grad, 500, ErrNoFingerprint},
	} {
		_, err := Extract(c.img, c.dpi, nil)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// TestExtractSubImage checks that a sub-image (non-zero origin, stride
// wider than the width) is read correctly.
func TestExtractSubImage(t *testing.T) {
	img := extractLoad(t, "fvc2002_DB1_B", "104_4.tif")
	big := image.NewGray(image.Rect(-10, -20, img.Rect.Dx()+30, img.Rect.Dy()))
	for y := 0; y < img.Rect.Dy(); y++ {
		copy(big.Pix[(y+20)*big.Stride+10:], img.Pix[y*img.Stride:y*img.Stride+img.Rect.Dx()])
	}
	sub := big.SubImage(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy())).(*image.Gray)
	a, err := Extract(img, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Extract(sub, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("sub-image gives another template")
	}
}

// FuzzExtract feeds small images built from the fuzzer's bytes: the first
// two bytes choose the size (64 to 191 px a side), the third the
// resolution; the rest are pixels, repeated. Extract must not panic and
// must return a template or an error, never a template with minutiae
// outside the image.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{40, 90, 128, 0, 255, 0, 255, 10, 20, 200})
	f.Add([]byte{127, 127, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 240, 230})
	// Real ridges: the centre 160 x 160 px of an FVC impression, at 500 ppi
	// (resolution byte 50), when the shared data is there.
	if base, err := shareddata.Find(); err == nil {
		if data, err := os.ReadFile(filepath.Join(base, "fingerprints", "fvc2002_DB1_B", "101_1.tif")); err == nil {
			if img, _, err := raster.Decode(data, 0); err == nil {
				const side = 160
				x0, y0 := (img.Rect.Dx()-side)/2, (img.Rect.Dy()-side)/2
				seed := []byte{side - 64, side - 64, 50}
				for y := y0; y < y0+side; y++ {
					seed = append(seed, img.Pix[y*img.Stride+x0:y*img.Stride+x0+side]...)
				}
				f.Add(seed)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w, h := 64+int(data[0]&127), 64+int(data[1]&127)
		dpi := 450 + int(data[2])
		px := data[3:]
		img := image.NewGray(image.Rect(0, 0, w, h))
		if len(px) > 0 {
			for i := range img.Pix {
				img.Pix[i] = px[i%len(px)]
			}
		}
		tpl, err := Extract(img, dpi, nil)
		if err != nil {
			return
		}
		for _, m := range tpl.Minutiae {
			if m.X < 0 || m.Y < 0 || m.X >= tpl.Width || m.Y >= tpl.Height {
				t.Fatalf("minutia %+v outside %dx%d", m, tpl.Width, tpl.Height)
			}
		}
	})
}

// BenchmarkExtract times the extraction of one FVC2002 DB1 impression
// (388 x 374 px at 500 ppi) on one core.
func BenchmarkExtract(b *testing.B) {
	img := extractLoad(b, "fvc2002_DB1_B", "101_1.tif")
	extractBench(b, img, 500)
}

// extractBench runs Extract b.N times and also reports the process CPU time
// per extraction (cpu-ms/op), which includes the garbage collector's work.
func extractBench(b *testing.B, img *image.Gray, dpi int) {
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		if _, err := Extract(img, dpi, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-c0)*1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkExtractResampled times an FVC2002 DB2 impression (296 x 560 px
// at 569 ppi), which is resampled first.
func BenchmarkExtractResampled(b *testing.B) {
	img := extractLoad(b, "fvc2002_DB2_B", "101_1.tif")
	extractBench(b, img, 569)
}
