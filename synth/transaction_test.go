package synth

import (
	"bytes"
	"image"
	"math"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
)

// TestEncounterTransactionsDeterministic: the same scenario gives the same
// transaction bytes, which read back without warnings and carry the
// person's declared data and every scenario finger's minutiae.
func TestEncounterTransactionsDeterministic(t *testing.T) {
	sc := DefaultScenario()
	sc.People = 30
	encode := func(sc Scenario) [][]byte {
		p, err := NewPopulation(sc)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for i := range p.People {
			per := &p.People[i]
			for _, en := range per.Enrolments {
				for k := range en.Encounters {
					tx, err := p.EncounterTransaction(per, &en, &en.Encounters[k], nil)
					if err != nil {
						t.Fatal(err)
					}
					b, err := tx.Encode()
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, b)
				}
			}
		}
		return out
	}
	a, b := encode(sc), encode(sc)
	if len(a) != len(b) || len(a) < sc.People {
		t.Fatalf("%d and %d transactions", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("transaction %d differs between two runs of the same seed", i)
		}
	}
	p, _ := NewPopulation(sc)
	per := &p.People[0]
	tx, warns, err := ansinist.Decode(a[0])
	if err != nil || len(warns) > 0 || len(tx.Conformance()) > 0 {
		t.Fatalf("decode: %v, warnings %v %v", err, warns, tx.Conformance())
	}
	t2 := tx.Records[1]
	if t2.Value(9) != per.Enrolments[0].RecordID || t2.Value(24) != per.Sex || len(t2.Value(22)) != 8 {
		t.Errorf("Type-2: OCA %q SEX %q DOB %q", t2.Value(9), t2.Value(24), t2.Value(22))
	}
	mins, warns := tx.Minutiae()
	if len(warns) > 0 || len(mins) != len(sc.Biometrics.Fingers) {
		t.Fatalf("%d minutiae records (warnings %v), want %d", len(mins), warns, len(sc.Biometrics.Fingers))
	}
	for i, m := range mins {
		if m.Position != sc.Biometrics.Fingers[i] || len(m.Template.Minutiae) < 5 {
			t.Errorf("minutiae record %d: position %d, %d minutiae", i, m.Position, len(m.Template.Minutiae))
		}
	}
	sc.Seed++
	if c := encode(sc); bytes.Equal(a[0], c[0]) {
		t.Error("another seed gave the same first transaction")
	}
}

// TestFingerprintTransaction: a Type-14 WSQ transaction of a grey image is
// the same bytes twice, reads back without warnings, and says what the
// export promises (IMP 0, FGP, 500 ppi, WSQ20, the fixed date).
func TestFingerprintTransaction(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, ImpressionWidth, ImpressionHeight))
	for y := range ImpressionHeight {
		for x := range ImpressionWidth {
			img.Pix[y*img.Stride+x] = uint8(128 + 100*math.Sin(float64(x+y/2)*2*math.Pi/9))
		}
	}
	enc := func() []byte {
		tx, err := FingerprintTransaction("T-1", biometric.LeftIndex, img)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tx.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc()
	if !bytes.Equal(a, enc()) {
		t.Fatal("the same image gave different transaction bytes")
	}
	tx, warns, err := ansinist.Decode(a)
	if err != nil || len(warns) > 0 || len(tx.Conformance()) > 0 {
		t.Fatalf("decode: %v, warnings %v %v", err, warns, tx.Conformance())
	}
	ims := tx.FingerImages()
	if len(ims) != 1 {
		t.Fatalf("%d finger images", len(ims))
	}
	r := tx.Records[ims[0].Record]
	if r.Type != 14 || r.Value(3) != "0" || r.Value(13) != "7" || r.Value(9) != "500" || r.Value(11) != "WSQ20" ||
		r.Value(5) != TransactionDate.Format("20060102") || ims[0].Width != ImpressionWidth {
		t.Errorf("Type-14: IMP %q FGP %q THPS %q CGA %q FCD %q width %d", r.Value(3), r.Value(13), r.Value(9), r.Value(11), r.Value(5), ims[0].Width)
	}
}
