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

// BUCKETCOUNT and BUCKETPLACE are the counting and the placing loops of
// mccBucketOrder and mccBucketOrderAVX512, which differ only in how they
// clear the counts and sum them into starts; the loop's label is the
// argument. SI holds the candidates, CX their number, R8 the 257 counts,
// DI the order.
//
// BUCKETCOUNT: buck[q+1]++ for each candidate's bucket q.
#define BUCKETCOUNT(loop) \
	XORQ    DX, DX; \
loop: \
	MOVBLZX 2(SI)(DX*8), AX; \
	INCL    4(R8)(AX*4); \
	INCQ    DX; \
	CMPQ    DX, CX; \
	JLT     loop

// BUCKETPLACE: order[buck[q]++] = k | (key & 0xffff) << 16, then return.
#define BUCKETPLACE(loop) \
	XORQ    DX, DX; \
loop: \
	MOVL    (SI)(DX*8), AX; \
	MOVBLZX 2(SI)(DX*8), BX; \
	MOVL    (R8)(BX*4), R9; \
	INCL    (R8)(BX*4); \
	SHLL    $16, AX; \
	ORL     DX, AX; \
	MOVL    AX, (DI)(R9*4); \
	INCQ    DX; \
	CMPQ    DX, CX; \
	JLT     loop; \
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

	BUCKETCOUNT(count)

	// starts: buck[i] += buck[i-1]
	MOVL 0(R8), AX
	MOVQ $1, DX

prefix:
	ADDL (R8)(DX*4), AX
	MOVL AX, (R8)(DX*4)
	INCQ DX
	CMPQ DX, $257
	JLT  prefix

	BUCKETPLACE(place)

// XORCYL8 loads the eight gallery cylinders at DI, each XORed with the
// probe's cylinder (Z8) in the lanes of K1 and zero elsewhere, into Z0-Z7:
// a full block of mccEmitJobsAVX512's window, or the block moved back to
// end with a short window.
#define XORCYL8 \
	VPXORQ.Z 0(DI), Z8, K1, Z0; \
	VPXORQ.Z 64(DI), Z8, K1, Z1; \
	VPXORQ.Z 128(DI), Z8, K1, Z2; \
	VPXORQ.Z 192(DI), Z8, K1, Z3; \
	VPXORQ.Z 256(DI), Z8, K1, Z4; \
	VPXORQ.Z 320(DI), Z8, K1, Z5; \
	VPXORQ.Z 384(DI), Z8, K1, Z6; \
	VPXORQ.Z 448(DI), Z8, K1, Z7

// TAILLOAD loads cylinder c (at offset off) of a last window of R13
// cylinders into dst, masked with K1 when c < R13 and with 0 otherwise.
#define TAILLOAD(c, off, dst) \
	XORL     DX, DX; \
	CMPQ     R13, $c; \
	SETGT    DL; \
	NEGL     DX; \
	ANDL     $0x3f, DX; \
	KMOVW    DX, K2; \
	VPXORQ.Z off(DI), Z8, K2, dst

