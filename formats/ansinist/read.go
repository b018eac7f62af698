package ansinist

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Separators of the traditional encoding (1-2011 section 7.1).
const (
	FS = 0x1C // file separator: ends a record
	GS = 0x1D // group separator: between fields
	RS = 0x1E // record separator: between subfields
	US = 0x1F // unit separator: between information items
)

// Warning is an irregularity the lenient reader worked around.
type Warning struct {
	Offset int    // byte offset in the input (traditional) or -1
	Record int    // index of the record in the transaction, or -1
	Msg    string // what was irregular and what the reader did

	suppressed int // for the last warning past MaxWarnings
}

func (w Warning) String() string {
	switch {
	case w.Record >= 0 && w.Offset >= 0:
		return fmt.Sprintf("record %d at offset %d: %s", w.Record, w.Offset, w.Msg)
	case w.Record >= 0:
		return fmt.Sprintf("record %d: %s", w.Record, w.Msg)
	case w.Offset >= 0:
		return fmt.Sprintf("offset %d: %s", w.Offset, w.Msg)
	}
	return w.Msg
}

// ErrFormat is wrapped by every error the readers return for input that is
// not a transaction they can make sense of.
var ErrFormat = errors.New("ansinist: malformed transaction")

// MaxRecords bounds the number of records a transaction may list in CNT.
// 1-2011 allows at most 999 records besides Type-1 (the CNT count item).
const MaxRecords = 1000

type reader struct {
	in       []byte
	warnings []Warning
	rec      int // index of the record being read
	version  int // numeric VER once known, e.g. 400; 0 when unknown
}

// MaxWarnings bounds the warnings a reader returns; past it one last
// warning says how many more there were.
const MaxWarnings = 1000

func (d *reader) warn(off int, format string, args ...any) {
	d.warnings = addWarning(d.warnings, Warning{Offset: off, Record: d.rec}, format, args...)
}

// addWarning appends a warning unless MaxWarnings are there already, in
// which case it counts it in the last one.
func addWarning(ws []Warning, w Warning, format string, args ...any) []Warning {
	switch {
	case len(ws) < MaxWarnings:
		w.Msg = fmt.Sprintf(format, args...)
		return append(ws, w)
	case len(ws) == MaxWarnings:
		return append(ws, Warning{Offset: -1, Record: -1, Msg: "1 more warning not listed", suppressed: 1})
	}
	last := &ws[len(ws)-1]
	last.suppressed++
	last.Msg = fmt.Sprintf("%d more warnings not listed", last.suppressed)
	return ws
}

func (d *reader) errorf(off int, format string, args ...any) error {
	return fmt.Errorf("%w: record %d at offset %d: %s", ErrFormat, d.rec, off, fmt.Sprintf(format, args...))
}

// Decode reads a transaction in the traditional encoding. It returns the
// irregularities it worked around as warnings; an error means the input
// could not be read as a transaction at all. Data fields of the result
// alias in.
func Decode(in []byte) (*Transaction, []Warning, error) {
	d := &reader{in: in}
	t := &Transaction{}
	if len(in) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrFormat)
	}
	t1, n, err := d.tagged(0, 1)
	if err != nil {
		return nil, d.warnings, err
	}
	t.Records = append(t.Records, t1)
	d.checkVersion(t1)
	list := d.contents(t1)
	off := n
	for i, e := range list {
		d.rec = i + 1
		if off >= len(in) {
			return nil, d.warnings, d.errorf(off, "input ends before record %d of CNT (Type-%d)", i+1, e.typ)
		}
		var r *Record
		var n int
		var err error
		if Binary(e.typ) && !looksTagged(in[off:], e.typ) {
			r, n, err = d.binary(off, e.typ)
		} else {
			if Binary(e.typ) {
				d.warn(off, "CNT lists binary Type-%d but the record is tagged; read as tagged", e.typ)
			}
			r, n, err = d.tagged(off, e.typ)
		}
		if err != nil {
			return nil, d.warnings, err
		}
		if idc := r.IDC(); r.Raw == nil && idc != e.idc && e.idc >= 0 {
			d.warn(off, "IDC %d differs from the IDC %d that CNT gives for this record", idc, e.idc)
		}
		t.Records = append(t.Records, r)
		off += n
	}
	d.rec = -1
	if off < len(in) {
		d.warn(off, "%d bytes after the last record listed in CNT ignored", len(in)-off)
	}
	return t, append(d.warnings, t.Conformance()...), nil
}

