package fingerprint_test

import (
	"runtime"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/synth"
)

// synthPrepared returns the stored forms of n synthetic gallery fingers,
// as bench search makes them (nearly all keep 48 minutiae).
func synthPrepared(tb testing.TB, n int) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	for i := range out {
		m := synth.NewFingerMaster(1, uint64(i))
		master := synth.TemplateMaster(m)
		data, err := fingerprint.Prepare(synth.TemplateImpression(m, &master, 1)).MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = data
	}
	return out
}

// BenchmarkUnmarshalPrepared is what a gallery snapshot's load costs a
// finger: decoding a stored prepared form, pair table included. It
// reports the CPU of one locked thread per decoding (cpu-ns/op), which a
// shared machine's load does not inflate.
func BenchmarkUnmarshalPrepared(b *testing.B) {
	forms := synthPrepared(b, 64)
	runtime.GC()
	b.ResetTimer()
	var err error
	cpu, ok := fvc.ThreadCPU(func() {
		for i := 0; i < b.N && err == nil; i++ {
			var p fingerprint.Prepared
			err = p.UnmarshalBinary(forms[i%len(forms)])
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if ok {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
