package ansinist

import (
	"image"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// seedFiles adds the small shared transactions to a fuzz corpus (the big
// ones slow the fuzzer without covering more of the reader).
func seedFiles(f *testing.F, dir string, limit int64) {
	base, err := shareddata.Find()
	if err != nil {
		return
	}
	files, _ := walkFiles(base + "/" + dir)
	for _, p := range files {
		if st, err := os.Stat(p); err == nil && st.Size() <= limit {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	seedFiles(f, "formats/ansi-nist", 40000)
	f.Add([]byte("1.001:57\x1d1.002:0400\x1d1.003:1\x1f1\x1e4\x1f01\x1d1.004:X\x1c\x00\x00\x00\x13\x01\x01\x01\xff\xff\xff\xff\xff\x01\x00\x01\x00\x01\x01Z"))
	if slap, _ := buildSlap(); slap != nil {
		if b, err := slap.Encode(); err == nil {
			f.Add(b)
		}
	}
	small := image.NewGray(image.Rect(0, 0, 64, 64))
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, _, err := Decode(in)
		if err != nil {
			return
		}
		// Slap segmentation reads 14.021/14.025 of whatever was decoded.
		for _, im := range tr.FingerImages() {
			segs, _ := tr.Segments(im)
			for _, s := range segs {
				if c := s.Crop(small); c.Rect.Dx() > 64 || c.Rect.Dy() > 64 {
					t.Fatalf("crop %v larger than the image", c.Rect)
				}
			}
		}
		out, err := tr.Encode()
		if err != nil {
			return // the strict writer refuses irregular models
		}
		back, _, err := Decode(out)
		if err != nil {
			t.Fatalf("written transaction does not read back: %v", err)
		}
		if d := sameModel(tr, back); d != "" {
			t.Fatalf("written transaction reads back differently: %s", d)
		}
		again, err := back.Encode()
		if err != nil || string(again) != string(out) {
			t.Fatalf("second write differs (err %v)", err)
		}
	})
}

// TestDecodeMemoryBounded feeds length fields that claim far more than the
// input holds: the reader must fail or succeed without allocating more than
// a small multiple of the input.
func TestDecodeMemoryBounded(t *testing.T) {
	hdr := "1.001:72\x1d1.002:0400\x1d1.003:1\x1f999"
	for range 999 {
		hdr += "\x1e4\x1f01"
	}
	inputs := [][]byte{
		[]byte("1.001:999999999999\x1d1.002:0400\x1c"),
		[]byte(hdr + "\x1c\xff\xff\xff\xff\x01\x01\x01\xff\xff\xff\xff\xff\x01\x00\x01\x00\x01\x01"),
		[]byte("1.001:40\x1d1.002:0400\x1d1.003:1\x1f1\x1e10\x1f1\x1c10.001:4000000000\x1d10.999:"),
	}
	// Many separators or repeated fields: allocation stays linear.
	for _, sep := range []string{"\x1f", "\x1e", "\x1d2.5:"} {
		body := "\x1d2.002:00\x1d2.003:" + strings.Repeat("a"+sep, 20000) + "\x1c"
		n := len("2.001:") + len(body)
		n += len(strconv.Itoa(n + 6))
		inputs = append(inputs, []byte("1.001:45\x1d1.002:0500\x1d1.003:1\x1f1\x1e2\x1f00\x1d1.004:CAR\x1c2.001:"+strconv.Itoa(n)+body))
	}
	for i, in := range inputs {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, _, err := Decode(in)
		runtime.ReadMemStats(&m1)
		if i >= 3 && err != nil {
			t.Fatalf("input %d should read: %v", i, err)
		}
		if got, limit := m1.TotalAlloc-m0.TotalAlloc, uint64(128*len(in)+65536); got > limit {
			t.Errorf("input %d (%d bytes) allocated %d bytes, more than %d", i, len(in), got, limit)
		}
	}
}

func FuzzDecodeXML(f *testing.F) {
	base, err := shareddata.Find()
	if err == nil {
		files, _ := walkFiles(base + "/formats/ansi-nist-xml")
		for _, p := range files {
			if st, err := os.Stat(p); err == nil && st.Size() < 20000 && strings.HasSuffix(p, ".xml") {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Add([]byte(`<itl:NISTBiometricInformationExchangePackage xmlns:itl="http://biometrics.nist.gov/standard/2011" xmlns:biom="http://niem.gov/niem/biometrics/1.0"><itl:PackageInformationRecord><biom:RecordCategoryCode>1</biom:RecordCategoryCode></itl:PackageInformationRecord></itl:NISTBiometricInformationExchangePackage>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		CheckXMLContent(in) // must not panic, whatever the input
		tr, _, err := DecodeXML(in)
		if err != nil {
			return
		}
		x, err := tr.EncodeXML()
		if err != nil {
			return // the strict writer refuses invalid transactions
		}
		back, _, err := DecodeXML(x)
		if err != nil {
			t.Fatalf("our XML does not read back: %v\n%s", err, x)
		}
		if d := sameModel(sortedModel(tr), sortedModel(back)); d != "" {
			t.Fatalf("XML round trip changed the model: %s", d)
		}
		if problems, err := CheckXMLContent(x); err != nil || hasOrderProblem(problems) {
			t.Fatalf("our XML breaks the schema's element order: %v %q", err, problems)
		}
		if _, err := tr.Encode(); err != nil {
			t.Fatalf("valid for XML but not for the traditional writer: %v", err)
		}
	})
}

func hasOrderProblem(problems []string) bool {
	for _, p := range problems {
		if strings.Contains(p, "schema orders it before") {
			return true
		}
	}
	return false
}
