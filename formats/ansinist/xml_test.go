package ansinist

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// sortedModel returns a copy of t with each record's fields in number
// order: the XML encoding orders elements by schema, not by the field order
// of a traditional file, which 1-2011 section 7.1 leaves free.
func sortedModel(t *Transaction) *Transaction {
	c := &Transaction{}
	for _, r := range t.Records {
		rc := *r
		rc.Fields = append([]*Field(nil), r.Fields...)
		sort.SliceStable(rc.Fields, func(i, j int) bool { return rc.Fields[i].Number < rc.Fields[j].Number })
		c.Records = append(c.Records, &rc)
	}
	return c
}

// TestTraditionalToXML converts every traditional file to XML and back:
// every field must survive.
func TestTraditionalToXML(t *testing.T) {
	for _, p := range traditionalFiles(t) {
		name := filepath.Base(filepath.Dir(p)) + "/" + filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tr, _, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			if why, ok := unwritable[filepath.Base(p)]; ok {
				why.fix(tr)
			}
			// Both editions for the small files; one, alternating, for the
			// big ones (the XML reader is what the test time goes to).
			editions := []XMLEdition{XML2008, XML2011}
			if len(in) > 100000 {
				editions = editions[len(in)%2 : len(in)%2+1]
			}
			for _, ed := range editions {
				x, err := tr.EncodeXMLEdition(ed)
				if err != nil {
					t.Fatalf("EncodeXML: %v", err)
				}
				back, warns, err := DecodeXML(x)
				if err != nil {
					t.Fatalf("edition %d: DecodeXML: %v", ed, err)
				}
				// Only the source's own missing mandatory fields may be
				// reported again.
				if len(warns) != len(tr.Conformance()) {
					t.Errorf("edition %d: reading our own XML warns: %v", ed, warns)
				}
				if d := sameModel(sortedModel(tr), sortedModel(back)); d != "" {
					t.Fatalf("edition %d: XML round trip changed the model: %s", ed, d)
				}
				ext := bytes.Count(x, []byte("<ebsp:Field "))
				if ed == XML2011 {
					root, err := parseXML(x)
					if err != nil {
						t.Fatal(err)
					}
					if bad := extensionMisplaced(root); len(bad) > 0 {
						t.Errorf("extension elements where the 1-2011 schema has no extension point: %v", bad)
					}
				}
				t.Logf("XMLTRIP edition %d: %d bytes of XML, %d fields as extension elements", ed, len(x), ext)
			}
		})
	}
}

func xmlFiles(t *testing.T) []string {
	dir := shareddata.Dir(t, "formats/ansi-nist-xml")
	files, err := walkFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".xml") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no XML files under %s", dir)
	}
	return out
}

// TestXMLFiles reads every shared XML file, writes it as XML and as a
// traditional transaction, and reads both back.
func TestXMLFiles(t *testing.T) {
	for _, p := range xmlFiles(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tr, warns, err := DecodeXML(in)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			for _, w := range warns {
				t.Logf("warning: %s", w)
			}
			x, err := tr.EncodeXML()
			if err != nil {
				t.Fatalf("EncodeXML: %v", err)
			}
			back, _, err := DecodeXML(x)
			if err != nil {
				t.Fatalf("DecodeXML of our XML: %v", err)
			}
			if d := sameModel(sortedModel(tr), sortedModel(back)); d != "" {
				t.Fatalf("XML -> XML changed the model: %s", d)
			}
			if n1, n2 := countExtra(tr), countExtra(back); n1 != n2 {
				t.Errorf("XML -> XML kept %d of %d unmapped elements", n2, n1)
			}
			if DefaultXMLEdition(tr.Version()) == XML2011 {
				root, err := parseXML(x)
				if err != nil {
					t.Fatal(err)
				}
				if bad := extensionMisplaced(root); len(bad) > 0 {
					t.Errorf("extension elements where the 1-2011 schema has no extension point: %v", bad)
				}
			}
			trad, err := tr.Encode()
			if err != nil {
				t.Fatalf("Encode (traditional): %v", err)
			}
			tb, w2, err := Decode(trad)
			if err != nil || len(structural(w2)) > 0 {
				t.Fatalf("Decode of the traditional form: %v %v", err, w2)
			}
			if d := sameModel(sortedModel(tr), sortedModel(tb)); d != "" {
				t.Fatalf("XML -> traditional changed the model: %s", d)
			}
			t.Logf("XMLFILE %d records, %d warnings, %d unmapped elements kept for XML only; traditional form %d bytes", len(tr.Records), len(warns), countExtra(tr), len(trad))
		})
	}
}

func countExtra(t *Transaction) int {
	n := 0
	for _, r := range t.Records {
		n += len(r.xmlExtra)
	}
	return n
}

// TestXMLMapTable guards the index-based edits of imageCommon: each field
// lands on the element the standard gives it.
func TestXMLMapTable(t *testing.T) {
	want := map[[2]int]string{
		{10, 12}: "b:ImageColorSpaceCode", {10, 3}: "b:ImageCategoryCode", {10, 24}: "b:QualityValue",
		{14, 13}: ".", {14, 12}: "b:ImageBitsPerPixelQuantity", {14, 993}: "b:CaptureOrganization/nc:OrganizationName",
		{17, 13}: "b:ImageColorSpaceCode", {17, 22}: "b:CaptureHorizontalPixelDensityValue", {17, 24}: "b:QualityValue",
		{16, 13}: "b:ImageColorSpaceCode", {20, 17}: "b:CaptureHorizontalPixelDensityValue", {13, 13}: ".",
	}
	for k, leaf := range want {
		found := false
		for _, m := range xmlMaps(k[0]) {
			if m.num != k[1] {
				continue
			}
			for _, it := range m.items {
				if strings.HasSuffix(it, leaf) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("field %d.%03d is not mapped to %s", k[0], k[1], leaf)
		}
	}
	for _, typ := range []int{1, 4, 8, 9, 10, 14, 15, 16, 17, 20, 99} {
		seen := map[int]bool{}
		for _, m := range xmlMaps(typ) {
			if seen[m.num] {
				t.Errorf("Type-%d field %d mapped twice", typ, m.num)
			}
			seen[m.num] = true
		}
	}
}
