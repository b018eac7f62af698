//go:build !amd64

package nn

const useSIMD = false

func kernel4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int) {
	panic("nn: no SIMD kernel on this architecture")
}

func kernel4x8(k int, a *float32, lda int, b *float32, c *float32, ldc int) {
	panic("nn: no SIMD kernel on this architecture")
}

func dwRow(dst *float32, src *float32, f *float32, n int, c int, step int) {
	panic("nn: no SIMD kernel on this architecture")
}

func addRelu8(dst *float32, src *float32, n int, relu bool) {
	panic("nn: no SIMD kernel on this architecture")
}
