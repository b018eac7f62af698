package iso19794

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Iris image records, ISO/IEC 19794-6: the 2005 edition ("IIR\0" "010\0",
// clause 6: a 45-byte record header with the capture settings, then per eye
// a subtype header and its images) and the 2011 edition ("IIR\0" "020\0",
// clause 8: a 16-byte header, then representations that each carry their
// capture time, device, quality blocks and image settings).

// Iris image formats (2011 Table 3; the 2005 edition codes the same
// formats: 2 raw mono, 6 JPEG, 10 JPEG 2000, 14 PNG in 2011).
const (
	IrisMonoRaw  = 2
	IrisJPEG     = 6
	IrisJPEG2000 = 10
	IrisPNG      = 14
)

// Eye labels (2005 biometric subtype, 2011 eye label).
const (
	EyeUndefined = 0
	EyeRight     = 1
	EyeLeft      = 2
)

// IrisImageRecord is an iris image record of either edition.
type IrisImageRecord struct {
	Version ImageVersion
	// 2005 record header (clause 6.5.2).
	CaptureDeviceID uint16
	Properties2005  uint16 // orientation, scan type, occlusion bits
	IrisDiameter    uint16
	ImageFormat     uint16
	Width, Height   uint16
	IntensityDepth  uint8
	Transformation  uint8
	DeviceUniqueID  [16]byte
	// Certified is the 2011 certification flag.
	Certified bool
	Images    []IrisImage
}

// IrisImage is one image (2005) or representation (2011).
type IrisImage struct {
	Eye                 uint8  // EyeRight, EyeLeft, EyeUndefined
	Sequence            uint16 // 2005 image sequence number; 2011 representation number
	Quality             uint8  // 2005 quality (2011: QualityBlocks)
	Rotation            uint16 // roll angle of the eye
	RotationUncertainty uint16
	Data                []byte // the image as coded; aliases the input

	// 2011 representation fields.
	Captured                                       CaptureDateTime
	DeviceTechnology                               uint8
	DeviceVendor                                   uint16
	DeviceType                                     uint16
	QualityBlocks                                  []QualityBlock
	Certifications                                 []CertificationBlock
	ImageType                                      uint8 // 1 uncropped, 2 VGA, 3 cropped, 7 cropped and masked
	ImageFormat                                    uint8 // IrisPNG ...
	Properties                                     uint8 // orientation and compression history bits
	Width, Height                                  uint16
	BitDepth                                       uint8
	Range                                          uint16
	CentreMinX, CentreMaxX, CentreMinY, CentreMaxY uint16
	DiameterMin, DiameterMax                       uint16
}

// ParseIrisImage reads an ISO/IEC 19794-6 iris image record of the 2005
// or 2011 edition.
func ParseIrisImage(data []byte) (*IrisImageRecord, []Warning, error) {
	r := &imgReader{b: data, what: "iris image record"}
	rec := &IrisImageRecord{Version: r.header("IIR\x00")}
	if r.err != nil {
		return nil, nil, r.err
	}
	if rec.Version == Edition2005 {
		return parseIris2005(r, rec)
	}
	r.checkLength(int(r.u32("record length")))
	n := int(r.u16("number of representations"))
	rec.Certified = r.u8("certification flag") != 0
	eyes := int(r.u8("number of eyes"))
	for i := 0; r.err == nil && r.off < len(r.b); i++ {
		start := r.off
		length := int(r.u32("representation length"))
		var im IrisImage
		im.Captured = r.dateTime()
		im.DeviceTechnology, im.DeviceVendor, im.DeviceType = r.u8("device technology"), r.u16("device vendor"), r.u16("device type")
		im.QualityBlocks = r.qualityBlocks()
		if rec.Certified {
			im.Certifications = r.certBlocks()
		}
		im.Sequence = r.u16("representation number")
		im.Eye, im.ImageType, im.ImageFormat, im.Properties = r.u8("eye label"), r.u8("image type"), r.u8("image format"), r.u8("image properties")
		im.Width, im.Height, im.BitDepth = r.u16("width"), r.u16("height"), r.u8("bit depth")
		im.Range, im.Rotation, im.RotationUncertainty = r.u16("range"), r.u16("roll angle"), r.u16("roll angle uncertainty")
		im.CentreMinX, im.CentreMaxX, im.CentreMinY, im.CentreMaxY = r.u16("iris centre"), r.u16("iris centre"), r.u16("iris centre"), r.u16("iris centre")
		im.DiameterMin, im.DiameterMax = r.u16("iris diameter"), r.u16("iris diameter")
		dl := int(r.u32("image length"))
		if r.err != nil {
			break
		}
		// The image length is trusted over the representation length:
		// the image must be whole, and some writers miscount the latter.
		if got := r.off - start + dl; got != length {
			r.warn(start, "representation %d length %d disagrees with its %d bytes of header and image; the image length is trusted", i+1, length, got)
		}
		im.Data = r.bytes(dl, "image data")
		if r.err != nil {
			break
		}
		rec.Images = append(rec.Images, im)
	}
	if r.err != nil {
		return nil, r.warnings, r.err
	}
	if len(rec.Images) != n {
		r.warn(12, "header says %d representations, the record holds %d", n, len(rec.Images))
	}
	seen := map[uint8]bool{}
	for _, im := range rec.Images {
		if im.Eye != EyeUndefined {
			seen[im.Eye] = true
		}
	}
	if len(seen) != eyes {
		r.warn(15, "header says %d eyes, the representations label %d", eyes, len(seen))
	}
	return rec, r.warnings, nil
}

func parseIris2005(r *imgReader, rec *IrisImageRecord) (*IrisImageRecord, []Warning, error) {
	r.checkLength(int(r.u32("record length")))
	rec.CaptureDeviceID = r.u16("capture device ID")
	subtypes := int(r.u8("number of biometric subtypes"))
	if hl := r.u16("record header length"); r.err == nil && hl != 45 {
		r.warn(r.off-2, "record header length %d, not 45", hl)
	}
	rec.Properties2005, rec.IrisDiameter, rec.ImageFormat = r.u16("image properties"), r.u16("iris diameter"), r.u16("image format")
	rec.Width, rec.Height = r.u16("width"), r.u16("height")
	rec.IntensityDepth, rec.Transformation = r.u8("intensity depth"), r.u8("image transformation")
	copy(rec.DeviceUniqueID[:], r.bytes(16, "device unique identifier"))
	for s := 0; s < subtypes && r.err == nil; s++ {
		eye, count := r.u8("biometric subtype"), int(r.u16("number of images"))
		for k := 0; k < count && r.err == nil; k++ {
			im := IrisImage{Eye: eye, Sequence: r.u16("image sequence number"), Quality: r.u8("quality"),
				Rotation: r.u16("rotation angle"), RotationUncertainty: r.u16("rotation uncertainty")}
			im.Data = r.bytes(int(r.u32("image length")), "image data")
			if r.err == nil {
				rec.Images = append(rec.Images, im)
			}
		}
	}
	if r.err != nil {
		return nil, r.warnings, r.err
	}
	if r.off < len(r.b) {
		r.warn(r.off, "%d bytes after the last image ignored", len(r.b)-r.off)
	}
	return rec, r.warnings, nil
}

// Encode writes the record (strict), computing the lengths. A 2005 record
// groups its images by eye in the order they come; images of one eye must
// be adjacent.
func (rec *IrisImageRecord) Encode() ([]byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: iris image: %s", ErrInvalidImageData, fmt.Sprintf(format, args...))
	}
	if len(rec.Images) == 0 || len(rec.Images) > 0xFFFF {
		return nil, bad("%d images, want 1 to 65535", len(rec.Images))
	}
	for i, im := range rec.Images {
		if im.Eye > EyeLeft {
			return nil, bad("image %d eye label %d undefined", i+1, im.Eye)
		}
		if uint64(len(im.Data)) > 0xFFFFFF00 {
			return nil, bad("image %d too long", i+1)
		}
	}
	var b, body bytes.Buffer
	w := func(v any) { binary.Write(&body, binary.BigEndian, v) }
	switch rec.Version {
	case Edition2005:
		var groups [][]IrisImage
		seen := map[uint8]bool{}
		for i, im := range rec.Images {
			if len(groups) > 0 && groups[len(groups)-1][0].Eye == im.Eye {
				groups[len(groups)-1] = append(groups[len(groups)-1], im)
				continue
			}
			if seen[im.Eye] {
				return nil, bad("image %d: images of eye %d are not adjacent", i+1, im.Eye)
			}
			seen[im.Eye] = true
			groups = append(groups, []IrisImage{im})
		}
		for _, g := range groups {
			w(g[0].Eye)
			w(uint16(len(g)))
			for _, im := range g {
				w(im.Sequence)
				w(im.Quality)
				w([]uint16{im.Rotation, im.RotationUncertainty})
				w(uint32(len(im.Data)))
				body.Write(im.Data)
			}
		}
		b.WriteString("IIR\x00010\x00")
		h := func(v any) { binary.Write(&b, binary.BigEndian, v) }
		h(uint32(45 + body.Len()))
		h(rec.CaptureDeviceID)
		h(uint8(len(groups)))
		h([]uint16{45, rec.Properties2005, rec.IrisDiameter, rec.ImageFormat, rec.Width, rec.Height})
		h([]uint8{rec.IntensityDepth, rec.Transformation})
		b.Write(rec.DeviceUniqueID[:])
	case Edition2011:
		eyes := map[uint8]bool{}
		for i, im := range rec.Images {
			if len(im.QualityBlocks) > 255 || len(im.Certifications) > 255 {
				return nil, bad("image %d has more than 255 quality or certification blocks", i+1)
			}
			if !rec.Certified && len(im.Certifications) > 0 {
				return nil, bad("image %d has certification blocks but the record's certification flag is off", i+1)
			}
			if im.Eye != EyeUndefined {
				eyes[im.Eye] = true
			}
			var h bytes.Buffer
			hw := func(v any) { binary.Write(&h, binary.BigEndian, v) }
			hw(im.Captured)
			hw(im.DeviceTechnology)
			hw([]uint16{im.DeviceVendor, im.DeviceType})
			hw(uint8(len(im.QualityBlocks)))
			for _, q := range im.QualityBlocks {
				hw(q)
			}
			if rec.Certified {
				hw(uint8(len(im.Certifications)))
				for _, c := range im.Certifications {
					hw(c)
				}
			}
			hw(im.Sequence)
			hw([]uint8{im.Eye, im.ImageType, im.ImageFormat, im.Properties})
			hw([]uint16{im.Width, im.Height})
			hw(im.BitDepth)
			hw([]uint16{im.Range, im.Rotation, im.RotationUncertainty, im.CentreMinX, im.CentreMaxX, im.CentreMinY, im.CentreMaxY, im.DiameterMin, im.DiameterMax})
			hw(uint32(len(im.Data)))
			w(uint32(4 + h.Len() + len(im.Data)))
			body.Write(h.Bytes())
			body.Write(im.Data)
		}
		b.WriteString("IIR\x00020\x00")
		h := func(v any) { binary.Write(&b, binary.BigEndian, v) }
		h(uint32(16 + body.Len()))
		h(uint16(len(rec.Images)))
		cert := uint8(0)
		if rec.Certified {
			cert = 1
		}
		h([]uint8{cert, uint8(len(eyes))})
	default:
		return nil, bad("edition %d unknown", rec.Version)
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}
