package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/internal/progress"
	"github.com/ebsp/ebsp/internal/strictjson"
	"github.com/ebsp/ebsp/synth"
)

func init() {
	register("synth", "make synthetic people and biometrics (fingerprint images, templates, populations)", runSynth)
}

const synthUsage = `usage: ebsp synth <what> [flags]

Makes synthetic biometric data: nothing real, no data files needed.

commands:
  fingerprints  master fingerprints and impressions as PNG images, FVC naming
                (<finger>_<impression>.png), for 'ebsp eval fingerprint', and
                each impression WSQ-compressed in an ANSI/NIST-ITL transaction
                (nist/<finger>_<impression>.an2)
  compare       template-level synthetic fingers against real sets: KS distances
                of scores, minutiae counts and quality, and SVG figures
  people        a population across partner states: per state the records with
                biometric templates, one ANSI/NIST-ITL transaction per
                encounter, and the ground truth (from a scenario file)

'ebsp synth <what> -h' explains the flags.`

func runSynth(args []string) int {
	return dispatch("synth", synthUsage, args, map[string]func([]string) int{"people": synthPeople, "fingerprints": synthFingerprints, "compare": synthCompare})
}

// newProgress reports a synth job on stderr (internal/progress: a bar on a
// terminal, a line every few seconds otherwise).
func newProgress(n int, what string) *progress.Job {
	return progress.Start(os.Stderr, "synth: "+what, n)
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// stateManifest is the per-state ground truth written beside its records.
type stateManifest struct {
	State   string           `json:"state"`
	Records []stateTruthLine `json:"records"`
}

type stateTruthLine struct {
	RecordID string `json:"record_id"`
	PersonID string `json:"person_id"`
	// Transactions are the record's encounters as ANSI/NIST-ITL files,
	// relative to the state's folder, in encounter order.
	Transactions []string `json:"transactions,omitempty"`
}

func synthPeople(args []string) int {
	fs := newFlagSet("synth people", "usage: ebsp synth people --scenario FILE --out DIR [--seed S] [--nist=false] [--json]")
	scenario := fs.String("scenario", "", "scenario JSON file (fields: docs/synthetic-data.md; example: examples/scenario.json); empty for the built-in default")
	out := fs.String("out", "", "output folder (created); gets truth.json and one folder per state with records.jsonl, manifest.json and nist/")
	seed := fs.Int64("seed", -1, "override the scenario's seed (-1 keeps it)")
	nist := fs.Bool("nist", true, "also write each encounter as an ANSI/NIST-ITL 1-2011 transaction, <state>/nist/<record>_<n>.an2: Type-1, Type-2 biographic data, fingers as Type-9 INCITS 378 minutiae, or Type-14 WSQ images when the scenario sets biometrics.finger_images")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "people whose transactions are made in parallel (image level renders fingers: about a second each); default: GOMAXPROCS")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" || *workers < 1 {
		fs.Usage()
		return 2
	}
	sc := synth.DefaultScenario()
	if *scenario != "" {
		f, err := os.Open(*scenario)
		if err != nil {
			return fail("synth people", err)
		}
		sc, err = synth.ReadScenario(f)
		f.Close()
		var je *strictjson.Error
		if errors.As(err, &je) {
			je.Name = *scenario // file:line:column
		} else if err != nil {
			err = fmt.Errorf("%s: %w", *scenario, err)
		}
		if err != nil {
			return fail("synth people", err)
		}
	}
	if *seed >= 0 {
		sc.Seed = uint64(*seed)
	}
	pop, err := synth.NewPopulation(sc)
	if err != nil {
		return fail("synth people", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("synth people", err)
	}
	man := pop.Manifest()
	for _, s := range sc.States {
		if err := os.MkdirAll(filepath.Join(*out, s.Code), 0o755); err != nil {
			return fail("synth people", err)
		}
	}
	var files map[string][]string
	if *nist {
		if files, err = writeTransactions(pop, *out, *workers); err != nil {
			return fail("synth people", err)
		}
	}
	total := 0
	for _, s := range man.States {
		total += s.Records
	}
	bar := newProgress(total, "records")
	for _, s := range sc.States {
		dir := filepath.Join(*out, s.Code)
		sm := stateManifest{State: s.Code, Records: []stateTruthLine{}}
		owner := map[string]string{}
		for _, pt := range man.Truth {
			for _, r := range pt.Records {
				if r.State == s.Code {
					owner[r.RecordID] = pt.ID
				}
			}
		}
		if err := writeRecords(filepath.Join(dir, "records.jsonl"), pop, s.Code, func(id string) {
			sm.Records = append(sm.Records, stateTruthLine{RecordID: id, PersonID: owner[id], Transactions: files[id]})
			bar.Add(1)
		}); err != nil {
			return fail("synth people", err)
		}
		if err := writeJSONFile(filepath.Join(dir, "manifest.json"), sm); err != nil {
			return fail("synth people", err)
		}
	}
	bar.Done()
	if err := writeJSONFile(filepath.Join(*out, "truth.json"), man); err != nil {
		return fail("synth people", err)
	}
	transactions := 0
	for _, f := range files {
		transactions += len(f)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Out          string             `json:"out"`
			People       int                `json:"people"`
			Cross        int                `json:"cross_state"`
			Transactions int                `json:"transactions"`
			States       []synth.StateTruth `json:"states"`
		}{*out, man.People, man.CrossState, transactions, man.States}, "", "  ")
		fmt.Println(string(b))
		return 0
	}
	fmt.Printf("%d people (seed %d), %d enrolled in more than one state, written to %s\n", man.People, sc.Seed, man.CrossState, *out)
	if *nist {
		level := "Type-9 minutiae"
		if sc.Biometrics.FingerImages {
			level = "Type-14 WSQ images"
		}
		fmt.Printf("  %d ANSI/NIST-ITL transactions (one per encounter, fingers as %s) under <state>/nist/\n", transactions, level)
	}
	for _, s := range man.States {
		fmt.Printf("  %s  %6d records  %6d encounters  wanted %d, immigration_violation %d, removed %d\n",
			s.Code, s.Records, s.Encounters, s.Flags[synth.FlagWanted], s.Flags[synth.FlagImmigrationViolation], s.Flags[synth.FlagRemoved])
	}
	return 0
}

