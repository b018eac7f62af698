package main

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/formats/wsq"
)

func init() {
	register("wsq", "decode, encode and inspect WSQ fingerprint images", runWSQ)
}

const wsqUsage = `usage: ebsp wsq decode IN.wsq OUT.png
       ebsp wsq encode IN.png OUT.wsq [--bitrate R] [--ppi N] [--json]
       ebsp wsq info IN.wsq [--json]

decode  decodes a WSQ image to an 8-bit grey PNG
encode  compresses an image (PNG, JPEG, BMP, TIFF; colour becomes grey) to WSQ
        and prints the size, ratio and the PSNR of decoding it back
info    prints the frame, tables, blocks and comments of a WSQ file

'ebsp wsq <decode|encode|info> -h' explains the flags.`

func runWSQ(args []string) int {
	return dispatch("wsq", wsqUsage, args,
		map[string]func([]string) int{"decode": wsqDecode, "encode": wsqEncode, "info": wsqInfo})
}

func wsqDecode(args []string) int {
	fs := newFlagSet("wsq decode", "usage: ebsp wsq decode IN.wsq OUT.png\n\nDecodes a WSQ image and writes it as an 8-bit grey PNG.")
	pos, ok, code := parseArgs(fs, args, nArgs(2))
	if !ok {
		return code
	}
	in, err := os.Open(pos[0])
	if err != nil {
		return fail("wsq decode", err)
	}
	defer in.Close()
	img, meta, err := wsq.DecodeWithOptions(in, nil)
	if err != nil {
		return fail("wsq decode", fmt.Errorf("%s: %w", pos[0], err))
	}
	out, err := os.Create(pos[1])
	if err != nil {
		return fail("wsq decode", err)
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return fail("wsq decode", err)
	}
	if err := out.Close(); err != nil {
		return fail("wsq decode", err)
	}
	for _, w := range meta.Warnings {
		fmt.Fprintf(os.Stderr, "ebsp wsq decode: warning: %s\n", w)
	}
	fmt.Printf("%s: %dx%d, %d ppi, %.3f bpp -> %s\n", pos[0], meta.Width, meta.Height, meta.PPI, meta.BitsPerPixel(), pos[1])
	return 0
}

