package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/explain"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/formats/raster"
)

func init() {
	register("template", "extract fingerprint minutiae templates, explain and dump them", tmplMain)
}

const tmplUsage = `usage: ebsp template --explain OUTDIR IMAGE [--dpi N]
       ebsp template extract IMAGE [--dpi N] [--format FORMAT] -o OUT
       ebsp template dump FILE [--view N] [--json]
       ebsp template convert IN OUT --to FORMAT [--json]

--explain writes every extraction stage as PNG and JSON; extract writes a
minutiae template (ISO/IEC 19794-2:2005 by default); dump prints a template
(any ISO or ANSI edition, or JSON); convert rewrites a minutiae record in
another edition and says what the conversion loses. FORMAT is iso2005 (or
iso), iso2011, ansi2004 (or ansi), ansi2009, ansi2009am1, and for extract
also json. IMAGE is PNG, JPEG, BMP or TIFF, 8-bit grey or colour.
'ebsp template SUBCOMMAND -h' explains a subcommand's flags.`

// tmplFormats names the minutiae record formats on the command line.
var tmplFormats = map[string]iso19794.MinutiaeFormat{
	"iso": iso19794.ISO19794_2_2005, "iso2005": iso19794.ISO19794_2_2005, "iso2011": iso19794.ISO19794_2_2011,
	"ansi": iso19794.ANSI378_2004, "ansi2004": iso19794.ANSI378_2004, "ansi2009": iso19794.ANSI378_2009,
	"ansi2009am1": iso19794.ANSI378_2009AM1,
}

func tmplMain(args []string) int {
	if code, ran := runSub(args, map[string]func([]string) int{"extract": tmplExtract, "dump": tmplDump, "convert": tmplConvert}); ran {
		return code
	}
	fs := newFlagSet("template", tmplUsage)
	outDir := fs.String("explain", "", "write the stages of the extraction into folder `OUTDIR`")
	dpi := fs.Int("dpi", 500, "resolution of IMAGE in pixels per inch")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, ok, code := parseArgs(fs, args, func(pos []string) bool { return *outDir != "" && len(pos) == 1 })
	if !ok {
		return code
	}
	img, err := tmplReadImage(pos[0])
	if err != nil {
		return fail("template", err)
	}
	rec, err := explain.New(*outDir)
	if err != nil {
		return fail("template", err)
	}
	start := time.Now()
	t, xerr := fingerprint.Extract(img, *dpi, &fingerprint.Options{Transparency: rec})
	elapsed := time.Since(start)
	if rec.Err() != nil {
		return fail("template", rec.Err())
	}
	if xerr == nil {
		if err := rec.WriteTemplate(t); err != nil {
			return fail("template", err)
		}
	}
	if *asJSON {
		out := map[string]any{"dir": *outDir, "files": rec.Files, "minutiae": len(t.Minutiae), "quality": t.Quality,
			"ms": float64(elapsed.Microseconds()) / 1000}
		if xerr != nil {
			out["error"] = xerr.Error()
		}
		_ = printJSON(out)
	} else {
		fmt.Printf("%s: wrote %d files (%s)\n", *outDir, len(rec.Files), strings.Join(rec.Files, ", "))
		if xerr == nil {
			fmt.Printf("%d minutiae, quality %d, %dx%d px at 500 ppi (extraction with explanation %.1f ms)\n",
				len(t.Minutiae), t.Quality, t.Width, t.Height, float64(elapsed.Microseconds())/1000)
		}
	}
	if xerr != nil {
		return fail("template", xerr)
	}
	return 0
}

func tmplExtract(args []string) int {
	fs := newFlagSet("template extract", "usage: ebsp template extract IMAGE [--dpi N] [--format iso2005|iso2011|ansi2004|ansi2009|ansi2009am1|json] -o OUT")
	dpi := fs.Int("dpi", 500, "resolution of IMAGE in pixels per inch")
	out := fs.String("o", "", "write the template to `OUT` ('-' for standard output)")
	format := fs.String("format", "iso", "template format: iso or iso2005 (ISO/IEC 19794-2:2005), iso2011, ansi or ansi2004 (ANSI INCITS 378-2004), ansi2009, ansi2009am1, or json")
	finger := fs.Int("finger", 0, "finger position code 0-10 to record (0 unknown)")
	pos, ok, code := parseArgs(fs, args, func(pos []string) bool { return *out != "" && len(pos) == 1 })
	if !ok {
		return code
	}
	img, err := tmplReadImage(pos[0])
	if err != nil {
		return fail("template extract", err)
	}
	t, err := fingerprint.Extract(img, *dpi, nil)
	if err != nil {
		return fail("template extract", fmt.Errorf("%s: %w", pos[0], err))
	}
	var data []byte
	f, isRecord := tmplFormats[*format]
	switch {
	case isRecord:
		rec, err := iso19794.MinutiaeRecordFromTemplate(t, f, biometric.FingerPosition(*finger))
		if err != nil {
			return fail("template extract", err)
		}
		if data, err = rec.Marshal(); err != nil {
			return fail("template extract", err)
		}
	case *format == "json":
		if data, err = json.MarshalIndent(tmplFile{Format: tmplFormat, Template: t}, "", " "); err != nil {
			return fail("template extract", err)
		}
		data = append(data, '\n')
	default:
		return fail("template extract", fmt.Errorf("unknown --format %q (iso2005, iso2011, ansi2004, ansi2009, ansi2009am1 or json)", *format))
	}
	if *out == "-" {
		_, err = os.Stdout.Write(data)
	} else {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		return fail("template extract", err)
	}
	if *out != "-" {
		fmt.Fprintf(os.Stderr, "%s: %s, %d minutiae, quality %d\n", *out, *format, len(t.Minutiae), t.Quality)
	}
	return 0
}

