//go:build amd64 && !openblas && !purego

#include "textflag.h"

// func sgemmNN4x16(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)
//
// For each of nt column tiles of 16: C[0:4, t*16:(t+1)*16] (+)= A[0:4, 0:k] · B[0:k, t*16:(t+1)*16]
// with A(i,p) = a[i*ars + p*acs], B(p,j) = b[p*ldb + j], C(i,j) = c[i*ldc + j]
// (strides in elements). k ≥ 1, nt ≥ 1. acc ≠ 0 adds to C instead of overwriting.
TEXT ·sgemmNN4x16(SB), NOSPLIT, $0-80
	MOVQ ars+24(FP), AX
	SHLQ $2, AX
	MOVQ acs+32(FP), BX
	SHLQ $2, BX
	MOVQ ldb+48(FP), DX
	SHLQ $2, DX
	MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	MOVQ b+40(FP), R12
	MOVQ c+56(FP), R13
	MOVQ nt+8(FP), R10

nntile:
	MOVQ   a+16(FP), R8
	LEAQ   (R8)(AX*2), R9
	MOVQ   R12, DI
	MOVQ   k+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

nnloop:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (R8), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R8)(AX*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R9), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R9)(AX*1), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         BX, R8
	ADDQ         BX, R9
	ADDQ         DX, DI
	DECQ         CX
	JNZ          nnloop

	MOVQ R13, R11
	LEAQ (R13)(SI*2), R9
	CMPQ acc+72(FP), $0
	JEQ  nnstore
	VADDPS (R11), Y0, Y0
	VADDPS 32(R11), Y1, Y1
	VADDPS (R11)(SI*1), Y2, Y2
	VADDPS 32(R11)(SI*1), Y3, Y3
	VADDPS (R9), Y4, Y4
	VADDPS 32(R9), Y5, Y5
	VADDPS (R9)(SI*1), Y6, Y6
	VADDPS 32(R9)(SI*1), Y7, Y7

nnstore:
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, (R11)(SI*1)
	VMOVUPS Y3, 32(R11)(SI*1)
	VMOVUPS Y4, (R9)
	VMOVUPS Y5, 32(R9)
	VMOVUPS Y6, (R9)(SI*1)
	VMOVUPS Y7, 32(R9)(SI*1)
	ADDQ    $64, R12
	ADDQ    $64, R13
	DECQ    R10
	JNZ     nntile
	VZEROUPPER
	RET

// func sgemmNN6x16(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)
//
// sgemmNN4x16 for 6 rows of A and C.
TEXT ·sgemmNN6x16(SB), NOSPLIT, $0-80
	MOVQ ars+24(FP), AX
	SHLQ $2, AX
	MOVQ acs+32(FP), BX
	SHLQ $2, BX
	MOVQ ldb+48(FP), DX
	SHLQ $2, DX
	MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	MOVQ b+40(FP), R12
	MOVQ c+56(FP), R13
	MOVQ nt+8(FP), R10

n6tile:
	MOVQ   a+16(FP), R8
	LEAQ   (R8)(AX*2), R9
	ADDQ   AX, R9
	MOVQ   R12, DI
	MOVQ   k+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

n6loop:
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VBROADCASTSS (R8)(AX*1), Y15
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS (R8)(AX*2), Y14
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VBROADCASTSS (R9), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS (R9)(AX*1), Y14
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VBROADCASTSS (R9)(AX*2), Y15
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	ADDQ         BX, R8
	ADDQ         BX, R9
	ADDQ         DX, DI
	DECQ         CX
	JNZ          n6loop

	MOVQ R13, R11
	LEAQ (R13)(SI*2), R9
	ADDQ SI, R9
	CMPQ acc+72(FP), $0
	JEQ  n6store
	VADDPS (R11), Y0, Y0
	VADDPS 32(R11), Y1, Y1
	VADDPS (R11)(SI*1), Y2, Y2
	VADDPS 32(R11)(SI*1), Y3, Y3
	VADDPS (R11)(SI*2), Y4, Y4
	VADDPS 32(R11)(SI*2), Y5, Y5
	VADDPS (R9), Y6, Y6
	VADDPS 32(R9), Y7, Y7
	VADDPS (R9)(SI*1), Y8, Y8
	VADDPS 32(R9)(SI*1), Y9, Y9
	VADDPS (R9)(SI*2), Y10, Y10
	VADDPS 32(R9)(SI*2), Y11, Y11

