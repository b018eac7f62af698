package fingerprint

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"sync"
)

// Limits on the images Extract accepts. They bound the memory one
// extraction may take: about 26 bytes per pixel at 500 ppi plus 6 per input
// pixel when resampling. Measured totals allocated: 110 MB for 2048 x 2048
// at 500 ppi, 211 MB for 4096 x 4096 at 1000 ppi.
const (
	MinDPI = 250  // lowest input resolution accepted, pixels per inch
	MaxDPI = 1200 // highest input resolution accepted

	// MinSide is the smallest width or height, after resampling to 500
	// ppi, that can hold enough ridges to find minutiae (64 px is 3.3 mm).
	MinSide = 64
	// MaxInputSide bounds the width and height of the input image.
	MaxInputSide = 4096
	// MaxPixels bounds the area after resampling to 500 ppi: 2048 x 2048
	// is larger than a four-finger slap at 500 ppi.
	MaxPixels = 2048 * 2048
	// MaxMinutiae is the most minutiae a template keeps (the best by
	// quality). Real 500 ppi impressions hold 20-80.
	MaxMinutiae = 128
)

// Errors Extract wraps, so that callers can tell bad input from a bad
// finger (errors.Is).
var (
	ErrTooSmall      = errors.New("fingerprint: image too small")
	ErrTooLarge      = errors.New("fingerprint: image too large")
	ErrResolution    = errors.New("fingerprint: resolution out of range")
	ErrBlank         = errors.New("fingerprint: blank image")
	ErrNoFingerprint = errors.New("fingerprint: no ridge structure found")
)

// Stage names an intermediate result of Extract that a Transparency
// receives. The comment on each says the type of the data passed with it.
type Stage string

// The stages in the order Extract produces them.
const (
	StageResampled   Stage = "resampled"    // *image.Gray: the input at 500 ppi
	StageMask        Stage = "mask"         // *image.Gray: 255 on the foreground, 0 elsewhere
	StageOrientation Stage = "orientation"  // *OrientationField
	StageFrequency   Stage = "frequency"    // *FrequencyField
	StageEnhanced    Stage = "enhanced"     // *image.Gray: the filtered image, ridges dark
	StageBinary      Stage = "binary"       // *image.Gray: 0 on ridges, 255 elsewhere
	StageSkeleton    Stage = "skeleton"     // *image.Gray: 0 on the one-pixel ridge skeleton, 255 elsewhere
	StageRawMinutiae Stage = "minutiae-raw" // []Minutia: every crossing-number minutia, Quality 0
	StageMinutiae    Stage = "minutiae"     // []Minutia: what the template keeps
	StageQuality     Stage = "quality"      // *QualityField
)

// Transparency receives the intermediate results of an extraction, in the
// spirit of SourceAFIS's transparency API, so that a person can see why a
// template came out as it did. Take is called synchronously during Extract;
// the data must not be modified and may be kept.
type Transparency interface {
	Take(stage Stage, data any)
}

// TransparencyFunc adapts a function to the Transparency interface.
type TransparencyFunc func(stage Stage, data any)

// Take calls f.
func (f TransparencyFunc) Take(stage Stage, data any) { f(stage, data) }

// Options tune an extraction. The zero value (or nil) is the default.
type Options struct {
	// Transparency, if not nil, receives every intermediate stage.
	Transparency Transparency
}

// BlockSize is the side in pixels (at 500 ppi) of the square blocks on
// which the mask, orientation, frequency and quality fields are computed.
const BlockSize = 8

// OrientationField is the local ridge direction on the block grid.
type OrientationField struct {
	BlockSize  int
	Cols, Rows int
	// Angle is the ridge direction in each block (row-major), in radians
	// in [0, π), counter-clockwise from the x axis with y up (as
	// Minutia.Angle). It is meaningful only where Foreground is true.
	Angle []float64
	// Coherence in [0, 1] says how parallel the gradients in the block's
	// window are: 1 for clean straight ridges, near 0 for noise.
	Coherence  []float64
	Foreground []bool
}

// FrequencyField is the local ridge period on the block grid.
type FrequencyField struct {
	BlockSize  int
	Cols, Rows int
	// Period is the distance between neighbouring ridges in pixels at 500
	// ppi (0 on the background). Measured says which blocks had their
	// own estimate; the others were interpolated from their neighbours.
	Period   []float64
	Measured []bool
}

// QualityField is the local quality on the block grid.
type QualityField struct {
	BlockSize  int
	Cols, Rows int
	Quality    []float64 // 0 (useless) to 1 (clear ridges), 0 on the background; the sample quality is made from it
	// Clarity is the share, 0 to 1, of the local grey-level variation
	// that the oriented ridge filter keeps (0 on the background); the
	// minutiae's quality is made from it.
	Clarity []float64
}

