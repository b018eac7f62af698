package synth

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// setStats are what TestRealism compares between real and synthetic sets.
type setStats struct {
	name                 string
	images               int
	minutiae             []float64
	period, coherence    []float64
	foreground           []float64                         // share of the image that is fingerprint
	arch, loop, whorl, u int                               // Poincaré-index classes
	templates            map[string][]fingerprint.Template // by finger, in impression order
	fingerOrder          []string
}

// scores returns genuine scores (every pair of impressions of a finger) and
// impostor scores (first impression of each finger against the first of
// every other), the FVC protocol's "std" pairs, from our matcher.
func (s *setStats) scores() (gen, imp []float64) {
	for _, f := range s.fingerOrder {
		ts := s.templates[f]
		for i := range ts {
			for j := i + 1; j < len(ts); j++ {
				gen = append(gen, fingerprint.Compare(ts[i], ts[j]))
			}
		}
	}
	for i, f := range s.fingerOrder {
		for _, g := range s.fingerOrder[i+1:] {
			if len(s.templates[f]) > 0 && len(s.templates[g]) > 0 {
				imp = append(imp, fingerprint.Compare(s.templates[f][0], s.templates[g][0]))
			}
		}
	}
	return gen, imp
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	ys := slices.Sorted(slices.Values(xs))
	return ys[min(int(q*float64(len(ys))), len(ys)-1)]
}

func (s *setStats) scoreLine() string {
	gen, imp := s.scores()
	return fmt.Sprintf("%-16s genuine n=%d p10 %.3f median %.3f p90 %.3f | impostor n=%d median %.3f p99 %.3f max %.3f",
		s.name, len(gen), quantile(gen, 0.1), quantile(gen, 0.5), quantile(gen, 0.9),
		len(imp), quantile(imp, 0.5), quantile(imp, 0.99), quantile(imp, 1))
}

// add records a template under its finger.
func (s *setStats) add(finger string, t fingerprint.Template) {
	if s.templates == nil {
		s.templates = map[string][]fingerprint.Template{}
	}
	if _, ok := s.templates[finger]; !ok {
		s.fingerOrder = append(s.fingerOrder, finger)
	}
	s.templates[finger] = append(s.templates[finger], t)
}

// measure extracts one image and adds it to the statistics.
func (s *setStats) measure(t *testing.T, finger string, img *image.Gray, dpi int) {
	var of *fingerprint.OrientationField
	var ff *fingerprint.FrequencyField
	opts := &fingerprint.Options{Transparency: fingerprint.TransparencyFunc(func(st fingerprint.Stage, d any) {
		switch st {
		case fingerprint.StageOrientation:
			of = d.(*fingerprint.OrientationField)
		case fingerprint.StageFrequency:
			ff = d.(*fingerprint.FrequencyField)
		}
	})}
	tpl, err := fingerprint.Extract(img, dpi, opts)
	if err != nil {
		t.Logf("%s: %v", s.name, err)
		return
	}
	s.images++
	s.add(finger, tpl)
	s.minutiae = append(s.minutiae, float64(len(tpl.Minutiae)))
	var p, c, fg float64
	var np, nc int
	for i, m := range ff.Measured {
		if m && ff.Period[i] > 0 {
			p += ff.Period[i]
			np++
		}
	}
	for i, f := range of.Foreground {
		if f {
			c += of.Coherence[i]
			nc++
		}
	}
	fg = float64(nc) / float64(len(of.Foreground))
	if np > 0 {
		s.period = append(s.period, p/float64(np))
	}
	if nc > 0 {
		s.coherence = append(s.coherence, c/float64(nc))
	}
	s.foreground = append(s.foreground, fg)
	switch classify(of) {
	case "A":
		s.arch++
	case "L":
		s.loop++
	case "W":
		s.whorl++
	default:
		s.u++
	}
}

