// Package raster decodes the still-image formats a node accepts for
// fingerprint, face and iris samples (PNG, JPEG, BMP, TIFF) into 8-bit grey
// images, with the memory a decode may take bounded before any pixel is
// read. WSQ, the fingerprint-specific codec, lives in formats/wsq.
package raster

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode

	_ "golang.org/x/image/bmp"  // registers BMP
	_ "golang.org/x/image/tiff" // registers TIFF
)

// DefaultMaxPixels bounds the size of an image Decode accepts: 4096 x 4096
// is larger than a 1000 ppi full tenprint card scan of one finger box, and a
// decoded grey image of that size takes 16 MiB.
const DefaultMaxPixels = 4096 * 4096

// Errors that callers map to precise API errors.
var (
	ErrFormat   = errors.New("raster: unknown or corrupt image format")
	ErrTooLarge = errors.New("raster: image too large")
	ErrEmpty    = errors.New("raster: empty image")
)

// Format sniffs data and returns the image format's name ("png", "jpeg",
// "bmp", "tiff") without decoding pixels.
func Format(data []byte) (string, error) {
	_, name, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return name, nil
}

// Decode reads an image and converts it to 8-bit grey. It reads the header
// first and refuses images with more than maxPixels pixels (DefaultMaxPixels
// when maxPixels <= 0) or a zero dimension, so that a small file cannot ask
// for a huge allocation.
func Decode(data []byte, maxPixels int) (*image.Gray, string, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) == 0 {
		return nil, "", ErrEmpty
	}
	cfg, name, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, name, fmt.Errorf("%w: %s of %dx%d pixels", ErrEmpty, name, cfg.Width, cfg.Height)
	}
	if cfg.Width > maxPixels/cfg.Height {
		return nil, name, fmt.Errorf("%w: %s of %dx%d pixels, limit %d pixels", ErrTooLarge, name, cfg.Width, cfg.Height, maxPixels)
	}
	if name == "tiff" {
		if g, ok := decodeGrayTIFF(data); ok {
			return g, name, nil
		}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, name, fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
	}
	return Gray(img), name, nil
}

// Gray converts any image to 8-bit grey with its origin at (0, 0).
func Gray(img image.Image) *image.Gray {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}
