package ansinist

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// slapTransaction builds a right-hand slap (FGP 13), 200x100 raw pixels
// of value (x+2y)%251, with SEG boxes for the index and middle fingers
// and an ASEG triangle for the ring finger.
func slapTransaction(t *testing.T) (*Transaction, *image.Gray) {
	tr, g := buildSlap()
	return throughTraditional(t, tr), g
}

func buildSlap() (*Transaction, *image.Gray) {
	g := image.NewGray(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			g.Pix[y*200+x] = uint8((x + 2*y) % 251)
		}
	}
	tr := New(Header{TOT: "CAR", DAI: "D", ORI: "O", TCN: "1"}, nil)
	tr.AddFinger(FingerImage{Image: Image{Compression: Raw, Width: 200, Height: 100, Data: g.Pix},
		Positions: []biometric.FingerPosition{biometric.PlainRightFour}})
	r := tr.Records[len(tr.Records)-1]
	r.Set(&Field{Number: 21, Subfields: []Subfield{{"2", "10", "49", "5", "94"}, {"3", "50", "89", "0", "99"},
		{"7", "90", "99", "0", "10"}, {"5", "150", "260", "50", "120"}}})
	r.Set(&Field{Number: 25, Subfields: []Subfield{{"4", "3", "100", "10", "140", "10", "120", "60"}, {"5", "4", "1", "1"}}})
	return tr, g
}

func TestSegments(t *testing.T) {
	tr, g := slapTransaction(t)
	ims := tr.FingerImages()
	if len(ims) != 1 {
		t.Fatalf("%d finger images", len(ims))
	}
	segs, problems := tr.Segments(ims[0])
	// 7 is a left finger; 5's polygon has too few coordinates, so its
	// SEG box (clipped to the image) is used.
	if len(problems) != 2 || !strings.Contains(problems[0], "ASEG subfield 2") || !strings.Contains(problems[1], "finger 7") {
		t.Errorf("problems %q", problems)
	}
	want := map[biometric.FingerPosition]image.Rectangle{
		2: image.Rect(10, 5, 50, 95), 3: image.Rect(50, 0, 90, 100), 4: image.Rect(100, 10, 141, 61), 5: image.Rect(150, 50, 200, 100)}
	if len(segs) != len(want) {
		t.Fatalf("segments %v", segs)
	}
	for _, s := range segs {
		if s.Bounds != want[s.Position] {
			t.Errorf("finger %d: bounds %v, want %v", s.Position, s.Bounds, want[s.Position])
		}
		c := s.Crop(g)
		if c.Bounds().Size() != s.Bounds.Size() {
			t.Fatalf("finger %d: crop %v", s.Position, c.Bounds())
		}
		for y := 0; y < c.Rect.Dy(); y++ {
			for x := 0; x < c.Rect.Dx(); x++ {
				gx, gy := x+s.Bounds.Min.X, y+s.Bounds.Min.Y
				want := g.GrayAt(gx, gy).Y
				if s.Polygon != nil && !insidePolygon(s.Polygon, gx, gy) {
					want = 0xFF
				}
				if got := c.GrayAt(x, y).Y; got != want {
					t.Fatalf("finger %d: pixel (%d,%d) = %d, want %d", s.Position, x, y, got, want)
				}
			}
		}
	}
	// The triangle (100,10)-(140,10)-(120,60): its apex row is mostly
	// outside, the middle of its top edge inside.
	for _, s := range segs {
		if s.Position != 4 {
			continue
		}
		if !insidePolygon(s.Polygon, 120, 11) || insidePolygon(s.Polygon, 101, 59) || insidePolygon(s.Polygon, 99, 30) {
			t.Error("point in triangle test is wrong")
		}
	}
	// A single-finger image has no segments.
	if s, p := tr.Segments(FingerImage{Image: Image{Record: 1}, Positions: []biometric.FingerPosition{2}}); s != nil || p != nil {
		t.Errorf("single finger: %v %v", s, p)
	}
}

// TestSharedSegments reads the only shared slaps with SEG (NIST's an2k
// converter tests): FGP 13 and 14 name the other hand's fingers and are
// refused; the thumbs (FGP 15) give their two boxes.
func TestSharedSegments(t *testing.T) {
	dir := shareddata.Dir(t, "formats/ansi-nist/nbis-an2kconvert")
	in, err := os.ReadFile(filepath.Join(dir, "valid1.8.an2"))
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	total, refused := 0, 0
	for _, im := range tr.FingerImages() {
		segs, problems := tr.Segments(im)
		total += len(segs)
		refused += len(problems)
		if im.Positions[0] == 15 {
			if len(segs) != 2 || segs[0].Position != 6 || segs[0].Bounds != image.Rect(21, 21, 22, 22) {
				t.Errorf("thumbs: %v", segs)
			}
		}
	}
	if total != 2 || refused != 8 {
		t.Errorf("%d segments, %d refused; want 2 and 8", total, refused)
	}
	t.Logf("SEGMENTS valid1.8.an2: %d fingers cut, %d SEG entries refused", total, refused)
}
