package ansinist

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
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

// xmlGap is a departure from a schema's content model that ebsp's XML
// still has, with the reason; TestXMLContentModels accepts only these.
type xmlGap struct {
	edition XMLEdition
	match   *regexp.Regexp
	why     string
}

var xmlGaps = []xmlGap{
	{XML2011, regexp.MustCompile(`itl:Package(LowResolutionGrayscale|LowResolutionBinary|HighResolutionBinary)ImageRecord is not allowed`),
		"1-2011 withdrew record Types 3, 5 and 6; itl.xsd (2015) has no element for them"},
	{XML2011, regexp.MustCompile(`PackageUserDefinedImageRecord(\[\d+\])?: b:RecordImage is not allowed`),
		"itl.xsd's Type-7 holds the abstract b:BiometricImage, which only a domain schema substitutes"},
	{XML2008, regexp.MustCompile(`itl:PackageDescriptiveTextRecord is required|itl:UserDefinedDescriptiveText is required`),
		"2-2008 requires a Type-2 record with domain-defined text; the source has none"},
	{XML2008, regexp.MustCompile(`b:(FaceImageAcquisitionProfile|TransactionImageResolutionDetails|MinutiaeQuantity|PalmPosition) is required|itl:MinutiaDetail is required`),
		"a mandatory field (10.013 SAP, 1.011/1.012 NSR/NTR, the standard minutiae block, the palm position) is missing in the source"},
	{XML2008, regexp.MustCompile(`(b:LocationCountryISO3166Alpha3Code|b:TransactionApplicationProfile|b:ExtendedFeatureSetMinutiae|b:INCITSMinutiae|itl:PackageSourceRepresentationRecord|itl:PalmprintImageQuality|itl:FingerprintImageQuality|b:FingerPositionCode|b:PhysicalFeature\w+) is not allowed|itl:RecordMinutiae is required`),
		"fields of the 1-2011 edition (Type-1 country codes and application profiles, EFS and INCITS minutiae, Type-20, palm qualities) or SMT descriptors in a face record have no 2-2008 element in that place"},
	{XML2008, regexp.MustCompile(`PackageUserDefinedImageRecord(\[\d+\])?: b:RecordImage is abstract`),
		"2-2008 has no concrete element for a Type-7 record's user-defined image; ebsp writes the abstract b:RecordImage"},
	{XML2008, regexp.MustCompile(`inti:DomainDefinedDescriptiveDetail is not allowed|itl:DomainDefinedDescriptiveText is required`),
		"INT-I is a profile of 1-2011: its Type-2 tree has no place in a 2-2008 document"},
	{XML2008, regexp.MustCompile(`ebsp:\w+ is not allowed|itl:DomainDefinedDescriptiveText is required|b:FingerprintImageMajorCasePrint, at most 1 allowed`),
		"ebsp's extension elements are declared for 1-2011 only (extension.xsd), so in 2-2008 no field the mapping lacks has a valid place; 2-2008 allows one major case print in a latent"},
}

// TestXMLContentModels writes every shared transaction (traditional and
// XML) in both XML editions and checks each document against the content
// models of its schema (CheckXMLContent): element order everywhere, and
// cardinality, allowed and abstract elements except the gaps xmlGaps
// lists.
func TestXMLContentModels(t *testing.T) {
	type doc struct {
		name string
		tr   *Transaction
	}
	// What ebsp builds itself: a slap with segments, a search response.
	slap, _ := buildSlap()
	aseg := slap.Records[len(slap.Records)-1].Field(25)
	aseg.Subfields = aseg.Subfields[:1] // the second polygon is left invalid on purpose for TestSegments
	docs := []doc{{"built slap", slap}, {"built response", NewResponse(slap, "R1", true, []Candidate{{"REF1", 9000}})}}
	for _, p := range append(traditionalFiles(t), xmlFiles(t)...) {
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if raceEnabled && len(in) > 100000 {
			continue
		}
		tr, _, err := DecodeAny(in)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if why, ok := unwritable[filepath.Base(p)]; ok {
			why.fix(tr)
		}
		docs = append(docs, doc{filepath.Base(p), tr})
	}
	count, accepted := map[XMLEdition]int{}, map[XMLEdition]int{}
	for _, d := range docs {
		tr, p := d.tr, d.name
		for _, ed := range []XMLEdition{XML2008, XML2011} {
			x, err := tr.EncodeXMLEdition(ed)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			problems, err := CheckXMLContent(x)
			if err != nil {
				t.Fatalf("%s edition %d: %v", p, ed, err)
			}
			count[ed]++
		next:
			for _, pr := range problems {
				if !strings.Contains(pr, "schema orders it before") {
					for _, g := range xmlGaps {
						if g.edition == ed && g.match.MatchString(pr) {
							accepted[ed]++
							continue next
						}
					}
				}
				t.Errorf("%s edition %d: %s", p, ed, pr)
			}
		}
	}
	for _, ed := range []XMLEdition{XML2008, XML2011} {
		t.Logf("edition %d: %d documents, 0 order departures, %d departures of the kinds xmlGaps lists", ed, count[ed], accepted[ed])
	}
}

// TestCheckXMLContent checks that the checker finds what it should: an
// element out of order, one too many, a missing one and a stranger.
func TestCheckXMLContent(t *testing.T) {
	const head = `<itl:NISTBiometricInformationExchangePackage xmlns:itl="http://biometrics.nist.gov/standard/2011" xmlns:biom="http://niem.gov/niem/biometrics/1.0">`
	for name, c := range map[string]struct{ body, want string }{
		"valid":    {`<itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode><biom:Transaction/></itl:PackageInformationRecord>`, ""},
		"order":    {`<itl:PackageInformationRecord><biom:Transaction/><biom:RecordCategoryCode>1</biom:RecordCategoryCode></itl:PackageInformationRecord>`, "schema orders it before"},
		"too many": {`<itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode><biom:Transaction/><biom:Transaction/></itl:PackageInformationRecord>`, "at most 1"},
		"missing":  {`<itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode></itl:PackageInformationRecord>`, "b:Transaction is required"},
		"stranger": {`<itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode><biom:Transaction/><biom:Other/></itl:PackageInformationRecord>`, "b:Other is not allowed"},
		"no type1": {`<itl:PackageDescriptiveTextRecord/>`, "itl:PackageInformationRecord is required"},
	} {
		problems, err := CheckXMLContent([]byte(head + c.body + `</itl:NISTBiometricInformationExchangePackage>`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := strings.Join(problems, "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want %q", name, got, c.want)
		}
	}
}
