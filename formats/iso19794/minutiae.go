package iso19794

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ebsp/ebsp/biometric"
)

// MinutiaeFormat says which standard and edition a finger minutiae record
// follows. All share the magic "FMR\0". The 2004/2005 editions have version
// " 20\0" and differ in the record header (ANSI 378 has a shorter length
// field and a CBEFF product identifier); ISO/IEC 19794-2:2011 and ANSI
// INCITS 378-2009 both have version "030\0" and are told apart by their
// lengths; 378-2009 Amendment 1 has "035\0".
type MinutiaeFormat uint8

// The supported finger minutiae record formats.
const (
	ISO19794_2_2005 MinutiaeFormat = 1 // ISO/IEC 19794-2:2005 clause 7
	ANSI378_2004    MinutiaeFormat = 2 // ANSI INCITS 378-2004 clause 6
	ISO19794_2_2011 MinutiaeFormat = 3 // ISO/IEC 19794-2:2011 with ISO/IEC 19794-1:2011 headers
	ANSI378_2009    MinutiaeFormat = 4 // ANSI INCITS 378-2009
	ANSI378_2009AM1 MinutiaeFormat = 5 // ANSI INCITS 378-2009 with Amendment 1 (2010)
)

// MinutiaeFormats lists every format the reader and writer handle.
var MinutiaeFormats = []MinutiaeFormat{ISO19794_2_2005, ANSI378_2004, ISO19794_2_2011, ANSI378_2009, ANSI378_2009AM1}

func (f MinutiaeFormat) String() string {
	switch f {
	case ISO19794_2_2005:
		return "ISO/IEC 19794-2:2005"
	case ANSI378_2004:
		return "ANSI INCITS 378-2004"
	case ISO19794_2_2011:
		return "ISO/IEC 19794-2:2011"
	case ANSI378_2009:
		return "ANSI INCITS 378-2009"
	case ANSI378_2009AM1:
		return "ANSI INCITS 378-2009/AM1"
	}
	return fmt.Sprintf("MinutiaeFormat(%d)", uint8(f))
}

// Minutia types as a record codes them in the two top bits of the x
// coordinate (ISO/IEC 19794-2:2005 §7.4.1, ANSI 378 §6.5.1.1).
const (
	MinutiaOther       = 0
	MinutiaEnding      = 1
	MinutiaBifurcation = 2
)

// Impression types (ISO/IEC 19794-2:2005 §7.3.2, ANSI 378 §6.5.1.3) a
// strict writer accepts.
const (
	LiveScanPlain    = 0
	LiveScanRolled   = 1
	NonLiveScanPlain = 2
	NonLiveRolled    = 3
	Swipe            = 8
)

// Extended data block types defined by the standards (ISO/IEC 19794-2:2005
// §7.5, ANSI 378 §6.6). Other non-zero types are vendor data.
const (
	ExtRidgeCount = 0x0001
	ExtCoreDelta  = 0x0002
)

// Warning is an irregularity a lenient reader accepted: where it is in the
// input (byte offset) and what it is.
type Warning struct {
	Offset  int
	Message string
}

func (w Warning) String() string { return fmt.Sprintf("offset %d: %s", w.Offset, w.Message) }

// MinutiaeRecord is a finger minutiae record: a header and its finger views.
type MinutiaeRecord struct {
	Format MinutiaeFormat
	// CBEFFOwner and CBEFFType are the CBEFF product identifier of the
	// extractor (ANSI 378 §6.4.4); ISO/IEC 19794-2:2005 has no such field.
	CBEFFOwner, CBEFFType uint16
	// EquipmentCompliance (4 bits) and EquipmentID (12 bits) describe the
	// capture device (§7.3.4 / §6.4.5).
	EquipmentCompliance uint8
	EquipmentID         uint16
	// Width, Height, XRes and YRes are the image size in pixels and the
	// resolution in pixels per centimetre of the 2004/2005 editions; the
	// 2009/2011 editions give them per view (FingerView).
	Width, Height uint16
	XRes, YRes    uint16
	// DeviceCertification is ISO/IEC 19794-2:2011's device certification
	// block flag (0 or 1) or ANSI INCITS 378-2009's capture device
	// certification byte. EquipmentID holds 378-2009's sensor identifier.
	DeviceCertification uint8
	// ShortHeader marks an ANSI "030" record with the 20-byte header (a
	// 2004-style capture equipment field) instead of 378-2009's 21 bytes.
	ShortHeader bool
	Views       []FingerView
}

