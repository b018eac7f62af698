package audit

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func FuzzParseLog(f *testing.F) {
	var file []byte
	file = append(file, fileMagic...)
	for i := 0; i < 3; i++ {
		b, _ := leafN(i).Encode()
		file = appendRecord(file, b)
	}
	f.Add(file)
	f.Add(file[:len(file)-5])
	f.Add([]byte(fileMagic + "\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Add([]byte("EBSP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseLog(b)
		if err != nil {
			return
		}
		total := 0
		for _, l := range p.leaves {
			total += len(l)
			DecodeLeaf(l)
		}
		if total > len(b) || p.good > int64(len(b)) {
			t.Fatalf("parsed more than the input")
		}
		// Re-framing the leaves gives back the valid prefix exactly.
		var re []byte
		if p.good > 0 {
			re = append(re, fileMagic...)
		}
		for _, l := range p.leaves {
			re = appendRecord(re, l)
		}
		if p.good > 0 && !bytes.Equal(re, b[:p.good]) {
			t.Fatalf("valid prefix does not re-encode identically")
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	skey, vkey, _ := GenerateKey("ebsp.test/fuzz")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	c := Checkpoint{Origin: "ebsp.test/fuzz", Size: 5}
	signed, _ := note.Sign(&note.Note{Text: c.Text()}, s)
	f.Add(signed)
	f.Add([]byte(c.Text()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := OpenCheckpoint(b, v); err == nil && c.Origin != v.Name() {
			t.Fatal("accepted a checkpoint of another origin")
		}
		ParseCheckpoint(string(b))
	})
}

func FuzzDecodeLeaf(f *testing.F) {
	b, _ := leafN(3).Encode()
	f.Add(b)
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","kind":"release","fields":["names"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLeaf(b)
		if err != nil {
			return
		}
		if _, err := l.Encode(); err != nil {
			t.Fatalf("decoded leaf does not encode: %v", err)
		}
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, p := range []string{"tile/0/000", "tile/0/x001/x234/067", "tile/2/005.p/17", "tile/entries/000", "tile/8/0/000"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tile, err := ParseTilePath(p)
		if err != nil {
			return
		}
		// Only canonical hash tile paths: they print back to themselves.
		if tile.H != TileHeight || tile.L < 0 || tile.W < 1 || tile.W > 1<<TileHeight || TilePath(tile) != p {
			t.Fatalf("%q parsed as %+v", p, tile)
		}
	})
}

func FuzzParseTreeState(f *testing.F) {
	s := treeState{height: 8, size: 12345, end: 678901}
	f.Add([]byte(s.text()))
	f.Add([]byte("ebsp audit tree 1\nheight 8\nsize 0\nend 9\nroot AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseTreeState(b)
		if err != nil {
			return
		}
		if s.size < 0 || s.end < 0 || s.height < 1 || s.height > 30 || s.text() != string(b) {
			t.Fatalf("%q parsed as %+v", b, s)
		}
	})
}
