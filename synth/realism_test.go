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

	"github.com/ebsp/ebsp/eval"
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
	parallel, opposite   int                               // minutiae whose nearest neighbour is close, by relative direction
	templates            map[string][]fingerprint.Template // by finger, in impression order
	fingerOrder          []string
}

// scores returns genuine scores (every pair of impressions of a finger)
// and impostor scores (every pair of impressions of different fingers: the
// FVC protocol's "ext" impostors, 2,880 for 10 fingers of 8), from our
// matcher.
func (s *setStats) scores() (gen, imp []float64) {
	type entry struct {
		finger int
		t      *fingerprint.Prepared
		raw    fingerprint.Template
	}
	var all []entry
	for i, f := range s.fingerOrder {
		for _, t := range s.templates[f] {
			all = append(all, entry{i, fingerprint.Prepare(t), t})
		}
	}
	for i, a := range all {
		m := fingerprint.NewMatcher(a.raw)
		for _, b := range all[i+1:] {
			if sc := m.Compare(b.t); a.finger == b.finger {
				gen = append(gen, sc)
			} else {
				imp = append(imp, sc)
			}
		}
	}
	return gen, imp
}

// scoreLine summarises the score distributions: means and standard
// deviations, the thresholds at FMR 1e-2 and 1e-3 (the impostor score
// that many impostors reach) with the FNMR there, and the EER.
func (s *setStats) scoreLine() string {
	gen, imp := s.scores()
	gm, gs := meanSD(gen)
	im, is := meanSD(imp)
	f2, t2, _ := eval.FNMRAtFMR(gen, imp, 1e-2)
	f3, t3, _ := eval.FNMRAtFMR(gen, imp, 1e-3)
	eer, _ := eval.EER(gen, imp)
	return fmt.Sprintf("%-18s gen %4d %.3f±%.3f  imp %5d %.3f±%.3f  FMR1e-2 at %.3f FNMR %5.1f%%  FMR1e-3 at %.3f FNMR %5.1f%%  EER %5.2f%%",
		s.name, len(gen), gm, gs, len(imp), im, is, t2, 100*f2, t3, 100*f3, 100*eer)
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
	s.pairs(tpl)
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

// pairs counts the minutiae whose nearest neighbour lies within 25 px
// (about three ridge periods) by their relative direction: parallel (within
// 0.5 rad: an ending beside a fork, a ridge dislocation, or endings on
// neighbouring ridges) or opposite (within 0.5 rad of π: a broken ridge, an
// island). The mix of such local structures is what a minutiae matcher's
// neighbourhoods see.
func (s *setStats) pairs(t fingerprint.Template) {
	for i, a := range t.Minutiae {
		best, bj := math.Inf(1), -1
		for j, b := range t.Minutiae {
			if d := math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)); j != i && d < best {
				best, bj = d, j
			}
		}
		if bj < 0 || best >= 25 {
			continue
		}
		switch da := math.Abs(math.Remainder(a.Angle-t.Minutiae[bj].Angle, 2*math.Pi)); {
		case da < 0.5:
			s.parallel++
		case da > math.Pi-0.5:
			s.opposite++
		}
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
	pm, ps := meanSD(s.period)
	cm, _ := meanSD(s.coherence)
	fm, _ := meanSD(s.foreground)
	return fmt.Sprintf("%-18s %3d images  minutiae %5.1f ± %4.1f  period %5.2f ± %.2f px  coherence %.3f  foreground %.2f  Poincaré A/L/W/? %d/%d/%d/%d  close pairs parallel/opposite %.1f/%.1f per image",
		s.name, s.images, mm, ms, pm, ps, cm, fm, s.arch, s.loop, s.whorl, s.u,
		float64(s.parallel)/float64(max(s.images, 1)), float64(s.opposite)/float64(max(s.images, 1)))
}

