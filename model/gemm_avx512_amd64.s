//go:build amd64 && !openblas && !purego

#include "textflag.h"

// AVX-512F kernels: the AVX2 kernels of gemm_amd64.s on 16-lane Z
// registers. sgemmNN4x32 and sgemmNN6x32 do for 32 columns what
// sgemmNN4x16 and sgemmNN6x16 do for 16, with the same operations on every
// element (one FMA per step of k, in order, then the add to C): their
// results are bit-identical to the AVX2 kernels'.

// func sgemmNN4x32(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)
//
// For each of nt column tiles of 32: C[0:4, t*32:(t+1)*32] (+)= A[0:4, 0:k] · B[0:k, t*32:(t+1)*32]
// with A(i,p) = a[i*ars + p*acs], B(p,j) = b[p*ldb + j], C(i,j) = c[i*ldc + j]
// (strides in elements). k ≥ 1, nt ≥ 1. acc ≠ 0 adds to C instead of overwriting.
TEXT ·sgemmNN4x32(SB), NOSPLIT, $0-80
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

zntile:
	MOVQ   a+16(FP), R8
	LEAQ   (R8)(AX*2), R9
	MOVQ   R12, DI
	MOVQ   k+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

znloop:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VBROADCASTSS (R8), Z10
	VFMADD231PS  Z8, Z10, Z0
	VFMADD231PS  Z9, Z10, Z1
	VBROADCASTSS (R8)(AX*1), Z11
	VFMADD231PS  Z8, Z11, Z2
	VFMADD231PS  Z9, Z11, Z3
	VBROADCASTSS (R9), Z12
	VFMADD231PS  Z8, Z12, Z4
	VFMADD231PS  Z9, Z12, Z5
	VBROADCASTSS (R9)(AX*1), Z13
	VFMADD231PS  Z8, Z13, Z6
	VFMADD231PS  Z9, Z13, Z7
	ADDQ         BX, R8
	ADDQ         BX, R9
	ADDQ         DX, DI
	DECQ         CX
	JNZ          znloop

	MOVQ R13, R11
	LEAQ (R13)(SI*2), R9
	CMPQ acc+72(FP), $0
	JEQ  znstore
	VADDPS (R11), Z0, Z0
	VADDPS 64(R11), Z1, Z1
	VADDPS (R11)(SI*1), Z2, Z2
	VADDPS 64(R11)(SI*1), Z3, Z3
	VADDPS (R9), Z4, Z4
	VADDPS 64(R9), Z5, Z5
	VADDPS (R9)(SI*1), Z6, Z6
	VADDPS 64(R9)(SI*1), Z7, Z7

znstore:
	VMOVUPS Z0, (R11)
	VMOVUPS Z1, 64(R11)
	VMOVUPS Z2, (R11)(SI*1)
	VMOVUPS Z3, 64(R11)(SI*1)
	VMOVUPS Z4, (R9)
	VMOVUPS Z5, 64(R9)
	VMOVUPS Z6, (R9)(SI*1)
	VMOVUPS Z7, 64(R9)(SI*1)
	ADDQ    $128, R12
	ADDQ    $128, R13
	DECQ    R10
	JNZ     zntile
	VZEROUPPER
	RET

// func sgemmNN6x32(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)
//
// sgemmNN4x32 for 6 rows of A and C.
TEXT ·sgemmNN6x32(SB), NOSPLIT, $0-80
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

z6tile:
	MOVQ   a+16(FP), R8
	LEAQ   (R8)(AX*2), R9
	ADDQ   AX, R9
	MOVQ   R12, DI
	MOVQ   k+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

