package fingerprint

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEnhConv4 checks enhConv4 (the SSE loop on amd64) against the
// portable loop, bit for bit, with the real kernels on a random plane.
func TestEnhConv4(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const pw, ph = 120, 120
	v := make([]float32, pw*ph)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	kernels := []enhKernel{}
	for ob := 0; ob < enhOriBins; ob++ {
		buf := make([]int32, len(enhAlongKernels[ob].dx))
		kernels = append(kernels, enhAlongKernels[ob].withStride(pw, &buf))
		for pb := 0; pb < enhPerBins; pb++ {
			buf := make([]int32, len(enhAcrossKernels[ob][pb].dx))
			kernels = append(kernels, enhAcrossKernels[ob][pb].withStride(pw, &buf))
		}
	}
	for _, k := range kernels {
		for range 20 {
			i := (pw/2-10+rng.IntN(20))*pw + pw/2 - 10 + rng.IntN(20)
			var got, want [4]float32
			enhConv4(got[:], v, i, &k)
			enhConv4Go(want[:], v, i, &k)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("kernel of %d taps at %d, pixel %d: %v, portable loop %v", len(k.off), i, j, got[j], want[j])
				}
			}
		}
	}
}