n6store:
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, (R11)(SI*1)
	VMOVUPS Y3, 32(R11)(SI*1)
	VMOVUPS Y4, (R11)(SI*2)
	VMOVUPS Y5, 32(R11)(SI*2)
	VMOVUPS Y6, (R9)
	VMOVUPS Y7, 32(R9)
	VMOVUPS Y8, (R9)(SI*1)
	VMOVUPS Y9, 32(R9)(SI*1)
	VMOVUPS Y10, (R9)(SI*2)
	VMOVUPS Y11, 32(R9)(SI*2)
	ADDQ    $64, R12
	ADDQ    $64, R13
	DECQ    R10
	JNZ     n6tile
	VZEROUPPER
	RET

// func sgemmNT2x4(k8, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask *int32)
//
// For each of nt tiles of 4 rows of B:
// C[i, t*4+j] (+)= Σ_{s<nb} Σ_{p<8·k8+kr} A[s*sa + i*lda + p] · B[s*sb + (t*4+j)*ldb + p]
// for i < 2, j < 4 (strides in elements). nb ≥ 1, nt ≥ 1, 0 ≤ kr < 8;
// mask points to 8 int32s, the first kr of them −1 and the rest 0 (the
// lanes of the last, partial step of k).
TEXT ·sgemmNT2x4(SB), NOSPLIT, $0-112
	MOVQ lda+40(FP), AX
	SHLQ $2, AX
	MOVQ ldb+64(FP), BX
	SHLQ $2, BX
	MOVQ b+56(FP), R12
	MOVQ c+80(FP), R13
	MOVQ nt+24(FP), R11
	MOVQ mask+104(FP), CX
	VMOVDQU (CX), Y15

nttile:
	MOVQ   a+32(FP), SI
	MOVQ   R12, DI
	MOVQ   nb+16(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ntsample:
	MOVQ  SI, R8
	MOVQ  DI, R9
	LEAQ  (DI)(BX*2), R10
	MOVQ  k8+0(FP), CX
	TESTQ CX, CX
	JZ    nttail

ntloop:
	VMOVUPS     (R8), Y8
	VMOVUPS     (R8)(AX*1), Y9
	VMOVUPS     (R9), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS     (R9)(BX*1), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS     (R10), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS     (R10)(BX*1), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $32, R8
	ADDQ        $32, R9
	ADDQ        $32, R10
	DECQ        CX
	JNZ         ntloop

nttail:
	CMPQ        kr+8(FP), $0
	JEQ         ntnext
	VMASKMOVPS  (R8), Y15, Y8
	VMASKMOVPS  (R8)(AX*1), Y15, Y9
	VMASKMOVPS  (R9), Y15, Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMASKMOVPS  (R9)(BX*1), Y15, Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMASKMOVPS  (R10), Y15, Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMASKMOVPS  (R10)(BX*1), Y15, Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7

ntnext:
	MOVQ sa+48(FP), CX
	LEAQ (SI)(CX*4), SI
	MOVQ sb+72(FP), CX
	LEAQ (DI)(CX*4), DI
	DECQ DX
	JNZ  ntsample

	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	MOVQ         ldc+88(FP), CX
	SHLQ         $2, CX
	CMPQ         acc+96(FP), $0
	JEQ          ntstore
	VADDPS       (R13), X0, X0
	VADDPS       (R13)(CX*1), X4, X4

ntstore:
	VMOVUPS X0, (R13)
	VMOVUPS X4, (R13)(CX*1)
	LEAQ    (R12)(BX*4), R12
	ADDQ    $16, R13
	DECQ    R11
	JNZ     nttile
	VZEROUPPER
	RET
