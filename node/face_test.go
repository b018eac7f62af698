package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/internal/shareddata"
)

func londonPhoto(t *testing.T, id, shot string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shareddata.Dir(t, "faces/frl_london_subset"), "images", id+"_"+shot+".jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFacePhotos enrols faces from a JPEG, an ISO/IEC 19794-5 record and an
// ANSI/NIST-ITL Type-10 record, and identifies each person from another
// photo (smiling where the enrolment was neutral).
func TestFacePhotos(t *testing.T) {
	tn := newTestNode(t, func(c *Config) { c.FaceModels = "test" })
	ids := []string{"001", "012", "043"} // one per format
	for i, id := range ids {
		jpeg := londonPhoto(t, id, "03")
		var st int
		var body []byte
		switch i % 3 {
		case 0:
			var b map[string]any
			st, b = tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("F"+id,
				[]SampleInput{{Modality: biometric.Face, Format: "jpeg", Data: jpeg}}))
			body, _ = json.Marshal(b)
		case 1:
			rec := &iso19794.FaceImageRecord{Images: []iso19794.FaceImage{{ImageType: 1, DataType: iso19794.FaceJPEG,
				Width: 1350, Height: 1350, ColourSpace: 1, Data: jpeg}}}
			iso, err := rec.Encode()
			if err != nil {
				t.Fatal(err)
			}
			var b map[string]any
			st, b = tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("F"+id,
				[]SampleInput{{Modality: biometric.Face, Format: "iso19794-5", Data: iso}}))
			body, _ = json.Marshal(b)
		case 2:
			tx := ansinist.New(ansinist.Header{TOT: "CAR", DAI: "TEST", ORI: "TEST", TCN: "FACE-" + id}, nil)
			tx.AddFace(ansinist.FaceImage{Image: ansinist.Image{Compression: ansinist.JPEG, Width: 1350, Height: 1350, Data: jpeg}, ColorSpace: "SRGB"})
			raw, err := tx.Encode()
			if err != nil {
				t.Fatal(err)
			}
			st, _, body = postRaw(t, tn, RoleEnroller, "/v1/enrolments?identity_id=F"+id+"&legal_basis=test", mediaANSINIST, "", raw)
		}
		if st != 201 {
			t.Fatalf("enrol %s (format %d): %d %s", id, i%3, st, body)
		}
		var er EnrolResponse
		if err := json.Unmarshal(body, &er); err != nil {
			t.Fatal(err)
		}
		if len(er.Samples) != 1 || !er.Samples[0].Template {
			t.Fatalf("enrol %s (format %d): no searchable face: %s", id, i%3, body)
		}
	}
	for _, id := range ids {
		st, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{
			{Modality: biometric.Face, Format: "jpeg", Data: londonPhoto(t, id, "08")}}})
		if st != 200 {
			t.Fatalf("identify %s: %d %v", id, st, b)
		}
		cands, _ := b["candidates"].([]any)
		if len(cands) == 0 || cands[0].(map[string]any)["identity_id"] != "F"+id {
			t.Errorf("identify %s: decision %v, candidates %v", id, b["decision"], cands)
		}
	}
	// A photo without a face is refused with the pipeline's reason.
	grey := encodeGreyPNG(t, 200, 200)
	st, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{
		{Modality: biometric.Face, Format: "png", Data: grey}}})
	if st != 422 || errCode(b) != CodeBadSample || !strings.Contains(fmt.Sprint(b), "no_face") {
		t.Errorf("identify a blank image: %d %v", st, b)
	}
}

// TestFacePhotoWithoutModels: a node started without the face models keeps
// a face photo unsearchable and says what to run to search one.
func TestFacePhotoWithoutModels(t *testing.T) {
	tn := newTestNode(t, nil)
	jpeg := londonPhoto(t, "001", "03")
	st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody("F1", []SampleInput{{Modality: biometric.Face, Format: "jpeg", Data: jpeg}}))
	if st != 201 {
		t.Fatalf("enrol: %d %v", st, b)
	}
	st, b = tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{{Modality: biometric.Face, Format: "jpeg", Data: jpeg}}})
	if st < 400 || st >= 500 || !strings.Contains(fmt.Sprint(b), "ebsp models fetch") {
		t.Errorf("identify a face photo without models: %d %v", st, b)
	}
}

func encodeGreyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = 120
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
