package ansinist

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// XMLEdition selects the namespaces of the XML encoding.
type XMLEdition int

// The two editions of the NIEM XML encoding.
const (
	XML2008 XMLEdition = iota // ANSI/NIST-ITL 2-2008, NIEM 2.0 ansi-nist namespace
	XML2011                   // ANSI/NIST-ITL 1-2011 Part 2, NIEM biometrics 1.0 namespace
)

// DefaultXMLEdition is the edition EncodeXML writes for a transaction's
// version: 2-2008 for versions before 0500, 2011 from 0500 on.
func DefaultXMLEdition(version string) XMLEdition {
	if v, err := strconv.Atoi(version); err == nil && v < 500 {
		return XML2008
	}
	return XML2011
}

// ---------------------------------------------------------------- reading

// IsXML reports whether in holds the XML encoding: after an optional
// byte-order mark and white space it starts with '<', where a traditional
// transaction starts with its "1.001:" length field.
func IsXML(in []byte) bool {
	in = bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))
	in = bytes.TrimLeft(in, " \t\r\n")
	return len(in) > 0 && in[0] == '<'
}

// DecodeAny reads a transaction in either encoding, told apart by IsXML.
func DecodeAny(in []byte) (*Transaction, []Warning, error) {
	if IsXML(in) {
		return DecodeXML(in)
	}
	return Decode(in)
}

type xmlReader struct {
	warnings []Warning
	rec      int
}

func (d *xmlReader) warn(format string, args ...any) {
	d.warnings = addWarning(d.warnings, Warning{Offset: -1, Record: d.rec}, format, args...)
}

// DecodeXML reads a transaction in the NIEM XML encoding of either
// edition. Elements the mapping does not cover are reported as warnings;
// whole record children it does not cover (such as a domain's Type-2
// content) are kept and written back by EncodeXML, but have no traditional
// form.
func DecodeXML(in []byte) (*Transaction, []Warning, error) {
	root, err := parseXML(in)
	if err != nil {
		return nil, nil, err
	}
	if root.local != "NISTBiometricInformationExchangePackage" {
		return nil, nil, fmt.Errorf("%w: XML root is %s, not NISTBiometricInformationExchangePackage", ErrFormat, root.local)
	}
	d := &xmlReader{rec: -1}
	switch root.space {
	case nsITL2008, nsITL2011:
	default:
		d.warn("root namespace %q is neither the 2-2008 nor the 2011 one", root.space)
	}
	t := &Transaction{}
	for i, rn := range root.kids {
		d.rec = i
		if len(t.Records) > MaxRecords {
			return nil, d.warnings, fmt.Errorf("%w: more than %d records", ErrFormat, MaxRecords)
		}
		r, err := d.record(rn)
		if err != nil {
			return nil, d.warnings, err
		}
		t.Records = append(t.Records, r)
	}
	if len(t.Records) == 0 || t.Records[0].Type != 1 {
		return nil, d.warnings, fmt.Errorf("%w: XML transaction does not start with a PackageInformationRecord", ErrFormat)
	}
	d.rec = 0
	d.checkContents(t)
	return t, append(d.warnings, t.Conformance()...), nil
}

// checkContents compares the content summary (CNT) with the records the
// XML holds, which the traditional reader gets from CNT itself.
func (d *xmlReader) checkContents(t *Transaction) {
	cnt := t.Type1().Field(3)
	if cnt == nil || len(cnt.Subfields) == 0 {
		return
	}
	if n, err := strconv.Atoi(cnt.Item(0, 1)); err != nil || n != len(t.Records)-1 {
		d.warn("content summary count %q, but the XML holds %d records after Type-1", cnt.Item(0, 1), len(t.Records)-1)
	}
	for i, s := range cnt.Subfields[1:] {
		if i+1 >= len(t.Records) {
			d.warn("content summary lists %d records, the XML holds %d", len(cnt.Subfields)-1, len(t.Records)-1)
			return
		}
		r := t.Records[i+1]
		typ, _ := strconv.Atoi(s[0])
		idc := -2
		if len(s) > 1 {
			if v, err := strconv.Atoi(s[1]); err == nil {
				idc = v
			}
		}
		if typ != r.Type || (r.Raw == nil && idc != r.IDC()) {
			d.warn("content summary entry %d (%v) does not match record %d (Type-%d, IDC %d)", i+1, s, i+1, r.Type, r.IDC())
		}
	}
	if len(cnt.Subfields)-1 < len(t.Records)-1 {
		d.warn("content summary lists %d records, the XML holds %d", len(cnt.Subfields)-1, len(t.Records)-1)
	}
}

// recordType tells a record element's type from its RecordCategoryCode, or
// its name.
func (d *xmlReader) recordType(rn *xnode) (int, error) {
	if c := rn.find(segment{alts: []string{"b:RecordCategoryCode"}}); len(c) > 0 {
		c[0].used = true
		if v, err := strconv.Atoi(c[0].text); err == nil && v >= 1 && v <= 99 {
			return v, nil
		}
		d.warn("RecordCategoryCode %q is not a record type", c[0].text)
	}
	for typ, name := range recordElements {
		if rn.local == name {
			return typ, nil
		}
	}
	return 0, fmt.Errorf("%w: XML record %d (%s) has no record type", ErrFormat, d.rec, rn.local)
}

