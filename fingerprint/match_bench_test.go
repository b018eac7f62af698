package fingerprint_test

import (
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/formats/raster"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// secugenTemplates reads the SecuGen ISO templates of one FVC set.
func secugenTemplates(tb testing.TB, set string) ([]string, []fingerprint.Template) {
	tb.Helper()
	dir := shareddata.Dir(tb, filepath.Join("fingerprints/openafis_secugen_iso", set))
	files, err := filepath.Glob(filepath.Join(dir, "*.iso"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no templates in %s: %v", dir, err)
	}
	var ts []fingerprint.Template
	for _, f := range files {
		ts = append(ts, isoTemplate(tb, f))
	}
	return files, ts
}

// BenchmarkMatcher1N is the 1:N mode: one prepared probe against a gallery
// of prepared templates (the 80 SecuGen templates of FVC2002 DB1_B). One
// op is one comparison; comparisons per second per core = 1e9 / (ns/op).
func BenchmarkMatcher1N(b *testing.B) {
	_, ts := secugenTemplates(b, "fvc2002/DB1_B")
	bench1N(b, ts, fingerprint.MatchOptions{})
}

// fvcSets are the shared FVC sets with their resolutions (PROVENANCE.md).
var fvcSets = []struct {
	name string
	dpi  int
}{{"fvc2002_DB1_B", 500}, {"fvc2002_DB2_B", 569}, {"fvc2002_DB3_B", 500}, {"fvc2004_DB2_B", 500}, {"fvc2004_DB3_B", 512}}

// BenchmarkMatcher1NExtracted is the 1:N mode on our own extractor's
// templates of each shared FVC set (80 images each, the resolution of
// PROVENANCE.md), which is what `ebsp eval fingerprint` measures: they
// hold more minutiae than the SecuGen records, and comparisons cost more.
func BenchmarkMatcher1NExtracted(b *testing.B) {
	for _, set := range fvcSets {
		b.Run(set.name, func(b *testing.B) {
			ts := extractedTemplates(b, set.name, set.dpi)
			bench1N(b, ts, fingerprint.MatchOptions{})
		})
	}
}

// BenchmarkMatcher1NOptions is BenchmarkMatcher1NExtracted with the
// matcher's options of issue 15: without the global verification, and
// with the second look as well as the verification, on each shared FVC
// set (gallery templates prepared with the same options, as `ebsp eval
// fingerprint --verify=false` and `--second-look` prepare them).
func BenchmarkMatcher1NOptions(b *testing.B) {
	for _, set := range fvcSets {
		for _, o := range []struct {
			name string
			opt  fingerprint.MatchOptions
		}{{"no-verify", fingerprint.MatchOptions{NoVerify: true}}, {"second-look", fingerprint.MatchOptions{SecondLook: true}}} {
			b.Run(set.name+"/"+o.name, func(b *testing.B) {
				ts := extractedTemplates(b, set.name, set.dpi)
				bench1N(b, ts, o.opt)
			})
		}
	}
}

// BenchmarkMatcher1NWithoutAVX512 is BenchmarkMatcher1NExtracted with the
// AVX-512 loops off, as a processor without AVX-512 VPOPCNTDQ runs it (the
// POPCNT loops), which was below issue 15's 1:N bar on two of the five
// sets without the global verification (FVC2002 DB2 and FVC2004 DB3,
// session 11) and on four with it, the default since session 12 (69,000
// to 112,000 comparisons a CPU-second; docs/fingerprint-matching.md,
// "Speed"). The scores are the same (TestPortableComparison).
func BenchmarkMatcher1NWithoutAVX512(b *testing.B) {
	for _, set := range fvcSets {
		b.Run(set.name, func(b *testing.B) {
			ts := extractedTemplates(b, set.name, set.dpi)
			if !fingerprint.WithoutAVX512(func() { bench1N(b, ts, fingerprint.MatchOptions{}) }) {
				b.Log("this processor has no AVX-512 loops: BenchmarkMatcher1NExtracted measures the same")
			}
		})
	}
}

// extracted caches the templates of extractedTemplates, so that -count
// and the benchmark's own rounds extract each set once.
var extracted sync.Map // set name → []fingerprint.Template

// extractedTemplates extracts (once per process) the templates of every
// image of a shared FVC set.
func extractedTemplates(b *testing.B, name string, dpi int) []fingerprint.Template {
	if v, ok := extracted.Load(name); ok {
		return v.([]fingerprint.Template)
	}
	dir := shareddata.Dir(b, filepath.Join("fingerprints", name))
	files, _ := filepath.Glob(filepath.Join(dir, "*.tif"))
	if len(files) == 0 {
		b.Fatalf("no images in %s", dir)
	}
	ts := extractFiles(b, files, dpi)
	extracted.Store(name, ts)
	return ts
}

// extractFiles reads, decodes and extracts each image file at dpi.
func extractFiles(tb testing.TB, files []string, dpi int) []fingerprint.Template {
	tb.Helper()
	var ts []fingerprint.Template
	for _, f := range files {
		t, _ := extractFile(tb, f, dpi)
		ts = append(ts, t)
	}
	return ts
}

// extractFile reads, decodes and extracts one image file at dpi; it
// returns the decoded image too.
func extractFile(tb testing.TB, path string, dpi int) (fingerprint.Template, *image.Gray) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	img, _, err := raster.Decode(data, 0)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	t, err := fingerprint.Extract(img, dpi, nil)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return t, img
}

// isoTemplate reads the first finger view of an ISO/IEC 19794-2 or ANSI
// INCITS 378 minutiae record file.
func isoTemplate(tb testing.TB, path string) fingerprint.Template {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	rec, _, err := iso19794.ParseMinutiae(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	t, err := rec.Template(0)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return t
}

// bench1N compares every template, prepared as a probe, with every
// template prepared for the gallery, round robin, on one locked thread,
// with the matcher's options o (the zero value: NewMatcher and Prepare).
func bench1N(b *testing.B, ts []fingerprint.Template, o fingerprint.MatchOptions) {
	gallery := make([]*fingerprint.Prepared, len(ts))
	for i, t := range ts {
		gallery[i] = fingerprint.PrepareWith(t, o)
	}
	matchers := make([]*fingerprint.Matcher, len(ts))
	for i, t := range ts {
		matchers[i] = fingerprint.NewMatcherWith(t, o)
	}
	// One round before the timed loop makes the second-look forms that
	// the comparisons use (made on first use, once).
	if o.SecondLook {
		for _, m := range matchers {
			for _, g := range gallery {
				m.Compare(g)
			}
		}
	}
	// Collect the setup's garbage now, so that the collector does not run
	// beside the timed loop (on a 2-CPU machine it would take the other
	// hardware thread of the core).
	runtime.GC()
	b.ResetTimer()
	sink := 0.0
	// fvc.ThreadCPU, as `ebsp eval` times it: the loop on one locked
	// thread, measured in that thread's CPU time, the rate of one core
	// when other processes share the machine.
	cpu, ok := fvc.ThreadCPU(func() {
		for i := 0; i < b.N; i++ {
			m := matchers[(i/len(gallery))%len(matchers)]
			sink += m.Compare(gallery[i%len(gallery)])
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comparisons/s")
	if ok && cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "comparisons/cpu-s")
	}
	_ = sink
}

func BenchmarkPrepare(b *testing.B) {
	_, ts := secugenTemplates(b, "fvc2002/DB1_B")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fingerprint.Prepare(ts[i%len(ts)])
	}
}
