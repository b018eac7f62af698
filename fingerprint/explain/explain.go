// Package explain writes the intermediate stages of a fingerprint
// extraction (fingerprint.Transparency) to a folder as PNG images and JSON,
// so that a person can see how a template came about: the foreground mask,
// the orientation field drawn as line segments over the image, the ridge
// period, the enhanced and binarised images, the skeleton, and the
// minutiae drawn with their directions before and after filtering.
package explain

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/ebsp/ebsp/fingerprint"
)

// Recorder is a fingerprint.Transparency that writes each stage it
// receives into a folder. The first error is kept and reported by Err;
// later stages are then skipped.
type Recorder struct {
	dir   string
	base  *image.Gray // the resampled image, background of the overlays
	skel  *image.Gray
	err   error
	Files []string // files written, in order
}

// New makes the folder dir (and its parents) and returns a Recorder
// writing into it.
func New(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return &Recorder{dir: dir}, nil
}

// Err returns the first error met while writing.
func (r *Recorder) Err() error { return r.err }

// Take implements fingerprint.Transparency.
func (r *Recorder) Take(stage fingerprint.Stage, data any) {
	if r.err != nil {
		return
	}
	switch stage {
	case fingerprint.StageResampled:
		r.base, _ = data.(*image.Gray)
		r.png("01-resampled.png", asImage(data))
	case fingerprint.StageMask:
		g, _ := data.(*image.Gray)
		r.png("02-mask.png", r.maskOverlay(g))
	case fingerprint.StageOrientation:
		f, _ := data.(*fingerprint.OrientationField)
		if f == nil {
			break
		}
		r.png("03-orientation.png", r.orientation(f))
		r.json("03-orientation.json", f)
	case fingerprint.StageFrequency:
		f, _ := data.(*fingerprint.FrequencyField)
		if f == nil {
			break
		}
		r.png("04-frequency.png", blockMap(f.BlockSize, f.Cols, f.Rows, f.Period, 4, 16, r.size()))
		r.json("04-frequency.json", f)
	case fingerprint.StageEnhanced:
		r.png("05-enhanced.png", asImage(data))
	case fingerprint.StageBinary:
		r.png("06-binary.png", asImage(data))
	case fingerprint.StageSkeleton:
		r.skel, _ = data.(*image.Gray)
		r.png("07-skeleton.png", asImage(data))
	case fingerprint.StageRawMinutiae:
		ms, _ := data.([]fingerprint.Minutia)
		r.png("08-minutiae-raw.png", r.minutiae(r.skel, ms))
		r.json("08-minutiae-raw.json", jsonMinutiae(ms))
	case fingerprint.StageQuality:
		f, _ := data.(*fingerprint.QualityField)
		if f == nil {
			break
		}
		r.png("09-quality.png", blockMap(f.BlockSize, f.Cols, f.Rows, f.Quality, 0, 1, r.size()))
		if len(f.Clarity) == f.Cols*f.Rows {
			r.png("09-clarity.png", blockMap(f.BlockSize, f.Cols, f.Rows, f.Clarity, 0, 1, r.size()))
		}
		r.json("09-quality.json", f)
	case fingerprint.StageMinutiae:
		ms, _ := data.([]fingerprint.Minutia)
		r.png("10-minutiae.png", r.minutiae(r.base, ms))
		r.json("10-minutiae.json", jsonMinutiae(ms))
	default:
		r.json(string(stage)+".json", data)
	}
}

// asImage returns data as an image if it is a non-nil *image.Gray, else nil.
func asImage(data any) image.Image {
	if g, ok := data.(*image.Gray); ok && g != nil {
		return g
	}
	return nil
}

// WriteTemplate writes the final template as template.json.
func (r *Recorder) WriteTemplate(t fingerprint.Template) error {
	if r.err != nil {
		return r.err
	}
	r.json("template.json", struct {
		Width, Height, DPI, Quality int
		Minutiae                    []jsonMinutia
	}{t.Width, t.Height, t.DPI, t.Quality, jsonMinutiae(t.Minutiae)})
	return r.err
}

// jsonMinutia is a minutia with its angle also in degrees, for reading.
type jsonMinutia struct {
	X, Y    int
	Angle   float64 // radians, as fingerprint.Minutia
	Degrees float64
	Type    string
	Quality uint8
}

func jsonMinutiae(ms []fingerprint.Minutia) []jsonMinutia {
	out := make([]jsonMinutia, len(ms))
	for i, m := range ms {
		t := "other"
		switch m.Type {
		case fingerprint.Ending:
			t = "ending"
		case fingerprint.Bifurcation:
			t = "bifurcation"
		}
		out[i] = jsonMinutia{m.X, m.Y, m.Angle, math.Round(m.Angle*180/math.Pi*10) / 10, t, m.Quality}
	}
	return out
}