// func mccEmitJobsAVX512(jobs []uint32, pbits *uint64, pnorms *mccNorm, gbits *uint64, gnorms *mccNorm, out *mccCand) int
//
// mccEmitWindowPOPCNT for a list of windows (jobs, each i | lo<<8 |
// n<<16: probe cylinder i against gallery cylinders lo to lo+n−1, n at
// least 1), in one call, eight gallery cylinders at a time (AVX-512F, VL,
// DQ, BW and VPOPCNTDQ): each cylinder is one 64-byte line, XORed with
// the probe's content words in one register and counted per word
// (VPOPCNTQ), and the eight counts of eight cylinders are summed by a
// transposing reduction. The similarity and key are the scalar loop's
// float32 operations, lane by lane (an IEEE operation gives the same bits
// in a lane as alone), and the candidates kept are packed together
// (VPCOMPRESSQ) and written with a store masked to their number, so that
// nothing is written beyond them; the windows' candidates follow each
// other as the scalar loop, called window by window, writes them. A last
// block of fewer than eight cylinders reads the eight that end the
// window, the lanes before it masked, when the gallery has eight there;
// otherwise it reads only its own cylinders and norms (masked loads).
// jobs is not empty.
//
// Z8 the probe's content words (words 6 and 7 zero), K1 = 0x3f; Y9 the
// keys i | (lo+k)<<8 of the block's lanes; Y10 8<<8; Y11 1.0; Y12 normA;
// Y13 255.0; Y14 0.25; Y15 the integer 255; R12 the next job, R9 the jobs
// left, R13 the window's cylinders left, BX the gallery cylinders before
// DI, R11 kept.
TEXT ·mccEmitJobsAVX512(SB), NOSPLIT, $0-72
	MOVQ jobs_base+0(FP), R12
	MOVQ jobs_len+8(FP), R9
	MOVQ out+56(FP), R10
	XORQ R11, R11

	MOVL         $0x3f, AX
	KMOVW        AX, K1
	MOVL         $2048, AX
	VPBROADCASTD AX, Y10
	MOVL         $0x3f800000, AX // 1.0
	VPBROADCASTD AX, Y11
	MOVL         $0x437f0000, AX // 255.0
	VPBROADCASTD AX, Y13
	MOVL         $0x3e800000, AX // 0.25 (mccMinLocal)
	VPBROADCASTD AX, Y14
	MOVL         $255, AX
	VPBROADCASTD AX, Y15

job:
	MOVL         (R12), AX
	MOVL         AX, CX
	ANDL         $0xff, CX      // i
	MOVL         AX, BX
	SHRL         $8, BX
	ANDL         $0xff, BX      // lo
	MOVL         AX, R13
	SHRL         $16, R13       // n
	MOVQ         pbits+24(FP), SI
	MOVQ         CX, DX
	SHLQ         $6, DX
	VMOVDQU64.Z  (SI)(DX*1), K1, Z8
	MOVQ         pnorms+32(FP), SI
	VBROADCASTSS (SI)(CX*8), Y12
	ANDL         $0xffff, AX    // i | lo<<8
	VPBROADCASTD AX, Y9
	VPADDD       mccLaneKeys<>(SB), Y9, Y9
	MOVQ         gbits+40(FP), DI
	MOVQ         BX, DX
	SHLQ         $6, DX
	ADDQ         DX, DI
	MOVQ         gnorms+48(FP), R8
	LEAQ         (R8)(BX*8), R8

block:
	CMPQ        R13, $8
	JLT         tail
	XORCYL8
	KXNORW      K3, K3, K3
	VMOVDQU64   (R8), Z16
	JMP         count

tail:
	// R13 (1 to 7) cylinders left. With 8 − R13 cylinders before DI in
	// the gallery, the block is moved back to end with the window and its
	// first 8 − R13 lanes masked: the same candidates in the same order.
	MOVQ $8, AX
	SUBQ R13, AX
	CMPQ AX, BX
	JGT  masked
	MOVQ         AX, CX
	SHLQ         $6, CX
	SUBQ         CX, DI
	MOVQ         AX, CX
	SHLQ         $3, CX
	SUBQ         CX, R8
	MOVQ         AX, CX
	SHLQ         $8, CX
	VPBROADCASTD CX, Y0
	VPSUBD       Y0, Y9, Y9
	XORCYL8
	MOVQ         AX, CX
	MOVL         $0xff, AX
	SHLL         CX, AX
	KMOVW        AX, K3
	VMOVDQU64    (R8), Z16
	JMP          count

