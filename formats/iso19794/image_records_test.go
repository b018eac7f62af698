package iso19794

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

func readOther(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shareddata.Dir(t, "formats/iso19794-other"), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip checks the usual promise: a regular record is written back
// byte for byte; an irregular one (warnings) to a record that reads back to
// the same model without warnings.
func roundTrip[R any](t *testing.T, in []byte, parse func([]byte) (*R, []Warning, error), encode func(*R) ([]byte, error)) *R {
	t.Helper()
	rec, warns, err := parse(in)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	out, err := encode(rec)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if bytes.Equal(out, in) {
		t.Logf("ROUNDTRIP identical (%d bytes)", len(in))
		return rec
	}
	if len(warns) == 0 {
		t.Fatalf("written back differently (%d vs %d bytes) though nothing was irregular", len(out), len(in))
	}
	back, w2, err := parse(out)
	if err != nil || len(w2) > 0 {
		t.Fatalf("rewritten record: %v %v", err, w2)
	}
	if !reflect.DeepEqual(rec, back) {
		t.Fatalf("rewritten record reads back differently")
	}
	t.Logf("ROUNDTRIP rewritten (%d -> %d bytes, %d warnings)", len(in), len(out), len(warns))
	return rec
}

func TestFingerImageFiles(t *testing.T) {
	enc := func(r *FingerImageRecord) ([]byte, error) { return r.Encode() }
	rec := roundTrip(t, readOther(t, "idemia-python-iso19794/annexc.fir"), ParseFingerImage, enc)
	if rec.Version != Edition2011 || len(rec.Images) != 1 || !rec.Certified {
		t.Fatalf("annexc: %+v", rec)
	}
	im := rec.Images[0]
	if im.Position != 7 || im.Width != 375 || im.Height != 625 || im.XRes != 500 || im.Compression != FingerUncompressed ||
		len(im.Data) != 375*625 || im.Captured.Year != 2005 || len(im.QualityBlocks) != 1 || len(im.Certifications) != 1 {
		t.Errorf("annexc image: pos %d %dx%d %d ppi comp %d data %d year %d", im.Position, im.Width, im.Height, im.XRes, im.Compression, len(im.Data), im.Captured.Year)
	}
	rec = roundTrip(t, readOther(t, "idemia-python-iso19794/twofingers.fir"), ParseFingerImage, enc)
	if len(rec.Images) != 2 || rec.Images[0].Position == rec.Images[1].Position || len(rec.Images[1].Data) != int(rec.Images[1].Width)*int(rec.Images[1].Height) {
		t.Errorf("twofingers: %d images", len(rec.Images))
	}
}

func TestFingerImage2005(t *testing.T) {
	rec := &FingerImageRecord{Version: Edition2005, CaptureDeviceID: 7, AcquisitionLevel: 31, Images: []FingerImage{
		{Position: 2, ViewCount: 1, Quality: 80, Impression: 1, ScaleUnits: 1, ScanXRes: 500, ScanYRes: 500, XRes: 500, YRes: 500, BitDepth: 8, Compression: FingerWSQ, Width: 3, Height: 2, Data: []byte{1, 2, 3}},
		{Position: 7, ViewCount: 1, Quality: 60, Impression: 0, ScaleUnits: 1, ScanXRes: 500, ScanYRes: 500, XRes: 500, YRes: 500, BitDepth: 8, Compression: FingerWSQ, Width: 3, Height: 2, Data: []byte{4, 5}},
	}}
	out, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 32+14+3+14+2 {
		t.Fatalf("record of %d bytes", len(out))
	}
	back, w, err := ParseFingerImage(out)
	if err != nil || len(w) > 0 || !reflect.DeepEqual(back, rec) {
		t.Fatalf("read back %+v, %v, %v", back, w, err)
	}
	rec.Images[1].XRes = 1000
	if _, err := rec.Encode(); err == nil {
		t.Error("a 2005 record with differing resolutions was written")
	}
}

func TestFaceImageFile(t *testing.T) {
	rec := roundTrip(t, readOther(t, "libbiomeval/face01.iso2005"), ParseFaceImage, func(r *FaceImageRecord) ([]byte, error) { return r.Encode() })
	if len(rec.Images) != 1 {
		t.Fatalf("%d images", len(rec.Images))
	}
	im := rec.Images[0]
	if len(im.FeaturePoints) != 4 || im.FeaturePoints[0].X != 95 || im.FeaturePoints[0].Y != 117 || im.Width != 280 || im.Height != 320 ||
		im.DataType != FaceJPEG || !bytes.HasPrefix(im.Data, []byte{0xFF, 0xD8}) {
		t.Errorf("face image: %d points, %dx%d, type %d", len(im.FeaturePoints), im.Width, im.Height, im.DataType)
	}
}

func TestIrisImageFile(t *testing.T) {
	rec := roundTrip(t, readOther(t, "libbiomeval/iris01.iso2011"), ParseIrisImage, func(r *IrisImageRecord) ([]byte, error) { return r.Encode() })
	if rec.Version != Edition2011 || len(rec.Images) != 1 {
		t.Fatalf("%+v", rec)
	}
	im := rec.Images[0]
	if im.Eye != EyeLeft || im.ImageFormat != IrisPNG || im.Width != 76 || im.Height != 47 || im.BitDepth != 24 || !bytes.HasPrefix(im.Data, []byte("\x89PNG")) {
		t.Errorf("iris image: eye %d format %d %dx%d depth %d", im.Eye, im.ImageFormat, im.Width, im.Height, im.BitDepth)
	}
}

func TestIrisImage2005(t *testing.T) {
	rec := &IrisImageRecord{Version: Edition2005, CaptureDeviceID: 3, IrisDiameter: 200, ImageFormat: IrisMonoRaw, Width: 4, Height: 2, IntensityDepth: 8,
		Images: []IrisImage{{Eye: EyeRight, Sequence: 1, Quality: 90, Data: make([]byte, 8)}, {Eye: EyeRight, Sequence: 2, Data: make([]byte, 8)}, {Eye: EyeLeft, Sequence: 1, Data: make([]byte, 8)}}}
	copy(rec.DeviceUniqueID[:], "D123")
	out, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := 45 + 2*3 + 3*(11+8); len(out) != want {
		t.Fatalf("%d bytes, want %d", len(out), want)
	}
	back, w, err := ParseIrisImage(out)
	if err != nil || len(w) > 0 || !reflect.DeepEqual(back, rec) {
		t.Fatalf("read back %+v %v %v", back, w, err)
	}
	rec.Images = append(rec.Images, IrisImage{Eye: EyeRight})
	if _, err := rec.Encode(); err == nil {
		t.Error("non-adjacent eyes were written")
	}
}

func seedImages(f *testing.F) {
	base, err := shareddata.Find()
	if err != nil {
		return
	}
	for _, rel := range []string{"idemia-python-iso19794/twofingers.fir", "libbiomeval/face01.iso2005", "libbiomeval/iris01.iso2011"} {
		if b, err := os.ReadFile(filepath.Join(base, "formats/iso19794-other", rel)); err == nil {
			// Keep the seeds small: the header and a little data.
			f.Add(b[:min(len(b), 600)])
		}
	}
}

// fuzzImage checks a reader never panics, and that what it accepts the
// writer either refuses or writes to something that reads back the same.
func fuzzImage[R any](f *testing.F, parse func([]byte) (*R, []Warning, error), encode func(*R) ([]byte, error)) {
	seedImages(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, _, err := parse(in)
		if err != nil {
			return
		}
		out, err := encode(rec)
		if err != nil {
			return
		}
		back, _, err := parse(out)
		if err != nil {
			t.Fatalf("written record does not read back: %v", err)
		}
		if !reflect.DeepEqual(rec, back) {
			t.Fatalf("written record reads back differently")
		}
	})
}

func FuzzParseFingerImage(f *testing.F) {
	fuzzImage(f, ParseFingerImage, func(r *FingerImageRecord) ([]byte, error) { return r.Encode() })
}

func FuzzParseFaceImage(f *testing.F) {
	fuzzImage(f, ParseFaceImage, func(r *FaceImageRecord) ([]byte, error) { return r.Encode() })
}

func FuzzParseIrisImage(f *testing.F) {
	fuzzImage(f, ParseIrisImage, func(r *IrisImageRecord) ([]byte, error) { return r.Encode() })
}