// tmplFormat names the JSON template file this command writes.
const tmplFormat = "ebsp-fingerprint-template/1"

type tmplFile struct {
	Format   string `json:"format"`
	Template fingerprint.Template
}

func tmplDump(args []string) int {
	fs := newFlagSet("template dump", "usage: ebsp template dump FILE [--json]")
	asJSON := fs.Bool("json", false, "print the template as JSON")
	view := fs.Int("view", 0, "finger view of a record to print")
	pos, ok, code := parseArgs(fs, args, nArgs(1))
	if !ok {
		return code
	}
	data, err := tmplReadFile(pos[0], 16<<20)
	if err != nil {
		return fail("template dump", err)
	}
	var t fingerprint.Template
	kind := tmplFormat
	var f tmplFile
	if rec, warns, err := iso19794.ParseMinutiae(data); err == nil {
		kind = fmt.Sprintf("%s, %d view(s)", rec.Format, len(rec.Views))
		for _, w := range warns {
			fmt.Fprintf(os.Stderr, "%s: warning: %s\n", pos[0], w)
		}
		if t, err = rec.Template(*view); err != nil {
			return fail("template dump", fmt.Errorf("%s: %w", pos[0], err))
		}
	} else if jerr := json.Unmarshal(data, &f); jerr == nil && f.Format == tmplFormat {
		t = f.Template
	} else {
		return fail("template dump", fmt.Errorf("%s: neither a minutiae record (%v) nor an %s file", pos[0], err, tmplFormat))
	}
	if *asJSON {
		return emitJSON("template dump", t)
	}
	fmt.Printf("%s: %s: %dx%d px at %d ppi, quality %d, %d minutiae\n", pos[0], kind, t.Width, t.Height, t.DPI, t.Quality, len(t.Minutiae))
	fmt.Println("     x     y  angle  type         quality")
	for _, m := range t.Minutiae {
		typ := "other"
		switch m.Type {
		case fingerprint.Ending:
			typ = "ending"
		case fingerprint.Bifurcation:
			typ = "bifurcation"
		}
		fmt.Printf("%6d %5d %6.1f  %-12s %3d\n", m.X, m.Y, m.Angle*180/math.Pi, typ, m.Quality)
	}
	return 0
}

func tmplConvert(args []string) int {
	fs := newFlagSet("template convert", "usage: ebsp template convert IN OUT --to iso2005|iso2011|ansi2004|ansi2009|ansi2009am1 [--json]")
	to := fs.String("to", "", "format to write: iso2005, iso2011, ansi2004, ansi2009 or ansi2009am1")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, ok, code := parseArgs(fs, args, func(pos []string) bool { return *to != "" && len(pos) == 2 })
	if !ok {
		return code
	}
	f, known := tmplFormats[*to]
	if !known {
		return fail("template convert", fmt.Errorf("unknown --to %q (iso2005, iso2011, ansi2004, ansi2009 or ansi2009am1)", *to))
	}
	data, err := tmplReadFile(pos[0], 16<<20)
	if err != nil {
		return fail("template convert", err)
	}
	rec, warns, err := iso19794.ParseMinutiae(data)
	if err != nil {
		return fail("template convert", fmt.Errorf("%s: %w", pos[0], err))
	}
	conv, losses, err := iso19794.ConvertMinutiae(rec, f)
	if err != nil {
		return fail("template convert", fmt.Errorf("%s: %w", pos[0], err))
	}
	out, err := conv.Marshal()
	if err != nil {
		return fail("template convert", err)
	}
	if err := os.WriteFile(pos[1], out, 0o644); err != nil {
		return fail("template convert", err)
	}
	var warnings []string
	for _, w := range warns {
		warnings = append(warnings, w.String())
	}
	if *asJSON {
		return emitJSON("template convert", map[string]any{"from": rec.Format.String(), "to": f.String(), "bytes": len(out),
			"views": len(conv.Views), "warnings": warnings, "losses": losses})
	}
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", pos[0], w)
	}
	fmt.Printf("%s (%s) -> %s (%s): %d bytes, %d view(s)\n", pos[0], rec.Format, pos[1], f, len(out), len(conv.Views))
	if len(losses) == 0 {
		fmt.Println("nothing lost")
	}
	for _, l := range losses {
		fmt.Println("lost:", l)
	}
	return 0
}

// tmplReadImage reads and decodes an image file with the limits of
// formats/raster.
func tmplReadImage(path string) (*image.Gray, error) {
	data, err := tmplReadFile(path, 256<<20)
	if err != nil {
		return nil, err
	}
	img, _, err := raster.Decode(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// tmplReadFile reads a file of at most limit bytes.
func tmplReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
