package iso19794

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Finger image records: ISO/IEC 19794-4:2005 ("FIR\0" "010\0", clause 8)
// and its 2011 edition ("FIR\0" "020\0", clause 8), which moved the capture
// settings from the record header into each representation and added
// capture time, device, quality and certification blocks.

// ImageVersion tells the edition of an image record (finger, face, iris).
type ImageVersion uint8

// Editions of the image records.
const (
	Edition2005 ImageVersion = 1 // version "010\0"
	Edition2011 ImageVersion = 2 // version "020\0"
)

func (v ImageVersion) String() string {
	switch v {
	case Edition2005:
		return "2005"
	case Edition2011:
		return "2011"
	}
	return fmt.Sprintf("ImageVersion(%d)", uint8(v))
}

// Errors of the image record readers, wrapped with the place of the problem.
var (
	ErrNotImageRecord   = errors.New("iso19794: not a finger, face or iris image record")
	ErrImageVersion     = errors.New("iso19794: unsupported image record version")
	ErrImageTruncated   = errors.New("iso19794: truncated image record")
	ErrInvalidImageData = errors.New("iso19794: image record cannot be written")
)

// Finger image compression codes (ISO/IEC 19794-4:2005 Table 3; the 2011
// edition splits JPEG 2000 into lossy 4 and lossless 5 and moves PNG to 6).
const (
	FingerUncompressed       = 0
	FingerUncompressedPacked = 1
	FingerWSQ                = 2
	FingerJPEG               = 3
	FingerJPEG2000           = 4
	FingerPNG2005            = 5 // PNG in the 2005 edition
	FingerJPEG2000Lossless   = 5 // in the 2011 edition
	FingerPNG2011            = 6 // PNG in the 2011 edition
)

// CaptureDateTime is the capture time of a 2011 representation (9 bytes);
// a field of all ones means "not given" (0xFFFF for year or millisecond).
type CaptureDateTime struct {
	Year                       uint16
	Month, Day, Hour, Min, Sec uint8
	Millisecond                uint16
}

// QualityBlock is a quality score with the algorithm that computed it (5
// bytes, 2011 editions clause 8.3.8 of -4 and -6).
type QualityBlock struct {
	Score       uint8 // 0-100, 255 for a failed attempt
	VendorID    uint16
	AlgorithmID uint16
}

// CertificationBlock names a certification of the capture device (3 bytes).
type CertificationBlock struct {
	AuthorityID uint16
	SchemeID    uint8
}

// FingerImageRecord is a finger (or palm) image record.
type FingerImageRecord struct {
	Version ImageVersion
	// 2005 header fields (clause 8.3); the 2011 edition has none of them.
	CaptureDeviceID  uint16
	AcquisitionLevel uint16
	// Certified is the 2011 certification flag: each representation then
	// carries certification blocks.
	Certified bool
	Images    []FingerImage
}

// FingerImage is one view (2005) or representation (2011). Scale,
// resolution, depth and compression are per image in 2011 and shared by
// the record header in 2005; here they are always per image.
type FingerImage struct {
	Position    uint8 // finger or palm position (ISO/IEC 19794-4 Table 5)
	ViewCount   uint8 // 2005: views of this finger
	ViewNumber  uint8 // 2005 view number; 2011 representation number
	Quality     uint8 // 2005 image quality (2011: QualityBlocks)
	Impression  uint8 // impression type (0 live-scan plain, 1 rolled ...)
	ScaleUnits  uint8 // 1 pixels per inch, 2 per centimetre
	ScanXRes    uint16
	ScanYRes    uint16
	XRes        uint16
	YRes        uint16
	BitDepth    uint8
	Compression uint8 // FingerWSQ, FingerPNG2011 ... in the record's edition
	Width       uint16
	Height      uint16
	Data        []byte // the image as coded; aliases the input

	// 2011 representation fields.
	Captured         CaptureDateTime
	DeviceTechnology uint8
	DeviceVendor     uint16
	DeviceType       uint16
	QualityBlocks    []QualityBlock
	Certifications   []CertificationBlock
	// Extended holds bytes of the representation after the image data
	// (2011 extended data blocks), kept unparsed.
	Extended []byte
}

