package nn

import "golang.org/x/sys/cpu"

// useSIMD selects the AVX2/FMA kernels of gemm_amd64.s.
var useSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int)

//go:noescape
func kernel4x8(k int, a *float32, lda int, b *float32, c *float32, ldc int)

//go:noescape
func dwRow(dst *float32, src *float32, f *float32, n int, c int, step int)

//go:noescape
func addRelu8(dst *float32, src *float32, n int, relu bool)