func (d *xmlReader) record(rn *xnode) (*Record, error) {
	typ, err := d.recordType(rn)
	if err != nil {
		return nil, err
	}
	if want := recordElements[typ]; want != "" && want != rn.local && rn.space != NSExtension {
		d.warn("Type-%d record in element %s, not %s", typ, rn.local, want)
	}
	r := &Record{Type: typ}
	if rn.space == NSExtension {
		if raw := rn.find(segment{alts: []string{"ebsp:Raw"}}); len(raw) > 0 {
			raw[0].used = true
			b, err := base64.StdEncoding.DecodeString(raw[0].text)
			if err != nil {
				return nil, fmt.Errorf("%w: XML record %d: opaque record not base64: %v", ErrFormat, d.rec, err)
			}
			r.Raw = b
			return r, nil
		}
	}
	r.Fields = []*Field{NewField(1, "0")} // LEN: computed by the traditional writer
	if typ != 1 {
		if idc := rn.walk(parsePath("b:ImageReferenceIdentification/nc:IdentificationID")); idc != nil {
			idc.markUsed()
			r.Set(NewField(2, idc.text))
		} else {
			d.warn("Type-%d record has no ImageReferenceIdentification (IDC); 0 assumed", typ)
			r.Set(NewField(2, "0"))
		}
	}
	if typ == 1 {
		d.type1(rn, r)
	}
	if typ == 2 {
		// An empty user-defined container is what a Type-2 record with
		// no domain fields looks like.
		for _, c := range rn.find(parsePath(type2Container)[0]) {
			if len(c.kids) == 0 && c.text == "" {
				c.used = true
			}
			// ebsp's own domain containers (see writeExtensions).
			for _, k := range c.kids {
				if k.space == NSExtension {
					k.used = true
				}
			}
		}
		d.intiType2(rn, r)
	}
	if typ == 8 {
		d.signatureVectors(rn, r)
	}
	if typ == 9 {
		d.ridgeCounts(rn, r)
	}
	if typ == 14 {
		d.segmentPolygons(rn, r)
	}
	if typ == 13 || typ == 14 {
		d.majorCasePrints(rn, r)
	}
	if typ == 9 {
		d.standardMinutiae(rn, r)
	}
	for _, m := range xmlMaps(typ) {
		f, err := d.mapped(rn, typ, m)
		if err != nil {
			return nil, err
		}
		if f != nil {
			r.Set(f)
		}
	}
	if typ == 10 {
		d.tattooColours(rn, r)
	}
	if typ == 9 {
		d.minutiaePositions(rn, r)
		d.deltaAngles(rn, r)
	}
	if err := d.extension(rn, r); err != nil {
		return nil, err
	}
	if Binary(typ) {
		// The binary encoding needs every header field: fill the ones the
		// XML left out.
		for i, it := range binaryHeaders[typ] {
			if f := r.Field(i + 1); f != nil && i > 0 {
				// Binary fields are numbers: "01" is written as 1 and
				// read back as "1", so normalise now.
				for _, s := range f.Subfields {
					for k, v := range s {
						if n, err := strconv.ParseUint(v, 10, 32); err == nil {
							s[k] = strconv.FormatUint(n, 10)
						}
					}
				}
			}
			if r.Field(i+1) == nil {
				d.warn("binary Type-%d field %s (%d.%03d) missing; 0 written", typ, it.name, typ, i+1)
				var subs []string
				for range it.count {
					subs = append(subs, "0")
				}
				r.Set(NewField(i+1, subs...))
			}
		}
		if df := BinaryDataField(typ); r.Field(df) == nil || !r.Field(df).IsData() {
			d.warn("binary Type-%d record has no image data; empty data written", typ)
			r.Set(&Field{Number: df, Data: []byte{}})
		}
	}
	// Keep whole children the mapping did not touch; warn about the
	// unmapped leaves of the children it did.
	var lost []string
	for _, k := range rn.kids {
		if !k.hasUsed() {
			r.xmlExtra = append(r.xmlExtra, k)
			if typ != 2 {
				d.warn("element %s has no field mapping; kept for XML output only", k.local)
			}
			continue
		}
		lost = k.unusedLeaves("", lost)
	}
	if typ == 2 && len(r.xmlExtra) > 0 {
		d.warn("Type-2 domain-defined XML content kept for XML output only; it has no traditional field numbers here (only INT-I's are known)")
	}
	if len(lost) > 0 {
		const show = 4
		more := ""
		if len(lost) > show {
			more = fmt.Sprintf(" and %d more", len(lost)-show)
		}
		d.warn("%d elements not mapped to fields and dropped: %s%s", len(lost), strings.Join(lost[:min(show, len(lost))], ", "), more)
	}
	return r, nil
}

