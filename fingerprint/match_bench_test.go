package fingerprint_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
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
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		rec, _, err := iso19794.ParseMinutiae(data)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		t, err := rec.Template(0)
		if err != nil {
			tb.Fatal(err)
		}
		ts = append(ts, t)
	}
	return files, ts
}

// BenchmarkMatcher1N is the 1:N mode: one prepared probe against a gallery
// of prepared templates (the 80 SecuGen templates of FVC2002 DB1_B). One
// op is one comparison; comparisons per second per core = 1e9 / (ns/op).
func BenchmarkMatcher1N(b *testing.B) {
	_, ts := secugenTemplates(b, "fvc2002/DB1_B")
	gallery := make([]*fingerprint.Prepared, len(ts))
	for i, t := range ts {
		gallery[i] = fingerprint.Prepare(t)
	}
	matchers := make([]*fingerprint.Matcher, len(ts))
	for i, t := range ts {
		matchers[i] = fingerprint.NewMatcher(t)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0, ok0 := threadCPU()
	sink := 0.0
	for i := 0; i < b.N; i++ {
		m := matchers[(i/len(gallery))%len(matchers)]
		sink += m.Compare(gallery[i%len(gallery)])
	}
	cpu1, ok1 := threadCPU()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comparisons/s")
	if ok0 && ok1 && cpu1 > cpu0 {
		// The same per second of this thread's CPU time: the rate of one
		// core when other processes share the machine.
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "comparisons/cpu-s")
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
