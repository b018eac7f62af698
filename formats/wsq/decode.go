package wsq

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
	"sync"
)

// decoder walks the marker segments of one WSQ file held in memory.
type decoder struct {
	data  []byte
	pos   int
	opts  *DecodeOptions
	frame *frameHeader
	dtt   *transformTable
	dqt   quantTable
	dht   [maxHuffTables]huffTable
	meta  Metadata
	sink  coefficientSink
	buf   []byte
}

func readAll(r io.Reader, opts *DecodeOptions) ([]byte, error) {
	max := opts.maxInput()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: compressed data larger than %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

// marker reads the two-byte marker at the current position.
func (d *decoder) marker() (int, int, error) {
	off := d.pos
	if off+2 > len(d.data) {
		return 0, off, fmt.Errorf("%w: file ends at offset %d where a marker was expected", ErrFormat, off)
	}
	m := int(binary.BigEndian.Uint16(d.data[off:]))
	if m>>8 != 0xFF {
		return 0, off, fmt.Errorf("%w: offset %d: expected a marker, found bytes %02X %02X", ErrFormat, off, d.data[off], d.data[off+1])
	}
	d.pos += 2
	return m, off, nil
}

// segment reads the length of the segment whose marker was at off and
// returns a reader over its payload.
func (d *decoder) segment(m, off int) (*segReader, error) {
	if d.pos+2 > len(d.data) {
		return nil, fmt.Errorf("%w: %s at offset %d: file ends inside the segment length", ErrFormat, markerName(m), off)
	}
	n := int(binary.BigEndian.Uint16(d.data[d.pos:]))
	if n < 2 || d.pos+n > len(d.data) {
		return nil, fmt.Errorf("%w: %s at offset %d: length %d runs past the end of the file (%d bytes)", ErrFormat, markerName(m), off, n, len(d.data))
	}
	s := &segReader{b: d.data[d.pos+2 : d.pos+n], off: d.pos + 2, name: markerName(m)}
	d.pos += n
	return s, nil
}

// table reads a table or miscellaneous segment: DTT, DQT, DHT, DRT or COM.
// It reports false for other markers.
func (d *decoder) table(m, off int) (bool, error) {
	switch m {
	case markerDTT, markerDQT, markerDHT, markerDRT, markerCOM:
	default:
		return false, nil
	}
	s, err := d.segment(m, off)
	if err != nil {
		return true, err
	}
	switch m {
	case markerDTT:
		d.dtt, err = parseDTT(s)
		if err == nil {
			d.meta.LowpassTaps, d.meta.HighpassTaps = d.dtt.lowTaps, d.dtt.highTaps
		}
	case markerDQT:
		var q *quantTable
		if q, err = parseDQT(s); err == nil {
			d.dqt = *q
		}
	case markerDHT:
		var ids []int
		if ids, err = parseDHT(s, &d.dht); err == nil {
			for _, id := range ids {
				if !contains(d.meta.HuffmanTables, id) {
					d.meta.HuffmanTables = append(d.meta.HuffmanTables, id)
				}
			}
		}
	case markerDRT:
		var v uint16
		if v, err = s.u16(); err == nil {
			d.meta.RestartInterval = int(v)
		}
	case markerCOM:
		text := string(s.b)
		d.meta.Comments = append(d.meta.Comments, text)
		if d.meta.NISTCOM == nil {
			d.meta.NISTCOM = ParseNISTCOM(text)
		}
	}
	return true, err
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// header reads SOI and the segments up to and including SOF, and checks
// the frame size against the limit before anything is allocated for it.
func (d *decoder) header() error {
	m, off, err := d.marker()
	if err != nil {
		return err
	}
	if m != markerSOI {
		return fmt.Errorf("%w: offset %d: file starts with %s, not SOI (not a WSQ file)", ErrFormat, off, markerName(m))
	}
	for {
		m, off, err := d.marker()
		if err != nil {
			return err
		}
		if m == markerSOF {
			s, err := d.segment(m, off)
			if err != nil {
				return err
			}
			if d.frame, err = parseSOF(s); err != nil {
				return err
			}
			break
		}
		ok, err := d.table(m, off)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: offset %d: %s before SOF (only tables and comments may come first)", ErrFormat, off, markerName(m))
		}
	}
	f := d.frame
	d.meta.Width, d.meta.Height = f.width, f.height
	d.meta.Black, d.meta.White = f.black, f.white
	d.meta.Encoder, d.meta.Software = f.encoder, f.software
	d.meta.Shift, d.meta.Scale = f.shift, f.scale
	d.meta.Size = len(d.data)
	if max := d.opts.maxPixels(); f.width > max/f.height {
		return fmt.Errorf("%w: SOF declares %dx%d pixels, limit %d", ErrTooLarge, f.width, f.height, max)
	}
	return nil
}

// body reads the blocks up to EOI. With decode false it only walks the
// segments, skipping the entropy-coded data.
func (d *decoder) body(decode bool) error {
	d.sink = coefficientSink{max: d.frame.width * d.frame.height}
	if decode {
		// At most one coefficient per pixel: one allocation instead of
		// the copies of a growing slice.
		d.sink.coef = getPlane(d.sink.max)[:0]
	}
	for {
		m, off, err := d.marker()
		if err != nil {
			return err
		}
		switch m {
		case markerEOI:
			return nil
		case markerSOB:
			s, err := d.segment(m, off)
			if err != nil {
				return err
			}
			id, err := s.u8()
			if err != nil {
				return err
			}
			if int(id) >= maxHuffTables || !d.dht[id].defined {
				return fmt.Errorf("%w: SOB at offset %d: Huffman table %d is not defined", ErrFormat, off, id)
			}
			d.meta.Blocks++
			if err := d.block(&d.dht[id], decode); err != nil {
				return err
			}
			continue
		}
		ok, err := d.table(m, off)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: offset %d: unexpected %s after SOF", ErrFormat, off, markerName(m))
		}
	}
}

