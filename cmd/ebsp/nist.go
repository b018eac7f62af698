package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
)

func init() {
	register("nist", "inspect and convert ANSI/NIST-ITL transactions (traditional and XML)", runNist)
}

const nistUsage = `usage: ebsp nist dump FILE [--json]
       ebsp nist convert [--version VER] IN OUT
       ebsp nist convert --from-images [flags] IMG... OUT

dump lists a transaction's records and fields with their mnemonic names,
the images and minutiae found, and every irregularity the lenient reader
worked around (warnings). FILE may be traditional (.an2, .eft ...) or XML.

convert reads IN (traditional or XML, told by its content) and writes OUT in
the encoding its name asks for (.xml: NIEM XML; anything else: traditional),
through the strict writer. With --from-images it builds a transaction from
fingerprint (WSQ, PNG, JPEG, raw), face or iris images.

'ebsp nist dump -h' and 'ebsp nist convert -h' explain the flags.`

func runNist(args []string) int {
	return dispatch("nist", nistUsage, args, map[string]func([]string) int{"dump": nistDump, "convert": nistConvert})
}

// readTransaction reads a traditional or XML transaction, told by content.
func readTransaction(path string) (*ansinist.Transaction, []ansinist.Warning, bool, error) {
	in, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, false, err
	}
	if ansinist.IsXML(in) {
		t, w, err := ansinist.DecodeXML(in)
		return t, w, true, err
	}
	t, w, err := ansinist.Decode(in)
	return t, w, false, err
}

type dumpField struct {
	Tag       string     `json:"tag"`
	Mnemonic  string     `json:"mnemonic,omitempty"`
	Subfields [][]string `json:"subfields,omitempty"`
	DataBytes *int       `json:"data_bytes,omitempty"`
}

type dumpRecord struct {
	Index  int         `json:"index"`
	Type   int         `json:"type"`
	Name   string      `json:"name"`
	IDC    *int        `json:"idc,omitempty"`
	Opaque *int        `json:"opaque_bytes,omitempty"`
	Fields []dumpField `json:"fields"`
}

