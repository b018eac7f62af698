package ansinist

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leaves lists the non-empty leaves under n in document order as
// "path=value", the form two trees are compared in.
func leaves(n *xnode, prefix string, out []string) []string {
	p := prefix + "/" + n.local
	if len(n.kids) == 0 {
		if n.text != "" {
			out = append(out, p+"="+n.text)
		}
		return out
	}
	for _, k := range n.kids {
		out = leaves(k, p, out)
	}
	return out
}

// type2Trees returns the leaves of each Type-2 record's user-defined
// container in an XML document.
func type2Trees(t *testing.T, x []byte) [][]string {
	root, err := parseXML(x)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, rec := range root.kids {
		if rec.local != "PackageDescriptiveTextRecord" {
			continue
		}
		var l []string
		for _, c := range rec.find(parsePath(type2Container)[0]) {
			l = leaves(c, "", l)
		}
		out = append(out, l)
	}
	return out
}

// TestINTIRoundTrip: for every INT-I sample, XML -> traditional -> XML
// gives the same Type-2 elements in the same order (empty elements aside,
// which have no value to carry), every INT-I element becomes a numbered
// field of the traditional form, and the model survives both ways.
func TestINTIRoundTrip(t *testing.T) {
	n := 0
	for _, p := range xmlFiles(t) {
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(in), NSINTI) {
			continue
		}
		n++
		t.Run(filepath.Base(p), func(t *testing.T) {
			tr, _, err := DecodeXML(in)
			if err != nil {
				t.Fatal(err)
			}
			if tr.XMLOnly() != 0 {
				t.Fatalf("%d XML-only elements left: some INT-I content has no field", tr.XMLOnly())
			}
			if !IsINTI(tr.Type1().Field(13).Item(0, 0)) {
				t.Fatalf("DOM %q is not INT-I", tr.Type1().Value(13))
			}
			back := throughTraditional(t, tr)
			if d := sameModel(sortedModel(tr), sortedModel(back)); d != "" {
				t.Fatalf("XML -> traditional changed the model: %s", d)
			}
			fields := 0
			for _, r := range back.Records {
				if r.Type != 2 {
					continue
				}
				for _, f := range r.Fields {
					if f.Number <= 2 {
						continue
					}
					if _, ok := intiFieldByNum[f.Number]; !ok {
						t.Errorf("traditional Type-2 field 2.%03d is not an INT-I field", f.Number)
					}
					fields++
				}
			}
			x, err := back.EncodeXML()
			if err != nil {
				t.Fatal(err)
			}
			want, got := type2Trees(t, in), type2Trees(t, x)
			if len(want) != len(got) {
				t.Fatalf("%d Type-2 records, want %d", len(got), len(want))
			}
			elems := 0
			for i := range want {
				if strings.Join(want[i], "\n") != strings.Join(got[i], "\n") {
					t.Fatalf("Type-2 record %d: elements differ:\nwant %q\ngot  %q", i, want[i], got[i])
				}
				elems += len(want[i])
			}
			if strings.Contains(string(x), "<ebsp:") {
				t.Errorf("INT-I transaction written with ebsp extension elements")
			}
			x2, _, err := DecodeXML(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameModel(sortedModel(tr), sortedModel(x2)); d != "" {
				t.Fatalf("XML -> traditional -> XML changed the model: %s", d)
			}
			t.Logf("INTITRIP %s: %d Type-2 elements -> %d traditional fields -> the same %d elements", filepath.Base(p), elems, fields, elems)
		})
	}
	if n == 0 {
		t.Fatal("no INT-I XML sample found")
	}
}

// TestINTITable writes every field of the INT-I table from the
// traditional side (with several subfields where the table repeats an
// element, dates and date-times) and reads it back from XML; the same
// fields in a non-INT-I domain go out as ebsp extension elements.
func TestINTITable(t *testing.T) {
	mk := func(dom string) *Transaction {
		tr := New(Header{Version: "0502", TOT: "CPS", DAI: "INT", ORI: "DEU", TCN: "T1", Domain: dom}, nil)
		r := tr.Records[1]
		for _, s := range intiFields {
			sub := Subfield{}
			for i := range len(s.groupItems) + len(s.items) {
				sub = append(sub, fmt.Sprintf("v%d_%d", s.num, i))
			}
			f := &Field{Number: s.num, Subfields: []Subfield{sub}}
			all := append(append([]string{}, s.groupItems...), s.items...)
			for i, it := range all {
				switch {
				case strings.HasSuffix(it, "@date"):
					sub[i] = "19501201"
				case strings.HasSuffix(it, "@dt"):
					sub[i] = []string{"19501201", "20100704150512Z", "20161217150000"}[(s.num+i)%3]
				}
			}
			if s.group != "" {
				f.Subfields = append(f.Subfields, Subfield{"g2"}, Subfield{"", "g3b"})
			}
			r.Set(f)
		}
		return tr
	}
	tr := mk("INT-I")
	if err := tr.UpdateCNT(); err != nil {
		t.Fatal(err)
	}
	x, err := tr.EncodeXML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(x), "<ebsp:") {
		t.Errorf("an INT-I field went out as an extension element:\n%s", x)
	}
	back, warns, err := DecodeXML(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != len(tr.Conformance()) {
		t.Errorf("warnings: %v", warns)
	}
	if d := sameModel(sortedModel(tr), sortedModel(back)); d != "" {
		t.Fatalf("INT-I fields changed through XML: %s\n%s", d, x)
	}
	// Another domain: Type-2 numbers mean something else there.
	other := mk("NORAM")
	x, err = other.EncodeXML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(x), "int-i:") {
		t.Error("a NORAM transaction was written with INT-I elements")
	}
	back, _, err = DecodeXML(x)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameModel(sortedModel(other), sortedModel(back)); d != "" {
		t.Fatalf("extension round trip: %s", d)
	}
}

