package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/formats/iso19794"
)

func TestFacePhotosRefusals(t *testing.T) {
	jp2, err := (&iso19794.FaceImageRecord{Images: []iso19794.FaceImage{{DataType: iso19794.FaceJPEG2000, Width: 2, Height: 2,
		Data: []byte{0xff, 0x4f, 0xff, 0x51}}}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		s    Sample
		code string
		text string
	}{
		"jpeg 2000 record": {Sample{Format: "iso19794-5", Data: jp2}, CodeUnsupported, "JPEG 2000"},
		"bad record":       {Sample{Format: "iso19794-5", Data: []byte("FAC\x00nonsense")}, CodeBadSample, ""},
		"no models":        {Sample{Format: "jpeg", Data: []byte{0xff, 0xd8, 0xff}}, CodeUnsupported, "ebsp models fetch"},
		"other format":     {Sample{Format: "iris-code", Data: make([]byte, 512)}, CodeUnsupported, "want one of"},
		"512-d embedding":  {Sample{Format: "face-embedding", Data: make([]byte, 512)}, CodeBadSample, "want 132"},
	} {
		c.s.Modality = biometric.Face
		_, _, err := FacePhotos{}.Template(&c.s, 0)
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.text) {
			t.Errorf("%s: error %v, want code %s mentioning %q", name, err, c.code, c.text)
		}
	}
	// The engine without models still says what to run for photos.
	_, _, err = Face{}.Template(&Sample{Modality: biometric.Face, Format: "jpeg"}, 0)
	if err == nil || !strings.Contains(err.Error(), "ebsp models fetch") {
		t.Errorf("Face with a photo: %v", err)
	}
}

func TestFacePhotosScore(t *testing.T) {
	v := make([]float32, face.RecogniserDim)
	w := make([]float32, face.RecogniserDim)
	v[0], w[0], w[1] = 0.3, 0.3, 0.4 // distance 0.4
	a, _ := face.QuantizeEmbedding(v)
	b, _ := face.QuantizeEmbedding(w)
	p, err := FacePhotos{}.PrepareProbe(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	g, err := FacePhotos{}.PrepareGallery(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Compare(g); s < 0.59 || s > 0.61 {
		t.Errorf("score %v, want 1 − 0.4", s)
	}
	if _, err := (FacePhotos{}).PrepareGallery([]byte{1, 2}); err == nil {
		t.Error("short template: no error")
	}
}