// containerFor returns the path of record r's image container in edition
// e (writing) — the first of the type's containers for 2-2008, the last
// one for 2011, with Type-10's choice by IMT and Type-13's by FGP.
func containerFor(typ int, e XMLEdition, r *Record) string {
	c := containers[typ]
	if len(c) == 0 {
		return "b:Image"
	}
	switch typ {
	case 10:
		if r != nil && !strings.EqualFold(r.Value(3), "FACE") && r.Value(3) != "" {
			return "b:PhysicalFeatureImage"
		}
		c = c[:2]
	case 13:
		if r != nil {
			if p, ok := r.Int(13); ok && p >= 20 && p <= 38 {
				if e == XML2011 {
					return "b:PalmprintImage" // itl.xsd (2015) has no itl:PalmprintImage
				}
				return "itl:PalmprintImage"
			}
		}
		c = []string{c[0], c[2]}
	}
	if e == XML2008 {
		return c[0]
	}
	return c[len(c)-1]
}

// resolve replaces $C in a mapping path; for reading it offers every
// container of the type as alternatives.
func resolveRead(path string, typ int) string {
	if !strings.Contains(path, "$C") {
		return path
	}
	return strings.Replace(path, "$C", strings.Join(containers[typ], "|"), 1)
}

type itemSpec struct {
	index int
	path  []segment
	conv  string
}

func parseItems(items []string) []itemSpec {
	var out []itemSpec
	for i, s := range items {
		it := itemSpec{index: i}
		if n, rest, ok := strings.Cut(s, "="); ok {
			if v, err := strconv.Atoi(n); err == nil {
				it.index, s = v, rest
			}
		}
		s, it.conv, _ = strings.Cut(s, "@")
		it.path = parsePath(s)
		out = append(out, it)
	}
	return out
}

// mapped reads one mapped field, or returns nil when absent.
func (d *xmlReader) mapped(rn *xnode, typ int, m xmlMap) (*Field, error) {
	base := rn.walk(parsePath(resolveRead(m.base, typ)))
	if base == nil {
		return nil, nil
	}
	items := parseItems(m.items)
	var reps []*xnode
	if m.rep == "" {
		reps = []*xnode{base}
	} else {
		reps = base.find(parsePath(m.rep)[0])
	}
	f := &Field{Number: m.num}
	for _, rep := range reps {
		var sub Subfield
		found := false
		for _, it := range items {
			n := rep.walkFree(it.path)
			if n == nil || n.used {
				continue
			}
			if it.conv == "poly" {
				for len(sub) <= it.index {
					sub = append(sub, "")
				}
				sub[it.index] = readPolygon(n)
				found = true
				continue
			}
			if len(n.kids) > 0 {
				continue // a container where a value was expected
			}
			found = true
			n.markUsed()
			if it.conv == "b64" {
				b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.text), ""))
				if err != nil {
					return nil, fmt.Errorf("%w: XML record %d: field %d.%03d: base64: %v", ErrFormat, d.rec, typ, m.num, err)
				}
				f.Data = b
				continue
			}
			for len(sub) <= it.index {
				sub = append(sub, "")
			}
			sub[it.index] = d.fromXML(it.conv, n.text, typ, m.num)
		}
		if found && f.Data == nil {
			f.Subfields = append(f.Subfields, sub)
		}
	}
	if f.Data == nil && len(f.Subfields) == 0 {
		return nil, nil
	}
	return f, nil
}

// fromXML converts an element value to the traditional form.
func (d *xmlReader) fromXML(conv, v string, typ, num int) string {
	switch conv {
	case "date":
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t.Format("20060102")
		}
		d.warn("field %d.%03d: date %q not YYYY-MM-DD; kept as is", typ, num, v)
	case "gmt":
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC().Format("20060102150405Z")
		}
		if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil {
			return t.Format("20060102150405Z")
		}
		d.warn("field %d.%03d: date-time %q not xs:dateTime; kept as is", typ, num, v)
	case "bool":
		switch v {
		case "true", "1":
			return "1"
		case "false", "0":
			return "0"
		}
	case "fmt":
		switch v {
		case "true", "1":
			return "S"
		case "false", "0":
			return "U"
		}
	}
	return v
}

// type1 reads VER and CNT (1-2011 Annex C: major and minor version values,
// and the content summary).
func (d *xmlReader) type1(rn *xnode, r *Record) {
	tr := rn.walk(parsePath("b:Transaction"))
	if tr == nil {
		d.warn("PackageInformationRecord has no Transaction element")
		return
	}
	maj := tr.walk(parsePath("b:TransactionMajorVersionValue"))
	minor := tr.walk(parsePath("b:TransactionMinorVersionValue"))
	if maj != nil && minor != nil {
		maj.used, minor.used = true, true
		r.Set(NewField(2, maj.text+minor.text))
	} else {
		d.warn("no TransactionMajorVersionValue/TransactionMinorVersionValue")
		r.Set(NewField(2, ""))
	}
	cs := tr.walk(parsePath("b:TransactionContentSummary"))
	if cs == nil {
		d.warn("no TransactionContentSummary (CNT)")
		return
	}
	first := cs.walk(parsePath("b:ContentFirstRecordCategoryCode"))
	count := cs.walk(parsePath("b:ContentRecordCount|b:ContentRecordQuantity"))
	f := &Field{Number: 3}
	sf := Subfield{"1", "0"}
	if first != nil {
		first.used, sf[0] = true, first.text
	}
	if count != nil {
		count.used, sf[1] = true, count.text
	}
	f.Subfields = append(f.Subfields, sf)
	for _, s := range cs.find(segment{alts: []string{"b:ContentRecordSummary"}}) {
		typ, idc := s.walk(parsePath("b:RecordCategoryCode")), s.walk(parsePath("b:ImageReferenceIdentification/nc:IdentificationID"))
		sub := Subfield{"", ""}
		if typ != nil {
			typ.used, sub[0] = true, typ.text
		}
		if idc != nil {
			idc.used, sub[1] = true, idc.text
		}
		s.used = true
		f.Subfields = append(f.Subfields, sub)
	}
	r.Set(f)
}

