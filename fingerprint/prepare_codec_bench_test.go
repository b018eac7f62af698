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
	benchDecode(b, synthPrepared(b, 64), false)
}

// benchDecode decodes forms in turn, in full or compact, and reports one
// locked thread's CPU per decoding (cpu-ns/op).
func benchDecode(b *testing.B, forms [][]byte, compact bool) {
	runtime.GC()
	b.ResetTimer()
	var err error
	cpu, ok := fvc.ThreadCPU(func() {
		for i := 0; i < b.N && err == nil; i++ {
			var p fingerprint.Prepared
			if compact {
				err = p.UnmarshalCompact(forms[i%len(forms)])
			} else {
				err = p.UnmarshalBinary(forms[i%len(forms)])
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if ok {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkUnmarshalPreparedSecondLook decodes the stored forms of 64
// synthetic fingers of more than 48 minutiae, prepared by Prepare (first)
// and by PrepareWith with SecondLook (second-look, which adds the form of
// their best 72), each read in full (binary) and compact: the cost of
// storing a gallery with its second-look forms. It reports one locked
// thread's CPU per decoding (cpu-ns/op) and the mean size of a form
// (bytes/form).
func BenchmarkUnmarshalPreparedSecondLook(b *testing.B) {
	var ts []fingerprint.Template
	for f := uint64(0); len(ts) < 64; f++ {
		m := synth.NewFingerMaster(1, f)
		master := synth.TemplateMaster(m)
		if t := synth.TemplateImpression(m, &master, 1); len(t.Minutiae) > 48 {
			ts = append(ts, t)
		}
	}
	for _, c := range []struct {
		name string
		opt  fingerprint.MatchOptions
	}{{"first", fingerprint.MatchOptions{}}, {"second-look", fingerprint.MatchOptions{SecondLook: true}}} {
		forms := make([][]byte, len(ts))
		size := 0
		for i, t := range ts {
			data, err := fingerprint.PrepareWith(t, c.opt).MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			forms[i] = data
			size += len(data)
		}
		for _, compact := range []bool{false, true} {
			name := c.name + "/binary"
			if compact {
				name = c.name + "/compact"
			}
			b.Run(name, func(b *testing.B) {
				benchDecode(b, forms, compact)
				b.ReportMetric(float64(size)/float64(len(forms)), "bytes/form")
			})
		}
	}
}
