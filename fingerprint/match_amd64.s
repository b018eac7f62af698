#include "textflag.h"

// func mccEmitWindowPOPCNT(a *[8]uint64, gal *uint64, norms *mccNorm, sqrtTab *float32, normA float32, base uint32, n int, out *mccCand) int
//
// Per gallery cylinder: the six content words XORed with the probe's and
// counted (px), then s = (1 − sqrt[px]/(normA + norm))·use, the key
// base | (255 − int(s·255))<<16 and s written at out[kept], and kept
// advanced when s − mccMinLocal has no sign bit: mccEmit's operations, in
// its order. n is at least 1.
TEXT ·mccEmitWindowPOPCNT(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), SI
	MOVQ gal+8(FP), DI
	MOVQ norms+16(FP), R8
	MOVQ sqrtTab+24(FP), R9
	MOVSS normA+32(FP), X0
	MOVL base+36(FP), R12
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), R10
	XORQ R11, R11
	MOVSS $1.0, X1
	MOVSS $255.0, X2
	MOVSS $0.25, X3

loop:
	MOVQ    0(DI), AX
	XORQ    0(SI), AX
	POPCNTQ AX, BX
	MOVQ    8(DI), DX
	XORQ    8(SI), DX
	POPCNTQ DX, DX
	ADDQ    DX, BX
	MOVQ    16(DI), AX
	XORQ    16(SI), AX
	POPCNTQ AX, AX
	ADDQ    AX, BX
	MOVQ    24(DI), DX
	XORQ    24(SI), DX
	POPCNTQ DX, DX
	ADDQ    DX, BX
	MOVQ    32(DI), AX
	XORQ    32(SI), AX
	POPCNTQ AX, AX
	ADDQ    AX, BX
	MOVQ    40(DI), DX
	XORQ    40(SI), DX
	POPCNTQ DX, DX
	ADDQ    DX, BX

	// s = (1 - sqrt[px]/(normA+norm)) * use
	MOVSS (R9)(BX*4), X4
	MOVSS 0(R8), X5
	ADDSS X0, X5
	DIVSS X5, X4
	MOVSS X1, X6
	SUBSS X4, X6
	MULSS 4(R8), X6
	MOVSS X6, 4(R10)(R11*8)

	// key: base | uint8(255 - int(s*255))<<16
	MOVSS     X6, X7
	MULSS     X2, X7
	CVTTSS2SQ X7, AX
	MOVL      $255, DX
	SUBQ      AX, DX
	MOVBLZX   DL, DX
	SHLL      $16, DX
	ORL       R12, DX
	MOVL      DX, 0(R10)(R11*8)

	// kept += s - mccMinLocal has no sign bit
	SUBSS X3, X6
	MOVL  X6, AX
	NOTL  AX
	SHRL  $31, AX
	ADDQ  AX, R11

	ADDL $256, R12
	ADDQ $64, DI
	ADDQ $8, R8
	DECQ CX
	JNZ  loop

	MOVQ R11, ret+56(FP)
	RET