// standardMinutiae reads 9.008 CRP, 9.009 DLT and 9.012 MRC of the legacy
// standard block, whose traditional items pack coordinates into one
// XXXXYYYY(TTT) item.
func (d *xmlReader) standardMinutiae(rn *xnode, r *Record) {
	std := rn.walk(parsePath("itl:Minutiae|b:RecordMinutiae"))
	if std == nil {
		return
	}
	for _, cd := range []struct {
		num  int
		elem string
	}{{8, "b:MinutiaeFingerCorePosition"}, {9, "b:MinutiaeFingerDeltaPosition"}} {
		f := &Field{Number: cd.num}
		for _, p := range std.find(parsePath(cd.elem)[0]) {
			x, y := p.walk(parsePath("b:PositionHorizontalCoordinateValue")), p.walk(parsePath("b:PositionVerticalCoordinateValue"))
			if x == nil || y == nil {
				continue
			}
			p.markUsed()
			f.Subfields = append(f.Subfields, Subfield{x.text + y.text})
		}
		if len(f.Subfields) > 0 {
			r.Set(f)
		}
	}
	nist := std.walk(parsePath("itl:MinutiaeNISTStandard|b:MinutiaeNISTStandard"))
	if nist == nil {
		return
	}
	f := &Field{Number: 12}
	for _, md := range nist.find(parsePath("itl:MinutiaDetail|b:MinutiaDetail")[0]) {
		get := func(p string) string {
			if n := md.walk(parsePath(p)); n != nil {
				n.markUsed()
				return n.text
			}
			return ""
		}
		sub := Subfield{get("b:MinutiaIdentification/nc:IdentificationID"),
			get("b:PositionHorizontalCoordinateValue") + get("b:PositionVerticalCoordinateValue") + get("b:PositionThetaAngleMeasure"),
			get("b:MinutiaQualityValue"), get("b:MinutiaCategoryCode")}
		for _, rc := range md.find(parsePath("b:MinutiaRidgeCount")[0]) {
			rc.markUsed()
			ref, cnt := rc.walk(parsePath("b:RidgeCountReferenceIdentification/nc:IdentificationID")), rc.walk(parsePath("b:RidgeCountValue"))
			if ref != nil && cnt != nil {
				sub = append(sub, ref.text+","+cnt.text)
			}
		}
		md.used = true
		f.Subfields = append(f.Subfields, sub)
	}
	if len(f.Subfields) > 0 {
		r.Set(f)
	}
}

// extension reads ebsp:Field elements anywhere in the record.
func (d *xmlReader) extension(n *xnode, r *Record) error {
	for _, k := range n.kids {
		if k.space == NSExtension && k.local == "Field" {
			k.markUsed()
			f, err := d.extensionField(k, r.Type)
			if err != nil {
				return err
			}
			if r.Field(f.Number) != nil {
				d.warn("extension field %d.%03d repeats a mapped field; the extension's value kept", r.Type, f.Number)
			}
			r.Set(f)
			continue
		}
		if err := d.extension(k, r); err != nil {
			return err
		}
	}
	return nil
}

func (d *xmlReader) extensionField(k *xnode, typ int) (*Field, error) {
	tag := ""
	for _, a := range k.attrs {
		if a.Name.Local == "tag" {
			tag = a.Value
		}
	}
	ts, fs, _ := strings.Cut(tag, ".")
	num, err := strconv.Atoi(fs)
	if rt, err2 := strconv.Atoi(ts); err != nil || err2 != nil || num < 1 || num > 9999 || rt != typ {
		return nil, fmt.Errorf("%w: XML record %d: extension field tag %q is not %d.NNN", ErrFormat, d.rec, tag, typ)
	}
	f := &Field{Number: num}
	for _, c := range k.kids {
		switch c.local {
		case "Data":
			b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.text), ""))
			if err != nil {
				return nil, fmt.Errorf("%w: XML record %d: extension field %s data: %v", ErrFormat, d.rec, tag, err)
			}
			f.Data = b
		case "Subfield":
			var sub Subfield
			for _, it := range c.kids {
				v := it.text
				for _, a := range it.attrs {
					if a.Name.Local == "encoding" && a.Value == "base64" {
						b, err := base64.StdEncoding.DecodeString(v)
						if err != nil {
							return nil, fmt.Errorf("%w: XML record %d: extension field %s item: %v", ErrFormat, d.rec, tag, err)
						}
						v = string(b)
					}
				}
				sub = append(sub, v)
			}
			if len(sub) == 0 {
				sub = Subfield{""}
			}
			f.Subfields = append(f.Subfields, sub)
		}
	}
	return f, nil
}

// XMLOnly returns how many record children read from XML have no field
// mapping and so are written only by EncodeXML, not by Encode.
func (t *Transaction) XMLOnly() int {
	n := 0
	for _, r := range t.Records {
		n += len(r.xmlExtra)
	}
	return n
}

