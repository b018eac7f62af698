// Package fingerprint is ebsp's fingerprint engine: a grey-scale image becomes
// a minutiae template (see Extract), and two templates give a similarity score
// (see Matcher). It does no I/O and knows nothing of servers; interchange
// encodings of templates live in formats/iso19794.
package fingerprint

// MinutiaType says how a ridge behaves at a minutia.
type MinutiaType uint8

// Minutia types, numbered as ISO/IEC 19794-2:2005 §7.4.1 numbers them.
const (
	Other       MinutiaType = 0
	Ending      MinutiaType = 1
	Bifurcation MinutiaType = 2
)

// Minutia is one ridge ending or bifurcation.
//
// Coordinates are pixels at the template's resolution, origin at the top
// left, y growing downwards. Angle is the ridge direction in radians in
// [0, 2π), measured counter-clockwise from the x axis (so with y up, as
// ISO/IEC 19794-2 §7.4.3 defines it).
type Minutia struct {
	X, Y    int
	Angle   float64
	Type    MinutiaType
	Quality uint8 // 0-100, 0 meaning unknown
}

// Template is the minutiae of one finger impression.
type Template struct {
	Width, Height int // image size in pixels
	DPI           int // resolution; 500 after extraction by this package
	Quality       int // sample quality 0-100 (0 unknown)
	Minutiae      []Minutia
}
