package node

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"mime"
	"net/http"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/formats/wsq"
)

// ANSI/NIST-ITL intake: the enrol and identify endpoints also take a whole
// transaction, traditional encoding (Content-Type application/x-ansi-nist)
// or NIEM XML (application/xml). Type-4/13/14 fingerprints go through the
// fingerprint engine, Type-9 minutiae become templates, Type-10 faces and
// Type-17 irises are stored as samples.
const (
	mediaANSINIST = "application/x-ansi-nist"
	mediaXML      = "application/xml"
)

// isTransaction reports whether the request body is an ANSI/NIST-ITL
// transaction rather than JSON.
func isTransaction(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == mediaANSINIST || mt == mediaXML
}

// transactionSamples decodes a transaction (a request body) and returns
// it with its samples, and notes on records it left out (slaps without
// usable segmentation, compressions the node cannot decode) so that nothing
// is dropped silently. Slaps with segmentation fields give one sample per
// finger.
func transactionSamples(data []byte, maxImagePixels int) (*ansinist.Transaction, []SampleInput, []string, error) {
	t, _, err := ansinist.DecodeAny(data)
	if err != nil {
		return nil, nil, nil, errf(CodeBadSample, err.Error())
	}
	var out []SampleInput
	var skipped []string
	for _, im := range t.FingerImages() {
		pos := biometric.UnknownFinger
		if len(im.Positions) > 0 {
			pos = im.Positions[0]
		}
		if ansinist.SlapFingers(pos) != nil {
			fingers, notes := slapSamples(t, im, slapPixels(maxImagePixels))
			out = append(out, fingers...)
			skipped = append(skipped, notes...)
			continue
		}
		if pos > biometric.LeftLittle && pos != biometric.PlainRightThumb && pos != biometric.PlainLeftThumb {
			skipped = append(skipped, fmt.Sprintf("record %d: FGP %d is not a single finger", im.Record, pos))
			continue
		}
		if pos == biometric.PlainRightThumb {
			pos = biometric.RightThumb
		} else if pos == biometric.PlainLeftThumb {
			pos = biometric.LeftThumb
		}
		s, err := imageSample(biometric.Finger, pos, im.Image)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("record %d: %v", im.Record, err))
			continue
		}
		out = append(out, s)
	}
	mins, _ := t.Minutiae()
	for _, m := range mins {
		rec, err := iso19794.MinutiaeRecordFromTemplate(m.Template, iso19794.ISO19794_2_2005, m.Position)
		if err == nil {
			var b []byte
			if b, err = rec.Marshal(); err == nil {
				out = append(out, SampleInput{Modality: biometric.Finger, Position: m.Position, Format: "iso19794-2", Data: b})
				continue
			}
		}
		skipped = append(skipped, fmt.Sprintf("record %d: minutiae: %v", m.Record, err))
	}
	for _, f := range t.FaceImages() {
		if s, err := imageSample(biometric.Face, 0, f.Image); err == nil {
			out = append(out, s)
		} else {
			skipped = append(skipped, fmt.Sprintf("record %d: %v", f.Record, err))
		}
	}
	for _, ir := range t.IrisImages() {
		if s, err := imageSample(biometric.Iris, 0, ir.Image); err == nil {
			out = append(out, s)
		} else {
			skipped = append(skipped, fmt.Sprintf("record %d: %v", ir.Record, err))
		}
	}
	if len(out) == 0 {
		return nil, nil, skipped, errf(CodeBadSample, "the transaction holds no usable sample: "+strings.Join(skipped, "; "))
	}
	return t, out, skipped, nil
}

// slapPixels bounds a slap decoded here to be cut into fingers: four times
// the node's bound for one sample image (config max_image_pixels), since a
// slap holds up to four fingers. Each finger cut from it then meets the
// node's own bound in the engine.
func slapPixels(maxImagePixels int) int { return 4 * maxImagePixels }

