package wsq

import (
	"fmt"
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must return an image
// or an error, never panic, and never accept a frame over the pixel limit
// it was given.
func FuzzDecode(f *testing.F) {
	for _, p := range allWSQ(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 40000 { // keep the corpus quick to run
			f.Add(b)
		}
	}
	f.Add([]byte{0xFF, 0xA0, 0xFF, 0xA1})
	const maxPixels = 256 * 256
	f.Fuzz(func(t *testing.T, data []byte) {
		if p := os.Getenv("WSQ_FUZZ_LAST"); p != "" {
			os.WriteFile(fmt.Sprintf("%s.%d", p, os.Getpid()), data, 0o644)
		}
		img, meta, err := DecodeBytes(data, &DecodeOptions{MaxPixels: maxPixels})
		if err != nil {
			return
		}
		if n := img.Bounds().Dx() * img.Bounds().Dy(); n > maxPixels || n != meta.Width*meta.Height {
			t.Fatalf("decoded %v under a %d pixel limit", img.Bounds(), maxPixels)
		}
	})
}
