package ansinist

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// traditionalFiles lists every traditional-encoding file of the shared data.
func traditionalFiles(t *testing.T) []string {
	t.Helper()
	dir := shareddata.Dir(t, "formats/ansi-nist")
	files, err := walkFiles(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files under %s", dir)
	}
	return files
}

// sameModel compares two transactions field by field, ignoring the length
// fields (recomputed by the writer) and tag layout.
func sameModel(a, b *Transaction) string {
	if len(a.Records) != len(b.Records) {
		return "record counts differ"
	}
	for i, ra := range a.Records {
		rb := b.Records[i]
		if ra.Type != rb.Type {
			return "record types differ"
		}
		if !bytes.Equal(ra.Raw, rb.Raw) {
			return "opaque records differ"
		}
		fa, fb := ra.Fields, rb.Fields
		if len(fa) != len(fb) {
			return "field counts differ in record " + itoa(i)
		}
		for j := range fa {
			x, y := fa[j], fb[j]
			if x.Number != y.Number || x.IsData() != y.IsData() || !bytes.Equal(x.Data, y.Data) {
				return "field " + itoa(i) + "/" + itoa(x.Number) + " differs"
			}
			if x.Number == 1 {
				continue
			}
			if x.Text() != y.Text() {
				return "field " + itoa(ra.Type) + "." + itoa(x.Number) + " differs: " + x.Text() + " vs " + y.Text()
			}
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// unwritable lists the shared files that no valid transaction can
// represent unchanged, with the field at fault and what a caller would do.
var unwritable = map[string]struct {
	field string
	fix   func(*Transaction)
}{
	// VER "0": the writer will not invent a version; a caller names one
	// (the file's DOM INT-I~4 and GMT field suggest 0500).
	"rec01_rec02_rec16.nst.an2": {"VER", func(t *Transaction) { t.Type1().Set(NewField(2, "0500")) }},
}

func TestTraditionalFiles(t *testing.T) {
	// summary counts, per folder: files, identical, rewritten, warnings.
	type counts struct{ files, identical, rewritten, warnings int }
	summary := map[string]*counts{}
	var folders []string
	defer func() {
		for _, f := range folders {
			c := summary[f]
			t.Logf("SUMMARY %s: %d files read, %d written back byte-identical, %d rewritten as valid transactions, %d warnings", f, c.files, c.identical, c.rewritten, c.warnings)
		}
	}()
	for _, p := range traditionalFiles(t) {
		folder := filepath.Base(filepath.Dir(p))
		name := folder + "/" + filepath.Base(p)
		if summary[folder] == nil {
			summary[folder] = &counts{}
			folders = append(folders, folder)
		}
		c := summary[folder]
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tr, warns, err := Decode(in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			for _, w := range warns {
				t.Logf("warning: %s", w)
			}
			c.files++
			c.warnings += len(warns)
			out, err := tr.Encode()
			if why, ok := unwritable[filepath.Base(p)]; ok {
				// The strict writer must refuse it, and write it once the
				// caller has decided what the irregular field should be.
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), why.field) {
					t.Fatalf("Encode = %v, want an ErrInvalid about %s", err, why.field)
				}
				t.Logf("ROUNDTRIP refused as expected: %v", err)
				why.fix(tr)
				out, err = tr.Encode()
			}
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if bytes.Equal(out, in) {
				t.Logf("ROUNDTRIP identical (%d bytes, %d warnings)", len(in), len(warns))
				c.identical++
				return
			}
			t.Logf("ROUNDTRIP rewritten (%d -> %d bytes, %d warnings)", len(in), len(out), len(warns))
			if len(warns) == 0 {
				t.Errorf("written back differently (%d vs %d bytes) though the reader found nothing irregular; first difference at %d", len(out), len(in), firstDiff(out, in))
			}
			back, w2, err := Decode(out)
			if err != nil {
				t.Fatalf("re-Decode: %v", err)
			}
			if len(structural(w2)) > 0 {
				t.Errorf("written file has warnings: %v", w2)
			}
			if d := sameModel(tr, back); d != "" {
				t.Errorf("written file reads back to a different model: %s", d)
				return
			}
			c.rewritten++
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// walkFiles lists the data files under dir (not the READMEs).
func walkFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasSuffix(p, ".txt") || strings.HasSuffix(p, ".md") {
			return err
		}
		files = append(files, p)
		return nil
	})
	return files, err
}
