package explain

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestRecorder extracts a real impression with a Recorder and checks that
// every stage became a readable PNG of the image's size, and that the JSON
// minutiae are those of the template.
func TestRecorder(t *testing.T) {
	dir := shareddata.Dir(t, "fingerprints/fvc2002_DB1_B")
	data, err := os.ReadFile(filepath.Join(dir, "101_1.tif"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := raster.Decode(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rec, err := New(filepath.Join(out, "explain"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := fingerprint.Extract(img, 500, &fingerprint.Options{Transparency: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.WriteTemplate(tpl); err != nil {
		t.Fatal(err)
	}
	want := []string{"01-resampled.png", "02-mask.png", "03-orientation.png", "04-frequency.png", "05-enhanced.png",
		"06-binary.png", "07-skeleton.png", "08-minutiae-raw.png", "09-quality.png", "09-clarity.png", "10-minutiae.png"}
	for _, name := range want {
		f, err := os.Open(filepath.Join(out, "explain", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		im, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if b := im.Bounds(); b.Dx() != tpl.Width || b.Dy() != tpl.Height {
			t.Errorf("%s: %v, want %dx%d", name, b, tpl.Width, tpl.Height)
		}
	}
	var got []jsonMinutia
	b, err := os.ReadFile(filepath.Join(out, "explain", "10-minutiae.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tpl.Minutiae) {
		t.Fatalf("10-minutiae.json has %d minutiae, the template %d", len(got), len(tpl.Minutiae))
	}
	for i, m := range got {
		if m.X != tpl.Minutiae[i].X || m.Y != tpl.Minutiae[i].Y || m.Angle != tpl.Minutiae[i].Angle {
			t.Errorf("minutia %d: JSON %+v, template %+v", i, m, tpl.Minutiae[i])
		}
	}
}

// TestRecorderBadData checks that stages with missing or unexpected data
// are skipped rather than panicking.
func TestRecorderBadData(t *testing.T) {
	rec, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []fingerprint.Stage{fingerprint.StageResampled, fingerprint.StageMask, fingerprint.StageOrientation,
		fingerprint.StageFrequency, fingerprint.StageEnhanced, fingerprint.StageBinary, fingerprint.StageSkeleton,
		fingerprint.StageRawMinutiae, fingerprint.StageQuality, fingerprint.StageMinutiae} {
		rec.Take(s, nil)
		rec.Take(s, 42)
	}
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
}