type dumpImage struct {
	Record      int    `json:"record"`
	Type        int    `json:"type"`
	IDC         int    `json:"idc"`
	Kind        string `json:"kind"`
	Position    []int  `json:"fgp,omitempty"`
	Compression string `json:"compression"`
	PPI         int    `json:"ppi"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Bytes       int    `json:"bytes"`
	// Segments: the single fingers of a slap (14.021 SEG / 14.025 ASEG),
	// and the segmentation entries that could not be used.
	Segments        []dumpSegment `json:"segments,omitempty"`
	SegmentProblems []string      `json:"segment_problems,omitempty"`
}

type dumpSegment struct {
	Position int    `json:"fgp"`
	Box      [4]int `json:"box"` // left, top, right, bottom (exclusive)
	Vertices int    `json:"polygon_vertices,omitempty"`
}

type dumpMinutiae struct {
	Record   int    `json:"record"`
	IDC      int    `json:"idc"`
	Block    string `json:"block"`
	Position int    `json:"fgp"`
	Count    int    `json:"minutiae"`
}

type dumpOut struct {
	File     string         `json:"file"`
	Encoding string         `json:"encoding"`
	Version  string         `json:"version"`
	TOT      string         `json:"tot"`
	Records  []dumpRecord   `json:"records"`
	Images   []dumpImage    `json:"images"`
	Minutiae []dumpMinutiae `json:"minutiae"`
	Warnings []string       `json:"warnings"`
}

func nistDump(args []string) int {
	fs := newFlagSet("nist dump", "usage: ebsp nist dump FILE [--json]")
	asJSON := fs.Bool("json", false, "print the dump as JSON (fields as subfields of items; binary data as its size)")
	pos, ok, code := parseArgs(fs, args, nArgs(1))
	if !ok {
		return code
	}
	t, warns, xmlIn, err := readTransaction(pos[0])
	if err != nil {
		return fail("nist dump", err)
	}
	out := dumpOut{File: pos[0], Encoding: "traditional", Version: t.Version(), TOT: t.TOT()}
	if xmlIn {
		out.Encoding = "xml"
	}
	dom := ""
	if t1 := t.Type1(); t1 != nil {
		dom = t1.Value(13)
	}
	for i, r := range t.Records {
		dr := dumpRecord{Index: i, Type: r.Type, Name: ansinist.RecordName(r.Type), Fields: []dumpField{}}
		if r.Type != 1 && r.Raw == nil {
			idc := r.IDC()
			dr.IDC = &idc
		}
		if r.Raw != nil {
			n := len(r.Raw)
			dr.Opaque = &n
		}
		for _, f := range r.Fields {
			df := dumpField{Tag: fmt.Sprintf("%d.%03d", r.Type, f.Number), Mnemonic: ansinist.Mnemonic(r.Type, f.Number, dom)}
			if f.IsData() {
				n := len(f.Data)
				df.DataBytes = &n
			} else if xmlIn && f.Number == 1 {
				// The XML encoding has no length fields; the traditional
				// writer computes them.
				df.Subfields = [][]string{{"(computed when written)"}}
			} else {
				for _, s := range f.Subfields {
					df.Subfields = append(df.Subfields, []string(s))
				}
			}
			dr.Fields = append(dr.Fields, df)
		}
		out.Records = append(out.Records, dr)
	}
	out.Images = []dumpImage{}
	for _, im := range t.FingerImages() {
		d := imageDump(im.Image, "finger")
		for _, p := range im.Positions {
			d.Position = append(d.Position, int(p))
		}
		segs, problems := t.Segments(im)
		for _, sg := range segs {
			b := sg.Bounds
			d.Segments = append(d.Segments, dumpSegment{Position: int(sg.Position), Box: [4]int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}, Vertices: len(sg.Polygon)})
		}
		d.SegmentProblems = problems
		out.Images = append(out.Images, d)
	}
	for _, im := range t.FaceImages() {
		out.Images = append(out.Images, imageDump(im.Image, strings.ToLower(im.ImageType)))
	}
	for _, im := range t.IrisImages() {
		out.Images = append(out.Images, imageDump(im.Image, "iris"))
	}
	ms, mw := t.Minutiae()
	out.Minutiae = []dumpMinutiae{}
	for _, m := range ms {
		out.Minutiae = append(out.Minutiae, dumpMinutiae{Record: m.Record, IDC: m.IDC, Block: m.Block, Position: int(m.Position), Count: len(m.Template.Minutiae)})
	}
	out.Warnings = []string{}
	for _, w := range append(warns, mw...) {
		out.Warnings = append(out.Warnings, w.String())
	}
	if *asJSON {
		return emitJSON("nist dump", out)
	}
	printDump(os.Stdout, out)
	return 0
}

func imageDump(im ansinist.Image, kind string) dumpImage {
	return dumpImage{Record: im.Record, Type: im.Type, IDC: im.IDC, Kind: kind, Compression: string(im.Compression),
		PPI: im.PPI, Width: im.Width, Height: im.Height, Bytes: len(im.Data)}
}

// printDump writes the human form: one line per field, subfields joined
// by " | " and items by "~" (printable stand-ins for RS and US).
func printDump(w io.Writer, d dumpOut) {
	fmt.Fprintf(w, "%s: %s encoding, version %s, TOT %s, %d records\n", d.File, d.Encoding, d.Version, d.TOT, len(d.Records))
	for _, r := range d.Records {
		idc := ""
		if r.IDC != nil {
			idc = fmt.Sprintf(" IDC %d", *r.IDC)
		}
		fmt.Fprintf(w, "\nrecord %d: Type-%d (%s)%s\n", r.Index, r.Type, r.Name, idc)
		if r.Opaque != nil {
			fmt.Fprintf(w, "  opaque: %d bytes\n", *r.Opaque)
		}
		for _, f := range r.Fields {
			var v string
			if f.DataBytes != nil {
				v = fmt.Sprintf("<%d bytes of binary data>", *f.DataBytes)
			} else {
				subs := make([]string, len(f.Subfields))
				for i, s := range f.Subfields {
					subs[i] = strings.Join(s, "~")
				}
				v = strings.Join(subs, " | ")
				if len(v) > 200 {
					v = v[:200] + fmt.Sprintf("... (%d subfields)", len(f.Subfields))
				}
			}
			fmt.Fprintf(w, "  %-9s %-5s %s\n", f.Tag, f.Mnemonic, v)
		}
	}
	if len(d.Images) > 0 {
		fmt.Fprintln(w, "\nimages:")
		for _, im := range d.Images {
			fmt.Fprintf(w, "  record %d Type-%d IDC %d %s fgp %v: %s %dx%d %d ppi, %d bytes\n", im.Record, im.Type, im.IDC, im.Kind, im.Position, im.Compression, im.Width, im.Height, im.PPI, im.Bytes)
			for _, sg := range im.Segments {
				poly := ""
				if sg.Vertices > 0 {
					poly = fmt.Sprintf(" (polygon of %d vertices)", sg.Vertices)
				}
				fmt.Fprintf(w, "    finger %d at x %d-%d, y %d-%d%s\n", sg.Position, sg.Box[0], sg.Box[2], sg.Box[1], sg.Box[3], poly)
			}
			for _, p := range im.SegmentProblems {
				fmt.Fprintf(w, "    segmentation skipped: %s\n", p)
			}
		}
	}
	if len(d.Minutiae) > 0 {
		fmt.Fprintln(w, "\nminutiae:")
		for _, m := range d.Minutiae {
			fmt.Fprintf(w, "  record %d IDC %d fgp %d: %d minutiae (%s block)\n", m.Record, m.IDC, m.Position, m.Count, m.Block)
		}
	}
	fmt.Fprintf(w, "\n%d warnings\n", len(d.Warnings))
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, strings.Split(s, ",")...); return nil }

func nistConvert(args []string) int {
	fs := newFlagSet("nist convert", "usage: ebsp nist convert [--version VER] IN OUT\n       ebsp nist convert --from-images [flags] IMG... OUT")
	fromImages := fs.Bool("from-images", false, "build a transaction from the image files given before OUT")
	ver := fs.String("version", "", "set VER (1.002), e.g. 0500, when IN's is malformed; with --from-images the version to write (default 0500)")
	kind := fs.String("kind", "finger", "with --from-images: what the images are: finger, face or iris")
	var fgps stringList
	fs.Var(&fgps, "fgp", "with --from-images: finger positions (1-10 rolled, 11-15 plain...), one per image, comma separated or repeated; default: the number in each file name (fp-7.wsq is 7), else 0 unknown")
	ppi := fs.Int("ppi", 500, "with --from-images: the images' resolution in pixels per inch")
	width := fs.Int("width", 0, "with --from-images: width of raw (uncompressed 8-bit) images")
	height := fs.Int("height", 0, "with --from-images: height of raw images")
	tot := fs.String("tot", "CAR", "with --from-images: type of transaction (1.004)")
	ori := fs.String("ori", "EBSP00000", "with --from-images: originating agency (1.008)")
	dai := fs.String("dai", "EBSP00000", "with --from-images: destination agency (1.007)")
	tcn := fs.String("tcn", "", "with --from-images: transaction control number (1.009); default derived from OUT's name")
	pos, ok, code := parseArgs(fs, args, func(pos []string) bool { return len(pos) == 2 || (*fromImages && len(pos) > 2) })
	if !ok {
		return code
	}
	outPath := pos[len(pos)-1]
	var t *ansinist.Transaction
	var err error
	if *fromImages {
		if len(fgps) > 0 && len(fgps) != len(pos)-1 {
			return fail("nist convert", fmt.Errorf("%d finger positions for %d images", len(fgps), len(pos)-1))
		}
		name := *tcn
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(outPath), filepath.Ext(outPath))
		}
		t = ansinist.New(ansinist.Header{Version: *ver, TOT: *tot, ORI: *ori, DAI: *dai, TCN: name}, nil)
		for i, p := range pos[:len(pos)-1] {
			f := ""
			if len(fgps) > 0 {
				f = fgps[i]
			}
			if err := addImage(t, p, *kind, f, *ppi, *width, *height); err != nil {
				return fail("nist convert", err)
			}
		}
	} else {
		var warns []ansinist.Warning
		t, warns, _, err = readTransaction(pos[0])
		if err != nil {
			return fail("nist convert", err)
		}
		for _, w := range warns {
			fmt.Fprintf(os.Stderr, "ebsp nist convert: warning: %s\n", w)
		}
		if *ver != "" {
			t.Type1().Set(ansinist.NewField(2, *ver))
		}
	}
	var out []byte
	if !strings.EqualFold(filepath.Ext(outPath), ".xml") {
		if n := t.XMLOnly(); n > 0 {
			fmt.Fprintf(os.Stderr, "ebsp nist convert: warning: %d XML elements without field numbers (e.g. a domain's Type-2 content) have no traditional form and are not written\n", n)
		}
	}
	if strings.EqualFold(filepath.Ext(outPath), ".xml") {
		out, err = t.EncodeXML()
	} else {
		out, err = t.Encode()
	}
	if err != nil {
		if strings.Contains(err.Error(), "VER 1.002") {
			err = fmt.Errorf("%w (name the version with --version, e.g. --version 0500)", err)
		}
		return fail("nist convert", err)
	}
	if err := os.WriteFile(outPath, out, 0o644); err != nil {
		return fail("nist convert", err)
	}
	fmt.Printf("wrote %s: %d records, %d bytes\n", outPath, len(t.Records), len(out))
	return 0
}

var trailingNumber = regexp.MustCompile(`(\d+)\D*$`)

// addImage adds one image file to t as a Type-14, Type-10 or Type-17 record.
func addImage(t *ansinist.Transaction, path, kind, fgp string, ppi, width, height int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	c, w, h, err := ansinist.SniffImage(data)
	if err != nil {
		if width <= 0 || height <= 0 || len(data) != width*height {
			return fmt.Errorf("%s: %v (raw 8-bit images need --width and --height matching the file size)", path, err)
		}
		c, w, h = ansinist.Raw, width, height
	}
	im := ansinist.Image{Compression: c, Width: w, Height: h, PPI: ppi, Data: data}
	switch kind {
	case "finger":
		if fgp == "" {
			if m := trailingNumber.FindStringSubmatch(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))); m != nil {
				if n, _ := strconv.Atoi(m[1]); biometric.FingerPosition(n).Valid() {
					fgp = m[1]
				}
			}
		}
		p := 0
		if fgp != "" {
			if p, err = strconv.Atoi(fgp); err != nil || !biometric.FingerPosition(p).Valid() {
				return fmt.Errorf("%s: finger position %q not valid", path, fgp)
			}
		}
		t.AddFinger(ansinist.FingerImage{Image: im, Positions: []biometric.FingerPosition{biometric.FingerPosition(p)}})
	case "face":
		csp := "SRGB"
		t.AddFace(ansinist.FaceImage{Image: im, ColorSpace: csp})
	case "iris":
		t.AddIris(ansinist.IrisImage{Image: im})
	default:
		return fmt.Errorf("--kind %q: want finger, face or iris", kind)
	}
	return nil
}
