#include "textflag.h"

// func kernel4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int)
// C[0:4, 0:16] += A[0:4, 0:k] × B, B a packed panel of k rows of 16.
TEXT ·kernel4x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R10
	SHLQ $2, R8
	SHLQ $2, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	MOVQ DX, AX
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	ADDQ R10, AX
	VMOVUPS (AX), Y2
	VMOVUPS 32(AX), Y3
	ADDQ R10, AX
	VMOVUPS (AX), Y4
	VMOVUPS 32(AX), Y5
	ADDQ R10, AX
	VMOVUPS (AX), Y6
	VMOVUPS 32(AX), Y7
	TESTQ CX, CX
	JE store16

loop16:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R11), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R12), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (R13), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $64, DI
	DECQ CX
	JNZ loop16

store16:
	MOVQ DX, AX
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	ADDQ R10, AX
	VMOVUPS Y2, (AX)
	VMOVUPS Y3, 32(AX)
	ADDQ R10, AX
	VMOVUPS Y4, (AX)
	VMOVUPS Y5, 32(AX)
	ADDQ R10, AX
	VMOVUPS Y6, (AX)
	VMOVUPS Y7, 32(AX)
	VZEROUPPER
	RET

// func kernel4x8(k int, a *float32, lda int, b *float32, c *float32, ldc int)
// C[0:4, 0:8] += A[0:4, 0:k] × B, B a packed panel of k rows of 8.
TEXT ·kernel4x8(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R10
	SHLQ $2, R8
	SHLQ $2, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	MOVQ DX, AX
	VMOVUPS (AX), Y0
	ADDQ R10, AX
	VMOVUPS (AX), Y2
	ADDQ R10, AX
	VMOVUPS (AX), Y4
	ADDQ R10, AX
	VMOVUPS (AX), Y6
	TESTQ CX, CX
	JE store8

loop8:
	VMOVUPS (DI), Y8
	VBROADCASTSS (SI), Y10
	VFMADD231PS Y8, Y10, Y0
	VBROADCASTSS (R11), Y11
	VFMADD231PS Y8, Y11, Y2
	VBROADCASTSS (R12), Y12
	VFMADD231PS Y8, Y12, Y4
	VBROADCASTSS (R13), Y13
	VFMADD231PS Y8, Y13, Y6
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $32, DI
	DECQ CX
	JNZ loop8

store8:
	MOVQ DX, AX
	VMOVUPS Y0, (AX)
	ADDQ R10, AX
	VMOVUPS Y2, (AX)
	ADDQ R10, AX
	VMOVUPS Y4, (AX)
	ADDQ R10, AX
	VMOVUPS Y6, (AX)
	VZEROUPPER
	RET

// func dwRow(dst *float32, src *float32, f *float32, n int, c int, step int)
// For each of n pixels p: dst[p*c+j] += src[p*step+j] * f[j], j < c; c is a
// multiple of 8.
TEXT ·dwRow(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ f+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	MOVQ step+40(FP), R9
	SHLQ $2, R9
	SHRQ $3, R8
	TESTQ CX, CX
	JE dwdone

dwpixel:
	MOVQ R8, R10
	XORQ AX, AX

dwchunk:
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (DI)(AX*1), Y0
	VFMADD231PS (DX)(AX*1), Y1, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	DECQ R10
	JNZ dwchunk
	ADDQ AX, DI
	ADDQ R9, SI
	DECQ CX
	JNZ dwpixel

dwdone:
	VZEROUPPER
	RET

// func addRelu8(dst *float32, src *float32, n int, relu bool)
// dst[i] = dst[i] + src[i] (then max with 0 if relu) for i < n, n a
// multiple of 8; src may be nil when only the ReLU is wanted.
TEXT ·addRelu8(SB), NOSPLIT, $0-25
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVBQZX relu+24(FP), DX
	SHRQ $3, CX
	VXORPS Y2, Y2, Y2
	TESTQ CX, CX
	JE ardone

arloop:
	VMOVUPS (DI), Y0
	TESTQ SI, SI
	JE arnoadd
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI

arnoadd:
	TESTQ DX, DX
	JE arstore
	VMAXPS Y2, Y0, Y0

arstore:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ arloop

ardone:
	VZEROUPPER
	RET
