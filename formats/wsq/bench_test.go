package wsq

import (
	"testing"
)

// BenchmarkDecode decodes a 804x752 tenprint finger (NIST card, 0.56 bpp).
// The MB/s figure counts decoded pixels: one byte per pixel.
func BenchmarkDecode(b *testing.B) {
	data := mustRead(b, sharedPath(b, "jnbis/tpcard/fp-1.wsq"))
	img, _, err := DecodeBytes(data, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img.Pix)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := DecodeBytes(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the same finger at 0.75 bpp; MB/s counts input
// pixels.
func BenchmarkEncode(b *testing.B) {
	img, _, err := DecodeBytes(mustRead(b, sharedPath(b, "jnbis/tpcard/fp-1.wsq")), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img.Pix)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := EncodeBytes(img, nil); err != nil {
			b.Fatal(err)
		}
	}
}
