package wsq

import (
	"runtime"
	"testing"

	"github.com/ebsp/ebsp/fingerprint/fvc"
)

// timeCPU runs the benchmark loop f on one locked thread (fvc.ThreadCPU,
// as `ebsp eval` times its work) and adds "cpuMB/s": bytes per second of
// that thread's CPU time, the rate of one core whatever else the shared
// machine runs. The collector's work on other threads is not counted, so
// the garbage of the setup is collected first.
func timeCPU(b *testing.B, bytes int, f func()) {
	runtime.GC()
	b.ResetTimer()
	cpu, ok := fvc.ThreadCPU(f)
	if ok && cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/cpu.Seconds()/1e6, "cpuMB/s")
	}
}

// BenchmarkDecode decodes a 804x752 tenprint finger (NIST card, 0.56 bpp).
// MB/s counts decoded pixels: one byte per pixel.
func BenchmarkDecode(b *testing.B) {
	data := mustRead(b, sharedPath(b, "jnbis/tpcard/fp-1.wsq"))
	img, _, err := DecodeBytes(data, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img.Pix)))
	b.ReportAllocs()
	timeCPU(b, len(img.Pix), func() {
		for i := 0; i < b.N; i++ {
			if _, _, err := DecodeBytes(data, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode encodes the same finger at 0.75 bpp; MB/s counts input
// pixels.
func BenchmarkEncode(b *testing.B) {
	img, _, err := DecodeBytes(mustRead(b, sharedPath(b, "jnbis/tpcard/fp-1.wsq")), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img.Pix)))
	b.ReportAllocs()
	timeCPU(b, len(img.Pix), func() {
		for i := 0; i < b.N; i++ {
			if _, err := EncodeBytes(img, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
