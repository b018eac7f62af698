package search

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
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
