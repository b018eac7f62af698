package ansinist

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/internal/shareddata"
)

func decodeShared(t *testing.T, rel string) *Transaction {
	t.Helper()
	in, err := os.ReadFile(filepath.Join(shareddata.Dir(t, "formats/ansi-nist"), rel))
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// throughTraditional encodes tr in the traditional encoding and decodes it
// back, as a partner would receive it.
func throughTraditional(t *testing.T, tr *Transaction) *Transaction {
	t.Helper()
	b, err := tr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestTenprintCardImages checks the Type-4 card against the WSQ streams
// the shared data holds separately, named by finger position (PROVENANCE:
// IDC and FGP differ for three records).
func TestTenprintCardImages(t *testing.T) {
	tr := decodeShared(t, "nist-reference/type-4-tpcard.an2")
	wsqDir := shareddata.Dir(t, "formats/wsq/jnbis/tpcard")
	imgs := tr.FingerImages()
	if len(imgs) != 14 {
		t.Fatalf("%d finger images, want 14", len(imgs))
	}
	for _, im := range imgs {
		if len(im.Positions) != 1 || im.Compression != WSQ || im.PPI != 500 {
			t.Errorf("IDC %d: positions %v, compression %s, ppi %d", im.IDC, im.Positions, im.Compression, im.PPI)
			continue
		}
		want, err := os.ReadFile(filepath.Join(wsqDir, fmt.Sprintf("fp-%d.wsq", im.Positions[0])))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(im.Data, want) {
			t.Errorf("IDC %d FGP %d: image data differs from fp-%d.wsq", im.IDC, im.Positions[0], im.Positions[0])
		}
		c, w, h, err := SniffImage(im.Data)
		if err != nil || c != WSQ || w != im.Width || h != im.Height {
			t.Errorf("IDC %d: WSQ frame says %s %dx%d (%v), record says %dx%d", im.IDC, c, w, h, err, im.Width, im.Height)
		}
	}
	byIDC := map[int]biometric.FingerPosition{}
	for _, im := range imgs {
		byIDC[im.IDC] = im.Positions[0]
	}
	if byIDC[11] != 14 || byIDC[13] != 11 || byIDC[14] != 13 {
		t.Errorf("IDC->FGP 11:%d 13:%d 14:%d, want 14, 11, 13", byIDC[11], byIDC[13], byIDC[14])
	}
}

func TestFaceAndIrisImages(t *testing.T) {
	tr := decodeShared(t, "nist-reference/type-10-14-17-piv-index-iris.an2")
	faces, irises, fingers := tr.FaceImages(), tr.IrisImages(), tr.FingerImages()
	if len(faces) != 1 || len(irises) != 1 || len(fingers) != 2 {
		t.Fatalf("%d faces, %d irises, %d fingers; want 1, 1, 2", len(faces), len(irises), len(fingers))
	}
	f := faces[0]
	if f.ImageType != "FACE" || f.Width == 0 || f.Height == 0 || len(f.Data) == 0 {
		t.Errorf("face: %+v", f.Image)
	}
	if c, w, h, err := SniffImage(f.Data); err == nil && (c != f.Compression || w != f.Width || h != f.Height) {
		t.Errorf("face data is %s %dx%d, record says %s %dx%d", c, w, h, f.Compression, f.Width, f.Height)
	}
	if irises[0].Width == 0 || len(irises[0].Data) == 0 {
		t.Errorf("iris: %+v", irises[0].Image)
	}
}

func TestMinutiaeBlocks(t *testing.T) {
	cases := []struct {
		file  string
		block string
		n     int // minutiae in the first set
		sets  int
	}{
		{"nist-reference/type-9-14-m1.an2", BlockM1, 48, 1},
		{"nist-reference/type-9-14-std.an2", BlockStandard, 48, 1},
		{"nist-reference/type-9-4-iafis.an2", BlockFBI, 48, 1},
		{"libbiomeval/type9-efs.an2k", BlockEFS, -1, 8},
	}
	for _, c := range cases {
		tr := decodeShared(t, c.file)
		sets, warns := tr.Minutiae()
		if len(sets) != c.sets {
			t.Errorf("%s: %d minutiae sets (warnings %v), want %d", c.file, len(sets), warns, c.sets)
			continue
		}
		s := sets[0]
		if s.Block != c.block || (c.n >= 0 && len(s.Template.Minutiae) != c.n) || len(s.Template.Minutiae) == 0 {
			t.Errorf("%s: block %s with %d minutiae, want %s with %d", c.file, s.Block, len(s.Template.Minutiae), c.block, c.n)
		}
		for _, m := range s.Template.Minutiae {
			if s.Template.Width > 0 && (m.X < 0 || m.Y < 0 || m.X >= s.Template.Width+5 || m.Y >= s.Template.Height+5) {
				t.Errorf("%s: minutia %+v outside %dx%d", c.file, m, s.Template.Width, s.Template.Height)
				break
			}
		}
	}
	// The M1 record's first minutia: 001~432~368~140~0~100.
	sets, _ := decodeShared(t, "nist-reference/type-9-14-m1.an2").Minutiae()
	m := sets[0].Template.Minutiae[0]
	if m.X != 432 || m.Y != 368 || m.Quality != 100 || int(radians(280)*1000) != int(m.Angle*1000) {
		t.Errorf("first M1 minutia %+v", m)
	}
}

// TestBuildFromImages builds a transaction from WSQ files, writes it,
// reads it back and finds the same images; then a response to it.
func TestBuildFromImages(t *testing.T) {
	dir := shareddata.Dir(t, "formats/wsq/jnbis/tpcard")
	tr := New(Header{TOT: "CAR", DAI: "DEST00000", ORI: "ORIG00000", TCN: "T1"}, map[int]string{18: "TEST"})
	for _, pos := range []int{2, 7} {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("fp-%d.wsq", pos)))
		if err != nil {
			t.Fatal(err)
		}
		c, w, h, err := SniffImage(data)
		if err != nil {
			t.Fatal(err)
		}
		tr.AddFinger(FingerImage{Image: Image{Compression: c, Width: w, Height: h, PPI: 500, Data: data}, Positions: []biometric.FingerPosition{biometric.FingerPosition(pos)}})
	}
	sets, _ := decodeShared(t, "nist-reference/type-9-14-m1.an2").Minutiae()
	tr.AddMinutiae(1, 2, sets[0].Template)
	out, err := tr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, w, err := Decode(out)
	if err != nil || len(w) > 0 {
		t.Fatalf("Decode: %v %v", err, w)
	}
	imgs := back.FingerImages()
	if len(imgs) != 2 || imgs[1].Positions[0] != 7 || imgs[0].Compression != WSQ || imgs[0].PPI != 500 {
		t.Fatalf("read back %+v", imgs)
	}
	ms, _ := back.Minutiae()
	if len(ms) != 1 || len(ms[0].Template.Minutiae) != 48 || ms[0].Template.Minutiae[5] != sets[0].Template.Minutiae[5] {
		t.Errorf("minutiae read back: %+v", ms)
	}
	resp := NewResponse(back, "R1", true, []Candidate{{"REF1", 9000}})
	out, err = resp.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := Decode(out)
	if err != nil || r.TOT() != "SRE" || r.Type1().Value(10) != "T1" || r.Records[1].Value(59) != "I" || r.Records[1].Field(64).Item(0, 0) != "REF1" {
		t.Errorf("response reads back wrong: %v", err)
	}
}
