package search

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ebsp/ebsp/biometric"
)

// codecEngine is int8Engine with a stored prepared form: its 64 bytes.
type codecEngine struct {
	int8Engine
	version string
}

func (e codecEngine) PreparedVersion() string { return e.version }
func (codecEngine) MarshalPrepared(p any) ([]byte, error) {
	v := p.([]int8)
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b, nil
}
func (e codecEngine) UnmarshalPrepared(b []byte) (any, error) { return e.PrepareGallery(b) }

// TestSnapshotRoundTrip checks that a gallery read back from its snapshot
// answers exactly as the original, and that a stale, damaged or truncated
// snapshot is refused and leaves the gallery as it was.
func TestSnapshotRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, eng := range []Engine{codecEngine{version: "v1"}, int8Engine{only: true}} {
		g := NewGallery(eng, 2)
		g.SetShortlist(Shortlist{Min: 10, Fraction: 0.01})
		var base [][]int8
		for i := range 1500 {
			b := int8Sample(r, nil, 0)
			p, _ := eng.PrepareGallery(b)
			base = append(base, p.([]int8))
			if err := g.Add(fmt.Sprint("id", i), fmt.Sprint("t", i), biometric.RightIndex, b); err != nil {
				t.Fatal(err)
			}
		}
		g.Remove("id7")
		var buf bytes.Buffer
		if err := g.WriteSnapshot(&buf, []byte("meta")); err != nil {
			t.Fatal(err)
		}
		snap := buf.Bytes()
		h := NewGallery(eng, 2)
		h.SetShortlist(Shortlist{Min: 10, Fraction: 0.01})
		meta, err := h.ReadSnapshot(bytes.NewReader(snap))
		if err != nil || string(meta) != "meta" {
			t.Fatalf("read: %q, %v", meta, err)
		}
		if a, b := fmt.Sprint(g.Len()), fmt.Sprint(h.Len()); a != b {
			t.Fatalf("sizes %s and %s", a, b)
		}
		p, _ := eng.PrepareProbe(int8Sample(r, base[42], 20))
		probes := []ProbeSample{{biometric.RightIndex, p}}
		if a, b := fmt.Sprint(g.Search(probes, 5, 0)), fmt.Sprint(h.Search(probes, 5, 0)); a != b || h.Search(probes, 5, 0)[0].IdentityID != "id42" {
			t.Fatalf("original %s, restored %s", a, b)
		}
		// Damaged: every tenth byte flipped in turn must be refused.
		for i := 0; i < len(snap); i += len(snap) / 10 {
			bad := bytes.Clone(snap)
			bad[i] ^= 0x40
			if _, err := h.ReadSnapshot(bytes.NewReader(bad)); err == nil {
				t.Fatalf("snapshot with byte %d flipped loaded", i)
			}
		}
		if _, err := h.ReadSnapshot(bytes.NewReader(snap[:len(snap)-3])); err == nil {
			t.Fatal("truncated snapshot loaded")
		}
		if n, _ := h.Len(); n != 1499 {
			t.Fatalf("a refused snapshot changed the gallery: %d templates", n)
		}
	}
	// Another prepared version is stale.
	g := NewGallery(codecEngine{version: "v1"}, 1)
	var buf bytes.Buffer
	if err := g.WriteSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewGallery(codecEngine{version: "v2"}, 1).ReadSnapshot(&buf); !errors.Is(err, ErrSnapshotStale) {
		t.Fatalf("stale snapshot: %v", err)
	}
}

// FuzzReadSnapshot: any input is read or refused, without panic, within
// bounded memory.
func FuzzReadSnapshot(f *testing.F) {
	g := NewGallery(codecEngine{version: "v1"}, 1)
	g.AddPrepared("a", "t", 2, make([]int8, int8Dim))
	var buf bytes.Buffer
	if err := g.WriteSnapshot(&buf, []byte("m")); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = NewGallery(codecEngine{version: "v1"}, 1).ReadSnapshot(bytes.NewReader(b))
	})
}

// refusingEngine is codecEngine whose decoder refuses a stored form
// starting with 127 (which PrepareGallery takes), to damage one entry
// of a snapshot in a way its checksum does not see.
type refusingEngine struct{ codecEngine }