// imgReader is the byte cursor of the image record readers: it fails
// once with a truncation error naming the field and offset, and collects
// warnings.
type imgReader struct {
	b        []byte
	off      int
	err      error
	warnings []Warning
	what     string // "finger image record", ...
}

func (r *imgReader) need(n int, field string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = fmt.Errorf("%w: %s: %s at offset %d needs %d bytes, %d left", ErrImageTruncated, r.what, field, r.off, n, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *imgReader) u8(field string) uint8 {
	if !r.need(1, field) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *imgReader) u16(field string) uint16 {
	if !r.need(2, field) {
		return 0
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:])
}

func (r *imgReader) u32(field string) uint32 {
	if !r.need(4, field) {
		return 0
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:])
}

func (r *imgReader) bytes(n int, field string) []byte {
	if !r.need(n, field) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off : r.off]
}

func (r *imgReader) warn(off int, format string, args ...any) {
	r.warnings = append(r.warnings, Warning{Offset: off, Message: fmt.Sprintf(format, args...)})
}

func (r *imgReader) dateTime() CaptureDateTime {
	return CaptureDateTime{Year: r.u16("capture year"), Month: r.u8("capture month"), Day: r.u8("capture day"),
		Hour: r.u8("capture hour"), Min: r.u8("capture minute"), Sec: r.u8("capture second"), Millisecond: r.u16("capture millisecond")}
}

func (r *imgReader) qualityBlocks() []QualityBlock {
	n := int(r.u8("number of quality blocks"))
	if !r.need(5*n, "quality blocks") {
		return nil
	}
	q := make([]QualityBlock, n)
	for i := range q {
		q[i] = QualityBlock{Score: r.u8("quality score"), VendorID: r.u16("quality vendor"), AlgorithmID: r.u16("quality algorithm")}
	}
	return q
}

func (r *imgReader) certBlocks() []CertificationBlock {
	n := int(r.u8("number of certification blocks"))
	if !r.need(3*n, "certification blocks") {
		return nil
	}
	c := make([]CertificationBlock, n)
	for i := range c {
		c[i] = CertificationBlock{AuthorityID: r.u16("certification authority"), SchemeID: r.u8("certification scheme")}
	}
	return c
}

// header reads magic and version and returns the edition.
func (r *imgReader) header(magic string) ImageVersion {
	if len(r.b) < 8 || string(r.b[:4]) != magic {
		r.err = fmt.Errorf("%w: does not start with %q", ErrNotImageRecord, magic)
		return 0
	}
	r.off = 8
	switch string(r.b[4:8]) {
	case "010\x00":
		return Edition2005
	case "020\x00":
		return Edition2011
	}
	r.err = fmt.Errorf("%w: %s version %q", ErrImageVersion, r.what, r.b[4:8])
	return 0
}

// checkLength compares a declared record length with the input.
func (r *imgReader) checkLength(declared int) {
	switch {
	case declared > len(r.b):
		r.warn(8, "record length %d is more than the %d bytes given; reading what is there", declared, len(r.b))
	case declared < len(r.b):
		r.warn(8, "record length %d is less than the %d bytes given; %d trailing bytes ignored", declared, len(r.b), len(r.b)-declared)
		r.b = r.b[:max(declared, r.off)]
	}
}

