package ansinist

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// minimal returns a valid transaction with one Type-2 record whose 2.003
// field has n bytes.
func minimal(n int) *Transaction {
	t1 := &Record{Type: 1, Fields: []*Field{NewField(1, "0"), NewField(2, "0500"), NewField(3, "1\x1f1", "2\x1f00"), NewField(4, "CAR"),
		NewField(5, "20260101"), NewField(7, "D"), NewField(8, "O"), NewField(9, "T"), NewField(11, "00.00"), NewField(12, "00.00")}}
	t2 := &Record{Type: 2, Fields: []*Field{NewField(1, "0"), NewField(2, "00"), NewField(3, strings.Repeat("x", n))}}
	return &Transaction{Records: []*Record{t1, t2}}
}

// TestLengthFixedPoint checks LEN across the sizes where its own digit
// count changes (a record of 99 or 100 bytes, 999 or 1000...).
func TestLengthFixedPoint(t *testing.T) {
	for n := 70; n < 1020; n++ {
		out, err := minimal(n).Encode()
		if err != nil {
			t.Fatal(err)
		}
		t1end := bytes.IndexByte(out, FS) + 1
		rec := out[t1end:]
		p := bytes.IndexByte(rec, GS)
		got, _ := strconv.Atoi(string(rec[len("2.001:"):p]))
		if got != len(rec) {
			t.Fatalf("payload %d: LEN %d, record is %d bytes", n, got, len(rec))
		}
		if _, w, err := Decode(out); err != nil || len(w) != 0 {
			t.Fatalf("payload %d: reads back with %v, %v", n, err, w)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := map[string]func(*Transaction){
		"separator in item": func(tr *Transaction) { tr.Records[1].Set(NewField(5, "a\x1db")) },
		"CNT count":         func(tr *Transaction) { tr.Type1().Set(NewField(3, "1\x1f2", "2\x1f00")) },
		"CNT type":          func(tr *Transaction) { tr.Type1().Set(NewField(3, "1\x1f1", "10\x1f00")) },
		"IDC":               func(tr *Transaction) { tr.Records[1].Set(NewField(2, "07")) },
		"version":           func(tr *Transaction) { tr.Type1().Set(NewField(2, "0450")) },
		"data not last": func(tr *Transaction) {
			tr.Records[1].Fields = append(tr.Records[1].Fields[:2], &Field{Number: 999, Data: []byte{1}}, NewField(3, "x"))
		},
		"binary header": func(tr *Transaction) {
			tr.Records[1] = &Record{Type: 4, Fields: []*Field{NewField(1, "0"), NewField(2, "0")}}
			tr.Type1().Set(NewField(3, "1\x1f1", "4\x1f00"))
		},
	}
	for name, spoil := range cases {
		tr := minimal(3)
		spoil(tr)
		if _, err := tr.Encode(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode error %v, want ErrInvalid", name, err)
		}
	}
}

// TestTwoDigitTags reads a version 0201 file with two-digit tags and
// checks it is written back with them.
func TestTwoDigitTags(t *testing.T) {
	in := []byte("1.01:41\x1d1.02:0201\x1d1.03:1\x1f1\x1e2\x1f00\x1d1.04:CAR\x1c2.01:16\x1d2.02:00\x1c")
	tr, w, err := Decode(in)
	if err != nil || len(structural(w)) != 0 {
		t.Fatalf("Decode: %v %v", err, w)
	}
	if tr.Records[1].Value(2) != "00" || tr.TOT() != "CAR" {
		t.Fatalf("model: %+v", tr.Records)
	}
	out, err := tr.Encode()
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("Encode = %q, %v; want %q", out, err, in)
	}
}

// TestOpaqueRecord: a record whose length holds but whose fields cannot be
// read is kept whole and written back unchanged.
func TestOpaqueRecord(t *testing.T) {
	rec2 := "2.001:22\x1d2.002:00\x1dxyz\x1c"
	in := []byte("1.001:45\x1d1.002:0500\x1d1.003:1\x1f1\x1e2\x1f00\x1d1.004:CAR\x1c" + rec2)
	tr, w, err := Decode(in)
	if err != nil || len(w) != 1+len(tr.Conformance()) || tr.Records[1].Raw == nil {
		t.Fatalf("Decode: %v, warnings %v", err, w)
	}
	out, err := tr.Encode()
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("Encode = %q, %v", out, err)
	}
	x, err := tr.EncodeXML()
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := DecodeXML(x)
	if err != nil || !bytes.Equal(back.Records[1].Raw, tr.Records[1].Raw) {
		t.Fatalf("opaque record through XML: %v", err)
	}
}

// structural drops the warnings about missing mandatory fields, which a
// transaction keeps through every rewrite (see Conformance).
func structural(ws []Warning) []Warning {
	var out []Warning
	for _, w := range ws {
		if !strings.HasPrefix(w.Msg, "mandatory field") {
			out = append(out, w)
		}
	}
	return out
}
