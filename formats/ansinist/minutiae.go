package ansinist

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
)

// Feature blocks of a Type-9 record that carry minutiae.
const (
	BlockM1       = "M1"       // INCITS 378 block, 9.126-9.141 (minutiae in 9.137 FMD)
	BlockEFS      = "EFS"      // extended feature set, 9.300+ (minutiae in 9.331 MIN)
	BlockStandard = "standard" // legacy ANSI/NIST block, 9.005-9.012 (minutiae in 9.012 MRC)
	BlockFBI      = "FBI"      // FBI IAFIS block, 9.013-9.030 (minutiae in 9.023 MAT)
)

// Minutiae is the minutiae of one Type-9 record, as a fingerprint template
// in pixels with the origin at the top left and y growing downwards.
type Minutiae struct {
	Record   int // index of the Type-9 record
	IDC      int
	Block    string // which block they were read from (BlockM1 ...)
	Position biometric.FingerPosition
	Template fingerprint.Template
}

// efsUnitsPerInch: EFS coordinates are in units of 10 micrometres
// (1-2011 section 8.9.7); the legacy blocks' in 0.01 mm, the same unit.
const efsUnitsPerInch = 2540.0

// Minutiae reads the minutiae of every Type-9 record, from the first block
// present in the order M1, EFS, standard, FBI. Blocks whose coordinates are
// in millimetres (EFS, standard, FBI) are converted to pixels at the
// resolution of the image record with the same IDC, or 500 ppi; the legacy
// blocks measure y upwards from the bottom (1-2011 section 8.9.2), so they
// need that image's height, and are skipped with a warning without one.
func (t *Transaction) Minutiae() ([]Minutiae, []Warning) {
	var out []Minutiae
	var warns []Warning
	warn := func(i int, format string, args ...any) {
		warns = append(warns, Warning{Offset: -1, Record: i, Msg: fmt.Sprintf(format, args...)})
	}
	images := t.FingerImages()
	imageFor := func(idc int) *FingerImage {
		for k := range images {
			if images[k].IDC == idc && images[k].Type != 9 {
				return &images[k]
			}
		}
		return nil
	}
	for i, r := range t.Records {
		if r.Type != 9 || r.Raw != nil {
			continue
		}
		m := Minutiae{Record: i, IDC: r.IDC()}
		img := imageFor(m.IDC)
		dpi := 500
		if img != nil && img.PPI > 0 {
			dpi = img.PPI
		}
		scale := float64(dpi) / efsUnitsPerInch
		switch {
		case r.Field(137) != nil:
			m.Block = BlockM1
			m.Position = biometric.FingerPosition(atoi(r.Field(134).Item(0, 0)))
			m.Template = fingerprint.Template{Width: atoi(r.Value(128)), Height: atoi(r.Value(129)), DPI: ppi(r.Value(130), r.Value(131))}
			if m.Template.DPI == 0 {
				m.Template.DPI = 500
			}
			m.Template.Quality = atoi(r.Field(135).Item(0, 0))
			// FMD items: index, x, y (pixels), theta (2-degree units),
			// type (0 other, 1 ending, 2 bifurcation), quality.
			for k, s := range r.Field(137).Subfields {
				if len(s) < 5 {
					warn(i, "9.137 minutia %d has %d items, want 6", k+1, len(s))
					continue
				}
				mt := fingerprint.Minutia{X: atoi(s[1]), Y: atoi(s[2]), Angle: radians(float64(atoi(s[3])) * 2), Type: fingerprint.MinutiaType(atoi(s[4]))}
				if mt.Type > fingerprint.Bifurcation {
					mt.Type = fingerprint.Other
				}
				if len(s) > 5 {
					mt.Quality = uint8(min(max(atoi(s[5]), 0), 100))
				}
				m.Template.Minutiae = append(m.Template.Minutiae, mt)
			}
		case r.Field(331) != nil:
			m.Block = BlockEFS
			m.Position = biometric.FingerPosition(atoi(r.Field(302).Item(0, 0)))
			m.Template = fingerprint.Template{DPI: dpi}
			if roi := r.Field(300); roi != nil {
				m.Template.Width = int(math.Round(float64(atoi(roi.Item(0, 0))) * scale))
				m.Template.Height = int(math.Round(float64(atoi(roi.Item(0, 1))) * scale))
			}
			// MIN items: x, y (10 µm, origin top left), theta (degrees),
			// type (E ending, B bifurcation, X other), ...
			for k, s := range r.Field(331).Subfields {
				if len(s) < 4 {
					warn(i, "9.331 minutia %d has %d items, want at least 4", k+1, len(s))
					continue
				}
				mt := fingerprint.Minutia{X: int(math.Round(float64(atoi(s[0])) * scale)), Y: int(math.Round(float64(atoi(s[1])) * scale)),
					Angle: radians(float64(atoi(s[2]))), Type: letterType(s[3])}
				m.Template.Minutiae = append(m.Template.Minutiae, mt)
			}
		case r.Field(12) != nil || r.Field(23) != nil:
			num := 12
			m.Block = BlockStandard
			m.Position = biometric.FingerPosition(atoi(r.Field(6).Item(0, 0)))
			if r.Field(12) == nil {
				num, m.Block = 23, BlockFBI
				m.Position = biometric.FingerPosition(atoi(r.Value(14)))
			}
			if img == nil || img.Height == 0 {
				warn(i, "9.%03d minutiae need the height of an image record with IDC %d to turn y upwards into pixels; skipped", num, m.IDC)
				continue
			}
			m.Template = fingerprint.Template{Width: img.Width, Height: img.Height, DPI: dpi}
			// Items: index, XXXXYYYYTTT (x, y in 0.01 mm from the bottom
			// left, theta in degrees), quality, type (A ending,
			// B bifurcation, C compound, D undetermined), ridge counts.
			for k, s := range r.Field(num).Subfields {
				if len(s) < 4 || len(s[1]) != 11 {
					warn(i, "9.%03d minutia %d is not index~XXXXYYYYTTT~quality~type", num, k+1)
					continue
				}
				x, y, th := atoi(s[1][:4]), atoi(s[1][4:8]), atoi(s[1][8:])
				mt := fingerprint.Minutia{X: int(math.Round(float64(x) * scale)), Y: img.Height - 1 - int(math.Round(float64(y)*scale)),
					Angle: radians(float64(th))}
				switch s[3] {
				case "A":
					mt.Type = fingerprint.Ending
				case "B":
					mt.Type = fingerprint.Bifurcation
				}
				m.Template.Minutiae = append(m.Template.Minutiae, mt)
			}
		default:
			continue
		}
		out = append(out, m)
	}
	return out, warns
}