// classify is a crude Poincaré-index classifier on the extractor's
// orientation field (smoothed over 5 × 5 blocks): no core is an arch, two
// cores or two deltas a whorl, one core a loop. It serves only to compare
// real and synthetic sets with the same yardstick.
func classify(of *fingerprint.OrientationField) string {
	C, R := of.Cols, of.Rows
	// Doubled-angle vectors, smoothed.
	sx, sy := make([]float64, C*R), make([]float64, C*R)
	for y := range R {
		for x := range C {
			var ax, ay float64
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= C || yy >= R || !of.Foreground[yy*C+xx] {
						continue
					}
					a := of.Angle[yy*C+xx]
					w := of.Coherence[yy*C+xx]
					ax += w * math.Cos(2*a)
					ay += w * math.Sin(2*a)
				}
			}
			sx[y*C+x], sy[y*C+x] = ax, ay
		}
	}
	inside := func(x, y int) bool {
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				xx, yy := x+dx, y+dy
				if xx < 0 || yy < 0 || xx >= C || yy >= R || !of.Foreground[yy*C+xx] {
					return false
				}
			}
		}
		return true
	}
	type pt struct{ x, y int }
	var cores, deltas []pt
	ring := [][2]int{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	for y := 0; y+1 < R; y++ {
		for x := 0; x+1 < C; x++ {
			if !inside(x, y) || !inside(x+1, y+1) {
				continue
			}
			var sum float64
			for i := range ring {
				a, b := ring[i], ring[(i+1)%4]
				pa := math.Atan2(sy[(y+a[1])*C+x+a[0]], sx[(y+a[1])*C+x+a[0]])
				pb := math.Atan2(sy[(y+b[1])*C+x+b[0]], sx[(y+b[1])*C+x+b[0]])
				sum += math.Remainder(pb-pa, 2*math.Pi)
			}
			switch idx := math.Round(sum / (2 * math.Pi)); {
			case idx >= 1:
				cores = append(cores, pt{x, y})
			case idx <= -1:
				deltas = append(deltas, pt{x, y})
			}
		}
	}
	merge := func(ps []pt) int {
		var kept []pt
		for _, p := range ps {
			if !slices.ContainsFunc(kept, func(q pt) bool { return abs(p.x-q.x) <= 3 && abs(p.y-q.y) <= 3 }) {
				kept = append(kept, p)
			}
		}
		return len(kept)
	}
	nc, nd := merge(cores), merge(deltas)
	switch {
	case nc == 0 && nd == 0:
		return "A"
	case nc >= 2 || nd >= 2:
		return "W"
	case nc == 1:
		return "L"
	}
	return "U"
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (s *setStats) String() string {
	mm, ms := meanSD(s.minutiae)
	pm, _ := meanSD(s.period)
	cm, _ := meanSD(s.coherence)
	fm, _ := meanSD(s.foreground)
	return fmt.Sprintf("%-16s %3d images  minutiae %5.1f ± %4.1f  period %5.2f px  coherence %.3f  foreground %.2f  classes A/L/W/? %d/%d/%d/%d",
		s.name, s.images, mm, ms, pm, cm, fm, s.arch, s.loop, s.whorl, s.u)
}

// TestRealism compares synthetic impressions with the real FVC sets in the
// shared data, through our own extractor: minutiae per image, ridge period,
// orientation coherence, foreground share and a Poincaré class mix. It is a
// measurement, not a check (it fails only if nothing could be measured), and
// slow, so it runs only with EBSP_REALISM=1:
//
//	EBSP_REALISM=1 go test ./synth -run Realism -v -timeout 30m
func TestRealism(t *testing.T) {
	if os.Getenv("EBSP_REALISM") == "" {
		t.Skip("EBSP_REALISM not set")
	}
	base := shareddata.Dir(t, "fingerprints")
	sets := []struct {
		dir string
		dpi int
	}{{"fvc2002_DB1_B", 500}, {"fvc2002_DB2_B", 569}, {"fvc2002_DB3_B", 500}, {"fvc2004_DB2_B", 500}, {"fvc2004_DB3_B", 512}}
	for _, set := range sets {
		s := &setStats{name: set.dir}
		files, _ := filepath.Glob(filepath.Join(base, set.dir, "*.tif"))
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := raster.Decode(b, 4<<20)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			s.measure(t, strings.SplitN(filepath.Base(f), "_", 2)[0], img, set.dpi)
		}
		t.Log(s)
		t.Log(s.scoreLine())
	}
	fingers, _ := strconvAtoi(os.Getenv("EBSP_REALISM_FINGERS"), 10)
	s := &setStats{name: "synthetic"}
	for f := 1; f <= fingers; f++ {
		mi := RenderMaster(NewFingerMaster(1, uint64(f)))
		for k := uint64(1); k <= 8; k++ {
			s.measure(t, fmt.Sprint(f), mi.Impression(k), 500)
		}
	}
	t.Log(s)
	t.Log(s.scoreLine())
	// Template level, for comparison with the synthetic images.
	tl := &setStats{name: "synthetic (tpl)"}
	for f := 1; f <= fingers; f++ {
		m := NewFingerMaster(1, uint64(f))
		mt := TemplateMaster(m)
		for k := uint64(1); k <= 8; k++ {
			it := TemplateImpression(m, &mt, k)
			tl.add(fmt.Sprint(f), it)
			tl.minutiae = append(tl.minutiae, float64(len(it.Minutiae)))
		}
	}
	mm, ms := meanSD(tl.minutiae)
	t.Logf("template level: minutiae %.1f ± %.1f per impression", mm, ms)
	t.Log(tl.scoreLine())
	if s.images == 0 {
		t.Fatal("no synthetic image could be measured")
	}
}

func strconvAtoi(s string, def int) (int, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	var n int
	_, err := fmt.Sscan(s, &n)
	return n, err
}
