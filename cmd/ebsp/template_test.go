package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestTemplateCommand runs ebsp template extract (ISO and JSON), dump and
// --explain on a real image, and checks the refusals.
func TestTemplateCommand(t *testing.T) {
	img := filepath.Join(shareddata.Dir(t, "fingerprints/fvc2002_DB2_B"), "103_2.tif")
	dir := t.TempDir()
	iso := filepath.Join(dir, "t.iso")
	if rc := tmplMain([]string{"extract", img, "--dpi", "569", "-o", iso}); rc != 0 {
		t.Fatalf("extract: exit %d", rc)
	}
	data, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	rec, warns, err := iso19794.ParseMinutiae(data)
	if err != nil || len(warns) > 0 {
		t.Fatalf("written record: %v %v", err, warns)
	}
	if rec.Format != iso19794.ISO19794_2_2005 || len(rec.Views) != 1 || len(rec.Views[0].Minutiae) < 10 {
		t.Fatalf("written record: %+v", rec)
	}
	js := filepath.Join(dir, "t.json")
	if rc := tmplMain([]string{"extract", "--format", "json", img, "--dpi", "569", "-o", js}); rc != 0 {
		t.Fatalf("extract json: exit %d", rc)
	}
	for _, f := range []string{iso, js} {
		if rc := tmplMain([]string{"dump", f}); rc != 0 {
			t.Errorf("dump %s: exit %d", f, rc)
		}
	}
	out := filepath.Join(dir, "explain")
	if rc := tmplMain([]string{"--explain", out, img, "--dpi", "569"}); rc != 0 {
		t.Fatalf("explain: exit %d", rc)
	}
	if _, err := os.Stat(filepath.Join(out, "10-minutiae.png")); err != nil {
		t.Error(err)
	}
	for _, args := range [][]string{
		{"dump", img}, // an image is not a template
		{"extract", img, "--dpi", "100", "-o", js},    // resolution refused
		{"extract", img, "--format", "xml", "-o", js}, // unknown format
		{"extract", filepath.Join(dir, "none.png"), "-o", js},
	} {
		if rc := tmplMain(args); rc == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}

// TestTemplateDumpConvertShared dumps every shared minutiae record (all
// editions) and converts the 2011 and 2009 samples to every other edition.
func TestTemplateDumpConvertShared(t *testing.T) {
	dir := shareddata.Dir(t, "formats/minutiae")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	n := 0
	for _, f := range files {
		if filepath.Ext(f) == ".json" {
			continue
		}
		n++
		if rc := tmplMain([]string{"dump", f}); rc != 0 {
			t.Errorf("dump %s: exit %d", f, rc)
		}
	}
	if n < 12 {
		t.Errorf("only %d minutiae records under %s", n, dir)
	}
	out := filepath.Join(t.TempDir(), "c.fmr")
	for _, in := range []string{"fingerprintio/iso19794p2v2011-sample.dat", "fingerprintio/ansi378v2009am1-sample.dat", "libbiomeval/fmr.ansi2007"} {
		for name, f := range tmplFormats {
			if rc := tmplMain([]string{"convert", filepath.Join(dir, in), out, "--to", name}); rc != 0 {
				t.Fatalf("convert %s --to %s: exit %d", in, name, rc)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rec, warns, err := iso19794.ParseMinutiae(data)
			if err != nil || len(warns) > 0 || rec.Format != f {
				t.Errorf("convert %s --to %s: wrote %v %v %v", in, name, rec, warns, err)
			}
		}
	}
	if rc := tmplMain([]string{"convert", filepath.Join(dir, "libbiomeval/fmr.ansi2007"), out, "--to", "iso2020"}); rc == 0 {
		t.Error("convert to an unknown format: exit 0")
	}
}