// radians turns degrees counter-clockwise into radians in [0, 2π).
func radians(deg float64) float64 {
	a := math.Mod(deg*math.Pi/180, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a
}

func letterType(s string) fingerprint.MinutiaType {
	switch strings.ToUpper(s) {
	case "E":
		return fingerprint.Ending
	case "B":
		return fingerprint.Bifurcation
	}
	return fingerprint.Other
}

// m1Fields returns the Type-9 INCITS 378 block fields (9.126-9.137) that
// carry template tmpl of a finger at position pos.
func m1Fields(tmpl fingerprint.Template, pos biometric.FingerPosition) []*Field {
	dpi := tmpl.DPI
	if dpi <= 0 {
		dpi = 500
	}
	fs := []*Field{
		NewField(126, "27\x1f513"), // CBEFF format owner 0x001B (INCITS), format type 0x0201
		NewField(128, strconv.Itoa(tmpl.Width)),
		NewField(129, strconv.Itoa(tmpl.Height)),
		NewField(130, "1"),
		NewField(131, strconv.Itoa(dpi)),
		NewField(132, strconv.Itoa(dpi)),
		NewField(133, "0"),
		NewField(134, strconv.Itoa(int(pos))),
		// FQD: quality, vendor ID (hex), algorithm.
		NewField(135, strconv.Itoa(min(max(tmpl.Quality, 0), 100))+"\x1f0000\x1f0"),
		NewField(136, strconv.Itoa(len(tmpl.Minutiae))),
	}
	fmd := &Field{Number: 137}
	for k, m := range tmpl.Minutiae {
		theta := int(math.Round(m.Angle*180/math.Pi/2)) % 180
		fmd.Subfields = append(fmd.Subfields, Subfield{fmt.Sprintf("%03d", k+1), strconv.Itoa(m.X), strconv.Itoa(m.Y),
			strconv.Itoa(theta), strconv.Itoa(int(m.Type)), strconv.Itoa(int(m.Quality))})
	}
	if len(fmd.Subfields) > 0 {
		fs = append(fs, fmd)
	}
	return fs
}