// TestINTIResponse answers an INT-I search: the response's Type-2 is
// INT-I's, so its XML is the int-i tree of INTERPOL's own SRE samples.
func TestINTIResponse(t *testing.T) {
	req := New(Header{Version: "0502", TOT: "CPS", DAI: "INT", ORI: "DEU", TCN: "Q1", Domain: "INT-I\x1f06.00"}, nil)
	for _, c := range []struct {
		hit   bool
		cands []Candidate
		want  []string
	}{
		{true, []Candidate{{"P-17", 900}, {"P-4", 400}}, []string{
			"/RecordMetadata/MiscellaneousIdentification/NationalPersonIdentifier/IdentificationID=P-17",
			"/TransactionResponseData/RespondentsList/TransactionCandidate/CandidateSequenceID/IdentificationID=1",
			"/TransactionResponseData/RespondentsList/TransactionCandidate/TransactionCandidateManualVerificationIndicator=false",
			"/TransactionResponseData/RespondentsList/TransactionCandidate/CandidateSequenceID/IdentificationID=2",
			"/TransactionResponseData/RespondentsList/TransactionCandidate/TransactionCandidateManualVerificationIndicator=false",
			"/TransactionResponseData/RespondentsList/TransactionCandidatesTotalQuantity=2",
			"/TransactionResponseData/RespondentsList/TransactionCategoryCode=CPS",
			"/TransactionResponseData/RespondentsList/TransactionSearchResultsCode=I"}},
		{false, nil, []string{
			"/TransactionResponseData/RespondentsList/TransactionCandidatesTotalQuantity=0",
			"/TransactionResponseData/RespondentsList/TransactionCategoryCode=CPS",
			"/TransactionResponseData/RespondentsList/TransactionSearchResultsCode=N"}},
	} {
		resp := NewResponse(req, "R1", c.hit, c.cands)
		if resp.TOT() != "SRE" || resp.Type1().Value(10) != "Q1" || resp.Records[1].Field(59) != nil {
			t.Fatalf("response header: TOT %s TCR %s", resp.TOT(), resp.Type1().Value(10))
		}
		back := throughTraditional(t, resp)
		x, err := back.EncodeXML()
		if err != nil {
			t.Fatal(err)
		}
		got := type2Trees(t, x)[0]
		for i := range got {
			got[i] = strings.TrimPrefix(got[i], "/UserDefinedDescriptiveDetail/DomainDefinedDescriptiveDetail")
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("hit %v: Type-2 elements\n%s\nwant\n%s", c.hit, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// TestINTIAltPaths reads the latent identifiers where INT-I's table puts
// them (directly under RecordMetadata) as well as where its samples do.
func TestINTIAltPaths(t *testing.T) {
	x := `<itl:NISTBiometricInformationExchangePackage xmlns:itl="http://biometrics.nist.gov/standard/2011" xmlns:biom="http://niem.gov/niem/biometrics/1.0" xmlns:nc="http://niem.gov/niem/niem-core/2.0" xmlns:int-i="http://interpol.gov/int-i/1.0">
<itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode><biom:Transaction>
<biom:TransactionDomain><biom:TransactionDomainName>INT-I</biom:TransactionDomainName></biom:TransactionDomain>
<biom:TransactionMajorVersionValue>05</biom:TransactionMajorVersionValue><biom:TransactionMinorVersionValue>02</biom:TransactionMinorVersionValue>
<biom:TransactionContentSummary><biom:ContentFirstRecordCategoryCode>1</biom:ContentFirstRecordCategoryCode><biom:ContentRecordCount>1</biom:ContentRecordCount>
<biom:ContentRecordSummary><biom:ImageReferenceIdentification><nc:IdentificationID>0</nc:IdentificationID></biom:ImageReferenceIdentification><biom:RecordCategoryCode>2</biom:RecordCategoryCode></biom:ContentRecordSummary>
</biom:TransactionContentSummary></biom:Transaction></itl:PackageInformationRecord>
<itl:PackageDescriptiveTextRecord><biom:RecordCategoryCode>2</biom:RecordCategoryCode><biom:ImageReferenceIdentification><nc:IdentificationID>0</nc:IdentificationID></biom:ImageReferenceIdentification>
<itl:UserDefinedDescriptiveDetail><itl:DomainDefinedDescriptiveDetail><int-i:RecordMetadata>
<int-i:LatentCaseEvidenceIdentifier>E1</int-i:LatentCaseEvidenceIdentifier><int-i:LatentIdentifier>L1</int-i:LatentIdentifier>
</int-i:RecordMetadata></itl:DomainDefinedDescriptiveDetail></itl:UserDefinedDescriptiveDetail></itl:PackageDescriptiveTextRecord>
</itl:NISTBiometricInformationExchangePackage>`
	tr, _, err := DecodeXML([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	if r := tr.Records[1]; r.Value(8) != "E1" || r.Value(9) != "L1" || tr.XMLOnly() != 0 {
		t.Errorf("2.008 %q, 2.009 %q, %d XML-only elements", r.Value(8), r.Value(9), tr.XMLOnly())
	}
}