// ---------------------------------------------------------------- writing

func xmlAttr(name, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: name}, Value: value}
}

type xmlEncoder struct {
	edition XMLEdition
	typ     int
	rec     *Record
}

// uri returns the namespace of a prefix in the encoder's edition.
func (e *xmlEncoder) uri(prefix string) string {
	switch prefix {
	case "itl":
		if e.edition == XML2008 {
			return nsITL2008
		}
		return nsITL2011
	case "b":
		if e.edition == XML2008 {
			return nsANSI2008
		}
		return nsBiom2011
	case "nc":
		return nsNC
	case "ebsp":
		return NSExtension
	case "int-i":
		return NSINTI
	}
	return ""
}

// child returns the element for seg under p: the last existing one, or a
// new one (always new for "+" segments).
func (e *xmlEncoder) child(p *xnode, seg segment) *xnode {
	if !seg.fresh {
		for i := len(p.kids) - 1; i >= 0; i-- {
			if seg.matches(p.kids[i]) && !p.kids[i].newAlways {
				return p.kids[i]
			}
		}
	}
	q := seg.alts[0]
	if e.edition == XML2011 {
		q = seg.alts[len(seg.alts)-1]
	}
	pfx, local, _ := strings.Cut(q, ":")
	n := &xnode{space: e.uri(pfx), local: local}
	p.kids = append(p.kids, n)
	return n
}

func (e *xmlEncoder) path(p *xnode, path []segment) *xnode {
	for _, s := range path {
		p = e.child(p, s)
	}
	return p
}

func (e *xmlEncoder) resolve(path string) string {
	if !strings.Contains(path, "$C") {
		return path
	}
	return strings.Replace(path, "$C", containerFor(e.typ, e.edition, e.rec), 1)
}

// toXML converts a traditional item for an element, or reports it cannot.
func toXML(conv, v string) (string, bool) {
	switch conv {
	case "date":
		t, err := time.Parse("20060102", v)
		if err != nil || t.Format("20060102") != v {
			return "", false
		}
		return t.Format("2006-01-02"), true
	case "gmt":
		t, err := time.Parse("20060102150405Z", v)
		if err != nil || t.Format("20060102150405Z") != v {
			return "", false
		}
		return t.Format("2006-01-02T15:04:05Z"), true
	case "bool":
		switch v {
		case "1":
			return "true", true
		case "0":
			return "false", true
		}
		return "", false
	case "fmt":
		switch v {
		case "S":
			return "true", true
		case "U":
			return "false", true
		}
		return "", false
	case "poly":
		return v, validPolygon(v)
	}
	return v, xmlSafe(v)
}

// fits reports whether field f can be written through mapping m and read
// back unchanged.
func fits(f *Field, m xmlMap) bool {
	items := parseItems(m.items)
	if len(items) == 1 && items[0].conv == "b64" {
		return f.IsData()
	}
	if f.IsData() || len(f.Subfields) == 0 || (m.rep == "" && len(f.Subfields) != 1) {
		return false
	}
	covered := map[int]bool{}
	maxCovered := -1
	for _, it := range items {
		covered[it.index] = true
	}
	for _, s := range f.Subfields {
		if len(s) == 0 {
			return false
		}
		maxCovered = -1
		for k := range s {
			if covered[k] {
				maxCovered = k
			}
		}
		// An item without an element reads back only as an empty item
		// before a later one that has an element.
		for k, v := range s {
			if !covered[k] && (v != "" || k > maxCovered) {
				return false
			}
		}
		for _, it := range items {
			if it.index >= len(s) {
				continue
			}
			if _, ok := toXML(it.conv, s[it.index]); !ok {
				return false
			}
		}
		// A lone empty item of a single-item subfield would read back
		// as no element at all for a repeated mapping.
		if m.rep == "" && len(items) == 1 && len(items[0].path) == 0 {
			return false
		}
	}
	return true
}

// writeMapped writes f through m under the record element rn.
func (e *xmlEncoder) writeMapped(rn *xnode, f *Field, m xmlMap) {
	base := e.path(rn, parsePath(e.resolve(m.base)))
	items := parseItems(m.items)
	if f.IsData() {
		n := e.path(base, items[0].path)
		n.text = base64.StdEncoding.EncodeToString(f.Data)
		return
	}
	for _, s := range f.Subfields {
		rep := base
		if m.rep != "" {
			seg := parsePath(m.rep)[0]
			seg.fresh = true
			rep = e.child(base, seg)
			rep.newAlways = true
		}
		for _, it := range items {
			if it.index >= len(s) {
				continue
			}
			n := e.path(rep, it.path)
			if it.conv == "poly" {
				e.writePolygon(n, s[it.index])
				continue
			}
			v, _ := toXML(it.conv, s[it.index])
			n.text = v
		}
	}
}