func wsqEncode(args []string) int {
	fs := newFlagSet("wsq encode", "usage: ebsp wsq encode IN.png OUT.wsq [--bitrate R] [--ppi N] [--restart N] [--raw WxH] [--json]\n\n"+
		"Compresses an image to WSQ, decodes the result again and prints the size, the\n"+
		"compression ratio and the PSNR of the round trip against the input.")
	bitrate := fs.Float64("bitrate", wsq.DefaultBitrate, "target bit rate in bits per pixel (0.75 is the FBI's rate for 500 ppi prints; the coded rate comes out near or below it)")
	ppi := fs.Int("ppi", 0, "scan resolution recorded in the NISTCOM comment (0: unknown, written as -1)")
	restart := fs.Int("restart", 0, "write a restart marker every N Huffman symbols (0: none)")
	raw := fs.String("raw", "", "read IN as raw 8-bit grey pixels of this size, WIDTHxHEIGHT (e.g. 1508x1008)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, ok, code := parseArgs(fs, args, nArgs(2))
	if !ok {
		return code
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fail("wsq encode", err)
	}
	var img *image.Gray
	format := "raw"
	if *raw != "" {
		var w, h int
		if _, err := fmt.Sscanf(*raw, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 || w > raster.DefaultMaxPixels/h {
			return fail("wsq encode", fmt.Errorf("--raw %q: want WIDTHxHEIGHT", *raw))
		}
		if len(data) != w*h {
			return fail("wsq encode", fmt.Errorf("%s: %d bytes, a %dx%d raw image has %d", pos[0], len(data), w, h, w*h))
		}
		img = &image.Gray{Pix: data, Stride: w, Rect: image.Rect(0, 0, w, h)}
	} else if img, format, err = raster.Decode(data, 0); err != nil {
		return fail("wsq encode", fmt.Errorf("%s: %w", pos[0], err))
	}
	out, err := wsq.EncodeBytes(img, &wsq.Options{Bitrate: *bitrate, PPI: *ppi, RestartInterval: *restart})
	if err != nil {
		return fail("wsq encode", err)
	}
	back, meta, err := wsq.DecodeBytes(out, nil)
	if err != nil {
		return fail("wsq encode", fmt.Errorf("reading back the encoded image: %w", err))
	}
	if err := os.WriteFile(pos[1], out, 0o644); err != nil {
		return fail("wsq encode", err)
	}
	var se float64
	for i, p := range img.Pix {
		d := float64(p) - float64(back.Pix[i])
		se += d * d
	}
	n := float64(len(img.Pix))
	psnr := math.Inf(1)
	if se > 0 {
		psnr = 10 * math.Log10(255*255/(se/n))
	}
	r := struct {
		In            string  `json:"in"`
		Out           string  `json:"out"`
		Format        string  `json:"format"`
		Width         int     `json:"width"`
		Height        int     `json:"height"`
		Bytes         int     `json:"bytes"`
		BitsPerPixel  float64 `json:"bits_per_pixel"`
		Ratio         float64 `json:"ratio"`
		PSNR          float64 `json:"psnr_db"`
		TargetBitrate float64 `json:"target_bitrate"`
	}{pos[0], pos[1], format, meta.Width, meta.Height, len(out), meta.BitsPerPixel(), n / float64(len(out)), psnr, *bitrate}
	if *asJSON {
		if math.IsInf(r.PSNR, 1) {
			r.PSNR = 999 // JSON has no infinity; a lossless round trip
		}
		return emitJSON("wsq encode", r)
	}
	fmt.Printf("%s (%s, %dx%d) -> %s: %d bytes, %.3f bpp, ratio %.1f:1, PSNR %.2f dB (target %.2f bpp)\n",
		r.In, r.Format, r.Width, r.Height, r.Out, r.Bytes, r.BitsPerPixel, r.Ratio, r.PSNR, r.TargetBitrate)
	return 0
}

func wsqInfo(args []string) int {
	fs := newFlagSet("wsq info", "usage: ebsp wsq info IN.wsq [--json]\n\nPrints what a WSQ file says about its image without decoding the pixels.")
	asJSON := fs.Bool("json", false, "print the metadata as JSON")
	pos, ok, code := parseArgs(fs, args, nArgs(1))
	if !ok {
		return code
	}
	in, err := os.Open(pos[0])
	if err != nil {
		return fail("wsq info", err)
	}
	defer in.Close()
	m, err := wsq.ReadMetadata(in)
	if err != nil {
		return fail("wsq info", fmt.Errorf("%s: %w", pos[0], err))
	}
	if *asJSON {
		if err := printJSON(struct {
			File string `json:"file"`
			*wsq.Metadata
			BitsPerPixel float64 `json:"bits_per_pixel"`
		}{pos[0], m, m.BitsPerPixel()}); err != nil {
			return fail("wsq info", err)
		}
		return 0
	}
	fmt.Printf("file         %s (%d bytes)\n", pos[0], m.Size)
	fmt.Printf("frame        %dx%d, black %d, white %d\n", m.Width, m.Height, m.Black, m.White)
	fmt.Printf("ppi          %d\n", m.PPI)
	fmt.Printf("rate         %.3f bits per pixel (%.1f:1)\n", m.BitsPerPixel(), 8/max(m.BitsPerPixel(), 1e-9))
	fmt.Printf("encoder      %d, software %d\n", m.Encoder, m.Software)
	fmt.Printf("shift/scale  %g / %g\n", m.Shift, m.Scale)
	fmt.Printf("filters      %d-tap lowpass, %d-tap highpass\n", m.LowpassTaps, m.HighpassTaps)
	fmt.Printf("huffman      tables %v, %d blocks\n", m.HuffmanTables, m.Blocks)
	fmt.Printf("restarts     interval %d, %d markers\n", m.RestartInterval, m.Restarts)
	for i, c := range m.Comments {
		if m.NISTCOM != nil && strings.HasPrefix(c, "NIST_COM") {
			continue
		}
		fmt.Printf("comment %d    %q\n", i, c)
	}
	if m.NISTCOM != nil {
		keys := make([]string, 0, len(m.NISTCOM))
		for k := range m.NISTCOM {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Println("NISTCOM")
		for _, k := range keys {
			fmt.Printf("  %-12s %s\n", k, m.NISTCOM[k])
		}
	}
	for _, w := range m.Warnings {
		fmt.Printf("warning      %s\n", w)
	}
	return 0
}
