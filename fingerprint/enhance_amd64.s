#include "textflag.h"

// func enhConv4SSE(dst, v *float32, off *int32, w *float32, n int, c float32)
//
// s = c·v[0:4]; for each tap s += w·(v[off:off+4] + v[-off:-off+4]).
TEXT ·enhConv4SSE(SB), NOSPLIT, $0-44
	MOVQ   dst+0(FP), DI
	MOVQ   v+8(FP), SI
	MOVQ   off+16(FP), R8
	MOVQ   w+24(FP), R9
	MOVQ   n+32(FP), CX
	MOVSS  c+40(FP), X0
	SHUFPS $0, X0, X0
	MOVUPS (SI), X1
	MULPS  X1, X0
	TESTQ  CX, CX
	JZ     done

tap:
	MOVLQSX (R8), AX
	MOVUPS  (SI)(AX*4), X2
	NEGQ    AX
	MOVUPS  (SI)(AX*4), X3
	ADDPS   X3, X2
	MOVSS   (R9), X4
	SHUFPS  $0, X4, X4
	MULPS   X4, X2
	ADDPS   X2, X0
	ADDQ    $4, R8
	ADDQ    $4, R9
	DECQ    CX
	JNZ     tap

done:
	MOVUPS X0, (DI)
	RET

// Broadcasts the five weights at k into X8-X12.
#define GAUSS_WEIGHTS(k) \
	MOVSS  0(k), X8; SHUFPS $0, X8, X8; \
	MOVSS  4(k), X9; SHUFPS $0, X9, X9; \
	MOVSS  8(k), X10; SHUFPS $0, X10, X10; \
	MOVSS  12(k), X11; SHUFPS $0, X11, X11; \
	MOVSS  16(k), X12; SHUFPS $0, X12, X12

// func exGaussRow5SSE(out, pad *float32, n int, k *[5]float32)
//
// out[x] = 0 + k0·pad[x] + k1·pad[x+1] + … + k4·pad[x+4], in that order.
TEXT ·exGaussRow5SSE(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ pad+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ k+24(FP), R8
	GAUSS_WEIGHTS(R8)

row:
	XORPS  X0, X0
	MOVUPS 0(SI), X1
	MULPS  X8, X1
	ADDPS  X1, X0
	MOVUPS 4(SI), X1
	MULPS  X9, X1
	ADDPS  X1, X0
	MOVUPS 8(SI), X1
	MULPS  X10, X1
	ADDPS  X1, X0
	MOVUPS 12(SI), X1
	MULPS  X11, X1
	ADDPS  X1, X0
	MOVUPS 16(SI), X1
	MULPS  X12, X1
	ADDPS  X1, X0
	MOVUPS X0, (DI)
	ADDQ   $16, SI
	ADDQ   $16, DI
	SUBQ   $4, CX
	JNZ    row
	RET

// func exGaussCol5SSE(out, r0, r1, r2, r3, r4 *float32, n int, k *[5]float32)
//
// out[x] = 0 + k0·r0[x] + k1·r1[x] + … + k4·r4[x], in that order.
TEXT ·exGaussCol5SSE(SB), NOSPLIT, $0-64
	MOVQ out+0(FP), DI
	MOVQ r0+8(FP), R9
	MOVQ r1+16(FP), R10
	MOVQ r2+24(FP), R11
	MOVQ r3+32(FP), R12
	MOVQ r4+40(FP), R13
	MOVQ n+48(FP), CX
	MOVQ k+56(FP), R8
	GAUSS_WEIGHTS(R8)
	XORQ AX, AX

col:
	XORPS  X0, X0
	MOVUPS (R9)(AX*4), X1
	MULPS  X8, X1
	ADDPS  X1, X0
	MOVUPS (R10)(AX*4), X1
	MULPS  X9, X1
	ADDPS  X1, X0
	MOVUPS (R11)(AX*4), X1
	MULPS  X10, X1
	ADDPS  X1, X0
	MOVUPS (R12)(AX*4), X1
	MULPS  X11, X1
	ADDPS  X1, X0
	MOVUPS (R13)(AX*4), X1
	MULPS  X12, X1
	ADDPS  X1, X0
	MOVUPS X0, (DI)(AX*4)
	ADDQ   $4, AX
	CMPQ   AX, CX
	JLT    col
	RET

// func exAddScaledSSE(dst, src *float32, n int, wt float32)
//
// dst[x] = dst[x] + wt·src[x].
TEXT ·exAddScaledSSE(SB), NOSPLIT, $0-28
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	MOVSS  wt+24(FP), X8
	SHUFPS $0, X8, X8
	XORQ   AX, AX

axpy:
	MOVUPS (SI)(AX*4), X1
	MULPS  X8, X1
	MOVUPS (DI)(AX*4), X0
	ADDPS  X1, X0
	MOVUPS X0, (DI)(AX*4)
	ADDQ   $4, AX
	CMPQ   AX, CX
	JLT    axpy
	RET
