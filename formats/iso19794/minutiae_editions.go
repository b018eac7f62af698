package iso19794

import (
	"encoding/binary"
	"fmt"

	"github.com/ebsp/ebsp/biometric"
)

// This file reads and writes the newer editions of the finger minutiae
// record, which share the magic "FMR\0" with the 2004/2005 ones:
//
//   - ISO/IEC 19794-2:2011, version "030": the general header of ISO/IEC
//     19794-1:2011 (record length, number of representations, device
//     certification block flag), then per finger representation a length,
//     the capture date and time, the capture device (technology, vendor,
//     type), quality blocks, certification blocks when the flag is set, and
//     the minutiae with their own image size and resolution, 5 or 6 bytes
//     each.
//   - ANSI INCITS 378-2009, version "030", and its Amendment 1, version
//     "035": a 4-byte record length, the CBEFF product identifier, a
//     capture device certification byte and a 2-byte sensor identifier,
//     then per finger view the quality with the vendor and algorithm that
//     computed it and the image size and resolution. A second layout of
//     "030" records, with the 2004 edition's 2-byte capture equipment field
//     (4-bit compliance, 12-bit identifier) and so a 20-byte header, is the
//     one NIST's libbiomeval reads and writes (its fmr.ansi2007); the reader
//     takes whichever of the two layouts the record's lengths fit and
//     records which in MinutiaeRecord.ShortHeader.
//
// Both editions let a minutia quality be 0-100, 254 (not reported) or 255
// (could not be computed), and count an extended data block's 4-byte
// header in its length.

const (
	isoGeneralHeaderLen = 15 // ISO/IEC 19794-2:2011 general record header
	ansi2009HeaderLen   = 21 // ANSI INCITS 378-2009 record header
	ansi2009ShortLen    = 20 // the same with a 2-byte capture equipment field
	ansi2009ViewLen     = 17 // finger view header, before the minutiae
)

// newEdition reports whether f is one of the 2009/2011 editions.
func newEdition(f MinutiaeFormat) bool {
	return f == ISO19794_2_2011 || f == ANSI378_2009 || f == ANSI378_2009AM1
}

// detect2011 tells an ISO/IEC 19794-2:2011 record from an ANSI INCITS
// 378-2009 one (both version "030"): the ISO representations, each led by
// its 4-byte length, must end exactly where the record does.
func detect2011(data []byte) MinutiaeFormat {
	if len(data) < isoGeneralHeaderLen {
		return ANSI378_2009
	}
	declared := int(binary.BigEndian.Uint32(data[8:]))
	n := int(binary.BigEndian.Uint16(data[12:]))
	off := isoGeneralHeaderLen
	for i := 0; i < n; i++ {
		if off+4 > len(data) {
			return ANSI378_2009
		}
		l := int(binary.BigEndian.Uint32(data[off:]))
		if l < 4+34 || l > len(data)-off {
			return ANSI378_2009
		}
		off += l
	}
	if n > 0 && (off == declared || off == len(data)) {
		return ISO19794_2_2011
	}
	return ANSI378_2009
}

// parse2011 reads an ISO/IEC 19794-2:2011 record.
func (r *fmrReader) parse2011(rec *MinutiaeRecord) (int, int, error) {
	d := r.data
	if err := r.need(8, isoGeneralHeaderLen-8, "record header"); err != nil {
		return 0, 0, err
	}
	declared := int(binary.BigEndian.Uint32(d[8:]))
	n := int(binary.BigEndian.Uint16(d[12:]))
	rec.DeviceCertification = d[14]
	if rec.DeviceCertification > 1 {
		r.warn(14, "device certification block flag is %d, not 0 or 1", rec.DeviceCertification)
	}
	if n == 0 {
		r.warn(12, "record has no finger representations")
	}
	off := isoGeneralHeaderLen
	rec.Views = make([]FingerView, 0, min(n, len(d)/40+1))
	for i := 0; i < n; i++ {
		what := fmt.Sprintf("finger representation %d", i)
		if err := r.need(off, 4, what+" length"); err != nil {
			return 0, 0, err
		}
		l := int(binary.BigEndian.Uint32(d[off:]))
		if l < 4 || l > len(d)-off {
			return 0, 0, fmt.Errorf("%w: %s at offset %d declares %d bytes, %d left", ErrTruncated, what, off, l, len(d)-off)
		}
		v, err := r.representation(off, l, what, rec.DeviceCertification != 0)
		if err != nil {
			return 0, 0, err
		}
		rec.Views = append(rec.Views, v)
		off += l
	}
	return declared, off, nil
}

