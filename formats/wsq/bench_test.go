package wsq

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds "cpuMB/s": bytes per second of CPU time the process used
// (garbage collection included), a figure that, unlike MB/s, does not
// depend on how busy a shared machine is.
func reportCPU(b *testing.B, start time.Duration, bytes int) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpuMB/s")
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
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, err := DecodeBytes(data, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, len(img.Pix))
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
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := EncodeBytes(img, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, len(img.Pix))
}
