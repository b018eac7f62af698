package search

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2

// dotInt8AVX2 is the dot product of n int8 values, n a positive multiple
// of 32.
//
//go:noescape
func dotInt8AVX2(a, b *int8, n int) int32

// scanInt8AVX2 writes the dot products of n vectors of dim int8 values
// (dim a positive multiple of 64) with a probe widened to int16.
//
//go:noescape
func scanInt8AVX2(vecs *int8, dim int, probe16 *int16, out *int32, n int)

// readAVX2 reads n bytes (a multiple of 128) as fast as the core can: the
// yardstick BenchmarkReadBandwidth holds the scan against.
//
//go:noescape
func readAVX2(p *int8, n int) int64