z6loop:
	VMOVUPS      (DI), Z12
	VMOVUPS      64(DI), Z13
	VBROADCASTSS (R8), Z14
	VFMADD231PS  Z12, Z14, Z0
	VFMADD231PS  Z13, Z14, Z1
	VBROADCASTSS (R8)(AX*1), Z15
	VFMADD231PS  Z12, Z15, Z2
	VFMADD231PS  Z13, Z15, Z3
	VBROADCASTSS (R8)(AX*2), Z16
	VFMADD231PS  Z12, Z16, Z4
	VFMADD231PS  Z13, Z16, Z5
	VBROADCASTSS (R9), Z17
	VFMADD231PS  Z12, Z17, Z6
	VFMADD231PS  Z13, Z17, Z7
	VBROADCASTSS (R9)(AX*1), Z18
	VFMADD231PS  Z12, Z18, Z8
	VFMADD231PS  Z13, Z18, Z9
	VBROADCASTSS (R9)(AX*2), Z19
	VFMADD231PS  Z12, Z19, Z10
	VFMADD231PS  Z13, Z19, Z11
	ADDQ         BX, R8
	ADDQ         BX, R9
	ADDQ         DX, DI
	DECQ         CX
	JNZ          z6loop

	MOVQ R13, R11
	LEAQ (R13)(SI*2), R9
	ADDQ SI, R9
	CMPQ acc+72(FP), $0
	JEQ  z6store
	VADDPS (R11), Z0, Z0
	VADDPS 64(R11), Z1, Z1
	VADDPS (R11)(SI*1), Z2, Z2
	VADDPS 64(R11)(SI*1), Z3, Z3
	VADDPS (R11)(SI*2), Z4, Z4
	VADDPS 64(R11)(SI*2), Z5, Z5
	VADDPS (R9), Z6, Z6
	VADDPS 64(R9), Z7, Z7
	VADDPS (R9)(SI*1), Z8, Z8
	VADDPS 64(R9)(SI*1), Z9, Z9
	VADDPS (R9)(SI*2), Z10, Z10
	VADDPS 64(R9)(SI*2), Z11, Z11

z6store:
	VMOVUPS Z0, (R11)
	VMOVUPS Z1, 64(R11)
	VMOVUPS Z2, (R11)(SI*1)
	VMOVUPS Z3, 64(R11)(SI*1)
	VMOVUPS Z4, (R11)(SI*2)
	VMOVUPS Z5, 64(R11)(SI*2)
	VMOVUPS Z6, (R9)
	VMOVUPS Z7, 64(R9)
	VMOVUPS Z8, (R9)(SI*1)
	VMOVUPS Z9, 64(R9)(SI*1)
	VMOVUPS Z10, (R9)(SI*2)
	VMOVUPS Z11, 64(R9)(SI*2)
	ADDQ    $128, R12
	ADDQ    $128, R13
	DECQ    R10
	JNZ     z6tile
	VZEROUPPER
	RET

// FOLD16 adds the upper 8 lanes of z to its lower 8 (y), through t.
#define FOLD16(z, y, t) VEXTRACTF64X4 $1, z, t; VADDPS t, y, y

// NT_REDUCE2x4 folds the accumulators of two rows of four dot products,
// Z0–Z3 and Z4–Z7, to 8 lanes and then to X0 (row 0) and X4 (row 1) as
// the AVX2 kernel does (the same additions in the same order). Y16–Y23:
// scratch.
#define NT_REDUCE2x4 \
	FOLD16(Z0, Y0, Y16); FOLD16(Z1, Y1, Y17); FOLD16(Z2, Y2, Y18); FOLD16(Z3, Y3, Y19); \
	FOLD16(Z4, Y4, Y20); FOLD16(Z5, Y5, Y21); FOLD16(Z6, Y6, Y22); FOLD16(Z7, Y7, Y23); \
	VHADDPS       Y1, Y0, Y0; \
	VHADDPS       Y3, Y2, Y2; \
	VHADDPS       Y2, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPS        X1, X0, X0; \
	VHADDPS       Y5, Y4, Y4; \
	VHADDPS       Y7, Y6, Y6; \
	VHADDPS       Y6, Y4, Y4; \
	VEXTRACTF128  $1, Y4, X5; \
	VADDPS        X5, X4, X4