// FingerView is one finger impression of a record: its minutiae and its
// extended data.
type FingerView struct {
	Position   biometric.FingerPosition // 0-10 (§7.3.1)
	ViewNumber uint8                    // 0-15, several views of one finger
	Impression uint8                    // impression type (LiveScanPlain...)
	Quality    uint8                    // finger quality 0-100 (2009/2011: or 254, 255)
	Minutiae   []Minutia
	Extended   []ExtendedBlock

	// Fields of the 2009 and 2011 editions.
	Width, Height, XRes, YRes uint16 // this view's image size and resolution (pixels per centimetre)
	// QualityVendor and QualityAlgorithm identify what computed Quality
	// (ANSI INCITS 378-2009).
	QualityVendor, QualityAlgorithm uint16
	// ISO/IEC 19794-2:2011 representation header: capture time, capture
	// device technology, vendor and type, quality blocks (Quality is the
	// first block's score) and certification blocks.
	Captured                 CaptureDateTime
	DeviceTechnology         uint8
	DeviceVendor, DeviceType uint16
	Qualities                []QualityBlock
	Certifications           []CertificationBlock
	// MinutiaSize (5 without minutia quality, or 6) and EndingType (how a
	// ridge ending's position is defined) of ISO/IEC 19794-2:2011.
	MinutiaSize, EndingType uint8
}

// Minutia is a minutia as the record codes it. Angle is in the record's
// units: 360/256 degrees for ISO/IEC 19794-2:2005 (0-255), 2 degrees for
// ANSI 378-2004 (0-179), counter-clockwise from the x axis.
type Minutia struct {
	Type    uint8  // MinutiaOther, MinutiaEnding or MinutiaBifurcation (3 is reserved)
	X, Y    uint16 // pixels, 14 bits each, origin top left
	Angle   uint8
	Quality uint8 // 0-100, 0 meaning not reported
}

// ExtendedBlock is one block of a view's extended data area, kept as raw
// bytes (without its 4-byte type and length header).
type ExtendedBlock struct {
	Type uint16
	Data []byte
}

// Errors a reader returns, wrapped with the place of the problem.
var (
	ErrNotMinutiae        = errors.New("iso19794: not a finger minutiae record")
	ErrUnsupportedVersion = errors.New("iso19794: unsupported finger minutiae record version")
	ErrTruncated          = errors.New("iso19794: truncated finger minutiae record")
)

const (
	isoHeaderLen  = 24
	ansiHeaderLen = 26 // 30 with the 6-byte length form
	viewHeaderLen = 4
	minutiaLen    = 6
)

// ParseMinutiae reads a finger minutiae record, telling ISO/IEC
// 19794-2:2005 from ANSI INCITS 378-2004 by the layout of its header (see
// DetectMinutiaeFormat). It returns the irregularities it accepted as
// warnings.
func ParseMinutiae(data []byte) (*MinutiaeRecord, []Warning, error) {
	f, err := DetectMinutiaeFormat(data)
	if err != nil {
		return nil, nil, err
	}
	return ParseMinutiaeAs(data, f)
}