// writeTransactions writes every encounter of every enrolment as an
// ANSI/NIST-ITL transaction, <out>/<state>/nist/<record>_<n>.an2 with n
// the encounter's number in the record from 1, and returns the file names
// (relative to the state's folder) by record ID. At image level each
// person's fingers are rendered once for all their records.
func writeTransactions(pop *synth.Population, out string, workers int) (map[string][]string, error) {
	for _, s := range pop.Scenario.States {
		if err := os.MkdirAll(filepath.Join(out, s.Code, "nist"), 0o755); err != nil {
			return nil, err
		}
	}
	images := pop.Scenario.Biometrics.FingerImages
	bar := newProgress(len(pop.People), "transactions")
	files := map[string][]string{}
	var mu sync.Mutex
	jobs := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if errs[w] != nil {
					continue // drain
				}
				per := &pop.People[i]
				var imgs synth.FingerImages
				if images {
					imgs = pop.RenderFingers(per)
				}
				got := map[string][]string{}
				for _, en := range per.Enrolments {
					for k := range en.Encounters {
						t, err := pop.EncounterTransaction(per, &en, &en.Encounters[k], imgs)
						var b []byte
						if err == nil {
							b, err = t.Encode()
						}
						name := filepath.Join("nist", fmt.Sprintf("%s_%d.an2", en.RecordID, k+1))
						if err == nil {
							err = os.WriteFile(filepath.Join(out, en.State, name), b, 0o644)
						}
						if err != nil {
							errs[w] = fmt.Errorf("%s encounter %d: %w", en.RecordID, k+1, err)
							break
						}
						got[en.RecordID] = append(got[en.RecordID], filepath.ToSlash(name))
					}
				}
				mu.Lock()
				for id, f := range got {
					files[id] = f
				}
				bar.Add(1)
				mu.Unlock()
			}
		}()
	}
	for i := range pop.People {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	bar.Done()
	return files, errors.Join(errs...)
}

// writeRecords writes a state's records as JSON lines.
func writeRecords(path string, pop *synth.Population, state string, each func(recordID string)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for _, r := range pop.StateRecords(state) {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
		each(r.RecordID)
	}
	return errors.Join(w.Flush(), f.Close())
}

// fingerManifest describes the fingers of a synthetic fingerprint set.
type fingerManifest struct {
	Seed        uint64        `json:"seed"`
	Impressions int           `json:"impressions"`
	Width       int           `json:"width"`
	Height      int           `json:"height"`
	DPI         int           `json:"dpi"`
	Fingers     []fingerTruth `json:"fingers"`
}

type fingerTruth struct {
	ID     int                `json:"id"`
	Class  synth.PatternClass `json:"class"`
	Cores  []synth.Point      `json:"cores"`
	Deltas []synth.Point      `json:"deltas"`
}

