package fingerprint

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestNotAFingerprintFaces: every face photograph of the shared FRL London
// subset is refused with ErrNoFingerprint (issue 15: one of them used to
// give 128 minutiae and match itself at 0.72).
func TestNotAFingerprintFaces(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shareddata.Dir(t, "faces/frl_london_subset/images"), "*.jpg"))
	if len(files) == 0 {
		t.Fatal("no face images")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := raster.Decode(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := Extract(img, 500, nil)
		if !errors.Is(err, ErrNoFingerprint) || !strings.Contains(err.Error(), "not a fingerprint") {
			t.Errorf("%s (%dx%d): got %d minutiae, quality %d, error %v; want the fingerprint check's refusal",
				filepath.Base(f), img.Rect.Dx(), img.Rect.Dy(), len(tpl.Minutiae), tpl.Quality, err)
		}
	}
	t.Logf("%d face photographs refused", len(files))
}

// TestNotAFingerprintSynthetic: images with contrast and edges but no
// ridges are refused: noise, flat, gradients, a wrapped ramp, a
// checkerboard, random rectangles, text-like strokes.
func TestNotAFingerprintSynthetic(t *testing.T) {
	const w, h = 320, 400
	rng := rand.New(rand.NewPCG(15, 1))
	gen := func(f func(x, y int) float64) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.Pix[y*w+x] = clampByte(f(x, y))
			}
		}
		return g
	}
	cases := map[string]*image.Gray{
		"white noise":      gen(func(x, y int) float64 { return float64(rng.IntN(256)) }),
		"gaussian noise":   gen(func(x, y int) float64 { return 128 + 40*rng.NormFloat64() }),
		"flat":             gen(func(x, y int) float64 { return 90 }),
		"horizontal ramp":  gen(func(x, y int) float64 { return float64(x) * 255 / w }),
		"diagonal ramp":    gen(func(x, y int) float64 { return float64(x+y) * 255 / (w + h) }),
		"radial gradient":  gen(func(x, y int) float64 { return 255 - math.Hypot(float64(x-w/2), float64(y-h/2)) }),
		"wrapped ramp":     gen(func(x, y int) float64 { return float64((3*x + y) % 256) }),
		"checkerboard":     gen(func(x, y int) float64 { return float64(255 * ((x/24 + y/24) % 2)) }),
		"text-like":        textLike(rng, w, h),
		"rectangles":       rectangles(rng, w, h),
		"noise over ramp":  gen(func(x, y int) float64 { return float64(y)*200/h + 30*rng.NormFloat64() }),
		"blurred blotches": blotches(rng, w, h),
	}
	for name, img := range cases {
		tpl, err := Extract(img, 500, nil)
		if err == nil {
			t.Errorf("%s: accepted, %d minutiae, quality %d", name, len(tpl.Minutiae), tpl.Quality)
			continue
		}
		if !errors.Is(err, ErrNoFingerprint) && !errors.Is(err, ErrBlank) {
			t.Errorf("%s: %v, want ErrNoFingerprint or ErrBlank", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// textLike draws rows of glyph-sized boxes, each with a few random
// strokes of a seven-segment figure, black on white, as a printed page.
func textLike(rng *rand.Rand, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = 240
	}
	line := func(x0, y0, x1, y1 int) {
		for y := min(y0, y1); y <= max(y0, y1)+1; y++ {
			for x := min(x0, x1); x <= max(x0, x1)+1; x++ {
				if x >= 0 && y >= 0 && x < w && y < h {
					g.Pix[y*w+x] = 20
				}
			}
		}
	}
	for top := 10; top+16 < h; top += 22 {
		for left := 8; left+10 < w; left += 13 {
			if rng.IntN(7) == 0 {
				continue // a space
			}
			segs := [][4]int{{0, 0, 8, 0}, {0, 7, 8, 7}, {0, 14, 8, 14}, {0, 0, 0, 7}, {8, 0, 8, 7}, {0, 7, 0, 14}, {8, 7, 8, 14}}
			for _, s := range segs {
				if rng.IntN(2) == 0 {
					line(left+s[0], top+s[1], left+s[2], top+s[3])
				}
			}
		}
	}
	return g
}

// rectangles draws random filled rectangles of random grey levels.
func rectangles(rng *rand.Rand, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for k := 0; k < 60; k++ {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		x1, y1 := min(w, x0+10+rng.IntN(80)), min(h, y0+10+rng.IntN(80))
		v := uint8(rng.IntN(256))
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				g.Pix[y*w+x] = v
			}
		}
	}
	return g
}

// blotches is smooth random texture: noise blurred by a 15 px box, twice.
func blotches(rng *rand.Rand, w, h int) *image.Gray {
	v := make([]float64, w*h)
	for i := range v {
		v[i] = rng.Float64()
	}
	for pass := 0; pass < 4; pass++ {
		u := make([]float64, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float64
				n := 0
				for d := -7; d <= 7; d++ {
					xx, yy := x, y
					if pass%2 == 0 {
						xx += d
					} else {
						yy += d
					}
					if xx >= 0 && yy >= 0 && xx < w && yy < h {
						s += v[yy*w+xx]
						n++
					}
				}
				u[y*w+x] = s / float64(n)
			}
		}
		v = u
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, x := range v {
		g.Pix[i] = clampByte(255 * (x - lo) / (hi - lo))
	}
	return g
}