masked:
	// Lane c is a cylinder when c < R13: its load is masked with K1, the
	// others with 0 (no access).
	VPXORQ.Z 0(DI), Z8, K1, Z0
	TAILLOAD(1, 64, Z1)
	TAILLOAD(2, 128, Z2)
	TAILLOAD(3, 192, Z3)
	TAILLOAD(4, 256, Z4)
	TAILLOAD(5, 320, Z5)
	TAILLOAD(6, 384, Z6)
	TAILLOAD(7, 448, Z7)
	MOVQ        R13, CX
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K3
	VMOVDQU64.Z (R8), K3, Z16

count:
	VPOPCNTQ Z0, Z0
	VPOPCNTQ Z1, Z1
	VPOPCNTQ Z2, Z2
	VPOPCNTQ Z3, Z3
	VPOPCNTQ Z4, Z4
	VPOPCNTQ Z5, Z5
	VPOPCNTQ Z6, Z6
	VPOPCNTQ Z7, Z7

	// Pairs of cylinders: each 128-bit lane of Z20 holds a partial sum of
	// Z0 and one of Z1, and so on.
	VPUNPCKLQDQ Z1, Z0, Z20
	VPUNPCKHQDQ Z1, Z0, Z21
	VPADDQ      Z21, Z20, Z20
	VPUNPCKLQDQ Z3, Z2, Z22
	VPUNPCKHQDQ Z3, Z2, Z23
	VPADDQ      Z23, Z22, Z22
	VPUNPCKLQDQ Z5, Z4, Z24
	VPUNPCKHQDQ Z5, Z4, Z25
	VPADDQ      Z25, Z24, Z24
	VPUNPCKLQDQ Z7, Z6, Z26
	VPUNPCKHQDQ Z7, Z6, Z27
	VPADDQ      Z27, Z26, Z26

	// Lanes 0+1 and 2+3 of two such registers, then of the two results:
	// qword c of Z20 is cylinder c's count.
	VSHUFI64X2 $0x88, Z22, Z20, Z21
	VSHUFI64X2 $0xdd, Z22, Z20, Z23
	VPADDQ     Z23, Z21, Z20
	VSHUFI64X2 $0x88, Z26, Z24, Z25
	VSHUFI64X2 $0xdd, Z26, Z24, Z27
	VPADDQ     Z27, Z25, Z24
	VSHUFI64X2 $0x88, Z24, Z20, Z21
	VSHUFI64X2 $0xdd, Z24, Z20, Z23
	VPADDQ     Z23, Z21, Z20
	VPMOVQD    Z20, Y0

	// s = (1 - sqrt[px]/(normA+norm)) * use. sqrt[px] is
	// float32(math.Sqrt(float64(px))), which is VSQRTPS of float32(px):
	// px is exact in float32, and rounding a square root to float64 and
	// then to float32 gives the float32 rounding (53 ≥ 2·24+2 bits), as
	// TestEmitWindowAVX512 checks for every count. (A gather from the
	// table cost more than all the rest of a block on the machine
	// measured.)
	VCVTDQ2PS  Y0, Y1
	VSQRTPS    Y1, Y1
	VPMOVQD    Z16, Y2        // norm
	VPSRLQ     $32, Z16, Z16
	VPMOVQD    Z16, Y3        // use
	VADDPS     Y12, Y2, Y2
	VDIVPS     Y2, Y1, Y1
	VSUBPS     Y1, Y11, Y1
	VMULPS     Y3, Y1, Y1

	// key: base | (k<<8) | uint8(255 - int(s*255))<<16
	VMULPS     Y13, Y1, Y4
	VCVTTPS2DQ Y4, Y4
	VPSUBD     Y4, Y15, Y4
	VPANDD     Y15, Y4, Y4
	VPSLLD     $16, Y4, Y4
	VPORD      Y9, Y4, Y4

	// kept: s >= mccMinLocal, in a lane that is a cylinder
	VCMPPS $0x1d, Y14, Y1, K3, K4

	// out[kept:] = the kept lanes' {key, s}
	VPMOVZXDQ   Y4, Z5
	VPMOVZXDQ   Y1, Z6
	VPSLLQ      $32, Z6, Z6
	VPORQ       Z6, Z5, Z5
	VPCOMPRESSQ Z5, K4, Z5
	KMOVW       K4, AX
	POPCNTL     AX, AX
	MOVQ        AX, CX
	MOVL        $1, DX
	SHLL        CX, DX
	DECL        DX
	KMOVW       DX, K5
	VMOVDQU64   Z5, K5, (R10)(R11*8)
	ADDQ        AX, R11

	ADDQ   $512, DI
	ADDQ   $64, R8
	ADDQ   $8, BX
	VPADDD Y10, Y9, Y9
	SUBQ   $8, R13
	JGT    block

	ADDQ $4, R12
	DECQ R9
	JNZ  job

	VZEROUPPER
	MOVQ R11, ret+64(FP)
	RET