// representation reads one ISO/IEC 19794-2:2011 finger representation of
// l bytes at off.
func (r *fmrReader) representation(off, l int, what string, certified bool) (FingerView, error) {
	end := off + l
	// Read within the representation only, so that its length bounds it.
	sub := &fmrReader{data: r.data[:end]}
	d := sub.data
	p := off + 4
	if err := sub.need(p, 9+1+2+2+1, what+" header"); err != nil {
		return FingerView{}, err
	}
	v := FingerView{}
	v.Captured = CaptureDateTime{
		Year: uint16(sub.u16(p)), Month: d[p+2], Day: d[p+3], Hour: d[p+4], Min: d[p+5], Sec: d[p+6],
		Millisecond: uint16(sub.u16(p + 7)),
	}
	v.DeviceTechnology = d[p+9]
	v.DeviceVendor = uint16(sub.u16(p + 10))
	v.DeviceType = uint16(sub.u16(p + 12))
	nq := int(d[p+14])
	p += 15
	if err := sub.need(p, 5*nq, fmt.Sprintf("%s: %d quality blocks", what, nq)); err != nil {
		return FingerView{}, err
	}
	for k := 0; k < nq; k++ {
		v.Qualities = append(v.Qualities, QualityBlock{Score: d[p], VendorID: uint16(sub.u16(p + 1)), AlgorithmID: uint16(sub.u16(p + 3))})
		p += 5
	}
	if certified {
		if err := sub.need(p, 1, what+" certification count"); err != nil {
			return FingerView{}, err
		}
		nc := int(d[p])
		p++
		if err := sub.need(p, 3*nc, fmt.Sprintf("%s: %d certification blocks", what, nc)); err != nil {
			return FingerView{}, err
		}
		v.Certifications = make([]CertificationBlock, 0, nc)
		for k := 0; k < nc; k++ {
			v.Certifications = append(v.Certifications, CertificationBlock{AuthorityID: uint16(sub.u16(p)), SchemeID: d[p+2]})
			p += 3
		}
	}
	if err := sub.need(p, 14, what+" finger header"); err != nil {
		return FingerView{}, err
	}
	v.Position = biometric.FingerPosition(d[p])
	v.ViewNumber = d[p+1]
	v.XRes, v.YRes = uint16(sub.u16(p+2)), uint16(sub.u16(p+4))
	v.Impression = d[p+6]
	v.Width, v.Height = uint16(sub.u16(p+7)), uint16(sub.u16(p+9))
	v.MinutiaSize = d[p+11] >> 4
	v.EndingType = d[p+11] & 0x0f
	n := int(d[p+12])
	if len(v.Qualities) > 0 {
		v.Quality = v.Qualities[0].Score
	}
	r.checkView(&v, p, what)
	if v.MinutiaSize != 5 && v.MinutiaSize != 6 {
		return FingerView{}, fmt.Errorf("%w: %s at offset %d: minutia size %d, want 5 or 6", ErrNotMinutiae, what, p+11, v.MinutiaSize)
	}
	p += 13
	if err := sub.need(p, n*int(v.MinutiaSize), fmt.Sprintf("%s: %d minutiae", what, n)); err != nil {
		return FingerView{}, err
	}
	v.Minutiae = make([]Minutia, n)
	for j := range v.Minutiae {
		q := p + j*int(v.MinutiaSize)
		x, y := sub.u16(q), sub.u16(q+2)
		m := Minutia{Type: uint8(x >> 14), X: uint16(x & 0x3fff), Y: uint16(y & 0x3fff), Angle: d[q+4]}
		if v.MinutiaSize == 6 {
			m.Quality = d[q+5]
		}
		v.Minutiae[j] = m
	}
	r.checkMinutiae(&v, ISO19794_2_2011, p, what, y14bits(d, p, n, int(v.MinutiaSize)))
	p += n * int(v.MinutiaSize)
	next, err := r.extendedArea(sub, &v, p, what)
	if err != nil {
		return FingerView{}, err
	}
	if next != end {
		r.warn(next, "%s: its fields end at %d, its length says %d", what, next, end)
	}
	return v, nil
}

