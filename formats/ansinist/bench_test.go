package ansinist

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

func benchInput(b *testing.B) []byte {
	in, err := os.ReadFile(filepath.Join(shareddata.Dir(b, "formats/ansi-nist"), "nist-reference/type-14-tpcard-nqm.an2"))
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// BenchmarkDecode reads a 14-finger Type-14 card (675 KB).
func BenchmarkDecode(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	t, _, _ := Decode(benchInput(b))
	out, _ := t.Encode()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := t.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeXML reads the same card in the XML encoding (932 KB).
func BenchmarkDecodeXML(b *testing.B) {
	t, _, _ := Decode(benchInput(b))
	x, err := t.EncodeXML()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(x)))
	for b.Loop() {
		if _, _, err := DecodeXML(x); err != nil {
			b.Fatal(err)
		}
	}
}