// mccLaneKeys: k<<8 for lanes k = 0 to 7.
DATA mccLaneKeys<>+0(SB)/4, $0
DATA mccLaneKeys<>+4(SB)/4, $256
DATA mccLaneKeys<>+8(SB)/4, $512
DATA mccLaneKeys<>+12(SB)/4, $768
DATA mccLaneKeys<>+16(SB)/4, $1024
DATA mccLaneKeys<>+20(SB)/4, $1280
DATA mccLaneKeys<>+24(SB)/4, $1536
DATA mccLaneKeys<>+28(SB)/4, $1792
GLOBL mccLaneKeys<>(SB), RODATA|NOPTR, $32

// ZTURN looks up the zturn factor of the turn-part index idx (0-63) in
// mccZPerm (R8): entries 0-31 and 32-63 by permutes, chosen by bit 5 (Z28
// = 32). Uses Z14, Z15 and K1.
#define ZTURN(idx, dst) \
	VMOVUPS   0(R8), dst; \
	VPERMT2PS 64(R8), idx, dst; \
	VMOVUPS   128(R8), Z15; \
	VPERMT2PS 192(R8), idx, Z15; \
	VPTESTMD  Z28, idx, K1; \
	VMOVUPS   Z15, K1, dst

// func mccCompatPairsAVX512(s *mccRelaxScratch, apair []uint32, na int, gpair []uint32, nb int, tk []uint16, n int, geo *mccPairGeo) int
//
// mccCompatPairs sixteen pairs of pairs at a time (AVX-512F, VL, DQ and
// BW). First the geometry words of every pair of pairs, in
// mccCompatPairsGo's row order, are copied to geo (scalar loads:
// a gather cost more than the whole block on the machine measured). Then,
// sixteen lanes at a time, tk (mccPairList[n], t | k<<8 in the same
// order) gives each lane's pairs, the four sigmoid factors are looked up
// in mccZPerm with register permutes, and ρ is the same products in the
// same order as mccCompatPairs's, so that every entry kept is the same to
// the bit. mccZPerm holds only the part of each table where a factor is
// at least mccRhoMin; a lane whose index falls outside has a factor below
// it, hence ρ below it (every factor is at most 1), and is not kept, as
// in the Go loop (mccZPermCovers checks the tables). The kept entries are
// packed (VPCOMPRESSQ) and written with a store masked to their number:
// nothing beyond them.
//
// Z20/Z21 turn (as dwords, entries 0-15 and 16-31); Z26 0xffff, Z27 64,
// Z28 32, Z29 255, Z30 mccRhoMin, Z31 the lane numbers 0-15; R8
// mccZPerm; R11 geo; R9 the next entry; R12 the entries left; R13 kept.
TEXT ·mccCompatPairsAVX512(SB), NOSPLIT, $0-120
	MOVQ s+0(FP), R10
	MOVQ apair_base+8(FP), SI
	MOVQ gpair_base+40(FP), DI
	MOVQ n+96(FP), R13
	MOVQ geo+104(FP), DX

	// geo[0][p], geo[1][p] for the pairs of pairs p in row order.
	XORQ R12, R12
	XORQ R8, R8

