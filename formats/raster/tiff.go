package raster

import (
	"encoding/binary"
	"image"
)

// decodeGrayTIFF decodes the simplest TIFF layout, which is what
// fingerprint sensors and the FVC data sets write: one uncompressed 8-bit
// grey channel in strips. It is an exact shortcut for
// golang.org/x/image/tiff, whose general decoder reads such an image one
// pixel at a time through a bit reader (0.85 ms of CPU for a 296 x 560 FVC
// image, about a tenth of its extraction): ok is true only when that
// decoder would succeed too, and the pixels are then the ones it gives
// (WhiteIsZero inverted as it does). Anything else (compression, a
// predictor, tiles, another depth, a strip that is short or out of the
// data, a value stored out of line) returns ok false, and the caller falls
// back to the general decoder, which decodes it or says what is wrong.
//
// The caller must already have run image.DecodeConfig on data with success
// (format "tiff"): that validates the header and every IFD entry the
// general decoder reads, so only the strip tables remain to check here.
// The image has already been bounded (DefaultMaxPixels) by the caller.
func decodeGrayTIFF(data []byte) (img *image.Gray, ok bool) {
	if len(data) < 8 {
		return nil, false
	}
	var bo binary.ByteOrder
	switch string(data[:4]) {
	case "II\x2A\x00":
		bo = binary.LittleEndian
	case "MM\x00\x2A":
		bo = binary.BigEndian
	default:
		return nil, false
	}
	ifd := int64(bo.Uint32(data[4:8]))
	if ifd+2 > int64(len(data)) {
		return nil, false
	}
	n := int64(bo.Uint16(data[ifd:]))
	if ifd+2+12*n > int64(len(data)) {
		return nil, false
	}
	const (
		tWidth, tLength, tBits, tCompression, tPhotometric = 256, 257, 258, 259, 262
		tStripOffsets, tRowsPerStrip, tStripByteCounts     = 273, 278, 279
		tPredictor, tColorMap, tTileWidth, tSampleFormat   = 317, 320, 322, 339
		tTileLength, tTileOffsets, tTileByteCounts         = 323, 324, 325
	)
	// first is the first value of an entry whose values are stored in the
	// entry itself, as the general decoder reads it (0 for no values);
	// present says whether the tag was there at all.
	var first [340]uint32
	var present [340]bool
	var offsets, counts []byte // the strip tables' entries
	for i := int64(0); i < n; i++ {
		e := data[ifd+2+12*i : ifd+2+12*i+12]
		tag := int(bo.Uint16(e))
		switch tag {
		case tStripOffsets:
			offsets = e
			continue
		case tStripByteCounts:
			counts = e
			continue
		case tColorMap, tTileWidth, tTileLength, tTileOffsets, tTileByteCounts, tSampleFormat:
			return nil, false // tiles, palettes, sample formats: the general decoder
		}
		if tag >= len(first) {
			continue
		}
		present[tag] = true
		count := bo.Uint32(e[4:])
		if count == 0 {
			continue
		}
		switch dt := bo.Uint16(e[2:]); {
		case dt == 1 && count <= 4:
			first[tag] = uint32(e[8])
		case dt == 3 && count <= 2:
			first[tag] = uint32(bo.Uint16(e[8:]))
		case dt == 4 && count == 1:
			first[tag] = bo.Uint32(e[8:])
		default:
			switch tag {
			case tWidth, tLength, tBits, tCompression, tPhotometric, tRowsPerStrip, tPredictor:
				return nil, false // out of line or of another type: the general decoder
			}
		}
	}
	w, h := int(first[tWidth]), int(first[tLength])
	if w <= 0 || h <= 0 || !present[tBits] || first[tBits] != 8 ||
		first[tCompression] > 1 || first[tPhotometric] > 1 ||
		(present[tPredictor] && first[tPredictor] != 1) || offsets == nil || counts == nil {
		return nil, false
	}
	invert := first[tPhotometric] == 0 // WhiteIsZero (also when the tag is missing, as the general decoder reads it)
	rows := h
	if v := int(first[tRowsPerStrip]); v > 0 && v < h {
		rows = v
	}
	strips := (h + rows - 1) / rows
	offs, ok1 := tiffTable(data, bo, offsets, strips)
	cnts, ok2 := tiffTable(data, bo, counts, strips)
	if !ok1 || !ok2 {
		return nil, false
	}
	img = image.NewGray(image.Rect(0, 0, w, h))
	for j := 0; j < strips; j++ {
		off, cnt := int64(offs(j)), int64(cnts(j))
		y0, y1 := j*rows, min((j+1)*rows, h)
		// The general decoder refuses a strip over 8 bytes a pixel, one
		// past the data, and one short of its rows' pixels.
		if cnt > int64(w)*int64(rows)*8 || off+cnt > int64(len(data)) || cnt < int64(w)*int64(y1-y0) {
			return nil, false
		}
		src := data[off : off+int64(w)*int64(y1-y0)]
		dst := img.Pix[y0*w : y1*w]
		if invert {
			for i, v := range src {
				dst[i] = 0xff - v
			}
		} else {
			copy(dst, src)
		}
	}
	return img, true
}

// tiffTable returns an accessor for the first n values of the IFD entry e
// (BYTE, SHORT or LONG, in the entry or at the offset it holds), or false
// when there are fewer or they lie outside data.
func tiffTable(data []byte, bo binary.ByteOrder, e []byte, n int) (func(int) uint32, bool) {
	size := map[uint16]int64{1: 1, 3: 2, 4: 4}[bo.Uint16(e[2:])]
	count := int64(bo.Uint32(e[4:]))
	// The general decoder refuses a count over 2³¹-1 bytes.
	if size == 0 || count < int64(n) || count > (1<<31-1)/size {
		return nil, false
	}
	raw := e[8:12]
	if size*count > 4 {
		at := int64(bo.Uint32(e[8:]))
		if at+size*int64(n) > int64(len(data)) {
			return nil, false
		}
		raw = data[at : at+size*int64(n)]
	}
	switch size {
	case 1:
		return func(i int) uint32 { return uint32(raw[i]) }, true
	case 2:
		return func(i int) uint32 { return uint32(bo.Uint16(raw[2*i:])) }, true
	}
	return func(i int) uint32 { return bo.Uint32(raw[4*i:]) }, true
}
