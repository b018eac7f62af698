package wsq

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"strconv"
)

// DefaultBitrate is the target rate of Encode, in bits per pixel: the
// rate the FBI uses for 500 ppi fingerprints (about 15:1).
const DefaultBitrate = 0.75

// Options control Encode; nil or zero fields mean defaults.
type Options struct {
	// Bitrate is the target rate in bits per pixel (DefaultBitrate if 0).
	// The bit allocation aims at it; the coded rate comes out near it.
	Bitrate float64
	// PPI is the scan resolution recorded in the NISTCOM; 0 records -1,
	// NISTCOM's "unknown".
	PPI int
	// Comments are written as further COM segments after the NISTCOM.
	Comments []string
	// RestartInterval, if positive, writes a DRT segment and a restart
	// marker after every RestartInterval Huffman-coded symbols of a block.
	RestartInterval int
	// Software is the SOF's software implementation number (0 if unset).
	Software int
}

// The standard analysis filters of the specification (Part 1, Table A.1:
// the 9-tap lowpass and 7-tap highpass biorthogonal pair), from the centre
// tap outwards.
var (
	standardLowpass  = []float64{0.852698679009, 0.377402855613, -0.110624404418, -0.023849465020, 0.037828455507}
	standardHighpass = []float64{0.788485616406, -0.418092273222, -0.040689417609, 0.064538882629}
)

// Encode compresses img as WSQ. Colour images are converted to grey.
func Encode(w io.Writer, img image.Image, opts *Options) error {
	b, err := EncodeBytes(img, opts)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// EncodeBytes compresses img as WSQ and returns the file's bytes.
func EncodeBytes(img image.Image, opts *Options) ([]byte, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Bitrate == 0 {
		o.Bitrate = DefaultBitrate
	}
	if !(o.Bitrate > 0 && o.Bitrate <= 8) {
		return nil, fmt.Errorf("wsq: bit rate %g out of range (0, 8]", o.Bitrate)
	}
	if o.RestartInterval < 0 || o.RestartInterval > 0xFFFF {
		return nil, fmt.Errorf("wsq: restart interval %d out of range 0..65535", o.RestartInterval)
	}
	g := toGray(img)
	width, height := g.Rect.Dx(), g.Rect.Dy()
	if width < 1 || height < 1 || width > 0xFFFF || height > 0xFFFF {
		return nil, fmt.Errorf("wsq: cannot encode a %dx%d image (1..65535 pixels each way)", width, height)
	}
	return encode(g, width, height, &o, standardFilters)
}

// filterBank is a pair of analysis filters as a DTT sends them: the right
// halves (centre outwards) of a lowpass and a highpass filter of the given
// lengths, both odd or both even.
type filterBank struct {
	lowHalf, highHalf []float64
	lowTaps, highTaps int
}

var standardFilters = filterBank{standardLowpass, standardHighpass, 9, 7}

func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok && g.Rect.Min == (image.Point{}) && g.Stride == g.Rect.Dx() {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Rect, img, b.Min, draw.Src)
	return g
}

// fullFilter mirrors a half filter (centre outwards) to its full length n:
// symmetric for odd n; for even n the half starts right of the centre and
// a lowpass is mirrored symmetrically, a highpass antisymmetrically.
func fullFilter(half []float64, n int, antisym bool) []float64 {
	f := make([]float64, n)
	if n%2 == 1 {
		c := n / 2
		for k, v := range half {
			f[c+k], f[c-k] = v, v
		}
		return f
	}
	m := n / 2
	for k, v := range half {
		f[m+k] = v
		if antisym {
			f[m-1-k] = -v
		} else {
			f[m-1-k] = v
		}
	}
	return f
}

// writeDTT writes the body of a transform table (B.2.3): the filter
// lengths, then each half filter's coefficients as sign, scale and value.
func writeDTT(w *segmentWriter, lowHalf, highHalf []float64, lowTaps, highTaps int) {
	w.u8(uint8(lowTaps))
	w.u8(uint8(highTaps))
	for _, half := range [][]float64{lowHalf, highHalf} {
		for _, v := range half {
			sign := uint8(0)
			if v < 0 {
				sign, v = 1, -v
			}
			e, r := putScaled(v, math.MaxUint32)
			w.u8(sign)
			w.u8(e)
			w.u32(r)
		}
	}
}