func (e refusingEngine) UnmarshalPrepared(b []byte) (any, error) {
	if len(b) > 0 && b[0] == 127 {
		return nil, errors.New("refused")
	}
	return e.codecEngine.UnmarshalPrepared(b)
}

// compactCodecEngine is codecEngine with a compact form (the first half of
// the template) and a decoder straight into it, counting its uses.
type compactCodecEngine struct {
	codecEngine
	direct *atomic.Int64
}

func (compactCodecEngine) Compact(p any) any { return compactForm(p.([]int8)[:int8Dim/2]) }

type compactForm []int8

func (e compactCodecEngine) UnmarshalCompact(b []byte) (any, error) {
	e.direct.Add(1)
	p, err := e.UnmarshalPrepared(b)
	if err != nil {
		return nil, err
	}
	return e.Compact(p), nil
}

// TestSnapshotBatches checks a snapshot of several reading batches (the
// reader decodes one batch while it reads the next): the gallery read
// back holds every template, in order, with its vector, as
// ReadSnapshotTemplates does; an entry refused in a late batch fails the
// whole read and leaves the gallery as it was; and a compact gallery
// decodes straight into the compact form.
func TestSnapshotBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const n = 2*snapBatch + 1234
	eng := refusingEngine{codecEngine{version: "v1"}}
	g := NewGallery(eng, 2)
	for i := range n {
		b := int8Sample(r, nil, 0)
		if b[0] == 127 {
			b[0] = 0
		}
		if i == n-7 {
			b[0] = 127 // refused when read back
		}
		if err := g.Add(fmt.Sprint("id", i/3), fmt.Sprint("t", i), biometric.RightIndex, b); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := g.WriteSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	h := NewGallery(eng, 2)
	h.AddPrepared("kept", "k", biometric.RightIndex, make([]int8, int8Dim))
	if _, err := h.ReadSnapshot(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), fmt.Sprint("entry ", n-7)) {
		t.Fatalf("snapshot with entry %d refused: %v", n-7, err)
	}
	if a, b := h.Len(); a != 1 || b != 1 {
		t.Fatalf("a refused snapshot changed the gallery: %d templates, %d identities", a, b)
	}
	g.RemoveTemplates(map[string]bool{fmt.Sprint("t", n-7): true})
	buf.Reset()
	if err := g.WriteSnapshot(&buf, []byte("m")); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	if _, err := h.ReadSnapshot(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	dump := func(g *Gallery) string {
		var b strings.Builder
		for i := 0; ; i++ {
			id, tmpl, ok := g.Entry(i)
			if !ok {
				break
			}
			fmt.Fprintln(&b, id, tmpl, g.vecs[i*g.dim:(i+1)*g.dim])
		}
		return b.String()
	}
	if a, b := dump(g), dump(h); a != b {
		t.Fatal("gallery read back from a snapshot of several batches differs")
	}
	_, tmpls, err := NewGallery(eng, 2).ReadSnapshotTemplates(bytes.NewReader(snap))
	if err != nil || len(tmpls) != n-1 {
		t.Fatalf("ReadSnapshotTemplates: %d templates, %v", len(tmpls), err)
	}
	k := NewGallery(eng, 2)
	g.EachTemplate(func(_, tid string) { k.AddSnapshotTemplate(tid, tmpls[tid]) })
	if a, b := dump(g), dump(k); a != b {
		t.Fatal("templates of ReadSnapshotTemplates differ")
	}
	// A compact gallery decodes straight into the compact form.
	var direct atomic.Int64
	ce := compactCodecEngine{codecEngine{version: "v1"}, &direct}
	c := NewGallery(ce, 2)
	c.SetCompact(true)
	if _, err := c.ReadSnapshot(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if direct.Load() != n-1 {
		t.Fatalf("%d of %d templates decoded straight into the compact form", direct.Load(), n-1)
	}
	for i := range n - 1 {
		_, a, _ := g.Entry(i)
		_, b, _ := c.Entry(i)
		if fmt.Sprint(a.([]int8)[:int8Dim/2]) != fmt.Sprint([]int8(b.(compactForm))) {
			t.Fatalf("entry %d: compact %v of %v", i, b, a)
		}
	}
}
