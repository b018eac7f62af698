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
