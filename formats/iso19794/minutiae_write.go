package iso19794

import (
	"encoding/binary"
	"fmt"

	"github.com/ebsp/ebsp/biometric"
)

// Marshal encodes the record strictly: every field must be in the range the
// standard allows (checked by Validate). Extended block lengths count their
// 4-byte header (ANSI 378 §6.6.1). An ANSI record longer than 65535 bytes
// uses the 6-byte length form.
func (rec *MinutiaeRecord) Marshal() ([]byte, error) {
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	switch rec.Format {
	case ISO19794_2_2011:
		return rec.marshal2011(), nil
	case ANSI378_2009, ANSI378_2009AM1:
		return rec.marshal2009(), nil
	}
	body := 0
	for _, v := range rec.Views {
		body += viewHeaderLen + len(v.Minutiae)*minutiaLen + 2
		for _, b := range v.Extended {
			body += 4 + len(b.Data)
		}
	}
	var out []byte
	switch rec.Format {
	case ISO19794_2_2005:
		total := isoHeaderLen + body
		out = make([]byte, 0, total)
		out = append(out, "FMR\x00 20\x00"...)
		out = binary.BigEndian.AppendUint32(out, uint32(total))
	case ANSI378_2004:
		total := ansiHeaderLen + body
		out = make([]byte, 0, total+4)
		out = append(out, "FMR\x00 20\x00"...)
		if total <= 0xffff {
			out = binary.BigEndian.AppendUint16(out, uint16(total))
		} else {
			out = binary.BigEndian.AppendUint16(out, 0)
			out = binary.BigEndian.AppendUint32(out, uint32(total+4))
		}
		out = binary.BigEndian.AppendUint16(out, rec.CBEFFOwner)
		out = binary.BigEndian.AppendUint16(out, rec.CBEFFType)
	}
	out = binary.BigEndian.AppendUint16(out, uint16(rec.EquipmentCompliance)<<12|rec.EquipmentID)
	for _, x := range []uint16{rec.Width, rec.Height, rec.XRes, rec.YRes} {
		out = binary.BigEndian.AppendUint16(out, x)
	}
	out = append(out, byte(len(rec.Views)), 0)
	for _, v := range rec.Views {
		out = append(out, byte(v.Position), v.ViewNumber<<4|v.Impression, v.Quality, byte(len(v.Minutiae)))
		for _, m := range v.Minutiae {
			out = binary.BigEndian.AppendUint16(out, uint16(m.Type)<<14|m.X)
			out = binary.BigEndian.AppendUint16(out, m.Y)
			out = append(out, m.Angle, m.Quality)
		}
		ext := 0
		for _, b := range v.Extended {
			ext += 4 + len(b.Data)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(ext))
		for _, b := range v.Extended {
			out = binary.BigEndian.AppendUint16(out, b.Type)
			out = binary.BigEndian.AppendUint16(out, uint16(4+len(b.Data)))
			out = append(out, b.Data...)
		}
	}
	return out, nil
}

// Validate reports the first field that a strict writer refuses, naming the
// view and minutia.
func (rec *MinutiaeRecord) Validate() error {
	if err := checkFormat(rec.Format); err != nil {
		return err
	}
	next := newEdition(rec.Format)
	if next {
		if err := rec.validate2009(); err != nil {
			return err
		}
	} else {
		if rec.EquipmentCompliance > 0x0f || rec.EquipmentID > 0x0fff {
			return fmt.Errorf("iso19794: capture equipment compliance %d / id %d exceed 4 / 12 bits", rec.EquipmentCompliance, rec.EquipmentID)
		}
		if rec.XRes == 0 || rec.YRes == 0 {
			return fmt.Errorf("iso19794: resolution %dx%d pixels/cm must not be zero", rec.XRes, rec.YRes)
		}
	}
	if len(rec.Views) == 0 || len(rec.Views) > 255 {
		return fmt.Errorf("iso19794: %d finger views, want 1-255", len(rec.Views))
	}
	for i, v := range rec.Views {
		if v.Position < biometric.UnknownFinger || v.Position > biometric.LeftLittle {
			return fmt.Errorf("iso19794: view %d: finger position %d out of range 0-10", i, v.Position)
		}
		if !next && v.ViewNumber > 15 { // 4 bits in the 2004/2005 editions
			return fmt.Errorf("iso19794: view %d: view number %d exceeds 15", i, v.ViewNumber)
		}
		if !validImpression(v.Impression) {
			return fmt.Errorf("iso19794: view %d: impression type %d is not defined", i, v.Impression)
		}
		if v.Quality > 100 && !(next && v.Quality >= 254) {
			return fmt.Errorf("iso19794: view %d: finger quality %d above 100", i, v.Quality)
		}
		if len(v.Minutiae) > 255 {
			return fmt.Errorf("iso19794: view %d: %d minutiae, at most 255", i, len(v.Minutiae))
		}
		for j, m := range v.Minutiae {
			switch {
			case m.Type > MinutiaBifurcation:
				return fmt.Errorf("iso19794: view %d minutia %d: type %d is reserved", i, j, m.Type)
			case m.X > 0x3fff || m.Y > 0x3fff:
				return fmt.Errorf("iso19794: view %d minutia %d: (%d,%d) exceeds 14 bits", i, j, m.X, m.Y)
			case (rec.Width != 0 && m.X >= rec.Width) || (rec.Height != 0 && m.Y >= rec.Height):
				return fmt.Errorf("iso19794: view %d minutia %d: (%d,%d) outside the %dx%d image", i, j, m.X, m.Y, rec.Width, rec.Height)
			case rec.Format == ANSI378_2004 && m.Angle >= 180:
				return fmt.Errorf("iso19794: view %d minutia %d: ANSI 378 angle %d out of range 0-179", i, j, m.Angle)
			case m.Quality > 100 && !next:
				return fmt.Errorf("iso19794: view %d minutia %d: quality %d above 100", i, j, m.Quality)
			}
		}
		ext := 0
		for k, b := range v.Extended {
			if b.Type == 0 {
				return fmt.Errorf("iso19794: view %d extended block %d: type 0 is reserved", i, k)
			}
			ext += 4 + len(b.Data)
			if 4+len(b.Data) > 0xffff || ext > 0xffff {
				return fmt.Errorf("iso19794: view %d: extended data area exceeds 65535 bytes", i)
			}
		}
	}
	return nil
}
