package fingerprint

import "golang.org/x/sys/cpu"

// usePOPCNT selects mccEmitWindowPOPCNT for the similarity loop. Go's
// default amd64 target (GOAMD64=v1) tests for POPCNT before every count;
// the assembly loop counts with the instruction directly and keeps the
// whole loop in registers.
var usePOPCNT = cpu.X86.HasPOPCNT

// mccEmitWindowPOPCNT is mccDiffBits followed by mccEmit for the n
// gallery cylinders starting at gal (consecutive, mccStrideConst words
// each) with their norms at norms: it writes each candidate at out[kept]
// with key base + k<<8 (k the candidate's position in the window) and
// returns kept, the number usable and at least mccMinLocal similar. The
// arithmetic is the same float32 operations in the same order, so the
// similarities and keys are bit for bit those of the Go loops
// (TestEmitWindowPOPCNT).
//
//go:noescape
func mccEmitWindowPOPCNT(a *[mccStrideConst]uint64, gal *uint64, norms *mccNorm, sqrtTab *float32, normA float32, base uint32, n int, out *mccCand) int

// mccCompatPairs is mccCompatPairsGo in assembly: the Go loop keeps too
// many values live for the registers and spills them on every pair. The
// tables must hold every entry the relaxed pairs index (na·na, nb·nb).
//
//go:noescape
func mccCompatPairs(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int) int

// mccBucketOrder is mccBucketOrderGo in assembly. cand is not empty and
// order is as long as cand.
//
//go:noescape
func mccBucketOrder(cand []mccCand, buck *[257]int32, order []int32)

// useAVX512 selects mccEmitWindowAVX512 over mccEmitWindowPOPCNT.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ &&
	cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VPOPCNTDQ && cpu.X86.HasPOPCNT

// mccEmitWindowAVX512 is mccEmitWindowPOPCNT for eight gallery cylinders
// at a time, with AVX-512: the same candidates, keys and similarities, bit
// for bit (TestEmitWindowAVX512), except that only the kept candidates
// are written.
//
//go:noescape
func mccEmitWindowAVX512(a *[mccStrideConst]uint64, gal *uint64, norms *mccNorm, sqrtTab *float32, normA float32, base uint32, n int, out *mccCand) int