// y14bits counts minutiae whose y field has its two reserved top bits set.
func y14bits(d []byte, p, n, size int) int {
	c := 0
	for j := 0; j < n; j++ {
		if d[p+j*size+2]>>6 != 0 {
			c++
		}
	}
	return c
}

// parse2009 reads an ANSI INCITS 378-2009 record (or its Amendment 1), in
// the layout that its lengths fit: the standard's 21-byte header or the
// 20-byte one with a 2004-style capture equipment field.
func (r *fmrReader) parse2009(rec *MinutiaeRecord) (int, int, error) {
	if err := r.need(8, ansi2009ShortLen-8, "record header"); err != nil {
		return 0, 0, err
	}
	declared := int(binary.BigEndian.Uint32(r.data[8:]))
	try := func(short bool) (*MinutiaeRecord, *fmrReader, int, error) {
		c := *rec
		c.ShortHeader = short
		sub := &fmrReader{data: r.data, warnings: append([]Warning(nil), r.warnings...)}
		end, err := sub.views2009(&c)
		return &c, sub, end, err
	}
	long, lr, lend, lerr := try(false)
	fits := func(end int, err error) int {
		switch {
		case err != nil:
			return 0
		case end == declared && end == len(r.data):
			return 3
		case end == len(r.data):
			return 2
		case end == declared:
			return 1
		}
		return 0
	}
	pick, pr, pend, perr := long, lr, lend, lerr
	if fits(lend, lerr) < 3 {
		short, sr, send, serr := try(true)
		// The 20-byte form only when it fits exactly: its record length,
		// its views and the input all end at the same byte.
		if fits(send, serr) == 3 {
			pick, pr, pend, perr = short, sr, send, serr
		}
	}
	if perr != nil {
		return 0, 0, perr
	}
	*rec = *pick
	r.warnings = pr.warnings
	return declared, pend, nil
}

