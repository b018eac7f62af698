package engine

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/synth"
)

var faceDeepOut = flag.String("face-tail-out", "", "TestFaceTailDeep: write the comparisons' count and the scores at or above 0.5 to this file")

var faceDeepIn = flag.String("face-tail-in", "", "TestFaceTailDeep: read the scores a run with -face-tail-out wrote instead of measuring")

var faceDeep = flag.String("face-tail-deep", "", "TestFaceTailDeep: GALLERY,PROBES synthetic faces (e.g. 1000000,10000) whose impostor scores to measure")

// measureFacesDeep compares capture 2 of each of probes synthetic people
// not in the gallery with capture 1 of each of gallery people (seed seed):
// gallery·probes impostor comparisons, every one of them scored. Stage 1's
// int8 vectors (which give the Euclidean distance up to their rounding,
// unless a value was clamped: those embeddings are compared exactly with
// everything) pick the pairs that may score at least floor, and those are
// compared exactly; it returns their exact scores (sorted), the number of
// comparisons, and the largest difference between the distance stage 1
// implied and the exact one over the pairs of the first probe batch that
// score at least floor − 0.1 (every pair of that batch is compared
// exactly), so that the margin of the prefilter is checked rather than
// assumed.
func measureFacesDeep(seed uint64, gallery, probes int, floor float64) (top []float64, n int64, maxErr float64) {
	g := synth.NewFaceGenerator(seed, synth.DefaultFaceModel())
	emb := func(p int) face.Embedding {
		id := uint64(p)
		k := uint64(1)
		if p >= gallery {
			k = 2
		}
		return g.Embedding(g.Identity(id), id, k, g.Quality(id, k), 0)
	}
	var eng Face
	dim := eng.VectorLen()
	gal := make([]face.Embedding, gallery)
	vecs := make([]int8, gallery*dim)
	workers := runtime.GOMAXPROCS(0)
	par := func(n int, f func(i int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					f(i)
				}
			})
		}
		wg.Wait()
	}
	clamped := make([]bool, gallery)
	bias := make([]int32, gallery)
	par(gallery, func(i int) {
		gal[i] = emb(i)
		eng.GalleryVector(&gal[i], vecs[i*dim:(i+1)*dim])
		bias[i] = eng.GalleryBias(&gal[i])
		clamped[i] = isClamped(&gal[i])
	})
	const batch = 8
	const margin = 0.05 // in distance; checked against maxErr
	limit := 1 - floor + margin
	var mu sync.Mutex
	nb := (probes + batch - 1) / batch
	par(nb, func(b int) {
		lo, hi := b*batch, min(probes, (b+1)*batch)
		pv := make([][]int8, hi-lo)
		pe := make([]face.Embedding, hi-lo)
		sq := make([]float64, hi-lo)
		out := make([][]int32, hi-lo)
		for j := range pv {
			pe[j] = emb(gallery + lo + j)
			pv[j] = make([]int8, dim)
			embeddingProbe{&pe[j]}.Vector(pv[j])
			for _, x := range pv[j][:face.RecogniserDim] {
				sq[j] += float64(x) * float64(x)
			}
			out[j] = make([]int32, gallery)
		}
		search.ScanInt8Batch(vecs, dim, pv, out)
		var mine []float64
		var worst float64
		const s2 = faceStage1Scale * faceStage1Scale
		for j := range pv {
			p := embeddingProbe{&pe[j]}
			all := isClamped(&pe[j])
			// d² = (sq − 2v)/s2 < limit² ⇔ v > (sq − limit²·s2)/2.
			cut := int32(math.Floor((sq[j] - limit*limit*s2) / 2))
			for i, v := range out[j] {
				v += bias[i] // the stage-1 score: a·b − |b|²/2
				if b == 0 {
					x := face.Distance(&pe[j], &gal[i])
					if d := math.Sqrt(max(sq[j]-2*float64(v), 0) / s2); !all && !clamped[i] && 1-x >= floor-0.1 {
						worst = max(worst, d-x)
					}
				}
				if v > cut || all || clamped[i] {
					if s := p.Compare(&gal[i]); s >= floor {
						mine = append(mine, s)
					}
				}
			}
		}
		mu.Lock()
		top = append(top, mine...)
		maxErr = max(maxErr, worst)
		mu.Unlock()
	})
	slices.Sort(top)
	return top, int64(gallery) * int64(probes), maxErr
}

