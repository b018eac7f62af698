package node

import (
	"slices"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/search"
)

// TestGalleryLoaderBatches loads a stored gallery in batches smaller than
// it, on several workers, and checks that the result searches exactly like
// the gallery the node built one enrolment at a time.
func TestGalleryLoaderBatches(t *testing.T) {
	tn := newTestNode(t, nil)
	enrolPeople(t, tn, 10)
	built := tn.galleries[biometric.Finger]
	eng := built.Engine()
	loaded := search.NewGallery(eng, 2)
	var progress []int
	l := galleryLoader{g: loaded, alg: eng.Algorithm(), workers: 3, size: 3, progress: func(k int) { progress = append(progress, k) }}
	if err := tn.store.Gallery(t.Context(), biometric.Finger, l.take); err != nil {
		t.Fatal(err)
	}
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if tpl, ids := loaded.Len(); tpl != 20 || ids != 10 || l.count != 20 {
		t.Fatalf("loaded %d templates of %d identities (count %d), want 20 of 10", tpl, ids, l.count)
	}
	for p := range 10 {
		var probes []search.ProbeSample
		for _, s := range person(t, p, 2) {
			pr, err := eng.PrepareProbe(s.Data)
			if err != nil {
				t.Fatal(err)
			}
			probes = append(probes, search.ProbeSample{Position: s.Position, Probe: pr})
		}
		want, got := built.Search(probes, 5, 0), loaded.Search(probes, 5, 0)
		if !slices.Equal(want, got) {
			t.Fatalf("person %d: batched load searches %v, the node's gallery %v", p, got, want)
		}
		if len(got) == 0 || got[0].IdentityID != want[0].IdentityID {
			t.Fatalf("person %d: no candidate", p)
		}
	}
}
