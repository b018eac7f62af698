package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"sort"
	"strings"

	"github.com/ebsp/ebsp/formats/wsq"
)

func init() {
	register("wsq", "decode, encode and inspect WSQ fingerprint images", runWSQ)
}

const wsqUsage = `usage:
  ebsp wsq decode IN.wsq OUT.png
  ebsp wsq info IN.wsq [--json]

decode  decodes a WSQ image to an 8-bit grey PNG
info    prints the frame, tables, blocks and comments of a WSQ file
`

func runWSQ(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(os.Stderr, wsqUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "decode":
		return wsqDecode(args[1:])
	case "info":
		return wsqInfo(args[1:])
	}
	fmt.Fprintf(os.Stderr, "ebsp wsq: unknown subcommand %q\n%s", args[0], wsqUsage)
	return 2
}

// parseInterspersed parses flags that may come before or after the
// positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func wsqDecode(args []string) int {
	fs := flag.NewFlagSet("wsq decode", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ebsp wsq decode IN.wsq OUT.png\n\nDecodes a WSQ image and writes it as an 8-bit grey PNG.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
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

func wsqInfo(args []string) int {
	fs := flag.NewFlagSet("wsq info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the metadata as JSON")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ebsp wsq info IN.wsq [--json]\n\nPrints what a WSQ file says about its image without decoding the pixels.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
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
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(struct {
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
