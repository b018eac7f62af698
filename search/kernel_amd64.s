#include "textflag.h"

// Both loops widen 16 int8 values to int16 (VPMOVSXBW), multiply them
// with 16 int16 values and add adjacent products to 8 int32 (VPMADDWD),
// and accumulate in two registers. No product pair can overflow: 2·128²
// fits an int32.

// func dotInt8AVX2(a, b *int8, n int) int32
TEXT ·dotInt8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

dotloop:
	VPMOVSXBW (SI), Y2
	VPMOVSXBW (DI), Y3
	VPMADDWD  Y2, Y3, Y2
	VPADDD    Y2, Y0, Y0
	VPMOVSXBW 16(SI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD  Y4, Y5, Y4
	VPADDD    Y4, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	JNZ       dotloop

	VPADDD       Y0, Y1, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X0, X1, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X0, X1, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X0, X1, X0
	VMOVD        X0, AX
	MOVL         AX, ret+24(FP)
	VZEROUPPER
	RET

// func scanInt8AVX2(vecs *int8, dim int, probe16 *int16, out *int32, n int)
// dim is a positive multiple of 64: four accumulators per 64 bytes keep
// the loads in flight, and the horizontal sum is paid once per vector.
// The prefetch 2 KiB ahead overlaps memory with the arithmetic: without
// it a gallery out of cache scanned at 71% of one core's read bandwidth,
// with it 92-96% (BenchmarkScanBandwidth; 512 bytes ahead gave 85%,
// 4 KiB 92%). A prefetch past the end of the gallery does not fault.
TEXT ·scanInt8AVX2(SB), NOSPLIT, $0-40
	MOVQ vecs+0(FP), SI
	MOVQ dim+8(FP), DX
	MOVQ probe16+16(FP), R8
	MOVQ out+24(FP), DI
	MOVQ n+32(FP), R9

scanvec:
	MOVQ  R8, BX
	MOVQ  DX, CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7

scanloop:
	PREFETCHT0 2048(SI)
	VPMOVSXBW (SI), Y2
	VPMOVSXBW 16(SI), Y3
	VPMOVSXBW 32(SI), Y4
	VPMOVSXBW 48(SI), Y5
	VPMADDWD  (BX), Y2, Y2
	VPMADDWD  32(BX), Y3, Y3
	VPMADDWD  64(BX), Y4, Y4
	VPMADDWD  96(BX), Y5, Y5
	VPADDD    Y2, Y0, Y0
	VPADDD    Y3, Y1, Y1
	VPADDD    Y4, Y6, Y6
	VPADDD    Y5, Y7, Y7
	ADDQ      $64, SI
	ADDQ      $128, BX
	SUBQ      $64, CX
	JNZ       scanloop

	VPADDD       Y0, Y1, Y0
	VPADDD       Y6, Y7, Y6
	VPADDD       Y0, Y6, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X0, X1, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X0, X1, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X0, X1, X0
	VMOVD        X0, (DI)
	ADDQ         $4, DI
	DECQ         R9
	JNZ          scanvec
	VZEROUPPER
	RET

// func readAVX2(p *int8, n int) int64
// reads n bytes (a positive multiple of 128) and returns a value that
// depends on all of them: the memory read bandwidth a scan can reach.
TEXT ·readAVX2(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

readloop:
	VPXOR (SI), Y0, Y0
	VPXOR 32(SI), Y1, Y1
	VPXOR 64(SI), Y2, Y2
	VPXOR 96(SI), Y3, Y3
	ADDQ  $128, SI
	SUBQ  $128, CX
	JNZ   readloop

	VPXOR        Y0, Y1, Y0
	VPXOR        Y2, Y3, Y2
	VPXOR        Y0, Y2, Y0
	VEXTRACTI128 $1, Y0, X1
	VPXOR        X0, X1, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET
