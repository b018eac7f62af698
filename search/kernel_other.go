//go:build !amd64

package search

const useAVX2 = false

func dotInt8AVX2(a, b *int8, n int) int32 { panic("unreachable") }

func scanInt8AVX2(vecs *int8, dim int, probe16 *int16, out *int32, n int) { panic("unreachable") }

func readAVX2(p *int8, n int) int64 { panic("unreachable") }