// looksTagged reports whether b starts with the tag "T.0" of a tagged
// record of type typ, which some writers use for record types the CNT says
// are binary.
func looksTagged(b []byte, typ int) bool {
	p := []byte(strconv.Itoa(typ) + ".0")
	return bytes.HasPrefix(b, p)
}

type cntEntry struct{ typ, idc int }

// contents reads CNT (1.003): the first subfield is "1" and the number of
// other records, each further subfield a record type and its IDC
// (1-2011 section 8.1.3).
func (d *reader) contents(t1 *Record) []cntEntry {
	f := t1.Field(3)
	if f == nil || len(f.Subfields) == 0 {
		d.warn(0, "Type-1 has no CNT field 1.003; no further records read")
		return nil
	}
	var list []cntEntry
	for i, s := range f.Subfields[1:] {
		if len(s) != 2 {
			d.warn(0, "CNT subfield %d has %d items, want 2 (type, IDC)", i+2, len(s))
		}
		typ, err := strconv.Atoi(s[0])
		if err != nil || typ < 2 || typ > 99 {
			d.warn(0, "CNT subfield %d: record type %q invalid; record list ends here", i+2, s[0])
			break
		}
		idc := -1
		if len(s) > 1 {
			if v, err := strconv.Atoi(s[1]); err == nil {
				idc = v
			} else {
				d.warn(0, "CNT subfield %d: IDC %q not a number", i+2, s[1])
			}
		}
		list = append(list, cntEntry{typ, idc})
		if len(list) >= MaxRecords {
			d.warn(0, "CNT lists more than %d records; the rest ignored", MaxRecords)
			break
		}
	}
	if len(f.Subfields[0]) < 2 || f.Subfields[0][0] != "1" {
		d.warn(0, "CNT first subfield %q is not \"1\" and a record count", f.Subfields[0])
	} else if n, err := strconv.Atoi(f.Subfields[0][1]); err != nil || n != len(list) {
		d.warn(0, "CNT count %q disagrees with the %d records listed", f.Subfields[0][1], len(list))
	}
	return list
}

// versions are the values of VER (1.002) defined by the standard's editions.
var versions = map[string]bool{"0200": true, "0201": true, "0300": true, "0400": true, "0500": true, "0501": true, "0502": true, "0600": true}

func (d *reader) checkVersion(t1 *Record) {
	v := t1.Value(2)
	if !versions[v] {
		d.warn(0, "VER 1.002 %q is not a version of the standard (0200 to 0600)", v)
	}
	if n, err := strconv.Atoi(v); err == nil {
		d.version = n
	}
	if d.version >= 300 {
		for _, f := range t1.Fields {
			if f.digits == 2 {
				d.warn(0, "field 1.%d written with 2 digits in a version %s file; normalised to 3", f.Number, v)
				f.digits = 0
			}
		}
	}
}

// tag parses "T.FFF:" at b[p:], returning the record type, field number,
// digits of the field number and the offset after the colon.
func parseTag(b []byte, p int) (typ, num, digits, next int, ok bool) {
	q := p
	for q < len(b) && q-p < 3 && b[q] >= '0' && b[q] <= '9' {
		typ = typ*10 + int(b[q]-'0')
		q++
	}
	if q == p || q >= len(b) || b[q] != '.' {
		return 0, 0, 0, 0, false
	}
	q++
	s := q
	for q < len(b) && q-s < 5 && b[q] >= '0' && b[q] <= '9' {
		num = num*10 + int(b[q]-'0')
		q++
	}
	if q == s || q >= len(b) || b[q] != ':' {
		return 0, 0, 0, 0, false
	}
	return typ, num, q - s, q + 1, true
}