// func sgemmNT2x4z(k16, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask int, mp int)
//
// sgemmNT2x4 on 16 lanes, for mp ≥ 1 pairs of rows of A and C in turn (the
// next pair 2·lda and 2·ldc on: one call for a whole column of tiles, so
// the horizontal sums of one tile overlap the products of the next): for
// each of nt tiles of 4 rows of B,
// C[i, t*4+j] (+)= Σ_{s<nb} Σ_{p<16·k16+kr} A[s*sa + i*lda + p] · B[s*sb + (t*4+j)*ldb + p]
// for i < 2, j < 4. nb ≥ 1, nt ≥ 1, 0 ≤ kr < 16; mask has the low kr bits
// set (the lanes of the last, partial step of k). Lane l sums the products
// at p ≡ l (mod 16), so the rounding differs from the AVX2 kernel's.
TEXT ·sgemmNT2x4z(SB), NOSPLIT, $16-120
	MOVQ lda+40(FP), AX
	SHLQ $2, AX
	MOVQ ldb+64(FP), BX
	SHLQ $2, BX
	MOVQ mask+104(FP), CX
	KMOVW CX, K1
	MOVQ a+32(FP), CX
	MOVQ CX, pa-8(SP)
	MOVQ c+80(FP), CX
	MOVQ CX, pc-16(SP)

ztpair:
	MOVQ b+56(FP), R12
	MOVQ pc-16(SP), R13
	MOVQ nt+24(FP), R11

zttile:
	MOVQ   pa-8(SP), SI
	MOVQ   R12, DI
	MOVQ   nb+16(FP), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

ztsample:
	MOVQ  SI, R8
	MOVQ  DI, R9
	LEAQ  (DI)(BX*2), R10
	MOVQ  k16+0(FP), CX
	TESTQ CX, CX
	JZ    zttail

ztloop:
	VMOVUPS     (R8), Z8
	VMOVUPS     (R8)(AX*1), Z9
	VMOVUPS     (R9), Z10
	VFMADD231PS Z10, Z8, Z0
	VFMADD231PS Z10, Z9, Z4
	VMOVUPS     (R9)(BX*1), Z11
	VFMADD231PS Z11, Z8, Z1
	VFMADD231PS Z11, Z9, Z5
	VMOVUPS     (R10), Z12
	VFMADD231PS Z12, Z8, Z2
	VFMADD231PS Z12, Z9, Z6
	VMOVUPS     (R10)(BX*1), Z13
	VFMADD231PS Z13, Z8, Z3
	VFMADD231PS Z13, Z9, Z7
	ADDQ        $64, R8
	ADDQ        $64, R9
	ADDQ        $64, R10
	DECQ        CX
	JNZ         ztloop

zttail:
	CMPQ        kr+8(FP), $0
	JEQ         ztnext
	VMOVUPS.Z   (R8), K1, Z8
	VMOVUPS.Z   (R8)(AX*1), K1, Z9
	VMOVUPS.Z   (R9), K1, Z10
	VFMADD231PS Z10, Z8, Z0
	VFMADD231PS Z10, Z9, Z4
	VMOVUPS.Z   (R9)(BX*1), K1, Z11
	VFMADD231PS Z11, Z8, Z1
	VFMADD231PS Z11, Z9, Z5
	VMOVUPS.Z   (R10), K1, Z12
	VFMADD231PS Z12, Z8, Z2
	VFMADD231PS Z12, Z9, Z6
	VMOVUPS.Z   (R10)(BX*1), K1, Z13
	VFMADD231PS Z13, Z8, Z3
	VFMADD231PS Z13, Z9, Z7

ztnext:
	MOVQ sa+48(FP), CX
	LEAQ (SI)(CX*4), SI
	MOVQ sb+72(FP), CX
	LEAQ (DI)(CX*4), DI
	DECQ DX
	JNZ  ztsample

	// Fold 16 lanes to 8, then reduce as the AVX2 kernel does.
	NT_REDUCE2x4
	MOVQ          ldc+88(FP), CX
	SHLQ          $2, CX
	CMPQ          acc+96(FP), $0
	JEQ           ztstore
	VADDPS        (R13), X0, X0
	VADDPS        (R13)(CX*1), X4, X4

