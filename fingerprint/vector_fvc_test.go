package fingerprint_test

import (
	"flag"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/synth"
)

var indexFVC = flag.Int("index-fvc", 0, "run TestVectorIndexFVC with this many synthetic background fingers (it takes minutes)")

// TestVectorIndexFVC measures stage 1 on real prints it was not tuned on:
// the five shared FVC sets (our extractor), impression 1 of each of the 50
// fingers enrolled among -index-fvc synthetic background fingers,
// impressions 2-8 as probes (350 single-finger searches). For each
// penetration rate it prints stage 1's hit rate and the rank-1 FNIR of the
// two-stage search (stage 1 shortlist, exact MCC re-score) beside the
// exhaustive search's. Run:
//
//	go test -run TestVectorIndexFVC -v ./fingerprint -args -index-fvc 20000
func TestVectorIndexFVC(t *testing.T) {
	if *indexFVC <= 0 {
		t.Skip("a measurement: run with -index-fvc N")
	}
	var gallery []*fingerprint.Prepared
	var probes []*fingerprint.Prepared
	var mate []int
	for _, s := range fvcSets {
		dir := shareddata.Dir(t, filepath.Join("fingerprints", s.name))
		files, _ := filepath.Glob(filepath.Join(dir, "*.tif"))
		sort.Strings(files)
		ts := extractFiles(t, files, s.dpi)
		first := map[string]int{}
		for i, f := range files {
			finger := strings.SplitN(filepath.Base(f), "_", 2)[0]
			if strings.HasSuffix(f, "_1.tif") {
				first[finger] = len(gallery)
				gallery = append(gallery, fingerprint.Prepare(ts[i]))
			}
		}
		for i, f := range files {
			finger := strings.SplitN(filepath.Base(f), "_", 2)[0]
			if !strings.HasSuffix(f, "_1.tif") {
				probes = append(probes, fingerprint.Prepare(ts[i]))
				mate = append(mate, first[finger])
			}
		}
	}
	real := len(gallery)
	bg := make([]*fingerprint.Prepared, *indexFVC)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(bg); i += 2 {
				f := synth.NewTemplateFinger(synth.NewFingerMaster(99, uint64(i)))
				bg[i] = fingerprint.Prepare(f.Impression(1))
			}
		})
	}
	wg.Wait()
	gallery = append(gallery, bg...)
	vec := make([]fingerprint.Vector, len(gallery))
	for i, g := range gallery {
		vec[i] = g.Vector()
	}
	n := len(gallery)
	// Per probe: stage-1 rank of the mate, and the exact scores.
	s1rank := make([]int, len(probes))
	order := make([][]int, len(probes)) // gallery indices by stage-1 score
	exact := make([][]float64, len(probes))
	for w := range 2 {
		wg.Go(func() {
			for p := w; p < len(probes); p += 2 {
				pv := probes[p].Vector()
				m := fingerprint.NewMatcherPrepared(probes[p])
				sc := make([]int32, n)
				ex := make([]float64, n)
				for g := range gallery {
					sc[g] = fingerprint.Dot(&pv, &vec[g])
					ex[g] = m.Compare(gallery[g])
				}
				idx := make([]int, n)
				for i := range idx {
					idx[i] = i
				}
				sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
				for r, g := range idx {
					if g == mate[p] {
						s1rank[p] = r
					}
				}
				order[p], exact[p] = idx, ex
			}
		})
	}
	wg.Wait()
	top1 := func(p int, cands []int) bool { // mate ranks first by exact score among cands
		best, bi := -1.0, -1
		for _, g := range cands {
			if exact[p][g] > best {
				best, bi = exact[p][g], g
			}
		}
		return bi == mate[p]
	}
	missAll := 0
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	for p := range probes {
		if !top1(p, all) {
			missAll++
		}
	}
	t.Logf("FVC: %d real fingers + %d synthetic, %d probes; exhaustive rank-1 FNIR %.2f%%", real, len(bg), len(probes), 100*float64(missAll)/float64(len(probes)))
	t.Logf("%12s %12s %14s %16s", "penetration", "shortlist", "stage-1 hits", "two-stage FNIR")
	for _, rate := range []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1} {
		k := max(1, int(rate*float64(n)))
		hit, miss := 0, 0
		for p := range probes {
			if s1rank[p] < k {
				hit++
			}
			if !top1(p, order[p][:k]) {
				miss++
			}
		}
		t.Logf("%11.1f%% %12d %13.1f%% %15.2f%%", 100*rate, k, 100*float64(hit)/float64(len(probes)), 100*float64(miss)/float64(len(probes)))
	}
	if missAll == len(probes) {
		t.Fatal("no probe found its mate")
	}
}
