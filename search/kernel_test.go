package search

import (
	"math/rand/v2"
	"testing"
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
