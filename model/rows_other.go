//go:build !amd64 || purego || openblas

package model

// hasAVX2FMA is false: this build has no assembly (cgo, as in the openblas
// build, rules assembly out).
const (
	hasAVX2FMA = false
	hasAVX512  = false
)

// copyRows sets dst[i*ds+j] = src[i*ss+j] for i < rows, j < width.
func copyRows[T float](dst []T, ds int, src []T, ss, rows, width int) {
	copyRowsGo(dst, ds, src, ss, rows, width)
}

// addRows sets dst[i*ds+j] += src[i*ss+j] for i < rows, j < width.
func addRows[T float](dst []T, ds int, src []T, ss, rows, width int) {
	addRowsGo(dst, ds, src, ss, rows, width)
}

func copyRows32(dst []float32, ds int, src []float32, ss, rows, width int) {
	copyRowsGo(dst, ds, src, ss, rows, width)
}

func addRows32(dst []float32, ds int, src []float32, ss, rows, width int) {
	addRowsGo(dst, ds, src, ss, rows, width)
}

// pool2Asm and pool2BackAsm report that this build has no max-pool kernel.
func pool2Asm[T float](x, y []T, win []int32, ow, rows int) bool       { return false }
func pool2BackAsm[T float](dy, dx []T, win []int32, ow, rows int) bool { return false }

// adamAsm reports that this build has no Adam kernel: adamUpdate does all.
func adamAsm[T float](w, g, m, v []T, p *adamParams[T]) int { return 0 }

// im2colAsm and col2imAsm report that this build has no kernel for them.
func im2colAsm[T float](x, col []T, ld int, offs []int32, w, oh, ow int) bool { return false }
func col2imAsm[T float](dx, col []T, offs []int32, w, oh, ow int) bool        { return false }