// ParseFingerImage reads an ISO/IEC 19794-4 finger image record of the
// 2005 or 2011 edition. Image data aliases the input.
func ParseFingerImage(data []byte) (*FingerImageRecord, []Warning, error) {
	r := &imgReader{b: data, what: "finger image record"}
	rec := &FingerImageRecord{Version: r.header("FIR\x00")}
	if r.err != nil {
		return nil, nil, r.err
	}
	var n, distinct int
	var shared FingerImage
	if rec.Version == Edition2005 {
		// Clause 8.3: a 6-byte record length and the shared settings.
		if !r.need(24, "record header") {
			return nil, nil, r.err
		}
		hi, lo := r.u16("record length"), r.u32("record length")
		if hi != 0 {
			return nil, nil, fmt.Errorf("%w: finger image record length %d exceeds 4 GiB", ErrImageTruncated, uint64(hi)<<32|uint64(lo))
		}
		r.checkLength(int(lo))
		rec.CaptureDeviceID = r.u16("capture device ID")
		rec.AcquisitionLevel = r.u16("image acquisition level")
		n = int(r.u8("number of fingers"))
		shared.ScaleUnits = r.u8("scale units")
		shared.ScanXRes, shared.ScanYRes = r.u16("scan resolution"), r.u16("scan resolution")
		shared.XRes, shared.YRes = r.u16("image resolution"), r.u16("image resolution")
		shared.BitDepth = r.u8("pixel depth")
		shared.Compression = r.u8("compression")
		if res := r.u16("reserved"); res != 0 {
			r.warn(30, "reserved bytes are %#04x, not 0", res)
		}
	} else {
		r.checkLength(int(r.u32("record length")))
		n = int(r.u16("number of representations"))
		rec.Certified = r.u8("certification flag") != 0
		distinct = int(r.u8("number of distinct positions"))
	}
	for i := 0; r.err == nil && r.off < len(r.b); i++ {
		start := r.off
		length := int(r.u32("representation length"))
		if r.err != nil {
			break
		}
		end := start + length
		if length < 14 || end > len(r.b) {
			r.warn(start, "image %d length %d does not fit the %d bytes left; read up to the end", i+1, length, len(r.b)-start)
			end = len(r.b)
		}
		im := shared
		if rec.Version == Edition2005 {
			im.Position, im.ViewCount, im.ViewNumber = r.u8("position"), r.u8("view count"), r.u8("view number")
			im.Quality, im.Impression = r.u8("quality"), r.u8("impression type")
			im.Width, im.Height = r.u16("horizontal line length"), r.u16("vertical line length")
			if res := r.u8("reserved"); res != 0 {
				r.warn(r.off-1, "image %d reserved byte is %d, not 0", i+1, res)
			}
			im.Data = r.bytes(end-r.off, "image data")
		} else {
			im.Captured = r.dateTime()
			im.DeviceTechnology, im.DeviceVendor, im.DeviceType = r.u8("device technology"), r.u16("device vendor"), r.u16("device type")
			im.QualityBlocks = r.qualityBlocks()
			if rec.Certified {
				im.Certifications = r.certBlocks()
			}
			im.Position, im.ViewNumber, im.ScaleUnits = r.u8("position"), r.u8("representation number"), r.u8("scale units")
			im.ScanXRes, im.ScanYRes = r.u16("capture sampling rate"), r.u16("capture sampling rate")
			im.XRes, im.YRes = r.u16("image sampling rate"), r.u16("image sampling rate")
			im.BitDepth, im.Compression, im.Impression = r.u8("bit depth"), r.u8("compression"), r.u8("impression type")
			im.Width, im.Height = r.u16("horizontal line length"), r.u16("vertical line length")
			dl := int(r.u32("image data length"))
			if r.err == nil && r.off+dl > end {
				if r.off+dl <= len(r.b) {
					r.warn(start, "representation %d length %d is shorter than its image data; the image data length is trusted", i+1, length)
					end = r.off + dl
				} else {
					return nil, r.warnings, fmt.Errorf("%w: finger image representation %d: image data of %d bytes at offset %d, %d left", ErrImageTruncated, i+1, dl, r.off, len(r.b)-r.off)
				}
			}
			im.Data = r.bytes(dl, "image data")
			if r.err == nil && end > r.off {
				im.Extended = r.bytes(end-r.off, "extended data")
			}
		}
		if r.err != nil {
			break
		}
		rec.Images = append(rec.Images, im)
		r.off = end
	}
	if r.err != nil {
		return nil, r.warnings, r.err
	}
	if len(rec.Images) != n {
		r.warn(8, "header says %d images, the record holds %d", n, len(rec.Images))
	}
	if rec.Version == Edition2011 {
		pos := map[uint8]bool{}
		for _, im := range rec.Images {
			pos[im.Position] = true
		}
		if len(pos) != distinct {
			r.warn(15, "header says %d distinct positions, the record holds %d", distinct, len(pos))
		}
	}
	return rec, r.warnings, nil
}

