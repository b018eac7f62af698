package iso19794

import (
	"fmt"
	"math"
)

// ConvertMinutiae rewrites rec in format to and returns the new record
// with what the conversion loses or changes, one sentence each, in the
// order met. It fails when a value cannot be carried at all (a view number
// above 15 for a 2004/2005 record, views of different image sizes for a
// format with one size per record) or the result fails Validate.
//
// What carries over: finger positions, impression types, view numbers,
// finger qualities, minutiae (type, position, direction converted between
// ISO's 1/256 turn and ANSI's 2-degree units, quality) and extended data
// blocks, copied as they are.
func ConvertMinutiae(rec *MinutiaeRecord, to MinutiaeFormat) (*MinutiaeRecord, []string, error) {
	if err := checkFormat(to); err != nil {
		return nil, nil, err
	}
	from := rec.Format
	var losses []string
	seen := map[string]bool{}
	lose := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		if !seen[s] {
			seen[s] = true
			losses = append(losses, s)
		}
	}
	out := &MinutiaeRecord{Format: to}
	// Record header.
	switch {
	case isANSI(to) && !isANSI(from):
		// No product identifier to carry: it stays 0, "not given".
	case isANSI(to):
		out.CBEFFOwner, out.CBEFFType = rec.CBEFFOwner, rec.CBEFFType
	case isANSI(from) && (rec.CBEFFOwner != 0 || rec.CBEFFType != 0):
		lose("the CBEFF product identifier %#04x/%#04x is dropped (%s has none)", rec.CBEFFOwner, rec.CBEFFType, to)
	}
	oldTo, oldFrom := !newEdition(to), !newEdition(from)
	switch {
	case oldTo && (oldFrom || rec.ShortHeader):
		out.EquipmentCompliance, out.EquipmentID = rec.EquipmentCompliance, rec.EquipmentID
	case (to == ANSI378_2009 || to == ANSI378_2009AM1) && (oldFrom || rec.ShortHeader):
		out.EquipmentID = rec.EquipmentID
		if rec.EquipmentCompliance != 0 {
			lose("the capture equipment compliance bits %#x are dropped (378-2009 has a certification byte instead)", rec.EquipmentCompliance)
		}
	case (to == ANSI378_2009 || to == ANSI378_2009AM1) && (from == ANSI378_2009 || from == ANSI378_2009AM1):
		out.DeviceCertification, out.EquipmentID = rec.DeviceCertification, rec.EquipmentID
	case from == ISO19794_2_2011 && to == ISO19794_2_2011:
		out.DeviceCertification = rec.DeviceCertification
	default:
		if rec.EquipmentID != 0 || rec.EquipmentCompliance != 0 || rec.DeviceCertification != 0 {
			lose("the capture equipment identifier and certification of the record header are dropped (%s codes them differently)", to)
		}
	}
	if oldTo && len(rec.Views) > 0 {
		if oldFrom {
			out.Width, out.Height, out.XRes, out.YRes = rec.Width, rec.Height, rec.XRes, rec.YRes
		} else {
			v := rec.Views[0]
			out.Width, out.Height, out.XRes, out.YRes = v.Width, v.Height, v.XRes, v.YRes
			for i, w := range rec.Views[1:] {
				if w.Width != v.Width || w.Height != v.Height || w.XRes != v.XRes || w.YRes != v.YRes {
					return nil, nil, fmt.Errorf("iso19794: view %d has another image size or resolution than view 0; %s has one per record", i+1, to)
				}
			}
		}
	}
	// Views.
	for i, v := range rec.Views {
		w := FingerView{Position: v.Position, ViewNumber: v.ViewNumber, Impression: v.Impression, Quality: v.Quality, Extended: v.Extended}
		if oldTo && v.ViewNumber > 15 {
			return nil, nil, fmt.Errorf("iso19794: view %d: view number %d does not fit the 4 bits of %s", i, v.ViewNumber, to)
		}
		if !oldTo {
			w.Width, w.Height, w.XRes, w.YRes = v.Width, v.Height, v.XRes, v.YRes
			if oldFrom {
				w.Width, w.Height, w.XRes, w.YRes = rec.Width, rec.Height, rec.XRes, rec.YRes
			}
		}
		if oldTo && w.Quality > 100 {
			lose("finger quality %d (not reported or failed) becomes 0", w.Quality)
			w.Quality = 0
		}
		// Quality provenance.
		switch {
		case from == ISO19794_2_2011 && to == ISO19794_2_2011:
			w.Qualities, w.Certifications = v.Qualities, v.Certifications
		case to == ISO19794_2_2011:
			if isANSI(from) && newEdition(from) {
				w.Qualities = []QualityBlock{{Score: v.Quality, VendorID: v.QualityVendor, AlgorithmID: v.QualityAlgorithm}}
			} else {
				w.Qualities = []QualityBlock{{Score: v.Quality}}
			}
		case newEdition(to) && newEdition(from):
			if from == ISO19794_2_2011 && len(v.Qualities) > 0 {
				w.QualityVendor, w.QualityAlgorithm = v.Qualities[0].VendorID, v.Qualities[0].AlgorithmID
			} else {
				w.QualityVendor, w.QualityAlgorithm = v.QualityVendor, v.QualityAlgorithm
			}
		case from != ISO19794_2_2011 && newEdition(from) && (v.QualityVendor != 0 || v.QualityAlgorithm != 0):
			lose("the quality algorithm vendor and identifier are dropped (%s has none)", to)
		}
		if from == ISO19794_2_2011 {
			if to != ISO19794_2_2011 {
				lose("the ISO/IEC 19794-2:2011 capture date and time, capture device technology, vendor and type are dropped")
				if len(v.Certifications) > 0 {
					lose("the capture device certification blocks are dropped")
				}
				if len(v.Qualities) > 1 {
					lose("quality blocks after the first are dropped")
				}
				if !newEdition(to) && len(v.Qualities) > 0 && (v.Qualities[0].VendorID != 0 || v.Qualities[0].AlgorithmID != 0) {
					lose("the quality algorithm vendor and identifier are dropped (%s has none)", to)
				}
				if v.EndingType != 0 {
					lose("the ridge ending type %d is dropped (%s defines ridge ending positions one way)", v.EndingType, to)
				}
			} else {
				w.Captured, w.DeviceTechnology, w.DeviceVendor, w.DeviceType = v.Captured, v.DeviceTechnology, v.DeviceVendor, v.DeviceType
				w.EndingType = v.EndingType
			}
		}
		if to == ISO19794_2_2011 {
			w.MinutiaSize = 6
			if from == ISO19794_2_2011 {
				w.MinutiaSize = v.MinutiaSize
			}
		}
		noQuality := from == ISO19794_2_2011 && v.MinutiaSize == 5
		for _, m := range v.Minutiae {
			n := m
			n.Angle = convertAngle(m.Angle, from, to)
			switch {
			case noQuality && to != ISO19794_2_2011:
				n.Quality = 0
				if newEdition(to) {
					n.Quality = 254
				}
			case oldTo && !oldFrom && m.Quality > 100:
				lose("minutia qualities 254 (not reported) and 255 (failed) become 0 (not reported)")
				n.Quality = 0
			case !oldTo && oldFrom && m.Quality == 0:
				n.Quality = 254 // 0 meant "not reported"; 2009/2011 say 254
			}
			w.Minutiae = append(w.Minutiae, n)
		}
		if isANSI(from) != isANSI(to) && len(v.Minutiae) > 0 {
			if isANSI(to) {
				lose("minutia directions are rounded from 1/256 turn (1.40625 degrees) to 2-degree units: up to 1 degree moves")
			} else {
				lose("minutia directions are rounded from 2-degree units to 1/256 turn (1.40625 degrees): up to 0.7 degrees moves")
			}
		}
		if len(v.Extended) > 0 && from != to {
			lose("extended data blocks (ridge counts, cores and deltas, vendor data) are copied as they are, not re-coded for %s", to)
		}
		out.Views = append(out.Views, w)
	}
	if err := out.Validate(); err != nil {
		return nil, losses, fmt.Errorf("iso19794: the converted record is not valid %s: %w", to, err)
	}
	return out, losses, nil
}

// convertAngle converts a minutia direction between the angle units of
// two formats, rounding to the nearest unit.
func convertAngle(a uint8, from, to MinutiaeFormat) uint8 {
	if isANSI(from) == isANSI(to) {
		return a
	}
	unitFrom, unitTo, turn := isoAngleUnit, ansiAngleUnit, 180
	if isANSI(from) {
		unitFrom, unitTo, turn = ansiAngleUnit, isoAngleUnit, 256
	}
	return uint8(int(math.Round(float64(a)*unitFrom/unitTo)) % turn)
}
