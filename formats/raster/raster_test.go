package raster

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodePNG(t *testing.T) {
	g, name, err := Decode(encodePNG(t, 30, 20), 0)
	if err != nil || name != "png" || g.Bounds().Dx() != 30 || g.Bounds().Dy() != 20 {
		t.Fatalf("got %v %q %v", g.Bounds(), name, err)
	}
	if g.Pix[1] != 7 {
		t.Errorf("pixel 1 = %d, want 7", g.Pix[1])
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, _, err := Decode(nil, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, _, err := Decode([]byte("not an image at all"), 0); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage: %v", err)
	}
	if _, _, err := Decode(encodePNG(t, 100, 100), 99*100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	p := encodePNG(t, 50, 50)
	if _, _, err := Decode(p[:len(p)/2], 0); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: %v", err)
	}
}

func TestDecodeFVCTIFF(t *testing.T) {
	dir := shareddata.Dir(t, "fingerprints/fvc2002_DB1_B")
	data, err := os.ReadFile(filepath.Join(dir, "101_1.tif"))
	if err != nil {
		t.Fatal(err)
	}
	g, name, err := Decode(data, 0)
	if err != nil || name != "tiff" || g.Bounds().Dx() != 388 || g.Bounds().Dy() != 374 {
		t.Fatalf("got %v %q %v", g.Bounds(), name, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, 8, 8))
	f.Add([]byte("BM"))
	f.Add([]byte("II*\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, _, err := Decode(data, 1<<16)
		if err == nil && len(g.Pix) > 1<<16 {
			t.Fatalf("decoded %d pixels past the limit", len(g.Pix))
		}
	})
}