// extensionField makes the ebsp:Field element of f.
func (e *xmlEncoder) extensionField(typ int, f *Field) *xnode {
	n := &xnode{space: NSExtension, local: "Field"}
	n.attrs = append(n.attrs, xmlAttr("tag", fmt.Sprintf("%d.%03d", typ, f.Number)))
	if f.IsData() {
		n.kids = append(n.kids, &xnode{space: NSExtension, local: "Data", text: base64.StdEncoding.EncodeToString(f.Data)})
	}
	for _, s := range f.Subfields {
		sn := &xnode{space: NSExtension, local: "Subfield"}
		for _, it := range s {
			in := &xnode{space: NSExtension, local: "Item", text: it}
			if !xmlSafe(it) {
				in.text = base64.StdEncoding.EncodeToString([]byte(it))
				in.attrs = append(in.attrs, xmlAttr("encoding", "base64"))
			}
			sn.kids = append(sn.kids, in)
		}
		n.kids = append(n.kids, sn)
	}
	return n
}

// EncodeXML writes the transaction in the NIEM XML encoding of the edition
// DefaultXMLEdition picks for its version, after Validate.
func (t *Transaction) EncodeXML() ([]byte, error) {
	return t.EncodeXMLEdition(DefaultXMLEdition(t.Version()))
}

// EncodeXMLEdition writes the transaction in the given XML edition. Fields
// the mapping covers become the standard's elements; every other field
// becomes an ebsp:Field extension element, so that reading the result back
// gives every field again.
func (t *Transaction) EncodeXMLEdition(ed XMLEdition) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	itl := nsITL2011
	if ed == XML2008 {
		itl = nsITL2008
	}
	root := &xnode{space: itl, local: "NISTBiometricInformationExchangePackage"}
	for _, r := range t.Records {
		root.kids = append(root.kids, encodeRecordXML(r, ed, itl, t.Type1().Field(13).Item(0, 0)))
	}
	// The mapping tables write elements roughly in order; the schema's
	// content models put every element's children exactly in order.
	s := schemaFor(ed)
	s.orderBySchema(root, s.rootType)
	w := &xmlWriter{prefixes: map[string]string{itl: "itl", nsNC: "nc", NSExtension: "ebsp"}}
	if ed == XML2008 {
		w.prefixes[nsANSI2008] = "ansi-nist"
		w.prefixes[nsS] = "s"
	} else {
		w.prefixes[nsBiom2011] = "biom"
	}
	w.declareForeign(root)
	w.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.element(root, 0, true)
	return w.buf.Bytes(), nil
}

// encodeRecordXML writes one record; domain is the transaction's 1.013
// DOM name, which decides how Type-2 is written.
func encodeRecordXML(r *Record, ed XMLEdition, itl, domain string) *xnode {
	e := &xmlEncoder{edition: ed, typ: r.Type, rec: r}
	name := recordElements[r.Type]
	rn := &xnode{space: itl, local: name}
	if name == "" || r.Raw != nil {
		rn = &xnode{space: NSExtension, local: "Record"}
	}
	code := strconv.Itoa(r.Type)
	if ed == XML2008 && r.Type < 10 {
		code = "0" + code
	}
	rn.kids = append(rn.kids, &xnode{space: e.uri("b"), local: "RecordCategoryCode", text: code})
	if r.Raw != nil {
		rn.kids = append(rn.kids, &xnode{space: NSExtension, local: "Raw", text: base64.StdEncoding.EncodeToString(r.Raw)})
		return rn
	}
	done := map[int]bool{1: true}
	if r.Type != 1 {
		idc := r.Field(2)
		if v := idc.Value(); len(idc.Subfields) == 1 && len(idc.Subfields[0]) == 1 && xmlSafe(v) && v != "" {
			n := e.path(rn, parsePath("b:ImageReferenceIdentification/nc:IdentificationID"))
			n.text = v
			done[2] = true
		}
	}
	if r.Type == 1 {
		e.type1(rn, r, done)
	}
	if r.Type == 9 {
		e.standardMinutiae(rn, r, done)
	}
	if r.Type == 8 {
		e.signatureVectors(rn, r, done)
	}
	for _, m := range xmlMaps(r.Type) {
		// The variable-tail fields go where the schema puts them.
		if r.Type == 9 && m.num == 139 {
			e.ridgeCounts(rn, r, done)
		}
		if r.Type == 9 && m.num == 126 {
			e.minutiaePositions(rn, r, done)
		}
		if (r.Type == 13 || r.Type == 14) && m.num == 18 || r.Type == 13 && m.num == 24 {
			e.majorCasePrints(rn, r, done)
		}
		f := r.Field(m.num)
		if f == nil || done[m.num] || !fits(f, m) {
			continue
		}
		e.writeMapped(rn, f, m)
		done[m.num] = true
	}
	if r.Type == 9 {
		e.minutiaePositions(rn, r, done)
		e.ridgeCounts(rn, r, done)
		e.deltaAngles(rn, r, done)
	}
	if r.Type == 14 {
		e.segmentPolygons(rn, r, done)
	}
	if r.Type == 10 {
		e.tattooColours(rn, r, done)
	}
	inti := false
	if r.Type == 2 && IsINTI(domain) {
		inti = e.intiType2(rn, r, done)
	}
	e.writeExtensions(rn, r, done, inti)
	rn.kids = append(rn.kids, r.xmlExtra...)
	return rn
}

