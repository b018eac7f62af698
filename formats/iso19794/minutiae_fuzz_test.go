package iso19794

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// FuzzParseMinutiae feeds arbitrary bytes to the reader: it must not panic,
// must keep memory proportional to the input (every slice is sized from
// counts checked against the bytes left), and whatever it reads and the
// strict writer accepts must survive a write and a read unchanged.
func FuzzParseMinutiae(f *testing.F) {
	if dir, err := shareddata.Find(); err == nil {
		files, _ := filepath.Glob(filepath.Join(dir, "formats", "minutiae", "*", "*"))
		for _, p := range files {
			if filepath.Ext(p) == ".json" {
				continue
			}
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("FMR\x00 20\x00\x00\x00\x00\x1c\x00\x00\x00\x10\x00\x10\x00\xc5\x00\xc5\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, _, err := ParseMinutiae(data)
		if err != nil {
			return
		}
		n := 0
		for _, v := range rec.Views {
			n += len(v.Minutiae)
		}
		if n*5 > len(data) { // 5 bytes is the smallest minutia (ISO/IEC 19794-2:2011)
			t.Fatalf("%d minutiae from %d bytes", n, len(data))
		}
		out, err := rec.Marshal()
		if err != nil {
			return
		}
		back, warns, err := ParseMinutiaeAs(out, rec.Format)
		if err != nil || len(warns) != 0 {
			t.Fatalf("rereading our own output: %v %v", err, warns)
		}
		again, err := back.Marshal()
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second write differs: %v", err)
		}
		for i := range rec.Views {
			if _, err := rec.Template(i); err != nil {
				t.Fatal(err)
			}
		}
	})
}