cprow:
	LEAQ    1(R8), R9
	CMPQ    R9, R13
	JGE     cpcopied
	MOVBLZX mccRelaxScratch_ak(R10)(R8*1), AX
	IMULQ   na+32(FP), AX
	LEAQ    (SI)(AX*4), R11
	MOVBLZX mccRelaxScratch_bk(R10)(R8*1), AX
	IMULQ   nb+64(FP), AX
	LEAQ    (DI)(AX*4), CX

cpcol:
	MOVBLZX mccRelaxScratch_ak(R10)(R9*1), AX
	MOVL    (R11)(AX*4), AX
	MOVL    AX, (DX)(R12*4)
	MOVBLZX mccRelaxScratch_bk(R10)(R9*1), BX
	MOVL    (CX)(BX*4), BX
	MOVL    BX, 2048(DX)(R12*4)
	INCQ    R12
	INCQ    R9
	CMPQ    R9, R13
	JLT     cpcol
	INCQ    R8
	JMP     cprow

cpcopied:
	XORQ  R13, R13
	TESTQ R12, R12
	JLE   cpdone
	MOVQ  tk_base+72(FP), SI
	MOVQ  geo+104(FP), R11
	LEAQ  ·mccZPerm(SB), R8
	XORQ  R9, R9

	VPMOVZXBD    mccRelaxScratch_turn(R10), Z20
	VPMOVZXBD    mccRelaxScratch_turn+16(R10), Z21
	MOVL         $0xffff, AX
	VPBROADCASTD AX, Z26
	MOVL         $64, AX
	VPBROADCASTD AX, Z27
	MOVL         $32, AX
	VPBROADCASTD AX, Z28
	MOVL         $255, AX
	VPBROADCASTD AX, Z29
	MOVL         $0x3a83126f, AX // float32(mccRhoMin)
	VPBROADCASTD AX, Z30
	VMOVDQU32    mccLanes<>(SB), Z31