// realSets are the FVC sets in the shared data, with their resolutions
// (from its PROVENANCE.md).
var realSets = []struct {
	dir string
	dpi int
}{{"fvc2002_DB1_B", 500}, {"fvc2002_DB2_B", 569}, {"fvc2002_DB3_B", 500}, {"fvc2004_DB2_B", 500}, {"fvc2004_DB3_B", 512}}

// TestRealism compares synthetic impressions with the real FVC sets in the
// shared data, through our own extractor and matcher: minutiae per image,
// ridge period, orientation coherence, foreground share, a Poincaré class
// mix, and the genuine and impostor score distributions (FVC genuine and
// "ext" impostor pairs). It is a measurement, not a check (it fails only if
// nothing could be measured), and slow, so it runs only with
// EBSP_REALISM=1:
//
//	EBSP_REALISM=1 go test ./synth -run Realism -v -timeout 60m
//
// EBSP_REALISM_SEEDS (default 1,2,3) and EBSP_REALISM_FINGERS (default 10)
// choose the synthetic sets, FVC-sized by default; EBSP_REALISM_REAL=0
// leaves out the real sets.
func TestRealism(t *testing.T) {
	if os.Getenv("EBSP_REALISM") == "" {
		t.Skip("EBSP_REALISM not set")
	}
	fingers, err := strconvAtoi(os.Getenv("EBSP_REALISM_FINGERS"), 10)
	if err != nil {
		t.Fatalf("EBSP_REALISM_FINGERS: %v", err)
	}
	var seeds []uint64
	for _, f := range strings.Split(cmpOr(os.Getenv("EBSP_REALISM_SEEDS"), "1,2,3"), ",") {
		n, err := strconvAtoi(f, 0)
		if err != nil {
			t.Fatalf("EBSP_REALISM_SEEDS: %v", err)
		}
		seeds = append(seeds, uint64(n))
	}
	var lines, scoreLines []string
	if os.Getenv("EBSP_REALISM_REAL") != "0" {
		base := shareddata.Dir(t, "fingerprints")
		for _, set := range realSets {
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
			lines = append(lines, s.String())
			scoreLines = append(scoreLines, s.scoreLine())
		}
	}
	var drawn [numClasses]int
	measured := 0
	for _, seed := range seeds {
		s := &setStats{name: fmt.Sprintf("synthetic seed %d", seed)}
		tl := &setStats{name: fmt.Sprintf("template seed %d", seed)}
		for f := 1; f <= fingers; f++ {
			m := NewFingerMaster(seed, uint64(f))
			drawn[m.Class]++
			mi := RenderMaster(m)
			tf := NewTemplateFinger(m)
			for k := uint64(1); k <= 8; k++ {
				s.measure(t, fmt.Sprint(f), mi.Impression(k), 500)
				it := tf.Impression(k)
				tl.add(fmt.Sprint(f), it)
				tl.minutiae = append(tl.minutiae, float64(len(it.Minutiae)))
			}
		}
		measured += s.images
		lines = append(lines, s.String())
		mm, ms := meanSD(tl.minutiae)
		lines = append(lines, fmt.Sprintf("%-18s %3d templates minutiae %5.1f ± %4.1f", tl.name, len(tl.minutiae), mm, ms))
		scoreLines = append(scoreLines, s.scoreLine(), tl.scoreLine())
	}
	for _, l := range lines {
		t.Log(l)
	}
	for _, l := range scoreLines {
		t.Log(l)
	}
	var mix []string
	for c := range numClasses {
		mix = append(mix, fmt.Sprintf("%s %d (%.1f%% assumed real)", PatternClass(c), drawn[c], 100*ClassFrequencies[c]))
	}
	t.Logf("classes drawn for the synthetic sets: %s", strings.Join(mix, ", "))
	if measured == 0 {
		t.Fatal("no synthetic image could be measured")
	}
}

// cmpOr returns s, or def when s is blank.
func cmpOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func strconvAtoi(s string, def int) (int, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	var n int
	_, err := fmt.Sscan(s, &n)
	return n, err
}
