package iso19794

import (
	"fmt"
	"math"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
)

// Angle units: ISO/IEC 19794-2:2005 §7.4.3 codes a direction in 1/256 of a
// turn (1.40625°), ANSI 378-2004 §6.5.1.4 in 2° units (0-179). Both count
// counter-clockwise from the x axis, as fingerprint.Minutia does.
const (
	isoAngleUnit  = 2 * math.Pi / 256
	ansiAngleUnit = 2 * math.Pi / 180
)

// pixels per centimetre from dots per inch and back.
func dpiToPPCM(dpi int) int  { return int(math.Round(float64(dpi) / 2.54)) }
func ppcmToDPI(ppcm int) int { return int(math.Round(float64(ppcm) * 2.54)) }

// Template returns finger view i as a fingerprint.Template. The resolution
// becomes dots per inch (197 px/cm is 500 dpi); when the vertical resolution
// differs from the horizontal one, y is rescaled so that the template has
// square pixels at the horizontal resolution. A record without a resolution
// is taken to be 500 dpi, the resolution these records are made at.
func (rec *MinutiaeRecord) Template(i int) (fingerprint.Template, error) {
	if i < 0 || i >= len(rec.Views) {
		return fingerprint.Template{}, fmt.Errorf("iso19794: finger view %d requested, the record has %d", i, len(rec.Views))
	}
	v := rec.Views[i]
	unit := isoAngleUnit
	if isANSI(rec.Format) {
		unit = ansiAngleUnit
	}
	width, height, xr, yr := rec.Width, rec.Height, rec.XRes, rec.YRes
	if newEdition(rec.Format) {
		width, height, xr, yr = v.Width, v.Height, v.XRes, v.YRes
	}
	xres, yres := float64(xr), float64(yr)
	if xres == 0 {
		xres = 197
	}
	if yres == 0 {
		yres = xres
	}
	sy := xres / yres
	t := fingerprint.Template{
		Width:    int(width),
		Height:   int(math.Round(float64(height) * sy)),
		DPI:      ppcmToDPI(int(xres)),
		Quality:  int(min(v.Quality, 100)),
		Minutiae: make([]fingerprint.Minutia, len(v.Minutiae)),
	}
	for j, m := range v.Minutiae {
		typ := fingerprint.MinutiaType(m.Type)
		if m.Type > MinutiaBifurcation {
			typ = fingerprint.Other
		}
		a := math.Mod(float64(m.Angle)*unit, 2*math.Pi)
		t.Minutiae[j] = fingerprint.Minutia{
			X:       int(m.X),
			Y:       int(math.Round(float64(m.Y) * sy)),
			Angle:   a,
			Type:    typ,
			Quality: minutiaQuality(m.Quality, rec.Format),
		}
	}
	return t, nil
}

// isANSI reports whether f codes angles in ANSI 378's 2-degree units.
func isANSI(f MinutiaeFormat) bool {
	return f == ANSI378_2004 || f == ANSI378_2009 || f == ANSI378_2009AM1
}

// minutiaQuality is a record's minutia quality as a template's 0-100, 0
// meaning not reported: the 2009/2011 editions' 254 (not reported) and 255
// (failed) become 0.
func minutiaQuality(q uint8, f MinutiaeFormat) uint8 {
	if newEdition(f) && q > 100 {
		return 0
	}
	return min(q, 100)
}

// MinutiaeRecordFromTemplate makes a one-view record of t in format f for the
// finger at pos, as a live-scan plain impression. Angles are rounded to the
// format's unit; the resolution is t.DPI converted to pixels per centimetre
// (500 dpi when t.DPI is 0). It fails when a minutia does not fit the
// format (coordinates outside 0-16383 or the image).
func MinutiaeRecordFromTemplate(t fingerprint.Template, f MinutiaeFormat, pos biometric.FingerPosition) (*MinutiaeRecord, error) {
	dpi := t.DPI
	if dpi == 0 {
		dpi = 500
	}
	res := dpiToPPCM(dpi)
	if t.Width < 0 || t.Width > 0xffff || t.Height < 0 || t.Height > 0xffff || res <= 0 || res > 0xffff {
		return nil, fmt.Errorf("iso19794: template of %dx%d pixels at %d dpi does not fit a record header", t.Width, t.Height, t.DPI)
	}
	if len(t.Minutiae) > 255 {
		return nil, fmt.Errorf("iso19794: template has %d minutiae, a finger view holds at most 255", len(t.Minutiae))
	}
	unit, turn := isoAngleUnit, 256
	if isANSI(f) {
		unit, turn = ansiAngleUnit, 180
	}
	v := FingerView{Position: pos, Impression: LiveScanPlain, Quality: uint8(max(0, min(t.Quality, 100)))}
	v.Minutiae = make([]Minutia, len(t.Minutiae))
	for j, m := range t.Minutiae {
		if m.X < 0 || m.Y < 0 || m.X > 0x3fff || m.Y > 0x3fff {
			return nil, fmt.Errorf("iso19794: minutia %d at (%d,%d) outside the 14-bit coordinate range", j, m.X, m.Y)
		}
		typ := uint8(m.Type)
		if typ > MinutiaBifurcation {
			typ = MinutiaOther
		}
		a := int(math.Round(m.Angle/unit)) % turn
		if a < 0 {
			a += turn
		}
		v.Minutiae[j] = Minutia{Type: typ, X: uint16(m.X), Y: uint16(m.Y), Angle: uint8(a), Quality: min(m.Quality, 100)}
	}
	rec := &MinutiaeRecord{Format: f}
	if newEdition(f) {
		v.Width, v.Height, v.XRes, v.YRes = uint16(t.Width), uint16(t.Height), uint16(res), uint16(res)
		for j := range v.Minutiae {
			if v.Minutiae[j].Quality == 0 {
				v.Minutiae[j].Quality = 254 // not reported
			}
		}
		if f == ISO19794_2_2011 {
			v.MinutiaSize = 6
			v.Qualities = []QualityBlock{{Score: v.Quality}}
		}
	} else {
		rec.Width, rec.Height, rec.XRes, rec.YRes = uint16(t.Width), uint16(t.Height), uint16(res), uint16(res)
	}
	rec.Views = []FingerView{v}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}