// DetectMinutiaeFormat tells the two formats apart. Both start with "FMR\0"
// and " 20\0"; ISO then has a 4-byte record length (§7.3.3), ANSI a 2-byte
// one, or 0 followed by a 4-byte length for records of 65536 bytes or more
// (§6.4.3). So a non-zero 16-bit value at offset 8 means ANSI, and a zero
// there means ISO unless the input is that long, the ISO length does not fit
// it and the ANSI long form does.
func DetectMinutiaeFormat(data []byte) (MinutiaeFormat, error) {
	if err := checkMagic(data); err != nil {
		return 0, err
	}
	switch string(data[4:8]) {
	case "035\x00":
		return ANSI378_2009AM1, nil
	case "030\x00":
		return detect2011(data), nil
	}
	if len(data) < 14 {
		return 0, fmt.Errorf("%w: %d bytes, a header needs at least %d", ErrTruncated, len(data), isoHeaderLen)
	}
	if binary.BigEndian.Uint16(data[8:]) != 0 {
		return ANSI378_2004, nil
	}
	fits := func(l uint32) bool { return l >= isoHeaderLen && uint64(l) <= uint64(len(data)) }
	isoLen, ansiLen := binary.BigEndian.Uint32(data[8:]), binary.BigEndian.Uint32(data[10:])
	if len(data) >= 1<<16 && !fits(isoLen) && ansiLen >= 1<<16 && fits(ansiLen) {
		return ANSI378_2004, nil
	}
	return ISO19794_2_2005, nil
}

func checkMagic(data []byte) error {
	if len(data) < 8 || string(data[:4]) != "FMR\x00" {
		return fmt.Errorf("%w: no \"FMR\\0\" at offset 0", ErrNotMinutiae)
	}
	switch string(data[4:8]) {
	case " 20\x00", "020\x00", "030\x00", "035\x00":
		return nil
	}
	return fmt.Errorf("%w: version %q at offset 4 (\" 20\" for the 2004/2005 editions, \"030\" for 2009/2011 and \"035\" for ANSI 378-2009/AM1 are read)", ErrUnsupportedVersion, string(data[4:7]))
}

// reader walks the input and collects warnings.
type fmrReader struct {
	data     []byte
	warnings []Warning
}

func (r *fmrReader) warn(off int, format string, args ...any) {
	r.warnings = append(r.warnings, Warning{Offset: off, Message: fmt.Sprintf(format, args...)})
}

func (r *fmrReader) need(off, n int, what string) error {
	if off+n > len(r.data) {
		return fmt.Errorf("%w: %s at offset %d needs %d bytes, %d left", ErrTruncated, what, off, n, len(r.data)-off)
	}
	return nil
}

func (r *fmrReader) u16(off int) int { return int(binary.BigEndian.Uint16(r.data[off:])) }

// ParseMinutiaeAs reads a record in the given format.
func ParseMinutiaeAs(data []byte, f MinutiaeFormat) (*MinutiaeRecord, []Warning, error) {
	if err := checkFormat(f); err != nil {
		return nil, nil, err
	}
	if err := checkMagic(data); err != nil {
		return nil, nil, err
	}
	if want := versionOf(f); string(data[4:8]) != want && !(want == " 20\x00" && string(data[4:8]) == "020\x00") {
		return nil, nil, fmt.Errorf("%w: version %q at offset 4, %s has %q", ErrUnsupportedVersion, string(data[4:7]), f, want[:3])
	}
	r := &fmrReader{data: data}
	if newEdition(f) {
		rec := &MinutiaeRecord{Format: f}
		var declared, end int
		var err error
		if f == ISO19794_2_2011 {
			declared, end, err = r.parse2011(rec)
		} else {
			declared, end, err = r.parse2009(rec)
		}
		if err != nil {
			return nil, nil, err
		}
		r.checkEnd(declared, end)
		return rec, r.warnings, nil
	}
	if string(data[4:8]) == "020\x00" {
		r.warn(4, "version bytes %q instead of \" 20\\0\"", string(data[4:8]))
	}
	rec := &MinutiaeRecord{Format: f}
	off := 8
	var declared int
	if f == ISO19794_2_2005 {
		if err := r.need(off, isoHeaderLen-off, "record header"); err != nil {
			return nil, nil, err
		}
		declared = int(binary.BigEndian.Uint32(data[off:]))
		off += 4
	} else {
		if err := r.need(off, ansiHeaderLen-off, "record header"); err != nil {
			return nil, nil, err
		}
		declared = r.u16(off)
		off += 2
		if declared == 0 {
			if err := r.need(off, 4+ansiHeaderLen-off, "record header with 6-byte length"); err != nil {
				return nil, nil, err
			}
			declared = int(binary.BigEndian.Uint32(data[off:]))
			off += 4
			if declared < 1<<16 {
				r.warn(8, "6-byte length form used for a record of %d bytes (§6.4.3 reserves it for 65536 or more)", declared)
			}
		}
		rec.CBEFFOwner = uint16(r.u16(off))
		rec.CBEFFType = uint16(r.u16(off + 2))
		off += 4
	}
	eq := r.u16(off)
	rec.EquipmentCompliance = uint8(eq >> 12)
	rec.EquipmentID = uint16(eq & 0x0fff)
	rec.Width = uint16(r.u16(off + 2))
	rec.Height = uint16(r.u16(off + 4))
	rec.XRes = uint16(r.u16(off + 6))
	rec.YRes = uint16(r.u16(off + 8))
	if rec.XRes == 0 || rec.YRes == 0 {
		r.warn(off+6, "resolution %dx%d pixels/cm has a zero", rec.XRes, rec.YRes)
	}
	nviews := int(data[off+10])
	if data[off+11] != 0 {
		r.warn(off+11, "reserved header byte is %d, not 0", data[off+11])
	}
	off += 12
	if nviews == 0 {
		r.warn(off-2, "record has no finger views")
	}
	rec.Views = make([]FingerView, 0, nviews)
	for i := 0; i < nviews; i++ {
		v, next, err := r.view(off, i, rec)
		if err != nil {
			return nil, nil, err
		}
		rec.Views = append(rec.Views, v)
		off = next
	}
	r.checkEnd(declared, off)
	return rec, r.warnings, nil
}