ztstore:
	VMOVUPS X0, (R13)
	VMOVUPS X4, (R13)(CX*1)
	LEAQ    (R12)(BX*4), R12
	ADDQ    $16, R13
	DECQ    R11
	JNZ     zttile
	MOVQ    pa-8(SP), CX
	LEAQ    (CX)(AX*2), CX
	MOVQ    CX, pa-8(SP)
	MOVQ    ldc+88(FP), CX
	SHLQ    $3, CX
	ADDQ    CX, pc-16(SP)
	DECQ    mp+112(FP)
	JNZ     ztpair
	VZEROUPPER
	RET

// ZERO8 zeroes eight Z registers.
#define ZERO8(r0, r1, r2, r3, r4, r5, r6, r7) \
	VPXORD r0, r0, r0; VPXORD r1, r1, r1; VPXORD r2, r2, r2; VPXORD r3, r3, r3; \
	VPXORD r4, r4, r4; VPXORD r5, r5, r5; VPXORD r6, r6, r6; VPXORD r7, r7, r7

// NT_FMA4x4 adds the products of four rows of A (Z16–Z19) and four of B
// (Z20–Z23) to the accumulators: row i, column j in Z(4·i+j).
#define NT_FMA4x4 \
	VFMADD231PS Z20, Z16, Z0; \
	VFMADD231PS Z20, Z17, Z4; \
	VFMADD231PS Z20, Z18, Z8; \
	VFMADD231PS Z20, Z19, Z12; \
	VFMADD231PS Z21, Z16, Z1; \
	VFMADD231PS Z21, Z17, Z5; \
	VFMADD231PS Z21, Z18, Z9; \
	VFMADD231PS Z21, Z19, Z13; \
	VFMADD231PS Z22, Z16, Z2; \
	VFMADD231PS Z22, Z17, Z6; \
	VFMADD231PS Z22, Z18, Z10; \
	VFMADD231PS Z22, Z19, Z14; \
	VFMADD231PS Z23, Z16, Z3; \
	VFMADD231PS Z23, Z17, Z7; \
	VFMADD231PS Z23, Z18, Z11; \
	VFMADD231PS Z23, Z19, Z15

// NT_LOAD4x4 loads a step of A's rows 0–3 (at R8 and R11, row stride AX)
// into Z16–Z19 and of B's (R9, R10; BX) into Z20–Z23; NT_LOAD4x4Z loads
// only the lanes k, zeroing the others.
#define NT_LOAD4x4 \
	VMOVUPS (R8), Z16; VMOVUPS (R8)(AX*1), Z17; VMOVUPS (R11), Z18; VMOVUPS (R11)(AX*1), Z19; \
	VMOVUPS (R9), Z20; VMOVUPS (R9)(BX*1), Z21; VMOVUPS (R10), Z22; VMOVUPS (R10)(BX*1), Z23
#define NT_LOAD4x4Z(k) \
	VMOVUPS.Z (R8), k, Z16; VMOVUPS.Z (R8)(AX*1), k, Z17; VMOVUPS.Z (R11), k, Z18; VMOVUPS.Z (R11)(AX*1), k, Z19; \
	VMOVUPS.Z (R9), k, Z20; VMOVUPS.Z (R9)(BX*1), k, Z21; VMOVUPS.Z (R10), k, Z22; VMOVUPS.Z (R10)(BX*1), k, Z23