// writeExtensions writes the fields the mapping did not cover as
// ebsp:Field elements where the 1-2011 schema admits user-defined content
// (ebsp-extension.xsd declares the substitutions): in a data record, as
// itl:UserDefinedFields right after ImageReferenceIdentification; in
// Type-2, inside itl:UserDefinedDescriptiveDetail as the domain-defined
// detail (ebsp:DomainDefinedDescriptiveDetail) or, after a domain's own
// tree such as INT-I's, as ebsp:OtherDescriptiveDetail. Type-1 has no
// such point: its stray fields go at the record's end, where a schema
// validator will reject them.
func (e *xmlEncoder) writeExtensions(rn *xnode, r *Record, done map[int]bool, domainTree bool) {
	var rest []*Field
	for _, f := range r.Fields {
		if !done[f.Number] {
			rest = append(rest, f)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Number < rest[j].Number })
	if r.Type == 2 {
		if len(rest) == 0 {
			// No container: the schema's container requires a
			// domain-defined detail, and there is none to write.
			return
		}
		c := e.path(rn, parsePath(type2Container))
		name := "DomainDefinedDescriptiveDetail"
		if domainTree {
			name = "OtherDescriptiveDetail"
		}
		w := &xnode{space: NSExtension, local: name}
		c.kids = append(c.kids, w)
		for _, f := range rest {
			w.kids = append(w.kids, e.extensionField(r.Type, f))
		}
		return
	}
	if len(rest) == 0 {
		return
	}
	var ext []*xnode
	for _, f := range rest {
		ext = append(ext, e.extensionField(r.Type, f))
	}
	if r.Type == 1 {
		rn.kids = append(rn.kids, ext...)
		return
	}
	at := 1 // after RecordCategoryCode, and ImageReferenceIdentification when written
	if len(rn.kids) > 1 && rn.kids[1].local == "ImageReferenceIdentification" {
		at = 2
	}
	rn.kids = append(rn.kids[:at], append(ext, rn.kids[at:]...)...)
}

// type1 writes VER and CNT when they have the standard's form.
func (e *xmlEncoder) type1(rn *xnode, r *Record, done map[int]bool) {
	tr := e.path(rn, parsePath("b:Transaction"))
	// Element order of TransactionType: the mapped fields before VER are
	// written first, then VER, priority, TOT and CNT (Annex C).
	before := map[int]bool{5: true, 7: true, 8: true, 17: true, 14: true, 9: true, 10: true, 13: true, 11: true, 12: true}
	for _, m := range xmlMaps(1) {
		if f := r.Field(m.num); f != nil && before[m.num] && fits(f, m) {
			e.writeMapped(rn, f, m)
			done[m.num] = true
		}
	}
	if v := r.Value(2); len(v) == 4 && strings.Trim(v, "0123456789") == "" && len(r.Field(2).Subfields) == 1 && len(r.Field(2).Subfields[0]) == 1 {
		e.path(tr, parsePath("b:TransactionMajorVersionValue")).text = v[:2]
		e.path(tr, parsePath("b:TransactionMinorVersionValue")).text = v[2:]
		done[2] = true
	}
	for _, m := range xmlMaps(1) {
		if f := r.Field(m.num); f != nil && (m.num == 6 || m.num == 4) && fits(f, m) {
			e.writeMapped(rn, f, m)
			done[m.num] = true
		}
	}
	cnt := r.Field(3)
	ok := cnt != nil && !cnt.IsData()
	for _, s := range cnt.Subfields {
		for _, it := range s {
			ok = ok && len(s) == 2 && xmlSafe(it) && it != ""
		}
	}
	if !ok {
		return
	}
	cs := e.path(tr, parsePath("b:TransactionContentSummary"))
	e.path(cs, parsePath("b:ContentFirstRecordCategoryCode")).text = cnt.Subfields[0][0]
	e.path(cs, parsePath("b:ContentRecordCount|b:ContentRecordQuantity")).text = cnt.Subfields[0][1]
	for _, s := range cnt.Subfields[1:] {
		sum := e.child(cs, segment{alts: []string{"b:ContentRecordSummary"}, fresh: true})
		sum.newAlways = true
		e.path(sum, parsePath("b:ImageReferenceIdentification/nc:IdentificationID")).text = s[1]
		e.path(sum, parsePath("b:RecordCategoryCode")).text = s[0]
	}
	done[3] = true
}