func synthFingerprints(args []string) int {
	fs := newFlagSet("synth fingerprints", "usage: ebsp synth fingerprints --fingers N --impressions K --seed S --out DIR [--nist=false] [--fgp P]")
	fingers := fs.Int("fingers", 10, "number of fingers (masters); ids run from --first")
	first := fs.Int("first", 1, "id of the first finger (FVC B sets start at 101)")
	impressions := fs.Int("impressions", 8, "impressions per finger, numbered from 1")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same images, byte for byte")
	out := fs.String("out", "", "output folder (created): <finger>_<impression>.png and manifest.json (class and singular points per finger, master canvas coordinates)")
	masters := fs.Bool("masters", false, "also write each master ridge pattern as <finger>_master.png")
	templates := fs.Bool("templates", false, "template level: write <finger>_<impression>.iso (ISO/IEC 19794-2:2005 minutiae drawn directly from the master model) instead of images; thousands per second")
	nist := fs.Bool("nist", true, "also write each impression as an ANSI/NIST-ITL 1-2011 transaction, nist/<finger>_<impression>.an2: Type-1, Type-2 and a Type-14 record with the image WSQ-compressed at 0.75 bpp (image level only)")
	fgp := fs.Int("fgp", 0, "finger position written in the Type-14 FGP (ANSI/NIST-ITL Table 8: 1-10, 0 unknown); masters are not drawn for a particular finger")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "fingers rendered in parallel (default GOMAXPROCS: the output does not depend on it)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" || *fingers < 1 || *impressions < 1 || *first < 0 || *workers < 1 || *fgp < 0 || *fgp > 10 {
		fs.Usage()
		return 2
	}
	*nist = *nist && !*templates
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("synth fingerprints", err)
	}
	if *nist {
		if err := os.MkdirAll(filepath.Join(*out, "nist"), 0o755); err != nil {
			return fail("synth fingerprints", err)
		}
	}
	man := fingerManifest{Seed: *seed, Impressions: *impressions, Width: synth.ImpressionWidth,
		Height: synth.ImpressionHeight, DPI: 500, Fingers: make([]fingerTruth, *fingers)}
	bar := newProgress(*fingers, "fingers")
	jobs := make(chan int)
	errs := make([]error, *fingers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id := *first + i
				m := synth.NewFingerMaster(*seed, uint64(id))
				man.Fingers[i] = fingerTruth{ID: id, Class: m.Class, Cores: m.Cores, Deltas: m.Deltas}
				if *templates {
					errs[i] = writeTemplates(*out, m, id, *impressions)
					mu.Lock()
					bar.Add(1)
					mu.Unlock()
					continue
				}
				mi := synth.RenderMaster(m)
				if *masters {
					errs[i] = writePNG(filepath.Join(*out, fmt.Sprintf("%d_master.png", id)), mi.Gray())
				}
				for k := 1; k <= *impressions && errs[i] == nil; k++ {
					img := mi.Impression(uint64(k))
					errs[i] = writePNG(filepath.Join(*out, fmt.Sprintf("%d_%d.png", id, k)), img)
					if *nist && errs[i] == nil {
						errs[i] = writeFingerTransaction(filepath.Join(*out, "nist", fmt.Sprintf("%d_%d.an2", id, k)),
							fmt.Sprintf("SYNTH-%d-%d-%d", *seed, id, k), biometric.FingerPosition(*fgp), img)
					}
				}
				mu.Lock()
				bar.Add(1)
				mu.Unlock()
			}
		}()
	}
	for i := range *fingers {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	bar.Done()
	if err := errors.Join(errs...); err != nil {
		return fail("synth fingerprints", err)
	}
	if err := writeJSONFile(filepath.Join(*out, "manifest.json"), man); err != nil {
		return fail("synth fingerprints", err)
	}
	counts := map[synth.PatternClass]int{}
	for _, f := range man.Fingers {
		counts[f.Class]++
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Out     string                     `json:"out"`
			Fingers int                        `json:"fingers"`
			Images  int                        `json:"images"`
			Classes map[synth.PatternClass]int `json:"classes"`
		}{*out, *fingers, *fingers * *impressions, counts}, "", "  ")
		fmt.Println(string(b))
		return 0
	}
	kind := "images"
	if *templates {
		kind = "ISO minutiae templates"
	}
	if *nist {
		kind = "PNG images and WSQ in ANSI/NIST-ITL transactions under nist/"
	}
	fmt.Printf("%d fingers x %d impressions (%s, %dx%d px, 500 ppi, seed %d) written to %s\n", *fingers, *impressions, kind,
		synth.ImpressionWidth, synth.ImpressionHeight, *seed, *out)
	for c := synth.Arch; c <= synth.Whorl; c++ {
		fmt.Printf("  %-12s %d\n", c, counts[c])
	}
	return 0
}

// writeFingerTransaction writes one impression as an ANSI/NIST-ITL
// transaction with a Type-14 WSQ record.
func writeFingerTransaction(path, tcn string, pos biometric.FingerPosition, img *image.Gray) error {
	t, err := synth.FingerprintTransaction(tcn, pos, img)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	b, err := t.Encode()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}

func writePNG(path string, img *image.Gray) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := png.Encode(w, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return errors.Join(w.Flush(), f.Close())
}

// writeTemplates writes the template-level impressions of one finger as ISO
// minutiae records.
func writeTemplates(dir string, m *synth.FingerMaster, id, impressions int) error {
	f := synth.NewTemplateFinger(m)
	for k := 1; k <= impressions; k++ {
		t := f.Impression(uint64(k))
		rec, err := iso19794.MinutiaeRecordFromTemplate(t, iso19794.ISO19794_2_2005, biometric.UnknownFinger)
		if err != nil {
			return fmt.Errorf("finger %d impression %d: %w", id, k, err)
		}
		b, err := rec.Marshal()
		if err != nil {
			return fmt.Errorf("finger %d impression %d: %w", id, k, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_%d.iso", id, k)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