cpblock:
	// K7: the lanes that are entries (p < count).
	MOVQ         R12, AX
	VPBROADCASTD AX, Z0
	VPCMPUD      $1, Z0, Z31, K7 // lane < entries left

	VPMOVZXWD (SI)(R9*2), Z0 // t | k<<8
	VMOVDQU32 (R11)(R9*4), Z7     // pa
	VMOVDQU32 2048(R11)(R9*4), Z8 // pb

	// turn[k] - turn[t] + 32, as a byte
	VPANDD    Z29, Z0, Z1
	VPSRLD    $8, Z0, Z2
	VMOVDQA64 Z1, Z9
	VPERMI2D  Z21, Z20, Z9
	VMOVDQA64 Z2, Z10
	VPERMI2D  Z21, Z20, Z10
	VPSUBD    Z9, Z10, Z10
	VPADDD    Z28, Z10, Z10
	VPANDD    Z29, Z10, Z10

	// dist(pa) - dist(pb) + 64
	VPANDD Z26, Z7, Z11
	VPANDD Z26, Z8, Z12
	VPSUBD Z12, Z11, Z11
	VPADDD Z27, Z11, Z11

	// radial(pa) - radial(pb) + 32 and back(pa) - back(pb) + 32, as bytes
	VPSRLD $16, Z7, Z12
	VPSRLD $16, Z8, Z13
	VPSUBD Z13, Z12, Z12
	VPADDD Z28, Z12, Z12
	VPANDD Z29, Z12, Z12
	VPSRLD $24, Z7, Z13
	VPSRLD $24, Z8, Z14
	VPSUBD Z14, Z13, Z13
	VPADDD Z28, Z13, Z13
	VPANDD Z29, Z13, Z13

	// Lanes whose indices are all inside mccZPerm's parts.
	VPCMPUD $1, Z27, Z10, K7, K7 // turn index < 64
	VPCMPUD $1, Z27, Z12, K7, K7
	VPCMPUD $1, Z27, Z13, K7, K7
	VPADDD  Z27, Z27, Z14        // 128
	VPCMPUD $1, Z14, Z11, K7, K7 // dist index < 128

	// zturn factors: entries 0-31 and 32-63 of the turn part, by bit 5.
	ZTURN(Z10, Z3)
	ZTURN(Z12, Z4)
	ZTURN(Z13, Z5)

	// zdist: entries 0-127 of the distance part, by bits 5 and 6.
	VMOVUPS    256(R8), Z6
	VPERMT2PS  320(R8), Z11, Z6
	VMOVUPS    384(R8), Z9
	VPERMT2PS  448(R8), Z11, Z9
	VMOVUPS    512(R8), Z12
	VPERMT2PS  576(R8), Z11, Z12
	VMOVUPS    640(R8), Z13
	VPERMT2PS  704(R8), Z11, Z13
	VPTESTMD   Z28, Z11, K1
	VMOVUPS    Z9, K1, Z6
	VMOVUPS    Z13, K1, Z12
	VPTESTMD   Z27, Z11, K1
	VMOVUPS    Z12, K1, Z6

	// ρ = (zdist · zturn[turn]) · (zturn[radial] · zturn[back])
	VMULPS Z3, Z6, Z6
	VMULPS Z5, Z4, Z4
	VMULPS Z4, Z6, Z3

	// kept: ρ >= mccRhoMin in a lane that is an entry
	VCMPPS $0x1d, Z30, Z3, K7, K1

	// half[kept:] = t | k<<8 | bits(ρ)<<32 of the kept lanes, 0-7 then 8-15
	VPMOVZXDQ   Y0, Z4
	VPMOVZXDQ   Y3, Z5
	VPSLLQ      $32, Z5, Z5
	VPORQ       Z5, Z4, Z4
	VPCOMPRESSQ Z4, K1, Z4
	KMOVW       K1, AX
	ANDL        $0xff, AX
	POPCNTL     AX, AX
	MOVQ        AX, CX
	MOVL        $1, DX
	SHLL        CX, DX
	DECL        DX
	KMOVW       DX, K2
	VMOVDQU64   Z4, K2, mccRelaxScratch_half(R10)(R13*8)
	ADDQ        AX, R13

	VEXTRACTI64X4 $1, Z0, Y0
	VEXTRACTF64X4 $1, Z3, Y3
	KSHIFTRW      $8, K1, K1
	VPMOVZXDQ     Y0, Z4
	VPMOVZXDQ     Y3, Z5
	VPSLLQ        $32, Z5, Z5
	VPORQ         Z5, Z4, Z4
	VPCOMPRESSQ   Z4, K1, Z4
	KMOVW         K1, AX
	POPCNTL       AX, AX
	MOVQ          AX, CX
	MOVL          $1, DX
	SHLL          CX, DX
	DECL          DX
	KMOVW         DX, K2
	VMOVDQU64     Z4, K2, mccRelaxScratch_half(R10)(R13*8)
	ADDQ          AX, R13

	ADDQ $16, R9
	SUBQ $16, R12
	JGT  cpblock

	VZEROUPPER

cpdone:
	MOVQ R13, ret+112(FP)
	RET

// mccLanes: the lane numbers 0 to 15.
DATA mccLanes<>+0(SB)/4, $0
DATA mccLanes<>+4(SB)/4, $1
DATA mccLanes<>+8(SB)/4, $2
DATA mccLanes<>+12(SB)/4, $3
DATA mccLanes<>+16(SB)/4, $4
DATA mccLanes<>+20(SB)/4, $5
DATA mccLanes<>+24(SB)/4, $6
DATA mccLanes<>+28(SB)/4, $7
DATA mccLanes<>+32(SB)/4, $8
DATA mccLanes<>+36(SB)/4, $9
DATA mccLanes<>+40(SB)/4, $10
DATA mccLanes<>+44(SB)/4, $11
DATA mccLanes<>+48(SB)/4, $12
DATA mccLanes<>+52(SB)/4, $13
DATA mccLanes<>+56(SB)/4, $14
DATA mccLanes<>+60(SB)/4, $15
GLOBL mccLanes<>(SB), RODATA|NOPTR, $64