// Encode writes the record (strict): lengths are computed, and a 2005
// record requires every image to share the header's settings.
func (rec *FingerImageRecord) Encode() ([]byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: finger image: %s", ErrInvalidImageData, fmt.Sprintf(format, args...))
	}
	if len(rec.Images) == 0 || len(rec.Images) > 255 {
		return nil, bad("%d images, want 1 to 255", len(rec.Images))
	}
	var b bytes.Buffer
	be := func(v any) { binary.Write(&b, binary.BigEndian, v) }
	maxComp := uint8(FingerPNG2011)
	if rec.Version == Edition2005 {
		maxComp = FingerPNG2005
	}
	for i, im := range rec.Images {
		if im.Compression > maxComp {
			return nil, bad("image %d compression code %d undefined in the %s edition", i+1, im.Compression, rec.Version)
		}
		if im.ScaleUnits != 1 && im.ScaleUnits != 2 {
			return nil, bad("image %d scale units %d, want 1 (ppi) or 2 (ppcm)", i+1, im.ScaleUnits)
		}
		if im.Width == 0 || im.Height == 0 {
			return nil, bad("image %d has size %dx%d", i+1, im.Width, im.Height)
		}
		if uint64(len(im.Data)) > 0xFFFFFFF0 {
			return nil, bad("image %d data too long", i+1)
		}
	}
	switch rec.Version {
	case Edition2005:
		first := rec.Images[0]
		total := 32
		for i, im := range rec.Images {
			if im.ScaleUnits != first.ScaleUnits || im.ScanXRes != first.ScanXRes || im.ScanYRes != first.ScanYRes || im.XRes != first.XRes ||
				im.YRes != first.YRes || im.BitDepth != first.BitDepth || im.Compression != first.Compression {
				return nil, bad("image %d settings differ from image 1; a 2005 record shares them in its header", i+1)
			}
			total += 14 + len(im.Data)
		}
		b.WriteString("FIR\x00010\x00")
		be(uint16(total >> 32))
		be(uint32(total))
		be(rec.CaptureDeviceID)
		be(rec.AcquisitionLevel)
		be(uint8(len(rec.Images)))
		be(first.ScaleUnits)
		be([]uint16{first.ScanXRes, first.ScanYRes, first.XRes, first.YRes})
		be(first.BitDepth)
		be(first.Compression)
		be(uint16(0))
		for _, im := range rec.Images {
			be(uint32(14 + len(im.Data)))
			be([]uint8{im.Position, im.ViewCount, im.ViewNumber, im.Quality, im.Impression})
			be([]uint16{im.Width, im.Height})
			be(uint8(0))
			b.Write(im.Data)
		}
	case Edition2011:
		var body bytes.Buffer
		positions := map[uint8]bool{}
		for i, im := range rec.Images {
			if len(im.QualityBlocks) > 255 || len(im.Certifications) > 255 {
				return nil, bad("image %d has more than 255 quality or certification blocks", i+1)
			}
			if !rec.Certified && len(im.Certifications) > 0 {
				return nil, bad("image %d has certification blocks but the record's certification flag is off", i+1)
			}
			positions[im.Position] = true
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
			hw([]uint8{im.Position, im.ViewNumber, im.ScaleUnits})
			hw([]uint16{im.ScanXRes, im.ScanYRes, im.XRes, im.YRes})
			hw([]uint8{im.BitDepth, im.Compression, im.Impression})
			hw([]uint16{im.Width, im.Height})
			hw(uint32(len(im.Data)))
			binary.Write(&body, binary.BigEndian, uint32(4+h.Len()+len(im.Data)+len(im.Extended)))
			body.Write(h.Bytes())
			body.Write(im.Data)
			body.Write(im.Extended)
		}
		b.WriteString("FIR\x00020\x00")
		be(uint32(16 + body.Len()))
		be(uint16(len(rec.Images)))
		cert := uint8(0)
		if rec.Certified {
			cert = 1
		}
		be([]uint8{cert, uint8(len(positions))})
		b.Write(body.Bytes())
	default:
		return nil, bad("edition %d unknown", rec.Version)
	}
	return b.Bytes(), nil
}