// Extract finds the minutiae of a fingerprint image at dpi pixels per inch
// (0 means 500). The image is resampled to 500 ppi first, and the template's
// coordinates are at 500 ppi.
//
// The stages, one file each: resampling (resample.go), foreground
// segmentation (segmentation.go), orientation field (orientation.go), ridge
// frequency (frequency.go), contextual filtering (enhance.go), binarisation
// and thinning (skeleton.go), crossing-number minutiae with ridge tracing
// (minutiae.go), removal of false minutiae (filter.go) and quality
// (quality.go).
//
// Extract returns an error wrapping ErrTooSmall, ErrTooLarge, ErrResolution,
// ErrBlank or ErrNoFingerprint for input it cannot use; it does not panic.
func Extract(img *image.Gray, dpi int, opts *Options) (Template, error) {
	var tr Transparency
	if opts != nil {
		tr = opts.Transparency
	}
	if img == nil {
		return Template{}, fmt.Errorf("%w: nil image", ErrTooSmall)
	}
	if dpi == 0 {
		dpi = 500
	}
	if dpi < MinDPI || dpi > MaxDPI {
		return Template{}, fmt.Errorf("%w: %d ppi, want %d to %d", ErrResolution, dpi, MinDPI, MaxDPI)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > MaxInputSide || h > MaxInputSide {
		return Template{}, fmt.Errorf("%w: %dx%d px, limit %d px a side", ErrTooLarge, w, h, MaxInputSide)
	}
	ow, oh := resampledSize(w, h, dpi)
	if ow < MinSide || oh < MinSide {
		return Template{}, fmt.Errorf("%w: %dx%d px at %d ppi is %dx%d px at 500 ppi, need at least %d px a side",
			ErrTooSmall, w, h, dpi, ow, oh, MinSide)
	}
	if ow*oh > MaxPixels {
		return Template{}, fmt.Errorf("%w: %dx%d px at %d ppi is %dx%d px at 500 ppi, limit %d pixels",
			ErrTooLarge, w, h, dpi, ow, oh, MaxPixels)
	}

	sc := exScratchPool.Get().(*exScratch)
	if ow*max(oh, h) <= exPoolMaxPixels {
		defer exScratchPool.Put(sc)
	} // else its grown buffers are left to the collector
	p := resampleTo500(img, dpi, sc)
	if tr != nil {
		tr.Take(StageResampled, p.gray())
	}
	if lo, hi := p.span(); hi-lo < 8 {
		return Template{}, fmt.Errorf("%w: grey levels span only %.0f to %.0f", ErrBlank, lo, hi)
	}

	ori := orientBlockTensors(p, sc)
	seg, err := segment(p, ori)
	if err != nil {
		return Template{}, err
	}
	ori.smooth(seg)
	freq := estimateFrequency(p, ori, seg)
	seg.peel(freq.measured)
	if seg.fgBlocks*BlockSize*BlockSize < segMinArea {
		return Template{}, fmt.Errorf("%w: foreground of %d px with measurable ridges, need %d",
			ErrNoFingerprint, seg.fgBlocks*BlockSize*BlockSize, segMinArea)
	}
	if err := checkRidges(freq, seg); err != nil {
		return Template{}, err
	}
	if tr != nil {
		tr.Take(StageMask, seg.maskImage())
		tr.Take(StageOrientation, ori.field(seg))
	}
	if tr != nil {
		tr.Take(StageFrequency, freq.field(seg))
	}
	enh := enhance(p, ori, freq, seg, sc)
	if tr != nil {
		tr.Take(StageEnhanced, enh.enhGray())
	}
	sk := binarize(enh, seg, sc)
	if tr != nil {
		tr.Take(StageBinary, sk.gray())
	}
	sk.thin()
	if tr != nil {
		tr.Take(StageSkeleton, sk.gray())
	}
	raw := detectMinutiae(sk, ori)
	if tr != nil {
		tr.Take(StageRawMinutiae, rawToMinutiae(raw))
	}
	kept := filterMinutiae(raw, seg)
	qf := blockQuality(ori, freq, seg)
	qf.blockClarity(enh, seg, freq)
	if tr != nil {
		tr.Take(StageQuality, qf.field())
	}
	if err := checkClarity(ori, qf, seg); err != nil {
		return Template{}, err
	}
	ms := make([]Minutia, 0, len(kept))
	for _, m := range kept {
		mm := m.minutia()
		mm.Quality = minutiaQuality(qf, seg, m.x, m.y)
		ms = append(ms, mm)
	}
	if len(ms) > MaxMinutiae {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Quality > ms[j].Quality })
		ms = ms[:MaxMinutiae]
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Y != ms[j].Y {
			return ms[i].Y < ms[j].Y
		}
		if ms[i].X != ms[j].X {
			return ms[i].X < ms[j].X
		}
		return ms[i].Angle < ms[j].Angle
	})
	if tr != nil {
		tr.Take(StageMinutiae, append([]Minutia(nil), ms...))
	}
	if len(ms) == 0 {
		return Template{}, fmt.Errorf("%w: no minutiae survived filtering (%d candidates)", ErrNoFingerprint, len(raw))
	}
	return Template{
		Width:    p.w,
		Height:   p.h,
		DPI:      500,
		Quality:  sampleQuality(qf, seg, len(ms)),
		Minutiae: ms,
	}, nil
}