// views2009 reads the rest of an ANSI INCITS 378-2009 header and its views.
func (r *fmrReader) views2009(rec *MinutiaeRecord) (int, error) {
	d := r.data
	hl := ansi2009HeaderLen
	if rec.ShortHeader {
		hl = ansi2009ShortLen
	}
	if err := r.need(12, hl-12, "record header"); err != nil {
		return 0, err
	}
	rec.CBEFFOwner, rec.CBEFFType = uint16(r.u16(12)), uint16(r.u16(14))
	if rec.ShortHeader {
		eq := r.u16(16)
		rec.EquipmentCompliance, rec.EquipmentID = uint8(eq>>12), uint16(eq&0x0fff)
	} else {
		rec.DeviceCertification = d[16]
		rec.EquipmentID = uint16(r.u16(17))
	}
	n := int(d[hl-2])
	if d[hl-1] != 0 {
		r.warn(hl-1, "reserved header byte is %d, not 0", d[hl-1])
	}
	if n == 0 {
		r.warn(hl-2, "record has no finger views")
	}
	off := hl
	rec.Views = make([]FingerView, 0, min(n, len(d)/ansi2009ViewLen+1))
	for i := 0; i < n; i++ {
		what := fmt.Sprintf("finger view %d", i)
		if err := r.need(off, ansi2009ViewLen, what+" header"); err != nil {
			return 0, err
		}
		v := FingerView{
			Position:         biometric.FingerPosition(d[off]),
			ViewNumber:       d[off+1],
			Impression:       d[off+2],
			Quality:          d[off+3],
			QualityVendor:    uint16(r.u16(off + 4)),
			QualityAlgorithm: uint16(r.u16(off + 6)),
			Width:            uint16(r.u16(off + 8)),
			Height:           uint16(r.u16(off + 10)),
			XRes:             uint16(r.u16(off + 12)),
			YRes:             uint16(r.u16(off + 14)),
		}
		cnt := int(d[off+16])
		r.checkView(&v, off, what)
		off += ansi2009ViewLen
		if err := r.need(off, cnt*minutiaLen, fmt.Sprintf("%s: %d minutiae", what, cnt)); err != nil {
			return 0, err
		}
		v.Minutiae = make([]Minutia, cnt)
		for j := range v.Minutiae {
			p := off + j*minutiaLen
			x, y := r.u16(p), r.u16(p+2)
			v.Minutiae[j] = Minutia{Type: uint8(x >> 14), X: uint16(x & 0x3fff), Y: uint16(y & 0x3fff), Angle: d[p+4], Quality: d[p+5]}
		}
		r.checkMinutiae(&v, rec.Format, off, what, y14bits(d, off, cnt, minutiaLen))
		off += cnt * minutiaLen
		next, err := r.extendedArea(r, &v, off, what)
		if err != nil {
			return 0, err
		}
		rec.Views = append(rec.Views, v)
		off = next
	}
	return off, nil
}

// checkView warns about view header fields out of range (2009/2011).
func (r *fmrReader) checkView(v *FingerView, off int, what string) {
	if v.Position > biometric.LeftLittle {
		r.warn(off, "%s: finger position %d out of range 0-10", what, v.Position)
	}
	if !validImpression(v.Impression) {
		r.warn(off, "%s: impression type %d is not defined", what, v.Impression)
	}
	if v.XRes == 0 || v.YRes == 0 {
		r.warn(off, "%s: resolution %dx%d pixels/cm has a zero", what, v.XRes, v.YRes)
	}
}

// checkMinutiae warns about minutiae a strict writer refuses (2009/2011).
func (r *fmrReader) checkMinutiae(v *FingerView, f MinutiaeFormat, off int, what string, reservedBits int) {
	var reservedType, outside, badAngle, badQuality int
	for _, m := range v.Minutiae {
		if m.Type == 3 {
			reservedType++
		}
		if (v.Width != 0 && m.X >= v.Width) || (v.Height != 0 && m.Y >= v.Height) {
			outside++
		}
		if f != ISO19794_2_2011 && m.Angle >= 180 {
			badAngle++
		}
		if !validQuality2009(m.Quality) {
			badQuality++
		}
	}
	for _, c := range []struct {
		n   int
		msg string
	}{
		{reservedType, "minutiae of reserved type 3"},
		{reservedBits, "minutiae with reserved bits set above y"},
		{outside, fmt.Sprintf("minutiae outside the %dx%d image", v.Width, v.Height)},
		{badAngle, "angles of 180 or more (ANSI 378 angles are 2-degree units 0-179)"},
		{badQuality, "minutia qualities outside 0-100, 254 and 255"},
	} {
		if c.n > 0 {
			r.warn(off, "%s: %d %s", what, c.n, c.msg)
		}
	}
}

// validQuality2009 is the minutia quality range of the 2009/2011
// editions: 0-100, 254 (not reported) and 255 (failed).
func validQuality2009(q uint8) bool { return q <= 100 || q >= 254 }

