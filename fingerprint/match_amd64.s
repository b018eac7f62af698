#include "go_asm.h"
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

// func mccCompatPairs(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, n int) int
//
// mccCompatPairsGo's loop without its branches: about three pairs in ten
// pass the distance test, unpredictably, and the mispredictions cost more
// than computing ρ for every pair. A distance difference out of range
// reads mccZDistSigned's zero entry (index 159), so ρ = 0. ρ is the same
// products in the same order; each factor is at most 1, so the full
// product is at least mccRhoMin exactly when both tests of the Go loop
// pass. Every pair is written at half[nh] and nh advances when it is
// kept. R8 = t, R9 = k, SI and DI the geometry rows of pair t's minutiae,
// R13 = nh; pa in AX, pb in BX.
TEXT ·mccCompatPairs(SB), NOSPLIT, $0-88
	MOVQ s+0(FP), R10
	LEAQ ·mccZDistSigned(SB), R11
	LEAQ ·mccZTurn(SB), R12
	MOVL $0x3a83126f, AX // float32(mccRhoMin)
	MOVL AX, X2
	XORQ R13, R13
	XORQ R8, R8

outer:
	CMPQ    R8, n+72(FP)
	JGE     done
	MOVBLZX mccRelaxScratch_ak(R10)(R8*1), AX
	IMULQ   na+32(FP), AX
	MOVQ    apair_base+8(FP), SI
	LEAQ    (SI)(AX*4), SI
	MOVBLZX mccRelaxScratch_bk(R10)(R8*1), AX
	IMULQ   nb+64(FP), AX
	MOVQ    gpair_base+40(FP), DI
	LEAQ    (DI)(AX*4), DI
	LEAQ    1(R8), R9

inner:
	CMPQ    R9, n+72(FP)
	JGE     nextt
	MOVBLZX mccRelaxScratch_ak(R10)(R9*1), AX
	MOVL    (SI)(AX*4), AX
	MOVBLZX mccRelaxScratch_bk(R10)(R9*1), BX
	MOVL    (DI)(BX*4), BX

	// zd = mccZDistSigned[dist(pa) - dist(pb) + 79], or the zero entry
	MOVWLZX AX, CX
	MOVWLZX BX, DX
	SUBQ    DX, CX
	ADDQ    $79, CX
	MOVL    $159, DX
	CMPQ    CX, $159
	CMOVQCC DX, CX
	MOVSS   (R11)(CX*4), X0

	// r = zd * zturn[turn[k] - turn[t]]
	MOVBLZX mccRelaxScratch_turn(R10)(R9*1), CX
	SUBB    mccRelaxScratch_turn(R10)(R8*1), CL
	MOVBLZX CL, CX
	MULSS   (R12)(CX*4), X0

	// r *= zturn[radial(pa) - radial(pb)] * zturn[back(pa) - back(pb)]
	MOVL    AX, CX
	SHRL    $16, CX
	MOVL    BX, DX
	SHRL    $16, DX
	SUBB    DL, CL
	MOVBLZX CL, CX
	MOVSS   (R12)(CX*4), X1
	SHRL    $24, AX
	SHRL    $24, BX
	SUBB    BL, AL
	MOVBLZX AL, AX
	MULSS   (R12)(AX*4), X1
	MULSS   X1, X0

	// half[nh] = t | k<<8 | bits(r)<<32; nh += r >= mccRhoMin
	MOVL    X0, AX
	SHLQ    $32, AX
	MOVQ    R9, CX
	SHLQ    $8, CX
	ORQ     R8, CX
	ORQ     CX, AX
	MOVQ    AX, mccRelaxScratch_half(R10)(R13*8)
	XORL    AX, AX
	UCOMISS X2, X0
	SETCC   AL
	ADDQ    AX, R13

	INCQ R9
	JMP  inner

nextt:
	INCQ R8
	JMP  outer

done:
	MOVQ R13, ret+80(FP)
	RET

// func mccBucketOrder(cand []mccCand, buck *[257]int32, order []int32)
//
// mccBucketOrderGo's three loops: count each bucket at buck[q+1], sum the
// counts into starts, and place each candidate at its bucket's next slot.
TEXT ·mccBucketOrder(SB), NOSPLIT, $0-56
	MOVQ cand_base+0(FP), SI
	MOVQ cand_len+8(FP), CX
	MOVQ buck+24(FP), R8
	MOVQ order_base+32(FP), DI

	// clear the 257 counts
	XORL AX, AX
	MOVQ $257, DX
	MOVQ R8, R9

clear:
	MOVL AX, (R9)
	ADDQ $4, R9
	DECQ DX
	JNZ  clear

	// count: buck[q+1]++
	XORQ DX, DX

count:
	MOVBLZX 2(SI)(DX*8), AX
	INCL    4(R8)(AX*4)
	INCQ    DX
	CMPQ    DX, CX
	JLT     count

	// starts: buck[i] += buck[i-1]
	MOVL 0(R8), AX
	MOVQ $1, DX

prefix:
	ADDL (R8)(DX*4), AX
	MOVL AX, (R8)(DX*4)
	INCQ DX
	CMPQ DX, $257
	JLT  prefix

	// place: order[buck[q]++] = k | (key & 0xffff) << 16
	XORQ DX, DX

place:
	MOVL    (SI)(DX*8), AX
	MOVBLZX 2(SI)(DX*8), BX
	MOVL    (R8)(BX*4), R9
	INCL    (R8)(BX*4)
	SHLL    $16, AX
	ORL     DX, AX
	MOVL    AX, (DI)(R9*4)
	INCQ    DX
	CMPQ    DX, CX
	JLT     place
	RET