// checkEnd compares the declared record length with where the views end
// (off) and the input's length.
func (r *fmrReader) checkEnd(declared, off int) {
	data := r.data
	switch {
	case declared == off && off == len(data):
	case declared == off:
		tail := data[off:]
		what := "trailing bytes"
		if allZero(tail) {
			what = "trailing zero bytes (padding)"
		}
		r.warn(off, "%d %s after the record", len(tail), what)
	default:
		r.warn(8, "record declares %d bytes, its views end at %d and the input has %d", declared, off, len(data))
	}
}

func checkFormat(f MinutiaeFormat) error {
	for _, g := range MinutiaeFormats {
		if f == g {
			return nil
		}
	}
	return fmt.Errorf("iso19794: unknown minutiae format %d", f)
}

// versionOf is the version field of format f.
func versionOf(f MinutiaeFormat) string {
	switch f {
	case ISO19794_2_2011, ANSI378_2009:
		return "030\x00"
	case ANSI378_2009AM1:
		return "035\x00"
	}
	return " 20\x00"
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// view reads finger view number i at off (ISO §7.4, ANSI §6.5).
func (r *fmrReader) view(off, i int, rec *MinutiaeRecord) (FingerView, int, error) {
	what := fmt.Sprintf("finger view %d", i)
	if err := r.need(off, viewHeaderLen, what+" header"); err != nil {
		return FingerView{}, 0, err
	}
	d := r.data
	v := FingerView{
		Position:   biometric.FingerPosition(d[off]),
		ViewNumber: d[off+1] >> 4,
		Impression: d[off+1] & 0x0f,
		Quality:    d[off+2],
	}
	n := int(d[off+3])
	if v.Position > biometric.LeftLittle {
		r.warn(off, "%s: finger position %d out of range 0-10", what, v.Position)
	}
	if !validImpression(v.Impression) {
		r.warn(off+1, "%s: impression type %d is not defined", what, v.Impression)
	}
	if v.Quality > 100 {
		r.warn(off+2, "%s: finger quality %d above 100", what, v.Quality)
	}
	off += viewHeaderLen
	if err := r.need(off, n*minutiaLen, fmt.Sprintf("%s: %d minutiae", what, n)); err != nil {
		return FingerView{}, 0, err
	}
	v.Minutiae = make([]Minutia, n)
	var reservedType, reservedBits, outside, badAngle, badQuality int
	for j := range v.Minutiae {
		p := off + j*minutiaLen
		x, y := r.u16(p), r.u16(p+2)
		m := Minutia{
			Type:    uint8(x >> 14),
			X:       uint16(x & 0x3fff),
			Y:       uint16(y & 0x3fff),
			Angle:   d[p+4],
			Quality: d[p+5],
		}
		if m.Type == 3 {
			reservedType++
		}
		if y>>14 != 0 {
			reservedBits++
		}
		if (rec.Width != 0 && m.X >= rec.Width) || (rec.Height != 0 && m.Y >= rec.Height) {
			outside++
		}
		if rec.Format == ANSI378_2004 && m.Angle >= 180 {
			badAngle++
		}
		if m.Quality > 100 {
			badQuality++
		}
		v.Minutiae[j] = m
	}
	if reservedType > 0 {
		r.warn(off, "%s: %d minutiae of reserved type 3", what, reservedType)
	}
	if reservedBits > 0 {
		r.warn(off, "%s: %d minutiae with reserved bits set above y", what, reservedBits)
	}
	if outside > 0 {
		r.warn(off, "%s: %d minutiae outside the %dx%d image", what, outside, rec.Width, rec.Height)
	}
	if badAngle > 0 {
		r.warn(off, "%s: %d angles of 180 or more (ANSI 378 angles are 2-degree units 0-179)", what, badAngle)
	}
	if badQuality > 0 {
		r.warn(off, "%s: %d minutia qualities above 100", what, badQuality)
	}
	off += n * minutiaLen
	if err := r.need(off, 2, what+" extended data length"); err != nil {
		return FingerView{}, 0, err
	}
	extLen := r.u16(off)
	off += 2
	if extLen == 0 {
		return v, off, nil
	}
	if off+extLen > len(d) {
		r.warn(off-2, "%s: extended data area of %d bytes overruns the input by %d; read up to the end", what, extLen, off+extLen-len(d))
		extLen = len(d) - off
	}
	v.Extended = r.extended(off, extLen, what)
	return v, off + extLen, nil
}

func validImpression(t uint8) bool {
	switch t {
	case LiveScanPlain, LiveScanRolled, NonLiveScanPlain, NonLiveRolled, Swipe:
		return true
	}
	return false
}

// extended splits an extended data area into its blocks. ANSI 378 §6.6.1
// counts the 4-byte type and length header in a block's length, and so do
// NIST's ISO/IEC 19794-2 records; the sample record printed in ISO/IEC
// 19794-2:2005 counts only the data. The reader takes whichever convention
// tiles the area exactly, preferring the first, and warns about the second.
// When neither does, it reads with the first, keeps a last block that
// overruns the area cut short, and drops bytes too few for a block header.
func (r *fmrReader) extended(off, n int, what string) []ExtendedBlock {
	area := r.data[off : off+n]
	if blocks, rest, short := splitBlocks(area, true); rest == 0 && short == 0 {
		return blocks
	}
	if blocks, rest, short := splitBlocks(area, false); rest == 0 && short == 0 {
		r.warn(off, "%s: extended block lengths exclude their 4-byte header", what)
		return blocks
	}
	blocks, rest, short := splitBlocks(area, true)
	if short > 0 {
		r.warn(off, "%s: last extended block (type %#04x) is %d bytes short; kept cut short", what, blocks[len(blocks)-1].Type, short)
	}
	if rest > 0 {
		r.warn(off+n-rest, "%s: %d bytes of the extended data area do not form a block; dropped", what, rest)
	}
	return blocks
}

// splitBlocks cuts area into blocks, with lengths counting the header
// (inclusive) or not. It returns the blocks, the number of bytes left that
// do not form a block, and by how many bytes the last block overran the area
// (it is then kept cut short).
func splitBlocks(area []byte, inclusive bool) (blocks []ExtendedBlock, rest, short int) {
	for len(area) >= 4 {
		typ := binary.BigEndian.Uint16(area)
		l := int(binary.BigEndian.Uint16(area[2:]))
		if inclusive {
			if l < 4 {
				break
			}
			l -= 4
		}
		if typ == 0 {
			break
		}
		if 4+l > len(area) {
			short = 4 + l - len(area)
			l = len(area) - 4
		}
		blocks = append(blocks, ExtendedBlock{Type: typ, Data: area[4 : 4+l : 4+l]})
		area = area[4+l:]
	}
	return blocks, len(area), short
}