// TestFaceTailDeep measures the synthetic faces' impostor tail deep
// (-face-tail-deep GALLERY,PROBES, or the scores a previous run wrote with
// -face-tail-out, read back with -face-tail-in) and prints it as FaceTail's
// points: FMR 1e-1 to 1e-3 measured on capture 2 of each of 2,000
// identities against capture 1 of every other (seed 2026, as
// TestFaceIrisTails -tail-identities 2000), deeper ones measured on the
// deep sample, on the safe side (Clopper-Pearson), and beyond it
// extended by FitTop with a free shape over the scores beyond FMR 1e-6.
// It also prints the genuine scores' quantiles (capture 2 against capture
// 1 of 100,000 identities, as the bench searches) and the share of them
// at or above the hit threshold of galleries of 1 and 10 million.
func TestFaceTailDeep(t *testing.T) {
	var top []float64
	var n int64
	switch {
	case *faceDeepIn != "":
		b, err := os.ReadFile(*faceDeepIn)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Fields(string(b))
		if _, err := fmt.Sscan(lines[0], &n); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines[1:] {
			var x float64
			if _, err := fmt.Sscan(l, &x); err != nil {
				t.Fatal(err)
			}
			top = append(top, x)
		}
	case *faceDeep != "":
		var gn, pn int
		if _, err := fmt.Sscanf(*faceDeep, "%d,%d", &gn, &pn); err != nil {
			t.Fatal(err)
		}
		c0 := time.Now()
		var maxErr float64
		top, n, maxErr = measureFacesDeep(2027, gn, pn, 0.5)
		t.Logf("%d comparisons, %d at or above 0.5, stage-1 distance error at most %.4f, %v", n, len(top), maxErr, time.Since(c0))
		if maxErr > 0.025 {
			t.Errorf("stage 1's distance is %.4f off: the prefilter's margin of 0.05 is too small", maxErr)
		}
		if *faceDeepOut != "" {
			var b strings.Builder
			fmt.Fprintln(&b, n)
			for _, s := range top {
				fmt.Fprintf(&b, "%.6f\n", s)
			}
			if err := os.WriteFile(*faceDeepOut, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Skip("no -face-tail-deep or -face-tail-in")
	}
	if !slices.IsSorted(top) {
		t.Fatal("scores not sorted")
	}
	for e := 1; e <= 12; e++ {
		f := math.Pow(10, -float64(e))
		k := int(math.Ceil(f * float64(n)))
		if k < 1 || k > len(top) {
			continue
		}
		t.Logf("plain: FMR %g: score %.5f (%d at or above)", f, top[len(top)-k], k)
	}
	shallow, err := FitBounded(measureFaces(2026, 2000), "synthetic", 1)
	if err != nil {
		t.Fatal(err)
	}
	exceed := int(math.Ceil(1e-6 * float64(n)))
	deep, err := FitTop(top, n, shallow.Mean, exceed, "synthetic", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	tl := deep
	tl.Points = nil
	for _, p := range shallow.Points {
		if p.FMR > deep.Points[0].FMR {
			tl.Points = append(tl.Points, p)
		}
	}
	tl.Points = append(tl.Points, deep.Points...)
	if err := tl.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("FaceTail: Mean %.5f, Comparisons %d, MeasuredFMR %g, Method %s", tl.Mean, tl.Comparisons, tl.MeasuredFMR, tl.Method)
	for _, p := range tl.Points {
		t.Logf("{Score: %.5f, FMR: %g},", math.Ceil(p.Score*1e5)/1e5, p.FMR)
	}
	gen := genuineFaces(2027, 100000)
	for _, q := range []float64{0.001, 0.01, 0.05, 0.1, 0.5} {
		t.Logf("genuine score quantile %g: %.4f", q, gen[int(q*float64(len(gen)))])
	}
	for _, ids := range []int{1_000_000, 10_000_000} {
		hit := tl.ScoreAt(1e-3 / float64(ids))
		i, _ := slices.BinarySearch(gen, hit)
		t.Logf("%d identities: hit threshold %.4f (FPIR 0.1%%), %.2f%% of genuine scores below it", ids, hit, 100*float64(i)/float64(len(gen)))
	}
}

// genuineFaces returns the sorted scores of capture 2 against capture 1
// of n synthetic identities (seed seed), each capture of its drawn
// quality, as the bench's mated searches compare them.
func genuineFaces(seed uint64, n int) []float64 {
	g := synth.NewFaceGenerator(seed, synth.DefaultFaceModel())
	out := make([]float64, n)
	for i := range n {
		id := uint64(i)
		f := g.Identity(id)
		e1 := g.Embedding(f, id, 1, g.Quality(id, 1), 0)
		e2 := g.Embedding(f, id, 2, g.Quality(id, 2), 0)
		out[i] = embeddingProbe{&e2}.Compare(&e1)
	}
	slices.Sort(out)
	return out
}

// TestFaceShortlist checks that stage 1 ranks faces closely enough by the
// exact score that a short shortlist loses nothing a search reports: on
// 20,000 synthetic faces, searches with a shortlist of only 20 identities
// (the 20th best impostor scores near FMR 1e-3, about 0.47) report exactly
// the candidates scoring 0.55 or more that an exhaustive search reports,
// with the same scores, for mated and non-mated probes.
func TestFaceShortlist(t *testing.T) {
	people, searches := 20000, 120
	if raceEnabled {
		people, searches = 8000, 40
	}
	gen := synth.NewFaceGenerator(5, synth.DefaultFaceModel())
	var eng Face
	two, all := search.NewGallery(eng, 2), search.NewGallery(eng, 2)
	two.SetShortlist(search.Shortlist{Min: 20})
	all.SetShortlist(search.Exhaustive)
	for p := range people {
		id := uint64(p)
		e := gen.Embedding(gen.Identity(id), id, 1, gen.Quality(id, 1), 0)
		name := fmt.Sprint("p", p)
		two.AddPrepared(name, "", 0, &e)
		all.AddPrepared(name, "", 0, &e)
	}
	found := 0
	for s := range searches {
		id := uint64(s * people / searches)
		if s%2 == 1 {
			id = uint64(people + s) // not enrolled
		}
		e := gen.Embedding(gen.Identity(id), id, 2, gen.Quality(id, 2), 0)
		ps := []search.ProbeSample{{Probe: embeddingProbe{&e}}}
		a, b := two.Search(ps, 50, 0.55), all.Search(ps, 50, 0.55)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("probe %d: shortlist of 20 gives %v, exhaustive %v", id, a, b)
		}
		found += len(b)
	}
	t.Logf("%d searches, %d candidates at or above 0.55, all found with a shortlist of 20 of %d", searches, found, people)
}

// isClamped reports whether stage 1's fixed scale clamps a value of e.
func isClamped(e *face.Embedding) bool {
	for _, x := range e.Vector {
		if math.Abs(float64(x)*float64(e.Scale)*faceStage1Scale) > 127.5 {
			return true
		}
	}
	return false
}