// tagged reads a tagged record of type typ at offset off (1-2011 section
// 7.1): its length from field T.001, then fields up to that length.
func (d *reader) tagged(off, typ int) (*Record, int, error) {
	in := d.in
	rtyp, num, _, p, ok := parseTag(in, off)
	if !ok || num != 1 {
		return nil, 0, d.errorf(off, "Type-%d record does not start with a %d.001 length field", typ, typ)
	}
	if rtyp != typ {
		d.warn(off, "record tag type %d, but CNT says Type-%d; read as Type-%d", rtyp, typ, typ)
	}
	q := p
	for q < len(in) && in[q] >= '0' && in[q] <= '9' && q-p < 12 {
		q++
	}
	length, err := strconv.Atoi(string(in[p:q]))
	if err != nil || q >= len(in) || (in[q] != GS && in[q] != FS) {
		return nil, 0, d.errorf(off, "length field %d.001 is not a number", typ)
	}
	if q-p > 1 && in[p] == '0' {
		d.warn(p, "length %d.001 %q has leading zeros; written without", typ, in[p:q])
	}
	if length < q-off+1 || length > len(in)-off {
		// A wrong LEN can be survived only when there is no binary data:
		// then the FS ending the record can be searched for.
		end := bytes.IndexByte(in[off:], FS)
		if end < 0 || bytes.Contains(in[off:off+end], []byte(".999:")) {
			return nil, 0, d.errorf(off, "length %d.001 = %d does not fit the %d bytes left", typ, length, len(in)-off)
		}
		d.warn(off, "length %d.001 = %d is wrong; the record ends at FS after %d bytes", typ, length, end+1)
		length = end + 1
	}
	rec := in[off : off+length]
	body := rec
	if rec[len(rec)-1] == FS {
		body = rec[:len(rec)-1]
	} else {
		d.warn(off+length-1, "record does not end with FS")
	}
	r := &Record{Type: typ}
	byNumber := map[int]*Field{}
	for p := 0; p < len(body); {
		ftyp, num, digits, q, ok := parseTag(body, p)
		if !ok {
			if typ == 1 {
				return nil, 0, d.errorf(off+p, "bad field tag %q", clip(body[p:], 12))
			}
			// The length held, so the record can be kept whole and
			// written back unchanged, as for a type this package does
			// not know.
			d.warn(off+p, "bad field tag %q; Type-%d record kept opaque", clip(body[p:], 12), typ)
			return &Record{Type: typ, Raw: rec}, length, nil
		}
		if ftyp != rtyp {
			d.warn(off+p, "field tag %d.%03d inside a Type-%d record", ftyp, num, rtyp)
		}
		f := &Field{Number: num}
		f.digits = d.tagDigits(off+p, typ, num, digits)
		if num == DataField {
			// Binary data runs to the end of the record; it is never
			// scanned for separators (1-2011 section 7.1).
			f.Data = body[q:]
			r.Fields = append(r.Fields, f)
			break
		}
		end := bytes.IndexByte(body[q:], GS)
		if end < 0 {
			end = len(body)
		} else {
			end += q
		}
		f.Subfields = splitValue(body[q:end])
		// Fields after the first two may come in any order (1-2011
		// section 7.1), but each at most once.
		if prev := byNumber[num]; prev != nil && !prev.IsData() {
			d.warn(off+p, "field %d.%03d repeated; its value kept as further subfields of the first", typ, num)
			prev.Subfields = append(prev.Subfields, f.Subfields...)
		} else {
			r.Fields = append(r.Fields, f)
			byNumber[num] = f
		}
		if len(r.Fields) == 2 && r.Fields[0].Number == 1 && r.Fields[1].Number != 2 {
			d.warn(off+p, "second field is %d.%03d, not %d.002", typ, num, typ)
		}
		p = end + 1
		if end == len(body)-1 {
			d.warn(off+end, "GS before the FS that ends the record dropped")
		}
	}
	return r, length, nil
}

// tagDigits decides how a field number's digits are kept: three is the
// rule (1-2011 section 7.1); two-digit tags were usual in 0200/0201 files
// and are kept so that those files are written back unchanged; any other
// irregular width is warned about and normalised.
func (d *reader) tagDigits(off, typ, num, digits int) int {
	want := max(3, len(strconv.Itoa(num)))
	switch {
	case digits == want:
		return 0
	case digits == 2 && num < 100 && (d.version == 0 || d.version < 300):
		return 2
	}
	d.warn(off, "field %d.%d written with %d digits; normalised to %d", typ, num, digits, want)
	return 0
}

func splitValue(v []byte) []Subfield {
	subs := bytes.Split(v, []byte{RS})
	out := make([]Subfield, len(subs))
	for i, s := range subs {
		items := bytes.Split(s, []byte{US})
		sf := make(Subfield, len(items))
		for j, it := range items {
			sf[j] = string(it)
		}
		out[i] = sf
	}
	return out
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
