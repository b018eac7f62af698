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

// TestGauss5 checks exGaussRow5 and exGaussCol5 (SSE on amd64) against
// their scalar sums, bit for bit, at lengths that leave every remainder.
func TestGauss5(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	k := exGaussKernel(1, 2)
	for n := 1; n < 40; n++ {
		pad := make([]float32, n+4)
		rows := make([][]float32, 5)
		for i := range pad {
			pad[i] = rng.Float32()*510 - 255
		}
		for r := range rows {
			rows[r] = make([]float32, n)
			for i := range rows[r] {
				rows[r][i] = rng.Float32()*510 - 255
			}
		}
		row, col := make([]float32, n), make([]float32, n)
		exGaussRow5(row, pad, k)
		exGaussCol5(col, rows[0], rows[1], rows[2], rows[3], rows[4], k)
		for x := 0; x < n; x++ {
			var sr, sc float32
			for j := 0; j < 5; j++ {
				sr += float32(k[j] * pad[x+j])
				sc += float32(k[j] * rows[j][x])
			}
			if math.Float32bits(row[x]) != math.Float32bits(sr) || math.Float32bits(col[x]) != math.Float32bits(sc) {
				t.Fatalf("n %d, pixel %d: row %v col %v, scalar %v %v", n, x, row[x], col[x], sr, sc)
			}
		}
	}
}

// TestAddScaled checks exAddScaled (SSE on amd64) against the scalar
// loop, bit for bit, at lengths that leave every remainder.
func TestAddScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for n := 1; n < 40; n++ {
		dst, src := make([]float32, n), make([]float32, n)
		for i := range dst {
			dst[i], src[i] = rng.Float32()*510-255, rng.Float32()*510-255
		}
		wt := rng.Float32()
		want := make([]float32, n)
		for i := range want {
			want[i] = dst[i] + float32(wt*src[i])
		}
		exAddScaled(dst, src, wt)
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d, pixel %d: %v, scalar %v", n, i, dst[i], want[i])
			}
		}
	}
}
