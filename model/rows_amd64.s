//go:build amd64 && !purego && !openblas

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func blockCopy(dst *float32, ds int, src *float32, ss int, rows, w8 int)
//
// dst[i*ds + j] = src[i*ss + j] for i < rows, j < 8*w8 (strides in
// elements); rows ≥ 1, w8 ≥ 1.
TEXT ·blockCopy(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), AX
	SHLQ $2, AX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), BX
	SHLQ $2, BX
	MOVQ rows+32(FP), CX

bcrow:
	MOVQ w8+40(FP), DX
	MOVQ DI, R8
	MOVQ SI, R9

bccol:
	VMOVUPS (R9), Y0
	VMOVUPS Y0, (R8)
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    DX
	JNZ     bccol
	ADDQ    AX, DI
	ADDQ    BX, SI
	DECQ    CX
	JNZ     bcrow
	VZEROUPPER
	RET

// func blockAdd(dst *float32, ds int, src *float32, ss int, rows, w8 int)
//
// dst[i*ds + j] += src[i*ss + j] for i < rows, j < 8*w8.
TEXT ·blockAdd(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), AX
	SHLQ $2, AX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), BX
	SHLQ $2, BX
	MOVQ rows+32(FP), CX

barow:
	MOVQ w8+40(FP), DX
	MOVQ DI, R8
	MOVQ SI, R9

bacol:
	VMOVUPS (R8), Y0
	VADDPS  (R9), Y0, Y0
	VMOVUPS Y0, (R8)
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    DX
	JNZ     bacol
	ADDQ    AX, DI
	ADDQ    BX, SI
	DECQ    CX
	JNZ     barow
	VZEROUPPER
	RET

// func pool2F32(x *float32, w int, y *float32, win *int32, ow, rows int)
//
// Max-pool 2×2 + ReLU over rows output rows of ow outputs (ow a multiple
// of 4) from the row pairs of x (row stride w = 2·ow): y = max(0, m) with
// m the window's maximum (NaN if any input is NaN) and win the place of
// the first input equal to m (0–3, row-major), or -1 unless m ≥ 0.
TEXT ·pool2F32(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), R10
	MOVQ w+8(FP), AX
	SHLQ $2, AX
	MOVQ y+16(FP), R8
	MOVQ win+24(FP), R9
	MOVQ rows+40(FP), CX
	MOVQ $0x40400000, DX
	MOVQ DX, X12
	VBROADCASTSS X12, X12 // 3
	MOVQ $0x40000000, DX
	MOVQ DX, X13
	VBROADCASTSS X13, X13 // 2
	MOVQ $0x3f800000, DX
	MOVQ DX, X14
	VBROADCASTSS X14, X14 // 1
	MOVQ $0xbf800000, DX
	MOVQ DX, X10
	VBROADCASTSS X10, X10 // -1
	VXORPS X11, X11, X11  // 0

prow:
	MOVQ R10, SI
	LEAQ (R10)(AX*1), DI
	MOVQ ow+32(FP), BX
	SHRQ $2, BX

pgroup:
	VMOVUPS   (SI), X0
	VMOVUPS   16(SI), X1
	VSHUFPS   $0x88, X1, X0, X2 // a: top left
	VSHUFPS   $0xDD, X1, X0, X3 // b: top right
	VMOVUPS   (DI), X0
	VMOVUPS   16(DI), X1
	VSHUFPS   $0x88, X1, X0, X4 // c: bottom left
	VSHUFPS   $0xDD, X1, X0, X5 // d: bottom right
	VMAXPS    X3, X2, X6
	VMAXPS    X5, X4, X7
	VMAXPS    X7, X6, X6        // m, but NaN-blind
	VCMPPS    $3, X3, X2, X7    // unordered(a, b)
	VCMPPS    $3, X5, X4, X8    // unordered(c, d)
	VORPS     X8, X7, X7
	VADDPS    X3, X2, X8
	VADDPS    X5, X4, X9
	VADDPS    X9, X8, X8        // NaN where any input is
	VBLENDVPS X7, X8, X6, X6    // m
	VMOVAPS   X12, X9           // place 3 unless
	VCMPPS    $0, X6, X4, X7
	VBLENDVPS X7, X13, X9, X9   // c == m: 2
	VCMPPS    $0, X6, X3, X7
	VBLENDVPS X7, X14, X9, X9   // b == m: 1
	VCMPPS    $0, X6, X2, X7
	VBLENDVPS X7, X11, X9, X9   // a == m: 0
	VCMPPS    $0x1d, X11, X6, X7 // m ≥ 0 (false for NaN)
	VBLENDVPS X7, X9, X10, X9   // else -1
	VCVTTPS2DQ X9, X9
	VMOVDQU   X9, (R9)
	VMAXPS    X6, X11, X6       // max(0, m), NaN stays
	VMOVUPS   X6, (R8)
	ADDQ      $32, SI
	ADDQ      $32, DI
	ADDQ      $16, R8
	ADDQ      $16, R9
	DECQ      BX
	JNZ       pgroup

	LEAQ (R10)(AX*2), R10
	DECQ CX
	JNZ  prow
	VZEROUPPER
	RET