func (r *Recorder) size() image.Rectangle {
	if r.base != nil {
		return r.base.Bounds()
	}
	return image.Rect(0, 0, 1, 1)
}

func (r *Recorder) png(name string, img image.Image) {
	if r.err != nil || img == nil || img.Bounds().Empty() {
		return
	}
	f, err := os.Create(filepath.Join(r.dir, name))
	if err != nil {
		r.err = fmt.Errorf("explain: %w", err)
		return
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		r.err = fmt.Errorf("explain: %s: %w", name, err)
		return
	}
	if err := f.Close(); err != nil {
		r.err = fmt.Errorf("explain: %s: %w", name, err)
		return
	}
	r.Files = append(r.Files, name)
}

func (r *Recorder) json(name string, v any) {
	if r.err != nil {
		return
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		r.err = fmt.Errorf("explain: %s: %w", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(r.dir, name), append(b, '\n'), 0o644); err != nil {
		r.err = fmt.Errorf("explain: %w", err)
		return
	}
	r.Files = append(r.Files, name)
}

// faded returns a colour copy of g with its contrast halved, as the
// background for drawings.
func faded(g *image.Gray, b image.Rectangle) *image.RGBA {
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			v := uint8(255)
			if g != nil && (image.Point{x, y}).In(g.Bounds()) {
				v = 128 + g.GrayAt(x, y).Y/2
			}
			out.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	return out
}

// maskOverlay shows the image with the background tinted blue.
func (r *Recorder) maskOverlay(mask *image.Gray) image.Image {
	if mask == nil || r.base == nil {
		return nil
	}
	out := faded(r.base, mask.Bounds())
	for y := 0; y < mask.Rect.Dy(); y++ {
		for x := 0; x < mask.Rect.Dx(); x++ {
			if mask.GrayAt(x, y).Y == 0 {
				c := out.RGBAAt(x, y)
				out.SetRGBA(x, y, color.RGBA{c.R / 2, c.G / 2, 160, 255})
			}
		}
	}
	return out
}

// orientation draws each foreground block's ridge direction as a segment
// through the block's centre, red for coherent blocks, yellow for weak ones.
func (r *Recorder) orientation(f *fingerprint.OrientationField) image.Image {
	out := faded(r.base, r.size())
	for i, a := range f.Angle {
		if !f.Foreground[i] {
			continue
		}
		cx := float64((i%f.Cols)*f.BlockSize) + float64(f.BlockSize)/2
		cy := float64((i/f.Cols)*f.BlockSize) + float64(f.BlockSize)/2
		dx, dy := math.Cos(a)*float64(f.BlockSize)*0.45, -math.Sin(a)*float64(f.BlockSize)*0.45
		c := color.RGBA{220, 0, 0, 255}
		if f.Coherence[i] < 0.3 {
			c = color.RGBA{230, 170, 0, 255}
		}
		line(out, cx-dx, cy-dy, cx+dx, cy+dy, c)
	}
	return out
}

// minutiae draws minutiae over bg: a circle at the point and a tail in the
// minutia's direction, red for endings, blue for bifurcations.
func (r *Recorder) minutiae(bg *image.Gray, ms []fingerprint.Minutia) image.Image {
	out := faded(bg, r.size())
	for _, m := range ms {
		c := color.RGBA{230, 0, 0, 255}
		if m.Type == fingerprint.Bifurcation {
			c = color.RGBA{0, 60, 230, 255}
		}
		x, y := float64(m.X), float64(m.Y)
		for k := 0; k < 24; k++ {
			t := float64(k) * math.Pi / 12
			out.SetRGBA(int(math.Round(x+4*math.Cos(t))), int(math.Round(y+4*math.Sin(t))), c)
		}
		line(out, x, y, x+12*math.Cos(m.Angle), y-12*math.Sin(m.Angle), c)
	}
	return out
}

// line draws a segment by sampling it every half pixel.
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(2*math.Hypot(x1-x0, y1-y0)) + 1
	for k := 0; k <= n; k++ {
		t := float64(k) / float64(n)
		img.SetRGBA(int(math.Round(x0+t*(x1-x0))), int(math.Round(y0+t*(y1-y0))), c)
	}
}

// blockMap renders a block-grid field as grey levels, lo black, hi white,
// zero (background) in blue.
func blockMap(bs, cols, rows int, v []float64, lo, hi float64, b image.Rectangle) image.Image {
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c, r := x/bs, y/bs
			if c >= cols || r >= rows {
				continue
			}
			f := v[r*cols+c]
			if f == 0 {
				out.SetRGBA(x, y, color.RGBA{40, 40, 120, 255})
				continue
			}
			g := uint8(math.Max(0, math.Min(255, 255*(f-lo)/(hi-lo))))
			out.SetRGBA(x, y, color.RGBA{g, g, g, 255})
		}
	}
	return out
}
