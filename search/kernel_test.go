package search

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ebsp/ebsp/fingerprint/fvc"
)

func randInt8(r *rand.Rand, n int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.IntN(256) - 128)
	}
	return v
}

// TestScanInt8 checks the kernels (assembly where the CPU has it) against
// the plain definition, extremes included.
func TestScanInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dim := range []int{1, 7, 32, 128, 256, 512, 520} {
		const n = 37
		vecs := randInt8(r, n*dim)
		probe := randInt8(r, dim)
		if dim == 512 { // the worst case for overflow
			for i := range vecs[:dim] {
				vecs[i] = -128
			}
			for i := range probe {
				probe[i] = -128
			}
		}
		want := make([]int32, n)
		for i := range want {
			for j := 0; j < dim; j++ {
				want[i] += int32(vecs[i*dim+j]) * int32(probe[j])
			}
		}
		got := make([]int32, n)
		ScanInt8(vecs, dim, probe, got)
		batch := [][]int32{make([]int32, n), make([]int32, n)}
		ScanInt8Batch(vecs, dim, [][]int8{probe, probe}, batch)
		for i := range want {
			if got[i] != want[i] || batch[0][i] != want[i] || batch[1][i] != want[i] {
				t.Fatalf("dim %d vector %d: scan %d, batch %d/%d, want %d", dim, i, got[i], batch[0][i], batch[1][i], want[i])
			}
			if d := DotInt8(vecs[i*dim:(i+1)*dim], probe); d != want[i] {
				t.Fatalf("dim %d vector %d: DotInt8 %d, want %d", dim, i, d, want[i])
			}
		}
	}
}

// BenchmarkScanInt8 scans a gallery of 512-byte vectors larger than the
// caches; bytes/s is the read bandwidth the scan reaches.
func BenchmarkScanInt8(b *testing.B) {
	const dim, n = 512, 1 << 17 // 64 MiB
	r := rand.New(rand.NewPCG(1, 2))
	vecs := randInt8(r, n*dim)
	probe := randInt8(r, dim)
	out := make([]int32, n)
	b.SetBytes(int64(len(vecs)))
	b.ResetTimer()
	for range b.N {
		ScanInt8(vecs, dim, probe, out)
	}
}

// BenchmarkReadBandwidth reads the same 64 MiB as BenchmarkScanInt8 with
// nothing but wide loads: one core's read bandwidth, against which the
// scan's bytes/s is judged (docs/search.md).
func BenchmarkReadBandwidth(b *testing.B) {
	if !useAVX2 {
		b.Skip("the bandwidth probe is AVX2 assembly")
	}
	const dim, n = 512, 1 << 17
	r := rand.New(rand.NewPCG(1, 2))
	vecs := randInt8(r, n*dim)
	b.SetBytes(int64(len(vecs)))
	b.ResetTimer()
	var sink int64
	for range b.N {
		sink ^= readAVX2(&vecs[0], len(vecs))
	}
	_ = sink
}

// BenchmarkScanBandwidth holds the stage-1 scan against one core's read
// bandwidth out of every cache: a gallery of 192-byte vectors (the face
// vector, engine.Face) of -scan-gib GiB, far larger than the last-level
// cache, is read once with nothing but wide loads (readAVX2) and scanned
// once with ScanInt8 per iteration, alternately, each timed by the CPU
// time of its thread so that other processes' load does not count
// (it still competes for the memory bus, which the alternation shares out
// fairly). Reports read-GB/s, scan-GB/s and scan/read; the batch
// sub-benchmarks scan with 4 and 8 probes at once (ScanInt8Batch) and
// report the gallery bytes scanned per second per probe.
func BenchmarkScanBandwidth(b *testing.B) {
	if !useAVX2 {
		b.Skip("the bandwidth probe is AVX2 assembly")
	}
	const dim = 192
	n := int(*scanGiB*(1<<30)) / dim / 64 * 64
	vecs := make([]int8, n*dim)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range vecs {
		vecs[i] = int8(r.Uint32())
	}
	probes := make([][]int8, 8)
	outs := make([][]int32, 8)
	for i := range probes {
		probes[i] = randInt8(r, dim)
		outs[i] = make([]int32, n)
	}
	gb := float64(len(vecs)) / 1e9
	b.Run("single", func(b *testing.B) {
		var read, scan time.Duration
		var sink int64
		for range b.N {
			d, _ := fvc.ThreadCPU(func() { sink ^= readAVX2(&vecs[0], len(vecs)) })
			read += d
			d, _ = fvc.ThreadCPU(func() { ScanInt8(vecs, dim, probes[0], outs[0]) })
			scan += d
		}
		_ = sink
		b.ReportMetric(gb*float64(b.N)/read.Seconds(), "read-GB/s")
		b.ReportMetric(gb*float64(b.N)/scan.Seconds(), "scan-GB/s")
		b.ReportMetric(read.Seconds()/scan.Seconds(), "scan/read")
		b.ReportMetric(scan.Seconds()*1e3/float64(b.N)/(float64(n)/1e6), "ms/million")
	})
	for _, batch := range []int{4, 8} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			var scan time.Duration
			for range b.N {
				d, _ := fvc.ThreadCPU(func() { ScanInt8Batch(vecs, dim, probes[:batch], outs[:batch]) })
				scan += d
			}
			b.ReportMetric(gb*float64(b.N*batch)/scan.Seconds(), "probe-GB/s")
			b.ReportMetric(scan.Seconds()*1e3/float64(b.N*batch)/(float64(n)/1e6), "ms/million/probe")
		})
	}
}

var scanGiB = flag.Float64("scan-gib", 1, "BenchmarkScanBandwidth's gallery size in GiB")
