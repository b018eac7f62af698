package engine

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/synth"
)

// TestFingerSnapshotIdentical checks that a fingerprint gallery read back
// from its snapshot holds, template for template, exactly the prepared
// forms a fresh preparation gives (pair tables included, which the reader
// recomputes), and answers searches with the same candidates and scores;
// and that a compact gallery read back holds their compact forms.
func TestFingerSnapshotIdentical(t *testing.T) {
	const fingers = 600
	tmpl := func(i int, k uint64) fingerprint.Template {
		m := synth.NewFingerMaster(7, uint64(i))
		master := synth.TemplateMaster(m)
		return synth.TemplateImpression(m, &master, k)
	}
	g := search.NewGallery(Finger{}, 2)
	g.SetShortlist(search.Shortlist{Min: 30, Fraction: 0.05})
	for i := range fingers {
		g.AddPrepared(fmt.Sprint("P", i/2), fmt.Sprint("T", i), biometric.RightIndex+biometric.FingerPosition(i%2), fingerprint.Prepare(tmpl(i, 1)))
	}
	var buf bytes.Buffer
	if err := g.WriteSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	h := search.NewGallery(Finger{}, 2)
	h.SetShortlist(search.Shortlist{Min: 30, Fraction: 0.05})
	if _, err := h.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	c := search.NewGallery(Finger{}, 2)
	c.SetCompact(true)
	if _, err := c.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i := range fingers {
		_, a, _ := g.Entry(i)
		_, b, _ := h.Entry(i)
		_, cb, _ := c.Entry(i)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("template %d read back differs from its preparation", i)
		}
		if !reflect.DeepEqual(a.(*fingerprint.Prepared).Compact(), cb) {
			t.Fatalf("template %d read back compact differs from its compact form", i)
		}
	}
	for i := 0; i < fingers; i += 37 {
		probes := []search.ProbeSample{{Position: biometric.RightIndex + biometric.FingerPosition(i%2), Probe: FingerProbe(tmpl(i, 2))}}
		if a, b := fmt.Sprint(g.Search(probes, 10, 0)), fmt.Sprint(h.Search(probes, 10, 0)); a != b {
			t.Fatalf("probe of finger %d: %s fresh, %s read back", i, a, b)
		}
	}
}
