package ansinist

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalid is wrapped by the errors of Validate and of the writers.
var ErrInvalid = errors.New("ansinist: invalid transaction")

// Validate checks what the writers require (1-2011 sections 7 and 8.1): a
// Type-1 record first with a known VER and a CNT listing every other
// record's type and IDC in order; fields unique, with LEN first and IDC
// (VER in Type-1) second; text items free of the four
// separator characters; binary data only in the data field, which is last;
// binary records with exactly their fixed header.
func (t *Transaction) Validate() error {
	bad := func(rec int, format string, args ...any) error {
		return fmt.Errorf("%w: record %d: %s", ErrInvalid, rec, fmt.Sprintf(format, args...))
	}
	t1 := t.Type1()
	if t1 == nil {
		return fmt.Errorf("%w: first record is not Type-1", ErrInvalid)
	}
	if v := t1.Value(2); !versions[v] {
		return bad(0, "VER 1.002 %q is not one of 0200, 0201, 0300, 0400, 0500, 0501, 0502, 0600", v)
	}
	cnt := t1.Field(3)
	if cnt == nil {
		return bad(0, "no CNT field 1.003")
	}
	if len(cnt.Subfields) != len(t.Records) {
		return bad(0, "CNT 1.003 must have %d subfields (one per record), has %d", len(t.Records), len(cnt.Subfields))
	}
	if n, err := strconv.Atoi(cnt.Item(0, 1)); cnt.Item(0, 0) != "1" || err != nil || n != len(t.Records)-1 || len(cnt.Subfields[0]) != 2 {
		return bad(0, "CNT 1.003 first subfield %q must be 1 and the record count %d", cnt.Subfields[0], len(t.Records)-1)
	}
	if len(t.Records)-1 > MaxRecords {
		return bad(0, "%d records exceed %d", len(t.Records)-1, MaxRecords)
	}
	for i, r := range t.Records {
		if i > 0 {
			s := cnt.Subfields[i]
			typ, err1 := strconv.Atoi(s[0])
			idc, err2 := strconv.Atoi(s[len(s)-1])
			if len(s) != 2 || err1 != nil || err2 != nil || typ != r.Type {
				return bad(i, "CNT subfield %q does not describe this Type-%d record", s, r.Type)
			}
			if r.Type == 1 {
				return bad(i, "a second Type-1 record")
			}
			if r.Raw == nil && r.IDC() != idc {
				return bad(i, "IDC %q differs from CNT's %d", r.Value(2), idc)
			}
		}
		if r.Type < 1 || r.Type > 99 {
			return bad(i, "record type %d outside 1..99", r.Type)
		}
		if r.Raw != nil {
			if len(r.Fields) != 0 {
				return bad(i, "an opaque record cannot have fields too")
			}
			continue
		}
		if Binary(r.Type) {
			if err := validateBinary(r); err != nil {
				return bad(i, "%v", err)
			}
			continue
		}
		if err := validateTagged(r); err != nil {
			return bad(i, "%v", err)
		}
	}
	return nil
}

func validateTagged(r *Record) error {
	if len(r.Fields) < 2 || r.Fields[0].Number != 1 || r.Fields[1].Number != 2 {
		return fmt.Errorf("tagged Type-%d record must start with fields %d.001 and %d.002", r.Type, r.Type, r.Type)
	}
	seen := make(map[int]bool, len(r.Fields))
	for j, f := range r.Fields {
		// After the first two, fields may come in any order (1-2011
		// section 7.1), but only once each.
		if seen[f.Number] {
			return fmt.Errorf("field %d.%03d repeated", r.Type, f.Number)
		}
		seen[f.Number] = true
		if f.Number < 1 || f.Number > 9999 {
			return fmt.Errorf("field number %d outside 1..9999", f.Number)
		}
		if f.digits != 0 && f.digits != 2 {
			return fmt.Errorf("field %d.%03d: tag width %d", r.Type, f.Number, f.digits)
		}
		if f.IsData() {
			if f.Number != DataField || j != len(r.Fields)-1 {
				return fmt.Errorf("binary data in field %d.%03d; only the last field %d.999 may hold it", r.Type, f.Number, r.Type)
			}
			continue
		}
		if len(f.Subfields) == 0 {
			return fmt.Errorf("field %d.%03d has no value", r.Type, f.Number)
		}
		for _, s := range f.Subfields {
			if len(s) == 0 {
				return fmt.Errorf("field %d.%03d has a subfield with no items", r.Type, f.Number)
			}
			for _, it := range s {
				if containsSeparator(it) {
					return fmt.Errorf("field %d.%03d item %q contains a separator character", r.Type, f.Number, it)
				}
			}
		}
	}
	return nil
}

// containsSeparator reports whether s holds one of FS, GS, RS, US, which
// text items may not contain (1-2011 section 7.1).
func containsSeparator(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= FS && c <= US {
			return true
		}
	}
	return false
}

// Encode writes the transaction in the traditional encoding after
// Validate. Each record's length field (T.001, or the 4-byte LEN of binary
// records) is computed, the tagged one to a fixed point since its own digits
// count in the length.
func (t *Transaction) Encode() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var out []byte
	var err error
	for _, r := range t.Records {
		switch {
		case r.Raw != nil:
			out = append(out, r.Raw...)
		case Binary(r.Type):
			out, err = encodeBinary(out, r)
			if err != nil {
				return nil, err
			}
		default:
			out = encodeTagged(out, r)
		}
	}
	return out, nil
}

func tag(b []byte, typ int, f *Field) []byte {
	b = strconv.AppendInt(b, int64(typ), 10)
	b = append(b, '.')
	num := strconv.Itoa(f.Number)
	w := 3
	if f.digits != 0 {
		w = f.digits
	}
	for range w - len(num) {
		b = append(b, '0')
	}
	b = append(b, num...)
	return append(b, ':')
}

// encodeTagged appends tagged record r to out.
func encodeTagged(out []byte, r *Record) []byte {
	var body bytes.Buffer
	for _, f := range r.Fields[1:] {
		body.WriteByte(GS)
		body.Write(tag(nil, r.Type, f))
		if f.IsData() {
			body.Write(f.Data)
			continue
		}
		body.WriteString(f.Text())
	}
	body.WriteByte(FS)
	head := tag(nil, r.Type, r.Fields[0])
	// The length counts its own digits: iterate until it stops changing
	// (it converges in at most two steps).
	n := len(head) + body.Len()
	length := n + len(strconv.Itoa(n))
	for length != n+len(strconv.Itoa(length)) {
		length = n + len(strconv.Itoa(length))
	}
	out = append(out, head...)
	out = strconv.AppendInt(out, int64(length), 10)
	return append(out, body.Bytes()...)
}