// standardMinutiae writes 9.012 MRC, 9.008 CRP and 9.009 DLT when every
// subfield has the standard's packed form.
func (e *xmlEncoder) standardMinutiae(rn *xnode, r *Record, done map[int]bool) {
	mrc := r.Field(12)
	okMRC := mrc != nil && !mrc.IsData()
	if okMRC {
		for _, s := range mrc.Subfields {
			if len(s) < 4 || len(s[1]) < 5 || (len(s[1])-3)%2 != 0 || !xmlSafe(s[0]) || !xmlSafe(s[1]) || !xmlSafe(s[2]) || !xmlSafe(s[3]) || s[0] == "" || s[3] == "" {
				okMRC = false
			}
			for _, rc := range s[min(4, len(s)):] {
				a, b, found := strings.Cut(rc, ",")
				if !found || !xmlSafe(a) || !xmlSafe(b) || a == "" || b == "" || strings.Contains(b, ",") {
					okMRC = false
				}
			}
		}
	}
	std := "itl:Minutiae|b:RecordMinutiae"
	if okMRC {
		nist := e.path(rn, parsePath(std+"/itl:MinutiaeNISTStandard|b:MinutiaeNISTStandard"))
		for _, s := range mrc.Subfields {
			md := e.child(nist, segment{alts: []string{"itl:MinutiaDetail", "b:MinutiaDetail"}, fresh: true})
			md.newAlways = true
			half := (len(s[1]) - 3) / 2
			e.path(md, parsePath("b:PositionHorizontalCoordinateValue")).text = s[1][:half]
			e.path(md, parsePath("b:PositionVerticalCoordinateValue")).text = s[1][half : 2*half]
			e.path(md, parsePath("b:MinutiaIdentification/nc:IdentificationID")).text = s[0]
			e.path(md, parsePath("b:PositionThetaAngleMeasure")).text = s[1][2*half:]
			e.path(md, parsePath("b:MinutiaQualityValue")).text = s[2]
			e.path(md, parsePath("b:MinutiaCategoryCode")).text = s[3]
			for _, rc := range s[4:] {
				a, b, _ := strings.Cut(rc, ",")
				n := e.child(md, segment{alts: []string{"b:MinutiaRidgeCount"}, fresh: true})
				n.newAlways = true
				e.path(n, parsePath("b:RidgeCountReferenceIdentification/nc:IdentificationID")).text = a
				e.path(n, parsePath("b:RidgeCountValue")).text = b
			}
		}
		done[12] = true
	}
	// The fields after MinutiaDetail inside MinutiaeNISTStandard, then
	// core and delta positions.
	for _, m := range xmlMaps(9) {
		if f := r.Field(m.num); f != nil && (m.num == 10 || m.num == 5 || m.num == 11) && fits(f, m) {
			e.writeMapped(rn, f, m)
			done[m.num] = true
		}
	}
	for _, cd := range []struct {
		num  int
		elem string
	}{{8, "b:MinutiaeFingerCorePosition"}, {9, "b:MinutiaeFingerDeltaPosition"}} {
		f := r.Field(cd.num)
		if f == nil || f.IsData() {
			continue
		}
		ok := true
		for _, s := range f.Subfields {
			ok = ok && len(s) == 1 && len(s[0]) >= 2 && len(s[0])%2 == 0 && xmlSafe(s[0])
		}
		if !ok {
			continue
		}
		base := e.path(rn, parsePath(std))
		for _, s := range f.Subfields {
			p := e.child(base, segment{alts: []string{cd.elem}, fresh: true})
			p.newAlways = true
			h := len(s[0]) / 2
			e.path(p, parsePath("b:PositionHorizontalCoordinateValue")).text = s[0][:h]
			e.path(p, parsePath("b:PositionVerticalCoordinateValue")).text = s[0][h:]
		}
		done[cd.num] = true
	}
}

// Signature vectors (Type-8 with SRT 2, 1-2011 section 8.8.8): five bytes
// each in the binary record (x and y in two bytes, pen pressure in one),
// elements in XML.
const vectorPath = "$C/b:SignatureImageVectorRepresentation"

func (d *xmlReader) signatureVectors(rn *xnode, r *Record) {
	vr := rn.walk(parsePath(resolveRead(vectorPath, 8)))
	if vr == nil {
		return
	}
	data := []byte{}
	for _, v := range vr.find(segment{alts: []string{"b:SignatureImageVector"}}) {
		x, y, p := v.walk(parsePath("b:VectorPositionHorizontalCoordinateValue")), v.walk(parsePath("b:VectorPositionVerticalCoordinateValue")), v.walk(parsePath("b:VectorPenPressureValue"))
		if x == nil || y == nil || p == nil {
			d.warn("signature vector without x, y and pen pressure skipped")
			continue
		}
		xv, e1 := strconv.ParseUint(x.text, 10, 16)
		yv, e2 := strconv.ParseUint(y.text, 10, 16)
		pv, e3 := strconv.ParseUint(p.text, 10, 8)
		if e1 != nil || e2 != nil || e3 != nil {
			d.warn("signature vector %s,%s,%s out of range skipped", x.text, y.text, p.text)
			continue
		}
		v.markUsed()
		data = append(data, byte(xv>>8), byte(xv), byte(yv>>8), byte(yv), byte(pv))
	}
	vr.used = true
	r.Set(&Field{Number: 8, Data: data})
}

func (e *xmlEncoder) signatureVectors(rn *xnode, r *Record, done map[int]bool) {
	f := r.Field(8)
	if r.Value(4) != "2" || f == nil || !f.IsData() || len(f.Data)%5 != 0 {
		return
	}
	vr := e.path(rn, parsePath(e.resolve(vectorPath)))
	for i := 0; i < len(f.Data); i += 5 {
		v := e.child(vr, segment{alts: []string{"b:SignatureImageVector"}, fresh: true})
		v.newAlways = true
		b := f.Data[i : i+5]
		e.path(v, parsePath("b:VectorPenPressureValue")).text = strconv.Itoa(int(b[4]))
		e.path(v, parsePath("b:VectorPositionVerticalCoordinateValue")).text = strconv.Itoa(int(b[2])<<8 | int(b[3]))
		e.path(v, parsePath("b:VectorPositionHorizontalCoordinateValue")).text = strconv.Itoa(int(b[0])<<8 | int(b[1]))
	}
	done[8] = true
}