// func mccLamOrderAVX512(lam *[32]float32, n int, order *[32]int32)
//
// For each pair t < n: its rank is the number of pairs u < n with
// lam[u] > lam[t], plus those with u < t and lam[u] = lam[t]; order[rank]
// = t. Z0/Z1 lam 0-15 and 16-31, K5/K6 the lanes below n, R8 the lanes
// below t (as 32 bits). n is 1 to 32.
TEXT ·mccLamOrderAVX512(SB), NOSPLIT, $0-24
	MOVQ    lam+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    order+16(FP), DI
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	MOVQ    $1, AX
	SHLQ    CX, AX
	DECQ    AX
	KMOVW   AX, K5
	SHRQ    $16, AX
	KMOVW   AX, K6
	XORQ    DX, DX
	XORL    R8, R8

rank:
	VBROADCASTSS (SI)(DX*4), Z2
	VCMPPS       $0x1e, Z2, Z0, K5, K1 // lam[u] > lam[t]
	VCMPPS       $0x1e, Z2, Z1, K6, K2
	VCMPPS       $0x00, Z2, Z0, K5, K3 // lam[u] = lam[t]
	VCMPPS       $0x00, Z2, Z1, K6, K4
	KMOVW        K1, AX
	POPCNTL      AX, AX
	KMOVW        K2, BX
	POPCNTL      BX, BX
	ADDL         BX, AX
	KMOVW        K3, BX
	KMOVW        K4, R9
	SHLL         $16, R9
	ORL          R9, BX
	ANDL         R8, BX
	POPCNTL      BX, BX
	ADDL         BX, AX
	MOVL         DX, (DI)(AX*4)
	LEAL         1(R8)(R8*1), R8
	INCQ         DX
	CMPQ         DX, CX
	JLT          rank

	VZEROUPPER
	RET

// func mccBucketOrderAVX512(cand []mccCand, buck *[257]int32, order []int32)
//
// mccBucketOrder with the counts cleared and summed sixteen at a time
// (AVX-512F): each block of 16 counts is scanned in its register (four
// shifted adds, VALIGND bringing in zeros) and offset by the sum of the
// blocks before, which is the same integer sum. Buckets 0 to 255 are the
// sixteen blocks; bucket 256 is summed alone.
TEXT ·mccBucketOrderAVX512(SB), NOSPLIT, $0-56
	MOVQ cand_base+0(FP), SI
	MOVQ cand_len+8(FP), CX
	MOVQ buck+24(FP), R8
	MOVQ order_base+32(FP), DI

	// clear the 257 counts
	VPXORD    Z0, Z0, Z0
	MOVQ      R8, R9
	MOVQ      $16, DX

bclear:
	VMOVDQU32 Z0, (R9)
	ADDQ      $64, R9
	DECQ      DX
	JNZ       bclear
	MOVL      $0, 1024(R8)

	BUCKETCOUNT(bcount)

	// starts: buck[i] += buck[i-1], block by block; Z1 the sum so far
	// (broadcast), Z2 the lane numbers' last (15), Z0 zero.
	VPXORD       Z1, Z1, Z1
	MOVL         $15, AX
	VPBROADCASTD AX, Z2
	MOVQ         R8, R9
	MOVQ         $16, DX