// extendedArea reads a view's extended data length and blocks at off,
// within sub's bytes, and returns the offset after them.
func (r *fmrReader) extendedArea(sub *fmrReader, v *FingerView, off int, what string) (int, error) {
	if err := sub.need(off, 2, what+" extended data length"); err != nil {
		return 0, err
	}
	extLen := sub.u16(off)
	off += 2
	if extLen == 0 {
		return off, nil
	}
	if off+extLen > len(sub.data) {
		r.warn(off-2, "%s: extended data area of %d bytes overruns its bounds by %d; read up to them", what, extLen, off+extLen-len(sub.data))
		extLen = len(sub.data) - off
	}
	v.Extended = r.extended(off, extLen, what)
	return off + extLen, nil
}

// marshal2011 writes an ISO/IEC 19794-2:2011 record.
func (rec *MinutiaeRecord) marshal2011() []byte {
	out := append([]byte(nil), "FMR\x00030\x00"...)
	out = binary.BigEndian.AppendUint32(out, 0) // filled in below
	out = binary.BigEndian.AppendUint16(out, uint16(len(rec.Views)))
	out = append(out, rec.DeviceCertification)
	for _, v := range rec.Views {
		start := len(out)
		out = binary.BigEndian.AppendUint32(out, 0)
		c := v.Captured
		out = binary.BigEndian.AppendUint16(out, c.Year)
		out = append(out, c.Month, c.Day, c.Hour, c.Min, c.Sec)
		out = binary.BigEndian.AppendUint16(out, c.Millisecond)
		out = append(out, v.DeviceTechnology)
		out = binary.BigEndian.AppendUint16(out, v.DeviceVendor)
		out = binary.BigEndian.AppendUint16(out, v.DeviceType)
		out = append(out, byte(len(v.Qualities)))
		for _, q := range v.Qualities {
			out = append(out, q.Score)
			out = binary.BigEndian.AppendUint16(out, q.VendorID)
			out = binary.BigEndian.AppendUint16(out, q.AlgorithmID)
		}
		if rec.DeviceCertification != 0 {
			out = append(out, byte(len(v.Certifications)))
			for _, cb := range v.Certifications {
				out = binary.BigEndian.AppendUint16(out, cb.AuthorityID)
				out = append(out, cb.SchemeID)
			}
		}
		out = append(out, byte(v.Position), v.ViewNumber)
		out = binary.BigEndian.AppendUint16(out, v.XRes)
		out = binary.BigEndian.AppendUint16(out, v.YRes)
		out = append(out, v.Impression)
		out = binary.BigEndian.AppendUint16(out, v.Width)
		out = binary.BigEndian.AppendUint16(out, v.Height)
		out = append(out, v.MinutiaSize<<4|v.EndingType, byte(len(v.Minutiae)))
		for _, m := range v.Minutiae {
			out = binary.BigEndian.AppendUint16(out, uint16(m.Type)<<14|m.X)
			out = binary.BigEndian.AppendUint16(out, m.Y)
			out = append(out, m.Angle)
			if v.MinutiaSize == 6 {
				out = append(out, m.Quality)
			}
		}
		out = appendExtended(out, v.Extended)
		binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start))
	}
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)))
	return out
}

