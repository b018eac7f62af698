// Package wsq reads and writes FBI Wavelet Scalar Quantization (WSQ)
// greyscale fingerprint images, as specified in "WSQ Gray-scale Fingerprint
// Image Compression Specification", IAFIS-IC-0110 (V3.1), the codec that
// ANSI/NIST-ITL Type-4 and Type-14 records carry as compression "WSQ20".
//
// The pipeline follows the specification's parts:
//
//   - the interchange format (Part 1, Annex B): the markers SOI, SOF, SOB,
//     DTT, DQT, DHT, DRT, COM, EOI and the restart markers RST0-RST7
//     (segments.go);
//   - the 64-subband wavelet packet decomposition built from two levels of
//     the transmitted biorthogonal filter pair, odd (9/7) or even lengths,
//     with symmetric extension at the subband edges (subbands.go,
//     wavelet.go);
//   - scalar quantisation with a bin width, a zero-bin width and a bin
//     centre per subband (quantize.go);
//   - Huffman coding of the quantised coefficients with the WSQ code
//     categories: zero runs, direct values and 8- and 16-bit escapes
//     (huffman.go, entropy.go);
//   - the NISTCOM comment that records the image attributes (nistcom.go).
//
// The decoder reproduces the floating point arithmetic of the NIST
// reference implementation (single precision, same order of operations), so
// that it returns the reference decodes pixel for pixel. Its memory use is
// bounded: the frame size is checked against DecodeOptions.MaxPixels before
// any image-sized buffer is made, and the entropy decoder stores at most one
// coefficient per pixel.
//
// The encoder implements the specification's bit allocation (Part 3,
// encoder number one) for a target bit rate, with the standard 9/7 filters,
// and writes a NISTCOM comment.
//
// Decode is registered with image.RegisterFormat, so image.Decode reads
// WSQ once this package is imported.
package wsq

import (
	"errors"
	"fmt"
	"image"
	"io"
)

// Markers of the WSQ interchange format (IAFIS-IC-0110 Table B.1).
const (
	markerSOI  = 0xFFA0 // start of image
	markerEOI  = 0xFFA1 // end of image
	markerSOF  = 0xFFA2 // start of frame
	markerSOB  = 0xFFA3 // start of block
	markerDTT  = 0xFFA4 // define transform table
	markerDQT  = 0xFFA5 // define quantisation table
	markerDHT  = 0xFFA6 // define Huffman table(s)
	markerDRT  = 0xFFA7 // define restart interval
	markerCOM  = 0xFFA8 // comment
	markerRST0 = 0xFFB0 // first of the eight restart markers RST0..RST7
)

// markerName names a marker for error messages.
func markerName(m int) string {
	switch m {
	case markerSOI:
		return "SOI"
	case markerEOI:
		return "EOI"
	case markerSOF:
		return "SOF"
	case markerSOB:
		return "SOB"
	case markerDTT:
		return "DTT"
	case markerDQT:
		return "DQT"
	case markerDHT:
		return "DHT"
	case markerDRT:
		return "DRT"
	case markerCOM:
		return "COM"
	}
	if m >= markerRST0 && m <= markerRST0+7 {
		return fmt.Sprintf("RST%d", m-markerRST0)
	}
	return fmt.Sprintf("0x%04X", m)
}

// Limits that bound what a decoder accepts. They are defaults; DecodeOptions
// overrides them.
const (
	// DefaultMaxPixels bounds width x height: 4096 x 4096 holds a 1000 ppi
	// flat of four fingers and a 500 ppi palm. Decoding takes about 11 bytes
	// per pixel (float image, float scratch, coefficients, output), at most
	// 17 while the coefficient buffer grows.
	DefaultMaxPixels = 4096 * 4096
	// DefaultMaxInput bounds the compressed size read from an io.Reader.
	DefaultMaxInput = 64 << 20
	// maxFilterLen bounds the filter lengths a DTT may declare; the
	// specification's filters have 7 and 9 taps.
	maxFilterLen = 64
)

// Errors callers can test for with errors.Is.
var (
	// ErrFormat wraps every error about malformed WSQ data.
	ErrFormat = errors.New("wsq: invalid data")
	// ErrTooLarge is returned when the frame exceeds the pixel limit.
	ErrTooLarge = errors.New("wsq: image too large")
)

// DecodeOptions are the limits of a decode; the zero value means defaults.
type DecodeOptions struct {
	MaxPixels int   // largest width x height accepted; DefaultMaxPixels if <= 0
	MaxInput  int64 // largest compressed size read from a Reader; DefaultMaxInput if <= 0
}

func (o *DecodeOptions) maxPixels() int {
	if o == nil || o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

func (o *DecodeOptions) maxInput() int64 {
	if o == nil || o.MaxInput <= 0 {
		return DefaultMaxInput
	}
	return o.MaxInput
}

// Metadata is what a WSQ file says about its image, besides the pixels.
type Metadata struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// PPI is the scan resolution from the NISTCOM comment, 0 if unknown.
	PPI int `json:"ppi"`
	// Black and White are the SOF's darkest and lightest pixel values.
	Black int `json:"black"`
	White int `json:"white"`
	// Encoder is the SOF's encoder algorithm number and Software the
	// encoder's software implementation number.
	Encoder  int `json:"encoder"`
	Software int `json:"software"`
	// Shift and Scale are the SOF's mean shift M and rescale R: a pixel is
	// R*x + M of its reconstructed wavelet-domain value x.
	Shift float32 `json:"shift"`
	Scale float32 `json:"scale"`
	// LowpassTaps and HighpassTaps are the lengths of the analysis filters
	// of the DTT (9 and 7 for the standard filters).
	LowpassTaps  int `json:"lowpass_taps"`
	HighpassTaps int `json:"highpass_taps"`
	// HuffmanTables lists the table ids defined; Blocks counts SOB segments.
	HuffmanTables []int `json:"huffman_tables"`
	Blocks        int   `json:"blocks"`
	// RestartInterval is the DRT interval, 0 if no DRT; Restarts counts the
	// RSTn markers met in the entropy-coded data.
	RestartInterval int `json:"restart_interval"`
	Restarts        int `json:"restarts"`
	// Comments holds the text of every COM segment in file order; NISTCOM
	// is the parsed NISTCOM comment (name -> value), nil if there is none.
	Comments []string          `json:"comments"`
	NISTCOM  map[string]string `json:"nistcom"`
	// Size is the compressed size in bytes.
	Size int `json:"size"`
	// Warnings lists irregularities the decoder tolerated.
	Warnings []string `json:"warnings,omitempty"`
}

// BitsPerPixel is the compressed rate: 8 x size / (width x height).
func (m *Metadata) BitsPerPixel() float64 {
	if m.Width == 0 || m.Height == 0 {
		return 0
	}
	return 8 * float64(m.Size) / float64(m.Width*m.Height)
}

func init() {
	image.RegisterFormat("wsq", "\xff\xa0", func(r io.Reader) (image.Image, error) { return Decode(r) },
		DecodeConfig)
}