// func adamF32(w, grad, m, v *float32, n8 int, p *[8]float32)
//
// adamUpdate for float32 on 8·n8 elements, 8 lanes at a time, with the same
// operations in the same order (no FMA): VSQRTPS and VDIVPS round
// correctly, as the Go code's float64 square root rounded to float32 does.
// One difference: it flushes subnormal inputs and results to zero (MXCSR's
// DAZ and FTZ, restored on return). A subnormal costs a microcode assist of
// a hundred cycles or more, and a trained model's tiny gradients and
// decaying moments make many: they took Adam from 10 µs to 170 µs a step.
// Results are bit-identical to the Go code wherever no value falls below
// 2⁻¹²⁶. p holds β1, β2, 1−β1, 1−β2, c1, c2, ε, −η.
TEXT ·adamF32(SB), NOSPLIT, $8-48
	STMXCSR mxold-4(SP)
	MOVL    mxold-4(SP), AX
	ORL     $0x8040, AX // FTZ, DAZ
	MOVL    AX, mxnew-8(SP)
	LDMXCSR mxnew-8(SP)
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n8+32(FP), CX
	MOVQ p+40(FP), AX
	VBROADCASTSS 0(AX), Y8  // β1
	VBROADCASTSS 4(AX), Y9  // β2
	VBROADCASTSS 8(AX), Y10 // 1−β1
	VBROADCASTSS 12(AX), Y11 // 1−β2
	VBROADCASTSS 16(AX), Y12 // c1
	VBROADCASTSS 20(AX), Y13 // c2
	VBROADCASTSS 24(AX), Y14 // ε
	VBROADCASTSS 28(AX), Y15 // −η
	VXORPS Y7, Y7, Y7

