package ansinist

import (
	"math"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
)

// Compression is how an image record's data is coded, normalised from the
// Type-4 GCA byte and the CGA text of Types 10 to 17 (1-2011 Table 15).
type Compression string

// Compression codes. Raw is uncompressed 8-bit grey (or the colour space
// the record names) pixels in row order.
const (
	Raw          Compression = "RAW"
	WSQ          Compression = "WSQ"
	JPEG         Compression = "JPEG"  // JPEGB: baseline/lossy
	JPEGLossless Compression = "JPEGL" // JPEGL
	JPEG2000     Compression = "JP2"
	JPEG2000L    Compression = "JP2L"
	PNG          Compression = "PNG"
	Unknown      Compression = "UNKNOWN"
)

// binaryCompression maps the binary compression code of Types 3-6 (GCA and
// BCA: 1-2011 Table 15's "binary code" column) to Compression. For the
// binary-image Types 5 and 6, 1 was facsimile (Group 4), here Unknown.
func binaryCompression(typ, code int) Compression {
	switch code {
	case 0:
		return Raw
	case 1:
		if typ == 5 || typ == 6 {
			return Unknown
		}
		return WSQ
	case 2:
		return JPEG
	case 3:
		return JPEGLossless
	case 4:
		return JPEG2000
	case 5:
		return JPEG2000L
	case 6:
		return PNG
	}
	return Unknown
}

// textCompression maps a CGA value ("WSQ20", "JPEGB", "NONE", ...).
func textCompression(cga string) Compression {
	switch strings.ToUpper(strings.TrimSpace(cga)) {
	case "NONE", "":
		return Raw
	case "WSQ20", "WSQ", "WSQ31", "1":
		return WSQ
	case "JPEGB", "JPEG":
		return JPEG
	case "JPEGL":
		return JPEGLossless
	case "JP2":
		return JPEG2000
	case "JP2L":
		return JPEG2000L
	case "PNG":
		return PNG
	}
	return Unknown
}

// CGA returns the 1-2011 text code of a compression for Types 10 to 17.
func (c Compression) CGA() string {
	switch c {
	case Raw:
		return "NONE"
	case WSQ:
		return "WSQ20"
	case JPEG:
		return "JPEGB"
	}
	return string(c)
}

// GCA returns the binary code of a compression for Type-4.
func (c Compression) GCA() int {
	switch c {
	case WSQ:
		return 1
	case JPEG:
		return 2
	case JPEGLossless:
		return 3
	case JPEG2000:
		return 4
	case JPEG2000L:
		return 5
	case PNG:
		return 6
	}
	return 0
}

// Image is what the image records (Types 4, 10, 13, 14, 17) share.
type Image struct {
	Record      int // index of the record in Transaction.Records
	Type        int // record type
	IDC         int
	Compression Compression
	CGA         string // the compression code as written
	Width       int    // pixels (HLL)
	Height      int    // pixels (VLL)
	PPI         int    // pixels per inch, 0 when the record gives no scale
	BPX         int    // bits per pixel; 8 when the record does not say
	Data        []byte // the image as coded; aliases the input
}

// FingerImage is a friction ridge image: Type-4, Type-13 (latent) or
// Type-14 record.
type FingerImage struct {
	Image
	Positions  []biometric.FingerPosition // FGP, first the most likely
	Impression int                        // IMP (0 live-scan plain, 1 rolled, 4 latent ...)
}

// FaceImage is a Type-10 record: a face, or a scar, mark or tattoo.
type FaceImage struct {
	Image
	ImageType  string // IMT: FACE, SCAR, MARK, TATTOO
	SAP        string // subject acquisition profile
	ColorSpace string // CSP: GRAY, SRGB, YCC ...
}

// IrisImage is a Type-17 record.
type IrisImage struct {
	Image
	Eye        int // ELR (FID before 2011): 0 undefined, 1 right, 2 left
	ColorSpace string
}