func encode(g *image.Gray, width, height int, o *Options, fb filterBank) ([]byte, error) {
	lowHalf, highHalf, lowTaps, highTaps := fb.lowHalf, fb.highHalf, fb.lowTaps, fb.highTaps
	// Transform table (B.2.3): written, and read back so that the encoder
	// knows the filters exactly as the decoder will.
	var dtt segmentWriter
	writeDTT(&dtt, lowHalf, highHalf, lowTaps, highTaps)
	filters := &analysisFilters{h0: fullFilter(lowHalf, lowTaps, false), h1: fullFilter(highHalf, highTaps, true)}

	// Normalise the pixels (Part 3 §A): x = (p - M) / R with M the mean and
	// R such that the extreme pixels map to about +-128.
	pix := g.Pix
	sum, lo, hi := 0.0, 255, 0
	for _, p := range pix {
		sum += float64(p)
		lo, hi = min(lo, int(p)), max(hi, int(p))
	}
	mean := sum / float64(len(pix))
	rscale := math.Max(mean-float64(lo), float64(hi)-mean) / 128
	if rscale <= 0 {
		rscale = 1
	}
	var sof segmentWriter
	sof.u8(0)   // black
	sof.u8(255) // white
	sof.u16(uint16(height))
	sof.u16(uint16(width))
	shift := sof.scaled16(mean)
	scale := sof.scaled16(rscale)
	if scale == 0 {
		return nil, errors.New("wsq: internal error: zero rescale")
	}
	// Encoder number 0, as the NIST reference encoder writes: the numbers
	// 1 and 2 that certified vendors write are not ours to claim.
	sof.u8(0)
	sof.u16(uint16(o.Software))

	plane := make([]float32, width*height)
	for i, p := range pix {
		plane[i] = (float32(p) - shift) / scale
	}
	l := newLayout(width, height)
	tmp := make([]float32, width*height)
	decompose(plane, tmp, width, l, filters)
	tmp = nil

	bins, zeros := allocateBits(plane, width, l, o.Bitrate)
	var dqt segmentWriter
	qt := &quantTable{defined: true}
	dqt.u8(2) // bin centre C = 0.44
	dqt.u16(44)
	qt.binCenter = scaledValue(2, 44)
	for k := 0; k < numSubbands; k++ {
		qt.q[k] = dqt.scaled16(bins[k])
		qt.z[k] = dqt.scaled16(zeros[k])
		if qt.q[k] == 0 {
			qt.z[k] = 0
		}
	}
	coef := quantize(plane, width, qt, l)
	plane = nil

	// Split the coefficients into the three blocks and code them.
	var blocks [len(blockStarts) - 1][]symbol
	i := 0
	for b := range blocks {
		n := 0
		for k := blockStarts[b]; k < blockStarts[b+1]; k++ {
			if qt.q[k] != 0 {
				n += l.subbands[k].w * l.subbands[k].h
			}
		}
		blocks[b] = symbolize(coef[i:i+n], nil)
		i += n
	}
	var freq [2][256]int
	for b, syms := range blocks {
		t := min(b, 1) // table 0 for block 1, table 1 for blocks 2 and 3
		for _, s := range syms {
			freq[t][s.cat]++
		}
	}
	var tables [2]*encodeTable
	var dht [2][]byte
	for t := range tables {
		if len(blocks[t]) == 0 && (t == 0 || len(blocks[2]) == 0) {
			continue
		}
		ht, et := buildHuffman(&freq[t])
		tables[t] = et
		var w segmentWriter
		w.u8(uint8(t))
		w.b = append(w.b, ht.counts[:]...)
		w.b = append(w.b, ht.values...)
		dht[t] = w.b
	}

	nistcom, err := FormatNISTCOM(map[string]string{
		"PIX_WIDTH":   strconv.Itoa(width),
		"PIX_HEIGHT":  strconv.Itoa(height),
		"PIX_DEPTH":   "8",
		"PPI":         strconv.Itoa(ppiOrUnknown(o.PPI)),
		"LOSSY":       "1",
		"COLORSPACE":  "GRAY",
		"COMPRESSION": "WSQ",
		"WSQ_BITRATE": strconv.FormatFloat(o.Bitrate, 'f', 6, 64),
	})
	if err != nil {
		return nil, err
	}
	out := []byte{0xFF, 0xA0}
	out = appendSegment(out, markerCOM, []byte(nistcom))
	for _, c := range o.Comments {
		if len(c) > 0xFFFF-2 {
			return nil, fmt.Errorf("wsq: comment of %d bytes is longer than a COM segment holds", len(c))
		}
		out = appendSegment(out, markerCOM, []byte(c))
	}
	out = appendSegment(out, markerDTT, dtt.b)
	out = appendSegment(out, markerDQT, dqt.b)
	if o.RestartInterval > 0 {
		var drt segmentWriter
		drt.u16(uint16(o.RestartInterval))
		out = appendSegment(out, markerDRT, drt.b)
	}
	if dht[0] != nil {
		out = appendSegment(out, markerDHT, dht[0])
	}
	out = appendSegment(out, markerSOF, sof.b)
	for b, syms := range blocks {
		if len(syms) == 0 {
			continue
		}
		t := min(b, 1)
		if b == 1 || (b == 2 && len(blocks[1]) == 0) {
			out = appendSegment(out, markerDHT, dht[1])
		}
		out = appendSegment(out, markerSOB, []byte{uint8(t)})
		out = appendBlock(out, syms, tables[t], o.RestartInterval)
	}
	return append(out, 0xFF, 0xA1), nil
}

