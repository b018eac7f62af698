package ansinist

import (
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
)

// Slaps: a Type-14 image of several fingers pressed at once (FGP 13 right
// four fingers, 14 left four, 15 both thumbs, and 40 to 50 for the
// two- and three-finger captures 1-2011 added for mobile devices) carries
// where each finger lies in 14.021 SEG (a rectangle per finger) and, from
// 1-2011 on, 14.025 ASEG (a polygon per finger). Cutting the fingers out
// by those fields is the standard's way to segment a slap (1-2011 sections
// 8.14.21 and 8.14.25); this file reads them, and cuts decoded images.

// slapFingers lists the single fingers each multi-finger position may hold
// (1-2011 Table 8).
var slapFingers = map[biometric.FingerPosition][]biometric.FingerPosition{
	13: {2, 3, 4, 5}, 14: {7, 8, 9, 10}, 15: {1, 6},
	40: {2, 3}, 41: {3, 4}, 42: {4, 5}, 43: {7, 8}, 44: {8, 9}, 45: {9, 10},
	46: {2, 7}, 47: {2, 3, 4}, 48: {3, 4, 5}, 49: {7, 8, 9}, 50: {8, 9, 10},
}

// SlapFingers returns the single fingers a multi-finger position may hold,
// or nil when p is not a multi-finger position.
func SlapFingers(p biometric.FingerPosition) []biometric.FingerPosition {
	return slapFingers[p]
}

// Segment is where one finger lies in a multi-finger image, in pixels of
// that image, origin top left.
type Segment struct {
	Position biometric.FingerPosition
	// Bounds is the finger's box, clipped to the image: SEG's left, top,
	// right and bottom coordinates (the right and bottom ones inclusive),
	// or the bounding box of the ASEG polygon.
	Bounds image.Rectangle
	// Polygon holds the ASEG vertices in order; nil when only SEG gives
	// the finger.
	Polygon []image.Point
}

// maxSegmentVertices bounds an ASEG polygon (1-2011: NOP at most 99).
const maxSegmentVertices = 99

// Segments returns the fingers of a multi-finger image from its record's
// segmentation fields: the 14.025 ASEG polygon of a finger when present,
// its 14.021 SEG rectangle otherwise. Entries that cannot be used (a
// finger the slap cannot hold, a box outside the image or empty, a
// polygon whose vertex count disagrees) are skipped and described in
// problems. A single-finger image, or one without segmentation fields, has
// no segments.
func (t *Transaction) Segments(im FingerImage) (segs []Segment, problems []string) {
	if im.Record < 0 || im.Record >= len(t.Records) || len(im.Positions) == 0 {
		return nil, nil
	}
	r := t.Records[im.Record]
	allowed := SlapFingers(im.Positions[0])
	if r.Type != 14 || allowed == nil {
		return nil, nil
	}
	frame := image.Rect(0, 0, im.Width, im.Height)
	ok := func(p biometric.FingerPosition, what string) bool {
		for _, a := range allowed {
			if a == p {
				return true
			}
		}
		problems = append(problems, fmt.Sprintf("%s: finger %d is not one of FGP %d's", what, p, im.Positions[0]))
		return false
	}
	seen := map[biometric.FingerPosition]bool{}
	// Polygons first: where a finger has both, the polygon is the more
	// precise outline and the box is skipped.
	for _, src := range []struct {
		field int
		name  string
		parse func(Subfield, image.Rectangle) (Segment, error)
	}{{25, "14.025 ASEG", polygonSegment}, {21, "14.021 SEG", boxSegment}} {
		f := r.Field(src.field)
		if f == nil || f.IsData() {
			continue
		}
		for i, s := range f.Subfields {
			what := fmt.Sprintf("%s subfield %d", src.name, i+1)
			seg, err := src.parse(s, frame)
			if err != nil {
				problems = append(problems, what+": "+err.Error())
				continue
			}
			if !ok(seg.Position, what) || seen[seg.Position] {
				continue
			}
			seen[seg.Position] = true
			segs = append(segs, seg)
		}
	}
	return segs, problems
}

func atoiItem(s Subfield, i int, name string) (int, error) {
	if i >= len(s) {
		return 0, fmt.Errorf("no %s", name)
	}
	v, err := strconv.Atoi(strings.TrimSpace(s[i]))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q is not a non-negative integer", name, s[i])
	}
	return v, nil
}

