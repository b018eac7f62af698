package wsq

import (
	"image"
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
	// Small files of our own that exercise restart markers, odd sizes and
	// even-length filters, which the shared files lack.
	small := image.NewGray(image.Rect(0, 0, 45, 38))
	for i := range small.Pix {
		small.Pix[i] = uint8(i*7 + i/45*13)
	}
	for _, o := range []*Options{{Bitrate: 2, RestartInterval: 9}, {Bitrate: 0.5}} {
		b, err := EncodeBytes(small, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, err := encode(small, 45, 38, &Options{Bitrate: 2, RestartInterval: 5}, evenBanks[1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	const maxPixels = 256 * 256
	f.Fuzz(func(t *testing.T, data []byte) {
		img, meta, err := DecodeBytes(data, &DecodeOptions{MaxPixels: maxPixels})
		if err != nil {
			return
		}
		if n := img.Bounds().Dx() * img.Bounds().Dy(); n > maxPixels || n != meta.Width*meta.Height {
			t.Fatalf("decoded %v under a %d pixel limit", img.Bounds(), maxPixels)
		}
	})
}