// func sgemmNT4x4z(k16, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask int, mq int)
//
// sgemmNT2x4z for mq ≥ 1 quads of rows of A and C: 16 accumulators, so
// the FMAs' latency hides behind each other, and 8 loads for 16 FMAs
// instead of 6 for 8. Every element gets the same operations as in
// sgemmNT2x4z (same lanes, same reduction; C added where acc ≠ 0), so the
// results are bit-identical.
TEXT ·sgemmNT4x4z(SB), NOSPLIT, $56-120
	MOVQ  c+80(FP), CX
	MOVQ  CX, pc-16(SP) // the quad's first row of C
	MOVQ  a+32(FP), CX
	MOVQ  CX, pa-8(SP)  // and of A
	MOVQ  lda+40(FP), CX
	SHLQ  $4, CX
	MOVQ  CX, aquad-48(SP) // 4 rows of A, in bytes
	MOVQ  ldc+88(FP), CX
	SHLQ  $4, CX
	MOVQ  CX, cquad-56(SP) // 4 rows of C
	MOVQ  sa+48(FP), CX
	SHLQ  $2, CX
	MOVQ  CX, sabytes-32(SP)
	MOVQ  sb+72(FP), CX
	SHLQ  $2, CX
	MOVQ  CX, sbbytes-40(SP)
	MOVQ  lda+40(FP), AX
	SHLQ  $2, AX
	MOVQ  ldb+64(FP), BX
	SHLQ  $2, BX
	MOVQ  mask+104(FP), CX
	KMOVW CX, K1        // the last step's lanes
	MOVQ  acc+96(FP), CX
	NEGQ  CX            // acc ≠ 0 (it is 0 or 1): all ones
	KMOVW CX, K2        // the lanes of C to add

qquad:
	MOVQ nt+24(FP), CX
	MOVQ CX, tiles-24(SP)
	MOVQ pc-16(SP), R13
	MOVQ b+56(FP), R12

qtile:
	ZERO8(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	ZERO8(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	MOVQ nb+16(FP), DX
	MOVQ R12, DI
	MOVQ pa-8(SP), SI

qsample:
	MOVQ SI, R8          // A rows 0, 1
	LEAQ (SI)(AX*2), R11 // A rows 2, 3
	MOVQ DI, R9          // B rows 0, 1
	LEAQ (DI)(BX*2), R10 // B rows 2, 3
	MOVQ k16+0(FP), CX

qloop:
	TESTQ   CX, CX
	JZ      qtail
	NT_LOAD4x4
	DECQ    CX
	JMP     qfma

qtail:
	CMPQ      kr+8(FP), $0
	JEQ       qnext
	NT_LOAD4x4Z(K1)
	MOVQ      $-1, CX    // the last step

qfma:
	NT_FMA4x4
	ADDQ  $64, R8
	ADDQ  $64, R11
	ADDQ  $64, R9
	ADDQ  $64, R10
	TESTQ CX, CX
	JNS   qloop

qnext:
	ADDQ sabytes-32(SP), SI
	ADDQ sbbytes-40(SP), DI
	DECQ DX
	JNZ  qsample

	// Rows 0 and 1, then rows 2 and 3 moved down, through the reduction.
	MOVQ ldc+88(FP), CX
	SHLQ $2, CX
	MOVQ R13, R8
	MOVQ $2, DX

qhalf:
	NT_REDUCE2x4
	VMOVUPS.Z (R8), K2, X1
	VADDPS    X1, X0, K2, X0
	VMOVUPS.Z (R8)(CX*1), K2, X5
	VADDPS    X5, X4, K2, X4
	VMOVUPS   X0, (R8)
	VMOVUPS   X4, (R8)(CX*1)
	VMOVAPS   Z8, Z0
	VMOVAPS   Z9, Z1
	VMOVAPS   Z10, Z2
	VMOVAPS   Z11, Z3
	VMOVAPS   Z12, Z4
	VMOVAPS   Z13, Z5
	VMOVAPS   Z14, Z6
	VMOVAPS   Z15, Z7
	LEAQ      (R8)(CX*2), R8
	DECQ      DX
	JNZ       qhalf

	LEAQ (R12)(BX*4), R12
	ADDQ $16, R13
	DECQ tiles-24(SP)
	JNZ  qtile
	MOVQ aquad-48(SP), CX // the next quad
	ADDQ CX, pa-8(SP)
	MOVQ cquad-56(SP), CX
	ADDQ CX, pc-16(SP)
	DECQ mq+112(FP)
	JNZ  qquad
	VZEROUPPER
	RET
