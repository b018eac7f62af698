package main

import (
	"fmt"
	"os"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/formats/raster"
)

func init() {
	register("compare", "score a fingerprint (image or ISO/ANSI template) against others", runCompare)
}

func runCompare(args []string) int {
	fs := newFlagSet("compare", "usage: ebsp compare [flags] A B...\n\nPrints the similarity of fingerprint A to each B: 0 (no evidence of the same\nfinger) to 1. A and B are images (PNG, TIFF, BMP, JPEG) or ISO/IEC 19794-2:2005\nor ANSI INCITS 378-2004 minutiae records (first finger view).")
	dpi := fs.Int("dpi", 500, "resolution of the `images` in pixels per inch (templates carry their own)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	explain := fs.Bool("pairs", false, "also list the paired minutiae (probe index, gallery index, similarity)")
	anyRotation := fs.Bool("any-rotation", false, "pair minutiae whatever their directions, to find any rotation between A and B (by default up to about 45°: fingers placed upright)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	probe, err := loadFingerprint(fs.Arg(0), *dpi)
	if err != nil {
		return fail("compare", fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	m := fingerprint.NewMatcherWith(probe, fingerprint.MatchOptions{AnyRotation: *anyRotation})
	type result struct {
		File  string                    `json:"file"`
		Score float64                   `json:"score"`
		Error string                    `json:"error,omitempty"`
		Pairs []fingerprint.MinutiaPair `json:"pairs,omitempty"`
		// Verification is the global verification's term (with --pairs):
		// 0.2 times it is part of the score (fingerprint.Pairing.Verified).
		Verification float64 `json:"verification,omitempty"`
	}
	var results []result
	code := 0
	for _, path := range fs.Args()[1:] {
		t, err := loadFingerprint(path, *dpi)
		if err != nil {
			results = append(results, result{File: path, Error: fmt.Sprintf("%s: %v", path, err)})
			code = 1
			continue
		}
		p := m.Pairing(fingerprint.Prepare(t))
		r := result{File: path, Score: p.Score}
		if *explain {
			r.Pairs, r.Verification = p.Pairs, p.Verified
		}
		results = append(results, r)
	}
	if *asJSON {
		out := struct {
			Probe   string   `json:"probe"`
			Results []result `json:"results"`
		}{fs.Arg(0), results}
		if err := printJSON(out); err != nil {
			return fail("compare", err)
		}
		return code
	}
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(os.Stderr, "ebsp compare: %s\n", r.Error)
			continue
		}
		fmt.Printf("%.4f\t%s\n", r.Score, r.File)
		if *explain {
			fmt.Printf("\tglobal verification: %.3f of the overlap's minutiae paired (0.2 of it in the score)\n", r.Verification)
		}
		for _, p := range r.Pairs {
			fmt.Printf("\tprobe %3d  gallery %3d  local %.3f  relaxed %.3f\n", p.Probe, p.Gallery, p.Local, p.Relaxed)
		}
	}
	return code
}

// maxSampleBytes bounds what is read of a sample file: a 4096×4096
// uncompressed image plus headers.
const maxSampleBytes = 17 << 20

// loadFingerprint makes the template of a file: a minutiae record is read
// (its first finger view), an image goes through fingerprint extraction at
// dpi. It returns how long making the template took, reading the file
// excluded.
func loadFingerprint(path string, dpi int) (fingerprint.Template, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fingerprint.Template{}, err
	}
	if st.Size() > maxSampleBytes {
		return fingerprint.Template{}, fmt.Errorf("%d bytes, more than the %d a fingerprint sample may have", st.Size(), maxSampleBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fingerprint.Template{}, err
	}
	if len(data) >= 4 && string(data[:4]) == "FMR\x00" {
		rec, _, err := iso19794.ParseMinutiae(data)
		if err != nil {
			return fingerprint.Template{}, err
		}
		t, err := rec.Template(0)
		if err != nil {
			return fingerprint.Template{}, err
		}
		return t, nil
	}
	return extractImage(data, dpi)
}

// extractImage decodes an image (formats/raster bounds its size) and
// extracts its minutiae.
func extractImage(data []byte, dpi int) (fingerprint.Template, error) {
	img, _, err := raster.Decode(data, 0)
	if err != nil {
		return fingerprint.Template{}, err
	}
	return fingerprint.Extract(img, dpi, nil)
}
