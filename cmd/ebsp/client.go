package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

func init() {
	register("enroll", "enrol an encounter's samples at a node (client)", runEnroll)
	register("identify", "1:N search of samples at a node (client)", runIdentify)
	register("verify", "1:1 comparison of samples with an identity at a node (client)", runVerify)
}

// clientFlags are the flags every client command has.
type clientFlags struct {
	fs       *flag.FlagSet
	url      *string
	token    *string
	json     *bool
	dpi      *int
	modality *string
}

func newClientFlags(name, usage string) *clientFlags {
	fs := newFlagSet(name, usage+`
A SAMPLE is a file, or POS=FILE with POS the ANSI/NIST finger position code
(1 right thumb ... 10 left little). The format follows the extension: .png
.jpg .bmp .tif images, .iso (ISO/IEC 19794-2) and .ansi (ANSI INCITS 378)
minutiae templates.`)
	return &clientFlags{
		fs:       fs,
		url:      fs.String("node", envOr("EBSP_NODE", "http://127.0.0.1:8080"), "node URL (env EBSP_NODE)"),
		token:    fs.String("token-file", os.Getenv("EBSP_TOKEN_FILE"), "file holding the bearer token (env EBSP_TOKEN_FILE; or the token itself in EBSP_TOKEN)"),
		json:     fs.Bool("json", false, "print the node's answer as JSON"),
		dpi:      fs.Int("dpi", 500, "resolution of fingerprint images"),
		modality: fs.String("modality", "finger", "modality of the samples"),
	}
}

func (c *clientFlags) parse(args []string) (bool, int) { return parseFlags(c.fs, args) }

func (c *clientFlags) client() (*node.Client, error) {
	tok := os.Getenv("EBSP_TOKEN")
	if *c.token != "" {
		b, err := os.ReadFile(*c.token)
		if err != nil {
			return nil, err
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return nil, errors.New("no token: use --token-file or EBSP_TOKEN")
	}
	return node.NewClient(*c.url, tok, nil), nil
}

var formatByExt = map[string]string{".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp", ".tif": "tiff",
	".tiff": "tiff", ".iso": "iso19794-2", ".ist": "iso19794-2", ".fmr": "iso19794-2", ".ansi": "ansi378", ".378": "ansi378"}

func (c *clientFlags) samples() ([]node.SampleInput, error) {
	if c.fs.NArg() == 0 {
		return nil, errors.New("no SAMPLE files given")
	}
	var out []node.SampleInput
	for _, a := range c.fs.Args() {
		pos, file := 0, a
		if p, f, ok := strings.Cut(a, "="); ok {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("%s: position %q is not a number", a, p)
			}
			pos, file = n, f
		}
		format, ok := formatByExt[strings.ToLower(filepath.Ext(file))]
		if !ok {
			return nil, fmt.Errorf("%s: unknown extension (want .png .jpg .bmp .tif .iso .ansi)", file)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		out = append(out, node.SampleInput{Modality: biometric.Modality(*c.modality), Position: biometric.FingerPosition(pos),
			Format: format, DPI: *c.dpi, Data: data})
	}
	return out, nil
}

func runEnroll(args []string) int {
	cf := newClientFlags("enroll", "usage: ebsp enroll [flags] SAMPLE...\n\nEnrols one encounter with its samples at a node.\n")
	id := cf.fs.String("identity", "", "existing identity id to add the encounter to (new identity when empty)")
	legal := cf.fs.String("legal-basis", "", "legal basis of the enrolment (required)")
	purpose := cf.fs.String("purpose", "", "encounter purpose, e.g. visa, border_crossing, arrest")
	encounter := cf.fs.String("encounter", "", "the encounter's id, e.g. the visa application number (random when empty); sending the same id again, as the command does after a lost reply, enrols nothing twice")
	if ok, code := cf.parse(args); !ok {
		return code
	}
	cl, err := cf.client()
	if err != nil {
		return fail("enroll", err)
	}
	s, err := cf.samples()
	if err != nil {
		return fail("enroll", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cl.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: *id}, Encounter: node.EncounterInput{ID: *encounter, Purpose: *purpose},
		Provenance: storeProvenance(*legal), Samples: s})
	if err != nil {
		return fail("enroll", err)
	}
	if *cf.json {
		return emitJSON("enroll", resp)
	}
	if resp.Replayed {
		fmt.Printf("already enrolled (nothing written): identity %s, encounter %s\n", resp.IdentityID, resp.EncounterID)
	} else {
		fmt.Printf("enrolled identity %s, encounter %s\n", resp.IdentityID, resp.EncounterID)
	}
	for _, s := range resp.Samples {
		fmt.Printf("  sample %s  %s %-18s quality %3d  searchable %v\n", s.ID, s.Modality, s.Position, s.Quality, s.Template)
	}
	return 0
}

func runIdentify(args []string) int {
	cf := newClientFlags("identify", "usage: ebsp identify [flags] SAMPLE...\n\nSearches the node's gallery (1:N) with the samples of one person.\n")
	purpose := cf.fs.String("purpose", "", "purpose of the search")
	if ok, code := cf.parse(args); !ok {
		return code
	}
	cl, err := cf.client()
	if err != nil {
		return fail("identify", err)
	}
	s, err := cf.samples()
	if err != nil {
		return fail("identify", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	resp, err := cl.Identify(ctx, &node.IdentifyRequest{Samples: s, Purpose: *purpose})
	if err != nil {
		return fail("identify", err)
	}
	if *cf.json {
		return emitJSON("identify", resp)
	}
	fmt.Printf("decision %s  (hit >= %.2f, review >= %.2f; gallery %d identities; %v)\n", resp.Decision,
		resp.Threshold.Hit, resp.Threshold.Review, resp.GallerySize, time.Since(start).Round(time.Millisecond))
	for i, c := range resp.Candidates {
		fmt.Printf("  %2d  %s  score %.2f\n", i+1, c.IdentityID, c.Score)
	}
	return 0
}

func runVerify(args []string) int {
	cf := newClientFlags("verify", "usage: ebsp verify --identity ID [flags] SAMPLE...\n\nCompares the samples with one identity (1:1).\n")
	id := cf.fs.String("identity", "", "identity id to verify against (required)")
	if ok, code := cf.parse(args); !ok {
		return code
	}
	cl, err := cf.client()
	if err != nil {
		return fail("verify", err)
	}
	s, err := cf.samples()
	if err != nil {
		return fail("verify", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cl.Verify(ctx, &node.VerifyRequest{IdentityID: *id, Samples: s})
	if err != nil {
		return fail("verify", err)
	}
	if *cf.json {
		return emitJSON("verify", resp)
	}
	fmt.Printf("%s  score %.2f  threshold %.2f\n", resp.Decision, resp.Score, resp.Threshold)
	return 0
}

func storeProvenance(legal string) store.Provenance { return store.Provenance{LegalBasis: legal} }