// boxSegment reads a SEG subfield: FGP, left, right, top, bottom.
func boxSegment(s Subfield, frame image.Rectangle) (Segment, error) {
	var v [5]int
	for i, name := range []string{"FGP", "left", "right", "top", "bottom"} {
		n, err := atoiItem(s, i, name)
		if err != nil {
			return Segment{}, err
		}
		v[i] = n
	}
	if v[1] > v[2] || v[3] > v[4] {
		return Segment{}, fmt.Errorf("box left %d right %d top %d bottom %d is inverted", v[1], v[2], v[3], v[4])
	}
	b := image.Rect(v[1], v[3], v[2]+1, v[4]+1).Intersect(frame)
	if b.Empty() {
		return Segment{}, fmt.Errorf("box %v lies outside the %dx%d image", image.Rect(v[1], v[3], v[2]+1, v[4]+1), frame.Dx(), frame.Dy())
	}
	return Segment{Position: biometric.FingerPosition(v[0]), Bounds: b}, nil
}

// polygonSegment reads an ASEG subfield: FGP, NOP, then NOP x,y pairs.
func polygonSegment(s Subfield, frame image.Rectangle) (Segment, error) {
	fgp, err := atoiItem(s, 0, "FGP")
	if err != nil {
		return Segment{}, err
	}
	n, err := atoiItem(s, 1, "vertex count")
	if err != nil {
		return Segment{}, err
	}
	if n < 3 || n > maxSegmentVertices || len(s) != 2+2*n {
		return Segment{}, fmt.Errorf("vertex count %d with %d coordinates", n, len(s)-2)
	}
	seg := Segment{Position: biometric.FingerPosition(fgp)}
	var box image.Rectangle
	for k := 0; k < n; k++ {
		x, err := atoiItem(s, 2+2*k, "x")
		if err != nil {
			return Segment{}, err
		}
		y, err := atoiItem(s, 3+2*k, "y")
		if err != nil {
			return Segment{}, err
		}
		p := image.Pt(x, y)
		seg.Polygon = append(seg.Polygon, p)
		box = box.Union(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	}
	seg.Bounds = box.Intersect(frame)
	if seg.Bounds.Empty() {
		return Segment{}, fmt.Errorf("polygon %v lies outside the %dx%d image", box, frame.Dx(), frame.Dy())
	}
	return seg, nil
}

// Crop cuts the segment out of the decoded slap image img (whose origin
// is the image's top left corner): the segment's box as an 8-bit grey
// image with origin (0, 0), with the pixels outside an ASEG polygon set to
// white, the background of a fingerprint.
func (s Segment) Crop(img image.Image) *image.Gray {
	b := s.Bounds.Add(img.Bounds().Min).Intersect(img.Bounds())
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	g, isGray := img.(*image.Gray)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := out.Pix[(y-b.Min.Y)*out.Stride : (y-b.Min.Y)*out.Stride+b.Dx()]
		if isGray {
			copy(row, g.Pix[g.PixOffset(b.Min.X, y):])
		} else {
			for x := b.Min.X; x < b.Max.X; x++ {
				row[x-b.Min.X] = color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			}
		}
		if s.Polygon == nil {
			continue
		}
		oy := y - img.Bounds().Min.Y
		for x := b.Min.X; x < b.Max.X; x++ {
			if !insidePolygon(s.Polygon, x-img.Bounds().Min.X, oy) {
				row[x-b.Min.X] = 0xFF
			}
		}
	}
	return out
}

// insidePolygon tells whether the centre of pixel (x, y) lies inside the
// polygon (even-odd rule; the polygon is closed from its last vertex back
// to its first).
func insidePolygon(poly []image.Point, x, y int) bool {
	// Pixel centres at +0.5; work in doubled coordinates to stay integer.
	px, py := 2*x+1, 2*y+1
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		xi, yi := 2*poly[i].X, 2*poly[i].Y
		xj, yj := 2*poly[j].X, 2*poly[j].Y
		if (yi > py) == (yj > py) {
			continue
		}
		// x of the edge at py, compared without division.
		num := (xj-xi)*(py-yi) + xi*(yj-yi)
		den := yj - yi
		if den > 0 && px*den < num || den < 0 && px*den > num {
			in = !in
		}
	}
	return in
}