// block decodes (or skips) the entropy-coded data of one block, restart
// interval by restart interval, and stops at the first other marker.
func (d *decoder) block(t *huffTable, decode bool) error {
	var dt *decodeTable
	if decode {
		dt = newDecodeTable(t)
	}
	for {
		start := d.pos
		seg, next, err := destuff(d.buf, d.data, d.pos)
		if err != nil {
			return err
		}
		d.buf = seg
		if decode {
			if err := decodeInterval(seg, dt, &d.sink, start); err != nil {
				return err
			}
		}
		d.pos = next
		m := int(binary.BigEndian.Uint16(d.data[next:]))
		if m < markerRST0 || m > markerRST0+7 {
			return nil
		}
		d.meta.Restarts++
		d.pos += 2
	}
}

// Decode reads a WSQ image with the default limits.
func Decode(r io.Reader) (*image.Gray, error) {
	img, _, err := DecodeWithOptions(r, nil)
	return img, err
}

// DecodeWithOptions reads a WSQ image and its metadata within opts' limits
// (defaults if nil).
func DecodeWithOptions(r io.Reader, opts *DecodeOptions) (*image.Gray, *Metadata, error) {
	data, err := readAll(r, opts)
	if err != nil {
		return nil, nil, err
	}
	return DecodeBytes(data, opts)
}

// DecodeBytes decodes a WSQ image held in memory.
func DecodeBytes(data []byte, opts *DecodeOptions) (*image.Gray, *Metadata, error) {
	d := &decoder{data: data, opts: opts}
	if err := d.header(); err != nil {
		return nil, nil, err
	}
	if err := d.body(true); err != nil {
		return nil, nil, err
	}
	if d.dtt == nil {
		return nil, nil, fmt.Errorf("%w: no DTT (transform table) before EOI", ErrFormat)
	}
	if !d.dqt.defined {
		return nil, nil, fmt.Errorf("%w: no DQT (quantisation table) before EOI", ErrFormat)
	}
	w, h := d.frame.width, d.frame.height
	l := newLayout(w, h)
	want := 0
	for k, r := range l.subbands {
		if d.dqt.q[k] != 0 {
			want += r.w * r.h
		}
	}
	if got := len(d.sink.coef); got != want {
		d.meta.Warnings = append(d.meta.Warnings, d.fixCount(want))
	}
	plane := getPlane(w * h)
	clear(plane) // subbands that are not coded stay zero
	unquantize(plane, w, d.sink.coef, &d.dqt, l)
	tmp := d.sink.coef[:cap(d.sink.coef)]
	d.sink.coef = nil
	if len(tmp) < w*h {
		tmp = make([]float32, w*h)
	}
	reconstruct(plane, tmp, w, l, d.dtt)
	img := image.NewGray(image.Rect(0, 0, w, h))
	toPixels(img.Pix, plane, d.frame.shift, d.frame.scale)
	putPlane(plane)
	putPlane(tmp)
	d.fillPPI()
	return img, &d.meta, nil
}

