package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// Image limits: a photo larger than this is refused from its header, before
// any pixel is decoded, so that a hostile file cannot make the node allocate
// gigabytes. 40 megapixels covers any camera a border post uses.
const (
	MaxSide   = 12000
	MaxPixels = 40_000_000
)

// RGB is a decoded image: W×H pixels of three bytes, row-major.
type RGB struct {
	W, H int
	Pix  []uint8
}

// at returns channel c of pixel (x, y), clamping coordinates to the image.
func (m *RGB) at(x, y, c int) float32 {
	x = min(max(x, 0), m.W-1)
	y = min(max(y, 0), m.H-1)
	return float32(m.Pix[(y*m.W+x)*3+c])
}

// Decode reads a JPEG or PNG photo after checking its dimensions from the
// header against MaxSide and MaxPixels.
func Decode(b []byte) (*RGB, error) { return DecodeLimit(b, 0) }

// DecodeLimit is Decode with a tighter bound on the pixels (0: MaxPixels).
func DecodeLimit(b []byte, maxPixels int) (*RGB, error) {
	if maxPixels <= 0 || maxPixels > MaxPixels {
		maxPixels = MaxPixels
	}
	var dec func([]byte) (image.Image, error)
	var cfg image.Config
	var err error
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
		dec = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
		dec = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(b, []byte{0, 0, 0, 0x0c, 'j', 'P'}) || bytes.HasPrefix(b, []byte{0xff, 0x4f, 0xff, 0x51}):
		return nil, &Error{Code: CodeUnsupportedImage, Msg: "JPEG 2000 images are not supported: convert the face image to JPEG or PNG"}
	default:
		return nil, &Error{Code: CodeUnreadable, Msg: "the image is neither JPEG nor PNG"}
	}
	if err != nil {
		return nil, &Error{Code: CodeUnreadable, Msg: fmt.Sprintf("image header: %v", err)}
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width*cfg.Height > maxPixels {
		return nil, &Error{Code: CodeTooLarge, Msg: fmt.Sprintf("image is %dx%d pixels; at most %dx%d and %d pixels are accepted",
			cfg.Width, cfg.Height, MaxSide, MaxSide, maxPixels)}
	}
	img, err := dec(b)
	if err != nil {
		return nil, &Error{Code: CodeUnreadable, Msg: fmt.Sprintf("image data: %v", err)}
	}
	return FromImage(img), nil
}

// FromImage converts any image to RGB, with fast paths for the types the
// standard decoders return.
func FromImage(img image.Image) *RGB {
	r := img.Bounds()
	m := &RGB{W: r.Dx(), H: r.Dy(), Pix: make([]uint8, r.Dx()*r.Dy()*3)}
	i := 0
	switch s := img.(type) {
	case *image.YCbCr:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				yi, ci := s.YOffset(x, y), s.COffset(x, y)
				m.Pix[i], m.Pix[i+1], m.Pix[i+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				i += 3
			}
		}
	case *image.Gray:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				v := s.Pix[s.PixOffset(x, y)]
				m.Pix[i], m.Pix[i+1], m.Pix[i+2] = v, v, v
				i += 3
			}
		}
	case *image.NRGBA:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				o := s.PixOffset(x, y)
				copy(m.Pix[i:i+3], s.Pix[o:o+3])
				i += 3
			}
		}
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				m.Pix[i], m.Pix[i+1], m.Pix[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
	return m
}

// Code classifies a pipeline failure for the node's API errors.
type Code string

const (
	CodeUnreadable       Code = "image_unreadable"
	CodeUnsupportedImage Code = "image_format_unsupported"
	CodeTooLarge         Code = "image_too_large"
	CodeNoFace           Code = "no_face"
	CodeSeveralFaces     Code = "several_faces"
	CodeFaceTooSmall     Code = "face_too_small"
	CodePose             Code = "face_pose"
)

// Error is a face that could not be enrolled, with the reason.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return "face: " + e.Msg }

// CodeOf returns the Code of a pipeline error, or "" for other errors.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
