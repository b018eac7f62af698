package pipeline_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/face/pipeline"
	"github.com/ebsp/ebsp/face/pipeline/pipelinetest"
	"github.com/ebsp/ebsp/internal/shareddata"
)

func london(t testing.TB, name string) image.Image {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shareddata.Dir(t, "faces/frl_london_subset"), "images", name))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scaled returns img shrunk by an integer factor (nearest pixel).
func scaled(img image.Image, f int) image.Image {
	r := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, r.Dx()/f, r.Dy()/f))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			out.Set(x, y, img.At(r.Min.X+x*f, r.Min.Y+y*f))
		}
	}
	return out
}

// pngHeader is a valid PNG signature and IHDR chunk for a w×h image.
func pngHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr[:]...)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestDecodeRejects(t *testing.T) {
	for name, c := range map[string]struct {
		b    []byte
		code pipeline.Code
	}{
		"empty":     {nil, pipeline.CodeUnreadable},
		"text":      {[]byte("hello, this is not an image"), pipeline.CodeUnreadable},
		"truncated": {[]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16}, pipeline.CodeUnreadable},
		"huge":      {pngHeader(100000, 100000), pipeline.CodeTooLarge},
		"wide":      {pngHeader(20000, 10), pipeline.CodeTooLarge},
		"jp2":       {[]byte{0, 0, 0, 0x0c, 'j', 'P', ' ', ' ', 0x0d, 0x0a}, pipeline.CodeUnsupportedImage},
	} {
		_, err := pipeline.Decode(c.b)
		if got := pipeline.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q (%v), want %q", name, got, err, c.code)
		}
	}
}

// TestQuality runs photos the pipeline must refuse, each with its own code.
func TestQuality(t *testing.T) {
	pipelinetest.SkipUnderRace(t)
	p := pipelinetest.Load(t)
	face := london(t, "001_03.jpg")
	other := london(t, "002_03.jpg")

	grey := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	two := image.NewRGBA(image.Rect(0, 0, 1350, 675))
	draw.Draw(two, image.Rect(0, 0, 675, 675), scaled(face, 2), image.Point{}, draw.Src)
	draw.Draw(two, image.Rect(675, 0, 1350, 675), scaled(other, 2), image.Point{}, draw.Src)
	// A quarter turn: the detector still finds the face, with its eye line
	// vertical.
	r := face.Bounds()
	turned := image.NewRGBA(image.Rect(0, 0, r.Dy(), r.Dx()))
	for y := range r.Dy() {
		for x := range r.Dx() {
			turned.Set(r.Dy()-1-y, x, face.At(x, y))
		}
	}
	for name, c := range map[string]struct {
		img   image.Image
		codes []pipeline.Code
	}{
		"no face":      {grey, []pipeline.Code{pipeline.CodeNoFace}},
		"two faces":    {two, []pipeline.Code{pipeline.CodeSeveralFaces}},
		"small":        {scaled(face, 14), []pipeline.Code{pipeline.CodeFaceTooSmall}},
		"quarter turn": {turned, []pipeline.Code{pipeline.CodePose}},
	} {
		_, err := p.Process(encodePNG(t, c.img))
		got := pipeline.CodeOf(err)
		ok := false
		for _, want := range c.codes {
			ok = ok || got == want
		}
		if !ok {
			t.Errorf("%s: code %q (%v), want one of %v", name, got, err, c.codes)
		}
	}
}

// TestSameFaceAcrossEncodings checks that the embedding does not depend on
// how the photo reaches the pipeline: a PNG of the decoded JPEG, and the
// photo at half its size, stay far closer than dlib's 0.6.
func TestSameFaceAcrossEncodings(t *testing.T) {
	pipelinetest.SkipUnderRace(t)
	p := pipelinetest.Load(t)
	b, err := os.ReadFile(filepath.Join(shareddata.Dir(t, "faces/frl_london_subset"), "images", "003_03.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Process(b)
	if err != nil {
		t.Fatal(err)
	}
	img := london(t, "003_03.jpg")
	for name, v := range map[string][]byte{"png": encodePNG(t, img), "half size": encodePNG(t, scaled(img, 2))} {
		r, err := p.Process(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var d float64
		for i := range a.Embedding {
			x := float64(a.Embedding[i] - r.Embedding[i])
			d += x * x
		}
		if d > 0.2*0.2 {
			t.Errorf("%s: distance %.3f from the JPEG's embedding", name, d)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(pngHeader(3, 3))
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	f.Add(buf.Bytes())
	buf.Reset()
	_ = jpeg.Encode(&buf, img, nil)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := pipeline.Decode(b)
		if err != nil {
			if pipeline.CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if m.W*m.H > pipeline.MaxPixels || len(m.Pix) != 3*m.W*m.H {
			t.Fatalf("decoded %dx%d with %d bytes", m.W, m.H, len(m.Pix))
		}
	})
}

// FuzzProcess feeds small images through the whole pipeline: whatever the
// pixels, it returns an embedding or a coded error.
func FuzzProcess(f *testing.F) {
	f.Add(uint8(0), uint8(255), uint16(64), uint16(48))
	f.Add(uint8(128), uint8(3), uint16(300), uint16(1))
	f.Add(uint8(7), uint8(77), uint16(1), uint16(700))
	f.Fuzz(func(t *testing.T, seed, step uint8, w, h uint16) {
		pipelinetest.SkipUnderRace(t)
		p := pipelinetest.Load(t)
		w, h = w%800+1, h%800+1
		img := image.NewRGBA(image.Rect(0, 0, int(w), int(h)))
		v := seed
		for i := range img.Pix {
			img.Pix[i] = v
			v += step
		}
		r, err := p.Process(encodePNG(t, img))
		if err != nil {
			if pipeline.CodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if len(r.Embedding) != pipeline.EmbeddingDim {
			t.Fatalf("embedding of %d values", len(r.Embedding))
		}
	})
}
