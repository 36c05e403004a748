//go:build amd64 && !purego && !openblas

package model

import "os"

// hasAVX2FMA reports whether the AVX2+FMA kernels run: the CPU and OS
// support them and $SWEEP_KERNELS is not "go". hasAVX512 reports the same
// of the AVX-512F kernels, which $SWEEP_KERNELS=avx2 turns off. Tests
// switch them to run every path the machine can execute.
var (
	hasAVX2FMA = detectAVX2FMA() && os.Getenv(kernelsEnv) != "go"
	hasAVX512  = hasAVX2FMA && detectAVX512() && os.Getenv(kernelsEnv) != "avx2"
)

// kernelsEnv names the environment variable that caps the kernels: "avx2"
// (no AVX-512) or "go" (no assembly: gonum and plain Go, as -tags purego).
const kernelsEnv = "SWEEP_KERNELS"

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func blockCopy(dst *float32, ds int, src *float32, ss int, rows, w8 int)

//go:noescape
func pool2F32(x *float32, w int, y *float32, win *int32, ow, rows int)

//go:noescape
func pool2B32(dy *float32, win *int32, dx *float32, w, ow, rows int)

//go:noescape
func blockAdd(dst *float32, ds int, src *float32, ss int, rows, w8 int)

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// detectAVX512 reports whether the CPU has AVX-512F and the OS saves the
// opmask and ZMM state.
func detectAVX512() bool {
	if maxID, _, _, _ := cpuid(0, 0); maxID < 7 {
		return false
	}
	if _, _, ecx1, _ := cpuid(1, 0); ecx1&(1<<27) == 0 { // OSXSAVE
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 { // XMM, YMM, opmask, ZMM0-15 upper halves, ZMM16-31
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<16) != 0 // AVX512F
}

// copyRows sets dst[i*ds+j] = src[i*ss+j] for i < rows, j < width.
func copyRows[T float](dst []T, ds int, src []T, ss, rows, width int) {
	if d32, ok := any(dst).([]float32); ok {
		copyRows32(d32, ds, any(src).([]float32), ss, rows, width)
		return
	}
	copyRowsGo(dst, ds, src, ss, rows, width)
}

func copyRows32(dst []float32, ds int, src []float32, ss, rows, width int) {
	if rows == 0 || width == 0 {
		return
	}
	d, s := dst[:(rows-1)*ds+width], src[:(rows-1)*ss+width] // the bounds checks
	if hasAVX2FMA && width >= 8 {
		w8 := width / 8
		blockCopy(&d[0], ds, &s[0], ss, rows, w8)
		if width%8 == 0 {
			return
		}
		d, s, width = d[8*w8:], s[8*w8:], width-8*w8
	}
	copyRowsGo(d, ds, s, ss, rows, width)
}

// addRows sets dst[i*ds+j] += src[i*ss+j] for i < rows, j < width.
func addRows[T float](dst []T, ds int, src []T, ss, rows, width int) {
	if d32, ok := any(dst).([]float32); ok {
		addRows32(d32, ds, any(src).([]float32), ss, rows, width)
		return
	}
	addRowsGo(dst, ds, src, ss, rows, width)
}

func addRows32(dst []float32, ds int, src []float32, ss, rows, width int) {
	if rows == 0 || width == 0 {
		return
	}
	d, s := dst[:(rows-1)*ds+width], src[:(rows-1)*ss+width]
	if hasAVX2FMA && width >= 8 {
		w8 := width / 8
		blockAdd(&d[0], ds, &s[0], ss, rows, w8)
		if width%8 == 0 {
			return
		}
		d, s, width = d[8*w8:], s[8*w8:], width-8*w8
	}
	addRowsGo(d, ds, s, ss, rows, width)
}

// pool2Asm runs the 2×2 max-pool + ReLU of rows output rows of ow outputs
// (their input rows, 2·ow wide, in pairs from x) with the AVX kernel when
// it applies, and reports whether it did.
func pool2Asm[T float](x, y []T, win []int32, ow, rows int) bool {
	x32, y32, ok := pool2Fits(x, y, win, ow, rows)
	if ok {
		pool2F32(&x32[0], 2*ow, &y32[0], &win[0], ow, rows)
	}
	return ok
}

// pool2Fits says whether the pooling kernels apply to rows output rows of
// ow (in y and win) from their 4·rows·ow inputs (in x), and checks the
// bounds.
func pool2Fits[T float](x, y []T, win []int32, ow, rows int) (x32, y32 []float32, ok bool) {
	x32, ok = any(x).([]float32)
	if !ok || !hasAVX2FMA || ow%4 != 0 || rows == 0 || ow == 0 {
		return nil, nil, false
	}
	y32 = any(y).([]float32)
	_, _, _ = x32[4*rows*ow-1], y32[rows*ow-1], win[rows*ow-1] // the bounds checks
	return x32, y32, true
}

//go:noescape
func adamF32(w, grad, m, v *float32, n8 int, p *[8]float32)

// adamAsm runs adamUpdate's float32 elements with the AVX kernel where it
// applies (the last 1–7 through a block of 8 on the stack, so that every
// element gets the kernel's arithmetic wherever a worker's share ends) and
// returns how many it did (all same-length slices).
func adamAsm[T float](w, g, m, v []T, p *adamParams[T]) int {
	w32, ok := any(w).([]float32)
	if !ok || !hasAVX2FMA || len(w) == 0 {
		return 0
	}
	g32, m32, v32 := any(g).([]float32), any(m).([]float32), any(v).([]float32)
	p32 := (*[8]float32)(any(p).(*adamParams[float32]))
	n8 := len(w) / 8
	if n8 > 0 {
		_, _, _ = g32[8*n8-1], m32[8*n8-1], v32[8*n8-1] // the bounds checks
		adamF32(&w32[0], &g32[0], &m32[0], &v32[0], n8, p32)
	}
	if r := 8 * n8; r < len(w) {
		var t [4][8]float32
		copy(t[0][:], w32[r:])
		copy(t[1][:], g32[r:])
		copy(t[2][:], m32[r:])
		copy(t[3][:], v32[r:])
		adamF32(&t[0][0], &t[1][0], &t[2][0], &t[3][0], 1, p32)
		copy(w32[r:], t[0][:])
		copy(g32[r:], t[1][:])
		copy(m32[r:], t[2][:])
		copy(v32[r:], t[3][:])
	}
	return len(w)
}

//go:noescape
func stridedF32(img *float32, offs *int32, rows int, col *float32, ld, w, oh, ow8, add int)

// im2colAsm copies, for each r < len(offs), the oh rows of ow elements at
// x[offs[r]:] (row stride w) into col[r*ld:] (row stride ow), with the AVX
// kernel where it applies, and reports whether it did. offs ascends.
func im2colAsm[T float](x, col []T, ld int, offs []int32, w, oh, ow int) bool {
	return stridedAsm(x, col, ld, offs, w, oh, ow, 0)
}

// col2imAsm adds, for each r < len(offs) in turn, the oh·ow elements at
// col[r*oh*ow:] to the oh rows of ow at dx[offs[r]:] (row stride w), with
// the AVX kernel where it applies, and reports whether it did.
func col2imAsm[T float](dx, col []T, offs []int32, w, oh, ow int) bool {
	return stridedAsm(dx, col, oh*ow, offs, w, oh, ow, 1)
}

func stridedAsm[T float](img, col []T, ld int, offs []int32, w, oh, ow, add int) bool {
	i32, ok := any(img).([]float32)
	if !ok || !hasAVX2FMA || ow%8 != 0 || len(offs) == 0 || oh == 0 || ow == 0 {
		return false
	}
	c32 := any(col).([]float32)
	_, _ = i32[int(offs[len(offs)-1])+(oh-1)*w+ow-1], c32[(len(offs)-1)*ld+oh*ow-1] // the bounds checks
	stridedF32(&i32[0], &offs[0], len(offs), &c32[0], ld, w, oh, ow/8, add)
	return true
}

// pool2BackAsm runs the gradient of pool2Asm's max-pool (rows output rows
// of ow) with the AVX kernel when it applies, writing all of dx, and
// reports whether it did.
func pool2BackAsm[T float](dy, dx []T, win []int32, ow, rows int) bool {
	dx32, dy32, ok := pool2Fits(dx, dy, win, ow, rows)
	if ok {
		pool2B32(&dy32[0], &win[0], &dx32[0], 2*ow, ow, rows)
	}
	return ok
}