func ppiOrUnknown(ppi int) int {
	if ppi <= 0 {
		return -1
	}
	return ppi
}

// appendBlock writes the Huffman-coded symbols of a block, with a restart
// marker after every interval symbols when interval > 0.
func appendBlock(out []byte, syms []symbol, t *encodeTable, interval int) []byte {
	w := bitWriter{out: out}
	rst := 0
	for i, s := range syms {
		if interval > 0 && i > 0 && i%interval == 0 {
			w.flush()
			w.out = append(w.out, 0xFF, byte(markerRST0+rst)&0xFF)
			rst = (rst + 1) % 8
		}
		w.put(uint32(t.code[s.cat]), uint(t.size[s.cat]))
		if s.extraBits > 0 {
			w.put(uint32(s.extra), uint(s.extraBits))
		}
	}
	w.flush()
	return w.out
}

// Relative weights A_k of the bit allocation for the highest coded
// subbands (Part 3, encoder number one); 1 for the others.
var subbandWeight = map[int]float64{52: 1.32, 53: 1.08, 54: 1.42, 55: 1.08, 56: 1.32, 57: 1.42, 58: 1.08, 59: 1.08}

// allocateBits chooses each subband's bin width Q_k and zero-bin width
// Z_k = 1.2 Q_k for a target rate (Part 3, encoder number one): from the
// subband variances s2_k, relative widths Q'_k = 1 for the four lowest
// subbands and 10 / (A_k ln s2_k) for the others, scaled by a common
// factor q chosen so that the rate model meets the target over the
// subbands it gives a positive rate; subbands with variance under 1.01 and
// subbands 60-63 are not coded.
func allocateBits(plane []float32, width int, l *layout, rate float64) (bins, zeros [numSubbands]float64) {
	var variance [numSubbands]float64
	subbandVariances(plane, width, l, &variance, true)
	if variance[0]+variance[1]+variance[2]+variance[3] < 20000 {
		subbandVariances(plane, width, l, &variance, false)
	}
	var rel, m [numSubbands]float64
	var in [numSubbands]bool
	for k := 0; k < 60; k++ {
		switch {
		case k < 4:
			m[k] = 1.0 / 1024
		case k < 51:
			m[k] = 1.0 / 256
		default:
			m[k] = 1.0 / 16
		}
		if variance[k] < 1.01 || l.subbands[k].w == 0 || l.subbands[k].h == 0 {
			continue
		}
		in[k] = true
		if k < 4 {
			rel[k] = 1
		} else {
			a := subbandWeight[k]
			if a == 0 {
				a = 1
			}
			rel[k] = 10 / (a * math.Log(variance[k]))
		}
	}
	// The subbands that enter the rate model (K in Part 3) shrink while
	// some get a non-positive rate; every subband above the variance
	// threshold (K0) is still coded with Q'_k / q, as the NIST reference
	// encoder codes them. Leaving the dropped ones out would lose the
	// strong, rare coefficients of a tenprint card's printed frame that
	// the centred variance does not see (fp-1: 38.3 dB instead of 44.4).
	coded := in
	var q float64
	for {
		S, logP := 0.0, 0.0
		for k := range in {
			if in[k] {
				S += m[k]
				logP += m[k] * math.Log(math.Sqrt(variance[k])/rel[k])
			}
		}
		if S == 0 {
			return bins, zeros
		}
		q = math.Pow(2, rate/S-1) / 2.5 / math.Exp(logP/S)
		removed := false
		for k := range in {
			if in[k] && rel[k]/q >= 5*math.Sqrt(variance[k]) {
				in[k] = false
				removed = true
			}
		}
		if !removed {
			break
		}
	}
	for k := range coded {
		if coded[k] {
			bins[k] = rel[k] / q
			zeros[k] = 1.2 * bins[k]
		}
	}
	return bins, zeros
}

// subbandVariances estimates each subband's variance, on its central part
// when cropped (a fingerprint's frame and margins would otherwise dominate
// the high subbands), else on all of it.
func subbandVariances(plane []float32, width int, l *layout, v *[numSubbands]float64, cropped bool) {
	for k := 0; k < 60; k++ {
		r := l.subbands[k]
		x0, y0, w, h := r.x, r.y, r.w, r.h
		if cropped {
			x0, w = r.x+r.w/8, 3*r.w/4
			y0, h = r.y+9*r.h/32, 7*r.h/16
		}
		if w*h < 2 {
			x0, y0, w, h = r.x, r.y, r.w, r.h
		}
		n := float64(w * h)
		if n < 2 {
			v[k] = 0
			continue
		}
		var s, ss float64
		for y := y0; y < y0+h; y++ {
			for _, c := range plane[y*width+x0 : y*width+x0+w] {
				s += float64(c)
				ss += float64(c) * float64(c)
			}
		}
		v[k] = (ss - s*s/n) / (n - 1)
	}
}
