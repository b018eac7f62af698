package iso19794

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Face image records: ISO/IEC 19794-5:2005 ("FAC\0" "010\0", clause 5): a
// 14-byte record header, then per image a facial information block (20
// bytes), its feature points (8 bytes each), an image information block
// (12 bytes) and the image.

// Face image data types (19794-5:2005 §5.7.2).
const (
	FaceJPEG     = 0
	FaceJPEG2000 = 1
)

// FaceImageRecord is a face image record of the 2005 edition.
type FaceImageRecord struct {
	Images []FaceImage
}

// FeaturePoint is a facial landmark (§5.6): its type (1: MPEG-4), its code
// (major point in the high nibble, minor in the low one) and position.
type FeaturePoint struct {
	Type uint8
	Code uint8
	X, Y uint16
}

// FaceImage is one facial image with its description.
type FaceImage struct {
	Gender                                            uint8  // 0 unspecified, 1 male, 2 female, 3 unknown
	EyeColour                                         uint8  // §5.5.4
	HairColour                                        uint8  // §5.5.5
	FeatureMask                                       uint32 // 24 bits (§5.5.6)
	Expression                                        uint16 // §5.5.7
	PoseYaw, PosePitch, PoseRoll                      uint8  // §5.5.8, 0 unspecified
	UncertaintyYaw, UncertaintyPitch, UncertaintyRoll uint8
	FeaturePoints                                     []FeaturePoint
	ImageType                                         uint8  // 0 basic, 1 full frontal, 2 token frontal
	DataType                                          uint8  // FaceJPEG or FaceJPEG2000
	Width, Height                                     uint16 // pixels
	ColourSpace                                       uint8  // 1 sRGB, 3 greyscale ...
	SourceType                                        uint8  // §5.7.6
	DeviceType                                        uint16
	Quality                                           uint16
	Data                                              []byte // the image as coded; aliases the input
}

// ParseFaceImage reads an ISO/IEC 19794-5:2005 face image record.
func ParseFaceImage(data []byte) (*FaceImageRecord, []Warning, error) {
	r := &imgReader{b: data, what: "face image record"}
	v := r.header("FAC\x00")
	if r.err != nil {
		return nil, nil, r.err
	}
	if v != Edition2005 {
		return nil, nil, fmt.Errorf("%w: face image record edition %s; only 2005 (\"010\") is read", ErrImageVersion, v)
	}
	r.checkLength(int(r.u32("record length")))
	n := int(r.u16("number of facial images"))
	rec := &FaceImageRecord{}
	for i := 0; r.err == nil && r.off < len(r.b); i++ {
		start := r.off
		length := int(r.u32("facial record data length"))
		if r.err != nil {
			break
		}
		end := start + length
		if length < 32 || end > len(r.b) {
			r.warn(start, "facial image %d length %d does not fit the %d bytes left; read up to the end", i+1, length, len(r.b)-start)
			end = len(r.b)
		}
		var im FaceImage
		points := int(r.u16("number of feature points"))
		im.Gender, im.EyeColour, im.HairColour = r.u8("gender"), r.u8("eye colour"), r.u8("hair colour")
		im.FeatureMask = uint32(r.u8("feature mask"))<<16 | uint32(r.u16("feature mask"))
		im.Expression = r.u16("expression")
		im.PoseYaw, im.PosePitch, im.PoseRoll = r.u8("pose yaw"), r.u8("pose pitch"), r.u8("pose roll")
		im.UncertaintyYaw, im.UncertaintyPitch, im.UncertaintyRoll = r.u8("pose uncertainty"), r.u8("pose uncertainty"), r.u8("pose uncertainty")
		if !r.need(8*points, "feature points") {
			break
		}
		for range points {
			p := FeaturePoint{Type: r.u8("feature type"), Code: r.u8("feature point"), X: r.u16("feature x"), Y: r.u16("feature y")}
			if res := r.u16("feature reserved"); res != 0 {
				r.warn(r.off-2, "feature point reserved bytes %#04x, not 0", res)
			}
			im.FeaturePoints = append(im.FeaturePoints, p)
		}
		im.ImageType, im.DataType = r.u8("face image type"), r.u8("image data type")
		im.Width, im.Height = r.u16("width"), r.u16("height")
		im.ColourSpace, im.SourceType = r.u8("colour space"), r.u8("source type")
		im.DeviceType, im.Quality = r.u16("device type"), r.u16("quality")
		if r.err == nil && r.off > end {
			r.err = fmt.Errorf("%w: facial image %d: its blocks run past its length %d", ErrImageTruncated, i+1, length)
		}
		im.Data = r.bytes(end-r.off, "image data")
		if r.err != nil {
			break
		}
		rec.Images = append(rec.Images, im)
	}
	if r.err != nil {
		return nil, r.warnings, r.err
	}
	if len(rec.Images) != n {
		r.warn(12, "header says %d facial images, the record holds %d", n, len(rec.Images))
	}
	return rec, r.warnings, nil
}

// Encode writes the record (strict), computing the lengths.
func (rec *FaceImageRecord) Encode() ([]byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: face image: %s", ErrInvalidImageData, fmt.Sprintf(format, args...))
	}
	if len(rec.Images) == 0 || len(rec.Images) > 0xFFFF {
		return nil, bad("%d images, want 1 to 65535", len(rec.Images))
	}
	var body bytes.Buffer
	w := func(v any) { binary.Write(&body, binary.BigEndian, v) }
	for i, im := range rec.Images {
		if im.FeatureMask > 0xFFFFFF {
			return nil, bad("image %d feature mask %#x has more than 24 bits", i+1, im.FeatureMask)
		}
		if im.DataType > FaceJPEG2000 || im.ImageType > 2 {
			return nil, bad("image %d type %d / data type %d undefined", i+1, im.ImageType, im.DataType)
		}
		if len(im.FeaturePoints) > 0xFFFF {
			return nil, bad("image %d has too many feature points", i+1)
		}
		length := 20 + 8*len(im.FeaturePoints) + 12 + len(im.Data)
		if uint64(length) > 0xFFFFFFF0 {
			return nil, bad("image %d too long", i+1)
		}
		w(uint32(length))
		w(uint16(len(im.FeaturePoints)))
		w([]uint8{im.Gender, im.EyeColour, im.HairColour, uint8(im.FeatureMask >> 16)})
		w([]uint16{uint16(im.FeatureMask), im.Expression})
		w([]uint8{im.PoseYaw, im.PosePitch, im.PoseRoll, im.UncertaintyYaw, im.UncertaintyPitch, im.UncertaintyRoll})
		for _, p := range im.FeaturePoints {
			w([]uint8{p.Type, p.Code})
			w([]uint16{p.X, p.Y, 0})
		}
		w([]uint8{im.ImageType, im.DataType})
		w([]uint16{im.Width, im.Height})
		w([]uint8{im.ColourSpace, im.SourceType})
		w([]uint16{im.DeviceType, im.Quality})
		body.Write(im.Data)
	}
	var b bytes.Buffer
	b.WriteString("FAC\x00010\x00")
	binary.Write(&b, binary.BigEndian, uint32(14+body.Len()))
	binary.Write(&b, binary.BigEndian, uint16(len(rec.Images)))
	b.Write(body.Bytes())
	return b.Bytes(), nil
}