// exPlane is a grey image in float32, row-major, used between the stages.
type exPlane struct {
	w, h int
	pix  []float32
}

// exScratch holds the per-pixel buffers of one extraction, so that the
// next extraction reuses them instead of allocating about 6 MB for a 500
// ppi impression, which the runtime zeroes and the collector then
// reclaims (together about a tenth of an extraction's CPU time). Buffers
// are handed out by purpose (exBuf*), each live for the whole extraction;
// nothing Extract returns or gives to a Transparency points into them
// (the stages' images are copies). A nil *exScratch allocates.
type exScratch struct {
	f32 [exBufCount][]float32
	u8  []uint8
}

// The float buffers of an extraction.
const (
	exBufResampled   = iota // the image at 500 ppi (copied or resampled)
	exBufResampleTmp        // the resampler's horizontal pass
	exBufBlurTmp            // the σ 1 px blur's row pass
	exBufBlurred            // its column pass
	exBufEnhSrc             // the contextual filter's padded source
	exBufEnhAlong           // its along-ridge pass
	exBufEnhanced           // its output
	exBufCount
)

var exScratchPool = sync.Pool{New: func() any { return new(exScratch) }}

// exPoolMaxPixels bounds the planes whose buffers go back to the pool: an
// extraction of a larger image (a slap, a 1000 ppi scan) allocates its own,
// so that one such image does not leave every pooled set of buffers at its
// size (up to MaxPixels, about 30 bytes a pixel). 1024 x 1024 holds a
// single finger at 500 ppi with room to spare (FVC images are 0.1-0.15 M).
const exPoolMaxPixels = 1 << 20

// floats returns float buffer k with n elements, zeroed when zero is set;
// otherwise the elements hold whatever the last extraction left, and the
// caller must write every one before reading it.
func (sc *exScratch) floats(k, n int, zero bool) []float32 {
	if sc == nil {
		return make([]float32, n)
	}
	b := sc.f32[k]
	if cap(b) < n {
		b = make([]float32, n)
		sc.f32[k] = b
		return b
	}
	b = b[:n]
	if zero {
		clear(b)
	}
	return b
}

// plane returns float buffer k as a w x h plane (see floats).
func (sc *exScratch) plane(k, w, h int, zero bool) exPlane {
	return exPlane{w: w, h: h, pix: sc.floats(k, w*h, zero)}
}

// bytes returns the byte buffer with n elements, zeroed.
func (sc *exScratch) bytes(n int) []uint8 {
	if sc == nil || cap(sc.u8) < n {
		b := make([]uint8, n)
		if sc != nil {
			sc.u8 = b
		}
		return b
	}
	b := sc.u8[:n]
	clear(b)
	return b
}

// span returns the 1st and 99th percentiles of the grey levels, so that
// a few stray pixels do not make a blank image look like one with contrast.
func (p exPlane) span() (lo, hi float32) {
	var hist [256]int
	for _, v := range p.pix {
		i := int(v + 0.5)
		if i < 0 {
			i = 0
		} else if i > 255 {
			i = 255
		}
		hist[i]++
	}
	n := len(p.pix)
	lo, hi = -1, -1
	acc := 0
	for i, c := range hist {
		acc += c
		if lo < 0 && acc*100 >= n {
			lo = float32(i)
		}
		if hi < 0 && acc*100 >= 99*n {
			hi = float32(i)
		}
	}
	return lo, hi
}

// gray converts a plane holding grey levels back to an image.
func (p exPlane) gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, p.w, p.h))
	for i, v := range p.pix {
		g.Pix[i] = clampByte(float64(v))
	}
	return g
}

func clampByte(v float64) uint8 {
	if v <= 0 || math.IsNaN(v) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}
