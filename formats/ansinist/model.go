package ansinist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Transaction is one ANSI/NIST-ITL transaction: a Type-1 record followed by
// the records its CNT field (1.003) lists, in that order.
type Transaction struct {
	Records []*Record
}

// Record is one logical record. Its fields are kept in the order read, which
// for a valid record is ascending field number (1-2011 section 7.1).
//
// Binary records (Types 3 to 8) are modelled with the field numbers the
// standard gives their header items (e.g. Type-4: 4.001 LEN, 4.002 IDC,
// 4.003 IMP, 4.004 FGP, 4.005 ISR, 4.006 HLL, 4.007 VLL, 4.008 GCA and the
// image as 4.009 DATA), with numbers written as decimal text, so that both
// kinds of record are read the same way.
type Record struct {
	Type   int
	Fields []*Field

	// Raw, when not nil, is a record the reader could not parse as fields
	// (for instance a tagged record of an unknown type whose tags are
	// broken). It is written back unchanged and Fields is empty.
	Raw []byte

	// xmlExtra holds children of the record's XML element that no field
	// maps to (a domain's Type-2 content, say), written back by EncodeXML.
	xmlExtra []*xnode
}

// Field is one field of a record: a field number (the FFF of tag T.FFF)
// and either subfields of text items or, for image and other binary data,
// Data.
type Field struct {
	Number    int
	Subfields []Subfield
	// Data holds binary data: tagged field 999 and the last field of a
	// binary record. It aliases the decoded input.
	Data []byte

	// digits is the number of digits the field number was written with
	// when it was not the usual three (two-digit tags of version 0200 and
	// 0201 files), so that such files are written back byte for byte.
	digits int
}

// Subfield is one repeated value of a field: a list of information items.
type Subfield []string

// DataField is the number of the field that holds binary data in tagged
// records (T.999).
const DataField = 999

// NewField returns a text field; each argument is one subfield, its items
// separated by the unit separator of the traditional encoding ("a\x1fb").
// Most fields have one subfield of one item: NewField(14, "WSQ20").
func NewField(number int, subfields ...string) *Field {
	f := &Field{Number: number}
	for _, s := range subfields {
		f.Subfields = append(f.Subfields, Subfield(strings.Split(s, string(rune(US)))))
	}
	return f
}

// Value returns the first item of the first subfield, or "" if there is none.
func (f *Field) Value() string {
	if f == nil || len(f.Subfields) == 0 || len(f.Subfields[0]) == 0 {
		return ""
	}
	return f.Subfields[0][0]
}

// Item returns item i of subfield s, or "" when absent.
func (f *Field) Item(s, i int) string {
	if f == nil || s >= len(f.Subfields) || i >= len(f.Subfields[s]) {
		return ""
	}
	return f.Subfields[s][i]
}

// IsData reports whether the field holds binary data rather than text.
func (f *Field) IsData() bool { return f != nil && f.Data != nil }

// Text returns the field in its traditional text form, with RS between
// subfields and US between items; for a data field it returns a summary.
func (f *Field) Text() string {
	if f == nil {
		return ""
	}
	if f.IsData() {
		return fmt.Sprintf("<%d bytes>", len(f.Data))
	}
	var b strings.Builder
	for i, s := range f.Subfields {
		if i > 0 {
			b.WriteByte(RS)
		}
		for j, it := range s {
			if j > 0 {
				b.WriteByte(US)
			}
			b.WriteString(it)
		}
	}
	return b.String()
}

// Field returns the record's field with the given number, or nil.
func (r *Record) Field(number int) *Field {
	for _, f := range r.Fields {
		if f.Number == number {
			return f
		}
	}
	return nil
}

// Value returns the first item of field number, or "".
func (r *Record) Value(number int) string { return r.Field(number).Value() }

// Int returns field number's first item as an integer, and whether it was one.
func (r *Record) Int(number int) (int, bool) {
	v, err := strconv.Atoi(strings.TrimSpace(r.Value(number)))
	return v, err == nil
}

// Set replaces field f.Number or inserts f in field-number order.
func (r *Record) Set(f *Field) {
	// Readers set fields in ascending order: append without a search.
	if n := len(r.Fields); n > 0 && r.Fields[n-1].Number < f.Number {
		r.Fields = append(r.Fields, f)
		return
	}
	for i, g := range r.Fields {
		if g.Number == f.Number {
			r.Fields[i] = f
			return
		}
	}
	i, _ := slices.BinarySearchFunc(r.Fields, f.Number, func(g *Field, n int) int { return g.Number - n })
	r.Fields = slices.Insert(r.Fields, i, f)
}

// Remove deletes field number if present.
func (r *Record) Remove(number int) {
	r.Fields = slices.DeleteFunc(r.Fields, func(f *Field) bool { return f.Number == number })
}

// IDC returns the record's information designation character (field 2 of
// every record but Type-1), or -1 for Type-1 or when it is not a number.
func (r *Record) IDC() int {
	if r.Type == 1 {
		return -1
	}
	v, ok := r.Int(2)
	if !ok {
		return -1
	}
	return v
}

// Binary reports whether the record type uses the binary encoding in the
// traditional format (Types 3 to 8, 1-2011 section 7.2).
func Binary(recordType int) bool { return recordType >= 3 && recordType <= 8 }

// Type1 returns the transaction's Type-1 record, or nil.
func (t *Transaction) Type1() *Record {
	if len(t.Records) == 0 || t.Records[0].Type != 1 {
		return nil
	}
	return t.Records[0]
}

// Version returns the transaction's version field 1.002, e.g. "0500".
func (t *Transaction) Version() string {
	if r := t.Type1(); r != nil {
		return r.Value(2)
	}
	return ""
}

// TOT returns the type of transaction, field 1.004 (e.g. "CAR", "SRE").
func (t *Transaction) TOT() string {
	if r := t.Type1(); r != nil {
		return r.Value(4)
	}
	return ""
}

// UpdateCNT rewrites the Type-1 CNT field (1.003) from the records that
// follow Type-1, as the writer requires: first subfield "1", count; then
// one subfield per record, its type and IDC (two digits, as is usual).
func (t *Transaction) UpdateCNT() error {
	r := t.Type1()
	if r == nil {
		return fmt.Errorf("ansinist: transaction does not start with a Type-1 record")
	}
	f := &Field{Number: 3}
	if old := r.Field(3); old != nil {
		f.digits = old.digits
	}
	f.Subfields = append(f.Subfields, Subfield{"1", strconv.Itoa(len(t.Records) - 1)})
	for _, rec := range t.Records[1:] {
		idc := rec.IDC()
		if idc < 0 {
			idc = 0
		}
		f.Subfields = append(f.Subfields, Subfield{strconv.Itoa(rec.Type), fmt.Sprintf("%02d", idc)})
	}
	r.Set(f)
	return nil
}