// planes keeps the two image-sized float buffers of finished decodes for
// the next ones: decoding a stream of fingers then allocates (and the
// collector clears and scans) little. A buffer is reused only when large
// enough; the limits on a single decode are unchanged.
var planes sync.Pool

func getPlane(n int) []float32 {
	if p, ok := planes.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putPlane(b []float32) { planes.Put(&b) }

// fixCount deals with a coefficient count that does not match the coded
// subbands. Some encoders end a block early when the rest of its subbands
// quantise to zero (mitre-jet/sample.wsq ends blocks 2 and 3 early). The
// specification gives no rule for such a file; the NIST reference decoder
// (NBIS dwsq) and the other decoders we compared with take the coefficients
// of all blocks in order, as if the blocks were one stream, fill the
// missing ones at the end with zero, and ignore extra ones. We do the same,
// so that the pixels agree with theirs, and say so in a warning.
func (d *decoder) fixCount(want int) string {
	got := len(d.sink.coef)
	if got < want {
		if cap(d.sink.coef) >= want {
			d.sink.coef = d.sink.coef[:want]
			clear(d.sink.coef[got:])
		} else {
			full := make([]float32, want)
			copy(full, d.sink.coef)
			d.sink.coef = full
		}
	}
	if got < want {
		return fmt.Sprintf("the blocks hold %d coefficients, the coded subbands %d: taken in order as one stream, the missing ones at the end as zero (as the NIST reference decoder does)", got, want)
	}
	return fmt.Sprintf("the blocks hold %d coefficients, the coded subbands %d: the extra ones are ignored", got, want)
}

func (d *decoder) fillPPI() {
	d.meta.PPI = nistcomPPI(d.meta.NISTCOM)
}

// toPixels maps reconstructed values x to pixels R*x + M, rounded and
// clamped to 0..255 in the reference decoder's single precision steps.
func toPixels(pix []uint8, plane []float32, shift, scale float32) {
	for i, v := range plane {
		p := float32(v*scale) + shift
		p += 0.5
		switch {
		case p < 0:
			pix[i] = 0
		case p > 255:
			pix[i] = 255
		default:
			pix[i] = uint8(p)
		}
	}
}

// DecodeConfig reads the frame size without decoding the image.
func DecodeConfig(r io.Reader) (image.Config, error) {
	data, err := readAll(r, nil)
	if err != nil {
		return image.Config{}, err
	}
	d := &decoder{data: data, opts: &DecodeOptions{MaxPixels: 1<<31 - 1}}
	if err := d.header(); err != nil {
		return image.Config{}, err
	}
	return image.Config{ColorModel: color.GrayModel, Width: d.frame.width, Height: d.frame.height}, nil
}

// ReadMetadata walks every segment of a WSQ file and returns what it says,
// without decoding the image.
func ReadMetadata(r io.Reader) (*Metadata, error) {
	data, err := readAll(r, nil)
	if err != nil {
		return nil, err
	}
	d := &decoder{data: data, opts: &DecodeOptions{MaxPixels: 1<<31 - 1}}
	if err := d.header(); err != nil {
		return nil, err
	}
	if err := d.body(false); err != nil {
		return nil, err
	}
	d.fillPPI()
	return &d.meta, nil
}
