package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// captureStdout runs f and returns what it printed.
func captureStdout(t *testing.T, f func() int) (string, int) {
	t.Helper()
	return captureFile(t, &os.Stdout, f)
}

// captureStderr is captureStdout for standard error, where commands write
// their errors.
func captureStderr(t *testing.T, f func() int) (string, int) {
	t.Helper()
	return captureFile(t, &os.Stderr, f)
}

// captureFile runs f with *file replaced by a pipe and returns what f
// wrote there and f's exit code.
func captureFile(t *testing.T, file **os.File, f func() int) (string, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := *file
	*file = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	rc := f()
	w.Close()
	*file = old
	return string(<-done), rc
}

func TestNistDumpAndConvert(t *testing.T) {
	src := filepath.Join(shareddata.Dir(t, "formats/ansi-nist"), "nist-reference/type-9-14-m1.an2")
	out, rc := captureStdout(t, func() int { return runNist([]string{"dump", src, "--json"}) })
	if rc != 0 {
		t.Fatalf("dump exit %d", rc)
	}
	var d dumpOut
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("dump --json: %v", err)
	}
	if len(d.Records) != 4 || d.Records[3].Fields[12].Mnemonic != "FGP" || len(d.Minutiae) != 1 || d.Minutiae[0].Count != 48 || len(d.Images) != 1 {
		t.Errorf("dump: %d records, minutiae %+v, images %+v", len(d.Records), d.Minutiae, d.Images)
	}

	// A slap's segmentation: the thumbs of valid1.8 are cut, the four
	// finger slaps name the other hand's fingers and are refused.
	slaps := filepath.Join(shareddata.Dir(t, "formats/ansi-nist"), "nbis-an2kconvert/valid1.8.an2")
	out, rc = captureStdout(t, func() int { return runNist([]string{"dump", "--json", slaps}) })
	d = dumpOut{}
	if err := json.Unmarshal([]byte(out), &d); rc != 0 || err != nil || len(d.Images) != 3 {
		t.Fatalf("dump %s: exit %d, %v", slaps, rc, err)
	}
	if s := d.Images[2].Segments; len(s) != 2 || s[0].Position != 6 || s[0].Box != [4]int{21, 21, 22, 22} || len(d.Images[0].SegmentProblems) != 4 {
		t.Errorf("slap segments: %+v", d.Images)
	}

	dir := t.TempDir()
	x, back := filepath.Join(dir, "t.xml"), filepath.Join(dir, "t.an2")
	if _, rc := captureStdout(t, func() int { return runNist([]string{"convert", src, x}) }); rc != 0 {
		t.Fatalf("convert to XML: exit %d", rc)
	}
	if _, rc := captureStdout(t, func() int { return runNist([]string{"convert", x, back}) }); rc != 0 {
		t.Fatalf("convert back: exit %d", rc)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(back)
	// The M1 record's fields are out of numeric order in the original;
	// XML orders them, so compare models rather than bytes.
	ta, _, _ := ansinist.Decode(a)
	tb, w, err := ansinist.Decode(b)
	if err != nil || len(w) > 0 || len(ta.Records) != len(tb.Records) || len(b) != len(a) {
		t.Fatalf("round trip through XML: %v %v, %d vs %d bytes", err, w, len(b), len(a))
	}

	wsq := shareddata.Dir(t, "formats/wsq/jnbis/tpcard")
	built := filepath.Join(dir, "built.an2")
	if _, rc := captureStdout(t, func() int {
		return runNist([]string{"convert", "--from-images", filepath.Join(wsq, "fp-2.wsq"), filepath.Join(wsq, "fp-7.wsq"), built})
	}); rc != 0 {
		t.Fatalf("--from-images: exit %d", rc)
	}
	bb, _ := os.ReadFile(built)
	tr, w, err := ansinist.Decode(bb)
	if err != nil || len(w) > 0 {
		t.Fatalf("built transaction: %v %v", err, w)
	}
	imgs := tr.FingerImages()
	want, _ := os.ReadFile(filepath.Join(wsq, "fp-7.wsq"))
	if len(imgs) != 2 || imgs[0].Positions[0] != 2 || imgs[1].Positions[0] != 7 || !bytes.Equal(imgs[1].Data, want) {
		t.Errorf("built transaction images: %+v", imgs)
	}
}