// marshal2009 writes an ANSI INCITS 378-2009 record or its Amendment 1.
func (rec *MinutiaeRecord) marshal2009() []byte {
	version := "030"
	if rec.Format == ANSI378_2009AM1 {
		version = "035"
	}
	out := append([]byte("FMR\x00"), version+"\x00"...)
	out = binary.BigEndian.AppendUint32(out, 0) // filled in below
	out = binary.BigEndian.AppendUint16(out, rec.CBEFFOwner)
	out = binary.BigEndian.AppendUint16(out, rec.CBEFFType)
	if rec.ShortHeader {
		out = binary.BigEndian.AppendUint16(out, uint16(rec.EquipmentCompliance)<<12|rec.EquipmentID)
	} else {
		out = append(out, rec.DeviceCertification)
		out = binary.BigEndian.AppendUint16(out, rec.EquipmentID)
	}
	out = append(out, byte(len(rec.Views)), 0)
	for _, v := range rec.Views {
		out = append(out, byte(v.Position), v.ViewNumber, v.Impression, v.Quality)
		for _, x := range []uint16{v.QualityVendor, v.QualityAlgorithm, v.Width, v.Height, v.XRes, v.YRes} {
			out = binary.BigEndian.AppendUint16(out, x)
		}
		out = append(out, byte(len(v.Minutiae)))
		for _, m := range v.Minutiae {
			out = binary.BigEndian.AppendUint16(out, uint16(m.Type)<<14|m.X)
			out = binary.BigEndian.AppendUint16(out, m.Y)
			out = append(out, m.Angle, m.Quality)
		}
		out = appendExtended(out, v.Extended)
	}
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)))
	return out
}

// appendExtended writes an extended data area: its length, then each
// block's type and length (counting the 4-byte header) and data.
func appendExtended(out []byte, blocks []ExtendedBlock) []byte {
	ext := 0
	for _, b := range blocks {
		ext += 4 + len(b.Data)
	}
	out = binary.BigEndian.AppendUint16(out, uint16(ext))
	for _, b := range blocks {
		out = binary.BigEndian.AppendUint16(out, b.Type)
		out = binary.BigEndian.AppendUint16(out, uint16(4+len(b.Data)))
		out = append(out, b.Data...)
	}
	return out
}

// validate2009 checks what a strict writer of the 2009/2011 editions
// refuses, beyond the checks shared with the older editions.
func (rec *MinutiaeRecord) validate2009() error {
	if rec.Format == ISO19794_2_2011 && rec.DeviceCertification > 1 {
		return fmt.Errorf("iso19794: device certification block flag %d, want 0 or 1", rec.DeviceCertification)
	}
	if rec.ShortHeader && (rec.Format == ISO19794_2_2011 || rec.EquipmentCompliance > 0x0f || rec.EquipmentID > 0x0fff) {
		return fmt.Errorf("iso19794: the 20-byte header is an ANSI 378 \"030\" form with 4-bit compliance and 12-bit equipment id")
	}
	for i, v := range rec.Views {
		if v.XRes == 0 || v.YRes == 0 {
			return fmt.Errorf("iso19794: view %d: resolution %dx%d pixels/cm must not be zero", i, v.XRes, v.YRes)
		}
		if rec.Format == ISO19794_2_2011 {
			if v.MinutiaSize != 5 && v.MinutiaSize != 6 {
				return fmt.Errorf("iso19794: view %d: minutia size %d, want 5 or 6", i, v.MinutiaSize)
			}
			if v.EndingType > 0x0f || len(v.Qualities) > 255 || len(v.Certifications) > 255 {
				return fmt.Errorf("iso19794: view %d: ending type, quality or certification blocks out of range", i)
			}
			if len(v.Certifications) > 0 && rec.DeviceCertification == 0 {
				return fmt.Errorf("iso19794: view %d: certification blocks need the device certification flag", i)
			}
		}
		for j, m := range v.Minutiae {
			switch {
			case (v.Width != 0 && m.X >= v.Width) || (v.Height != 0 && m.Y >= v.Height):
				return fmt.Errorf("iso19794: view %d minutia %d: (%d,%d) outside the %dx%d image", i, j, m.X, m.Y, v.Width, v.Height)
			case rec.Format != ISO19794_2_2011 && m.Angle >= 180:
				return fmt.Errorf("iso19794: view %d minutia %d: ANSI 378 angle %d out of range 0-179", i, j, m.Angle)
			case !validQuality2009(m.Quality):
				return fmt.Errorf("iso19794: view %d minutia %d: quality %d outside 0-100, 254, 255", i, j, m.Quality)
			}
		}
	}
	return nil
}