bprefix:
	VMOVDQU32 (R9), Z3
	VALIGND   $15, Z0, Z3, Z4
	VPADDD    Z4, Z3, Z3
	VALIGND   $14, Z0, Z3, Z4
	VPADDD    Z4, Z3, Z3
	VALIGND   $12, Z0, Z3, Z4
	VPADDD    Z4, Z3, Z3
	VALIGND   $8, Z0, Z3, Z4
	VPADDD    Z4, Z3, Z3
	VPADDD    Z1, Z3, Z3
	VMOVDQU32 Z3, (R9)
	VPERMD    Z3, Z2, Z1
	ADDQ      $64, R9
	DECQ      DX
	JNZ       bprefix
	MOVL      1020(R8), AX
	ADDL      AX, 1024(R8)
	VZEROUPPER

	BUCKETPLACE(bplace)

// func mccRelaxAVX512(half *uint64, nh int, n int, lam *[32]float32, inv, wR float32, dense *[32][32]float32, iters int)
//
// Rows 0 to n−1 of dense cleared, ρ of each entry of half written at
// (t, k) and (k, t); then, per round, λ' = wR·λ + inv·Σ_p dense[p]·λ[p],
// the sum over p = 0 to n−1 in order, in Z2/Z3 (lanes 0-15, 16-31), λ in
// Z0/Z1 and in lam for the broadcasts. n is 2 to 32, iters at least 1.
TEXT ·mccRelaxAVX512(SB), NOSPLIT, $0-56
	MOVQ half+0(FP), SI
	MOVQ nh+8(FP), CX
	MOVQ n+16(FP), DX
	MOVQ lam+24(FP), R8
	MOVQ dense+40(FP), DI

	VPXORD Z0, Z0, Z0
	XORQ   AX, AX

rclear:
	MOVQ      AX, BX
	SHLQ      $7, BX
	VMOVDQU32 Z0, (DI)(BX*1)
	VMOVDQU32 Z0, 64(DI)(BX*1)
	INCQ      AX
	CMPQ      AX, DX
	JLT       rclear

	TESTQ CX, CX
	JLE   rrounds

rset:
	MOVQ (SI), AX
	MOVQ AX, BX
	SHRQ $32, BX  // ρ
	MOVQ AX, R9
	ANDQ $0xff, R9 // t
	MOVQ AX, R10
	SHRQ $8, R10
	ANDQ $0xff, R10 // k
	MOVQ R9, R11
	SHLQ $5, R11
	ADDQ R10, R11
	MOVL BX, (DI)(R11*4)
	MOVQ R10, R11
	SHLQ $5, R11
	ADDQ R9, R11
	MOVL BX, (DI)(R11*4)
	ADDQ $8, SI
	DECQ CX
	JNZ  rset

rrounds:
	VMOVUPS      (R8), Z0
	VMOVUPS      64(R8), Z1
	VBROADCASTSS inv+32(FP), Z8
	VBROADCASTSS wR+36(FP), Z9
	MOVQ         iters+48(FP), R12

rround:
	VMOVUPS Z0, (R8)
	VMOVUPS Z1, 64(R8)
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	XORQ    AX, AX
	MOVQ    DI, BX

rcol:
	VBROADCASTSS (R8)(AX*4), Z4
	VMULPS       (BX), Z4, Z5
	VADDPS       Z5, Z2, Z2
	VMULPS       64(BX), Z4, Z6
	VADDPS       Z6, Z3, Z3
	ADDQ         $128, BX
	INCQ         AX
	CMPQ         AX, DX
	JLT          rcol

	// λ' = wR·λ + inv·sum
	VMULPS Z9, Z0, Z0
	VMULPS Z8, Z2, Z2
	VADDPS Z2, Z0, Z0
	VMULPS Z9, Z1, Z1
	VMULPS Z8, Z3, Z3
	VADDPS Z3, Z1, Z1
	DECQ   R12
	JNZ    rround

	VMOVUPS Z0, (R8)
	VMOVUPS Z1, 64(R8)
	VZEROUPPER
	RET