// ppi converts a scale (SLC 1: pixels per inch, 2: per centimetre,
// 0: aspect ratio only) to pixels per inch.
func ppi(slc, scale string) int {
	v, err := strconv.ParseFloat(strings.TrimSpace(scale), 64)
	if err != nil || v <= 0 {
		return 0
	}
	switch strings.TrimSpace(slc) {
	case "1":
		return int(math.Round(v))
	case "2":
		return int(math.Round(v * 2.54))
	}
	return 0
}

// ppmmToPPI converts a Type-1 NSR/NTR value in pixels per millimetre.
func ppmmToPPI(s string) int {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v <= 0 {
		return 0
	}
	return int(math.Round(v * 25.4))
}

func atoi(s string) int {
	v, _ := strconv.Atoi(strings.TrimSpace(s))
	return v
}

// taggedImage fills the fields Types 10, 13, 14 and 17 number alike
// (HLL 6, VLL 7, SLC 8, THPS 9, CGA 11) plus the data field.
func taggedImage(i int, r *Record) Image {
	im := Image{Record: i, Type: r.Type, IDC: r.IDC(), CGA: r.Value(11), Width: atoi(r.Value(6)), Height: atoi(r.Value(7)),
		PPI: ppi(r.Value(8), r.Value(9)), BPX: 8}
	im.Compression = textCompression(im.CGA)
	if f := r.Field(DataField); f != nil {
		im.Data = f.Data
	}
	return im
}

// FingerImages lists the transaction's friction ridge images of Types 4,
// 13 and 14 with their finger positions.
func (t *Transaction) FingerImages() []FingerImage {
	var out []FingerImage
	for i, r := range t.Records {
		if r.Raw != nil {
			continue
		}
		switch r.Type {
		case 4:
			im := FingerImage{Image: Image{Record: i, Type: 4, IDC: r.IDC(), CGA: r.Value(8), Width: atoi(r.Value(6)), Height: atoi(r.Value(7)), BPX: 8}}
			im.Compression = binaryCompression(4, atoi(im.CGA))
			// ISR 0: the nominal resolution NTR; 1: the native one, NSR
			// (1-2011 section 8.4.5).
			if t1 := t.Type1(); t1 != nil {
				if r.Value(5) == "1" {
					im.PPI = ppmmToPPI(t1.Value(11))
				} else {
					im.PPI = ppmmToPPI(t1.Value(12))
				}
			}
			if im.PPI == 0 {
				im.PPI = 500 // Type-4 is defined at 500 ppi nominal
			}
			im.Impression = atoi(r.Value(3))
			if f := r.Field(4); f != nil {
				for _, s := range f.Subfields {
					if len(s) > 0 && s[0] != "255" {
						im.Positions = append(im.Positions, biometric.FingerPosition(atoi(s[0])))
					}
				}
			}
			if f := r.Field(9); f != nil {
				im.Data = f.Data
			}
			out = append(out, im)
		case 13, 14:
			im := FingerImage{Image: taggedImage(i, r), Impression: atoi(r.Value(3))}
			if b, ok := r.Int(12); ok {
				im.BPX = b
			}
			if f := r.Field(13); f != nil {
				for _, s := range f.Subfields {
					if len(s) > 0 && s[0] != "255" {
						im.Positions = append(im.Positions, biometric.FingerPosition(atoi(s[0])))
					}
				}
			}
			out = append(out, im)
		}
	}
	return out
}

// FaceImages lists the Type-10 records.
func (t *Transaction) FaceImages() []FaceImage {
	var out []FaceImage
	for i, r := range t.Records {
		if r.Type != 10 || r.Raw != nil {
			continue
		}
		out = append(out, FaceImage{Image: taggedImage(i, r), ImageType: r.Value(3), SAP: r.Value(13), ColorSpace: r.Value(12)})
	}
	return out
}

// IrisImages lists the Type-17 records.
func (t *Transaction) IrisImages() []IrisImage {
	var out []IrisImage
	for i, r := range t.Records {
		if r.Type != 17 || r.Raw != nil {
			continue
		}
		im := IrisImage{Image: taggedImage(i, r), Eye: atoi(r.Value(3)), ColorSpace: r.Value(13)}
		if b, ok := r.Int(12); ok {
			im.BPX = b
		}
		out = append(out, im)
	}
	return out
}