adamloop:
	VMOVUPS (SI), Y0        // g
	VMULPS  Y10, Y0, Y1     // g·(1−β1)
	VMULPS  (R8), Y8, Y2    // m·β1
	VADDPS  Y2, Y1, Y1      // t1
	VMULPS  Y0, Y0, Y3      // g·g
	VMULPS  Y11, Y3, Y3     // ·(1−β2)
	VMULPS  (R9), Y9, Y4    // v·β2
	VADDPS  Y4, Y3, Y3      // gg
	VMOVUPS Y1, (R8)
	VMOVUPS Y3, (R9)
	VMULPS  Y13, Y3, Y3     // gg·c2
	VSQRTPS Y3, Y3
	VADDPS  Y14, Y3, Y3     // vHat
	VMULPS  Y12, Y1, Y1     // t1·c1
	VMULPS  Y15, Y1, Y1     // ·(−η)
	VDIVPS  Y3, Y1, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	VMOVUPS Y7, (SI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     adamloop
	LDMXCSR mxold-4(SP)
	VZEROUPPER
	RET

// func stridedF32(img *float32, offs *int32, rows int, col *float32, ld, w, oh, ow8, add int)
//
// For r < rows in order, oy < oh, j < 8*ow8 (strides in elements), with
// I = img[offs[r] + oy*w + j] and C = col[r*ld + oy*8*ow8 + j]:
// add = 0: C = I (im2col's strided copies in one call); add ≠ 0: I += C
// (col2im's strided adds, in the same order as one addRows per row).
// rows, oh, ow8 ≥ 1.
TEXT ·stridedF32(SB), NOSPLIT, $0-72
	MOVQ img+0(FP), R10
	MOVQ offs+8(FP), R11
	MOVQ rows+16(FP), R12
	MOVQ col+24(FP), R13
	MOVQ ld+32(FP), BX
	SHLQ $2, BX
	MOVQ w+40(FP), AX
	SHLQ $2, AX
	MOVQ ow8+56(FP), R9

strow:
	MOVLQSX (R11), SI
	LEAQ    (R10)(SI*4), SI
	MOVQ    R13, DI
	MOVQ    oh+48(FP), CX
	// Rows of 8 and 24 (the model's convolutions) have loops of their own.
	CMPQ add+64(FP), $0
	JNE  stadds
	CMPQ R9, $1
	JEQ  stc1
	CMPQ R9, $3
	JEQ  stc3
	JMP  sty

stc1:
	VMOVUPS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ    AX, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     stc1
	JMP     stnextrow

stc3:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	ADDQ    AX, SI
	ADDQ    $96, DI
	DECQ    CX
	JNZ     stc3
	JMP     stnextrow

stadds:
	CMPQ R9, $1
	JNE  sty

sta1:
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (SI)
	ADDQ    AX, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sta1
	JMP     stnextrow

sty:
	MOVQ SI, R8
	MOVQ R9, DX
	CMPQ add+64(FP), $0
	JNE  stadd

stcopy:
	VMOVUPS (R8), Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, R8
	ADDQ    $32, DI
	DECQ    DX
	JNZ     stcopy
	JMP     stnext

stadd:
	VMOVUPS (R8), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (R8)
	ADDQ    $32, R8
	ADDQ    $32, DI
	DECQ    DX
	JNZ     stadd

stnext:
	ADDQ AX, SI
	DECQ CX
	JNZ  sty

stnextrow:
	ADDQ $4, R11
	ADDQ BX, R13
	DECQ R12
	JNZ  strow
	VZEROUPPER
	RET

// func pool2B32(dy *float32, win *int32, dx *float32, w, ow, rows int)
//
// The gradient of pool2F32 over rows output rows of ow outputs (ow a
// multiple of 4; w = 2·ow): each window's 4 inputs of dx (row pairs, row
// stride w) are written, not added to: 0 + dy at the winner (win 0–3, in
// row-major order), 0 + dy·0 at the first place when win is -1, and +0
// elsewhere: the bits pool2Backward's cleared dx and its scatter give.
TEXT ·pool2B32(SB), NOSPLIT, $0-48
	VPXOR    X11, X11, X11 // 0
	VPCMPEQD X10, X10, X10 // -1
	VPSUBD   X10, X11, X12 // 1
	VPADDD   X12, X12, X13 // 2
	VPADDD   X12, X13, X14 // 3
	MOVQ     ow+32(FP), R11
	SHRQ     $2, R11       // groups of 4 windows a row
	MOVQ     w+24(FP), AX
	SHLQ     $2, AX        // the row stride in bytes
	MOVQ     dy+0(FP), SI
	MOVQ     win+8(FP), R9
	MOVQ     dx+16(FP), DI // top rows; the bottom ones at (DI)(AX*1)
	MOVQ     rows+40(FP), CX

pbrow:
	MOVQ R11, BX

pbgroup:
	VMOVUPS   (SI), X0        // g
	VMOVDQU   (R9), X1        // code
	VMULPS    X11, X0, X2     // g·0
	VPCMPEQD  X10, X1, X3     // code == -1
	VANDPS    X3, X2, X2
	VPCMPEQD  X11, X1, X3     // code == 0
	VANDPS    X3, X0, X4
	VORPS     X2, X4, X4      // place 0
	VPCMPEQD  X12, X1, X3
	VANDPS    X3, X0, X5      // place 1
	VPCMPEQD  X13, X1, X3
	VANDPS    X3, X0, X6      // place 2
	VPCMPEQD  X14, X1, X3
	VANDPS    X3, X0, X7      // place 3
	VADDPS    X11, X4, X4     // 0 + …, as the scatter into zeros
	VADDPS    X11, X5, X5
	VADDPS    X11, X6, X6
	VADDPS    X11, X7, X7
	VUNPCKLPS X5, X4, X8
	VUNPCKHPS X5, X4, X9
	VMOVUPS   X8, (DI)
	VMOVUPS   X9, 16(DI)
	VUNPCKLPS X7, X6, X8
	VUNPCKHPS X7, X6, X9
	VMOVUPS   X8, (DI)(AX*1)
	VMOVUPS   X9, 16(DI)(AX*1)
	ADDQ      $16, SI
	ADDQ      $16, R9
	ADDQ      $32, DI
	DECQ      BX
	JNZ       pbgroup

	ADDQ AX, DI // past the bottom row
	DECQ CX
	JNZ  pbrow
	VZEROUPPER
	RET