// slapSamples cuts a multi-finger image (FGP 13-15, 40-50) into one PNG
// sample per finger by the record's segmentation fields (14.021 SEG,
// 14.025 ASEG), and says why when it cannot.
func slapSamples(t *ansinist.Transaction, im ansinist.FingerImage, maxPixels int) ([]SampleInput, []string) {
	segs, problems := t.Segments(im)
	var notes []string
	for _, p := range problems {
		notes = append(notes, fmt.Sprintf("record %d: %s", im.Record, p))
	}
	if len(segs) == 0 {
		return nil, append(notes, fmt.Sprintf("record %d: FGP %d holds several fingers and no usable segmentation (14.021 SEG / 14.025 ASEG)", im.Record, im.Positions[0]))
	}
	img, ppi, err := decodeSlap(im, maxPixels)
	if err != nil {
		return nil, append(notes, fmt.Sprintf("record %d: slap: %v", im.Record, err))
	}
	if ppi < 250 || ppi > 2000 {
		ppi = 0
	}
	var out []SampleInput
	for _, s := range segs {
		var b bytes.Buffer
		if err := png.Encode(&b, s.Crop(img)); err != nil {
			notes = append(notes, fmt.Sprintf("record %d: finger %d: %v", im.Record, s.Position, err))
			continue
		}
		out = append(out, SampleInput{Modality: biometric.Finger, Position: s.Position, DPI: ppi, Format: "png", Data: b.Bytes()})
	}
	return out, notes
}

// decodeSlap decodes a slap image and gives its scan resolution.
func decodeSlap(im ansinist.FingerImage, maxPixels int) (*image.Gray, int, error) {
	switch im.Compression {
	case ansinist.WSQ:
		g, meta, err := wsq.DecodeBytes(im.Data, &wsq.DecodeOptions{MaxPixels: maxPixels})
		if err != nil {
			return nil, 0, err
		}
		if im.PPI == 0 {
			return g, meta.PPI, nil
		}
		return g, im.PPI, nil
	case ansinist.PNG, ansinist.JPEG:
		g, _, err := raster.Decode(im.Data, maxPixels)
		return g, im.PPI, err
	case ansinist.Raw:
		if im.BPX != 8 || im.Width <= 0 || im.Height <= 0 || im.Width*im.Height > maxPixels || len(im.Data) < im.Width*im.Height {
			return nil, 0, fmt.Errorf("uncompressed image of %dx%d at %d bits per pixel with %d bytes: want 8-bit grey", im.Width, im.Height, im.BPX, len(im.Data))
		}
		return &image.Gray{Pix: im.Data[:im.Width*im.Height], Stride: im.Width, Rect: image.Rect(0, 0, im.Width, im.Height)}, im.PPI, nil
	}
	return nil, 0, fmt.Errorf("compression %s is not decoded here", im.Compression)
}

// imageSample turns an image record into a sample: WSQ, PNG and JPEG as
// they are, uncompressed 8-bit grey as PNG.
func imageSample(m biometric.Modality, pos biometric.FingerPosition, im ansinist.Image) (SampleInput, error) {
	s := SampleInput{Modality: m, Position: pos, DPI: im.PPI, Data: im.Data}
	if s.DPI != 0 && (s.DPI < 250 || s.DPI > 2000) {
		s.DPI = 0
	}
	switch im.Compression {
	case ansinist.WSQ:
		s.Format = "wsq"
	case ansinist.PNG:
		s.Format = "png"
	case ansinist.JPEG:
		s.Format = "jpeg"
	case ansinist.Raw:
		if im.BPX != 8 || im.Width <= 0 || im.Height <= 0 || len(im.Data) < im.Width*im.Height {
			return s, fmt.Errorf("uncompressed image of %dx%d at %d bits per pixel with %d bytes: want 8-bit grey", im.Width, im.Height, im.BPX, len(im.Data))
		}
		g := &image.Gray{Pix: im.Data[:im.Width*im.Height], Stride: im.Width, Rect: image.Rect(0, 0, im.Width, im.Height)}
		var b bytes.Buffer
		if err := png.Encode(&b, g); err != nil {
			return s, err
		}
		s.Format, s.Data = "png", b.Bytes()
	default:
		return s, fmt.Errorf("compression %s is not decoded here", im.Compression)
	}
	return s, nil
}

// identifyResponseTransaction answers a search with an ANSI/NIST-ITL search
// response (TOT SRE): 2.059 SRF "I" or "N" and, for a hit, the candidates.
func identifyResponseTransaction(req *ansinist.Transaction, resp *IdentifyResponse) ([]byte, error) {
	var cands []ansinist.Candidate
	for _, c := range resp.Candidates {
		cands = append(cands, ansinist.Candidate{ID: c.IdentityID, Score: int(c.Score * 1000)})
	}
	return ansinist.NewResponse(req, newID(), resp.Decision == biometric.Hit, cands).Encode()
}
