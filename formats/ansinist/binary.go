package ansinist

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// binaryItem is one fixed-size header item of a binary record. Items are
// numbered from 1 in order (LEN is field 1); the image data follows them as
// the last field.
type binaryItem struct {
	name  string
	size  int // bytes of one value
	count int // values (subfields); FGP has six
}

// Fixed headers of the binary records (ANSI/NIST-ITL 1-2007 sections 10 to
// 14; 1-2011 section 8.4 for Type-4 and 8.8 for Type-8). All integers are
// unsigned and big-endian. Type-7 is user-defined: only LEN and IDC are
// standard, the rest is kept opaque as its data field.
var binaryHeaders = map[int][]binaryItem{
	3: {{"LEN", 4, 1}, {"IDC", 1, 1}, {"IMP", 1, 1}, {"FGP", 1, 6}, {"ISR", 1, 1}, {"HLL", 2, 1}, {"VLL", 2, 1}, {"GCA", 1, 1}},
	4: {{"LEN", 4, 1}, {"IDC", 1, 1}, {"IMP", 1, 1}, {"FGP", 1, 6}, {"ISR", 1, 1}, {"HLL", 2, 1}, {"VLL", 2, 1}, {"GCA", 1, 1}},
	5: {{"LEN", 4, 1}, {"IDC", 1, 1}, {"IMP", 1, 1}, {"FGP", 1, 6}, {"ISR", 1, 1}, {"HLL", 2, 1}, {"VLL", 2, 1}, {"BCA", 1, 1}},
	6: {{"LEN", 4, 1}, {"IDC", 1, 1}, {"IMP", 1, 1}, {"FGP", 1, 6}, {"ISR", 1, 1}, {"HLL", 2, 1}, {"VLL", 2, 1}, {"BCA", 1, 1}},
	7: {{"LEN", 4, 1}, {"IDC", 1, 1}},
	8: {{"LEN", 4, 1}, {"IDC", 1, 1}, {"SIG", 1, 1}, {"SRT", 1, 1}, {"ISR", 1, 1}, {"HLL", 2, 1}, {"VLL", 2, 1}},
}

// headerSize returns the bytes of a binary record's fixed header.
func headerSize(items []binaryItem) int {
	n := 0
	for _, it := range items {
		n += it.size * it.count
	}
	return n
}

// BinaryDataField returns the number of the field that holds the data of a
// binary record of type typ (e.g. 9 for Type-4), or DataField for tagged
// record types.
func BinaryDataField(typ int) int {
	if !Binary(typ) {
		return DataField
	}
	return len(binaryHeaders[typ]) + 1
}

// binary reads a binary record of type typ at offset off.
func (d *reader) binary(off, typ int) (*Record, int, error) {
	items := binaryHeaders[typ]
	hs := headerSize(items)
	in := d.in[off:]
	if len(in) < hs {
		return nil, 0, d.errorf(off, "binary Type-%d record needs a %d-byte header, %d bytes left", typ, hs, len(in))
	}
	length := int(binary.BigEndian.Uint32(in))
	if length < hs || length > len(in) {
		return nil, 0, d.errorf(off, "binary Type-%d length %d outside %d..%d", typ, length, hs, len(in))
	}
	r := &Record{Type: typ}
	p := 0
	for i, it := range items {
		f := &Field{Number: i + 1}
		for range it.count {
			var v uint32
			switch it.size {
			case 1:
				v = uint32(in[p])
			case 2:
				v = uint32(binary.BigEndian.Uint16(in[p:]))
			case 4:
				v = binary.BigEndian.Uint32(in[p:])
			}
			f.Subfields = append(f.Subfields, Subfield{strconv.FormatUint(uint64(v), 10)})
			p += it.size
		}
		r.Fields = append(r.Fields, f)
	}
	r.Fields = append(r.Fields, &Field{Number: len(items) + 1, Data: in[hs:length:length]})
	return r, length, nil
}

// encodeBinary appends the binary record r (validated) to out.
func encodeBinary(out []byte, r *Record) ([]byte, error) {
	items := binaryHeaders[r.Type]
	df := r.Field(len(items) + 1)
	var data []byte
	if df != nil {
		data = df.Data
	}
	length := headerSize(items) + len(data)
	if uint64(length) > 0xFFFFFFFF {
		return nil, fmt.Errorf("ansinist: binary Type-%d record of %d bytes exceeds the 4-byte length", r.Type, length)
	}
	for i, it := range items {
		f := r.Field(i + 1)
		for s := range it.count {
			var v uint64
			if i == 0 {
				v = uint64(length)
			} else {
				var err error
				v, err = strconv.ParseUint(f.Item(s, 0), 10, 8*it.size)
				if err != nil {
					return nil, fmt.Errorf("ansinist: binary Type-%d field %s (%d.%03d) value %q: %v", r.Type, it.name, r.Type, i+1, f.Item(s, 0), err)
				}
			}
			switch it.size {
			case 1:
				out = append(out, byte(v))
			case 2:
				out = binary.BigEndian.AppendUint16(out, uint16(v))
			case 4:
				out = binary.BigEndian.AppendUint32(out, uint32(v))
			}
		}
	}
	return append(out, data...), nil
}

// validateBinary checks that r has exactly the fields of its binary header,
// each value fitting its size, and a data field.
func validateBinary(r *Record) error {
	items := binaryHeaders[r.Type]
	if len(r.Fields) != len(items)+1 {
		return fmt.Errorf("binary Type-%d record has %d fields, want %d", r.Type, len(r.Fields), len(items)+1)
	}
	for i, it := range items {
		f := r.Fields[i]
		if f.Number != i+1 || f.IsData() {
			return fmt.Errorf("binary Type-%d field %d is %d.%03d, want %s (%d.%03d)", r.Type, i+1, r.Type, f.Number, it.name, r.Type, i+1)
		}
		if i == 0 {
			continue // LEN is computed
		}
		if len(f.Subfields) != it.count {
			return fmt.Errorf("binary Type-%d field %s has %d values, want %d", r.Type, it.name, len(f.Subfields), it.count)
		}
		for s := range it.count {
			if len(f.Subfields[s]) != 1 {
				return fmt.Errorf("binary Type-%d field %s value %d has %d items, want 1", r.Type, it.name, s+1, len(f.Subfields[s]))
			}
			if _, err := strconv.ParseUint(f.Subfields[s][0], 10, 8*it.size); err != nil {
				return fmt.Errorf("binary Type-%d field %s value %q does not fit %d byte(s)", r.Type, it.name, f.Subfields[s][0], it.size)
			}
		}
	}
	last := r.Fields[len(items)]
	if last.Number != len(items)+1 || !last.IsData() {
		return fmt.Errorf("binary Type-%d last field must be the data field %d.%03d", r.Type, r.Type, len(items)+1)
	}
	return nil
}
