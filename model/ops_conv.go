package model

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The convolution: a 'valid' (no padding), stride-1 convolution of NCHW
// images with a bias per filter, as gorgonia ops (see ops.go for what the
// fast ops share).

// convGeom is a convolution's shapes: images n×c×h×w, filters f×c×kh×kw,
// outputs n×f×oh×ow.
type convGeom struct {
	n, c, h, w, f, kh, kw, oh, ow int
	// offs[r] is where row r = (ci·kh+ky)·kw+kx of the unrolled image
	// starts in the image: ci·h·w + ky·w + kx.
	offs []int32
}

// unrollOffsets fills g.offs.
func (g *convGeom) unrollOffsets() {
	g.offs = make([]int32, 0, g.ckk())
	for ci := 0; ci < g.c; ci++ {
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				g.offs = append(g.offs, int32(ci*g.h*g.w+ky*g.w+kx))
			}
		}
	}
}

func (g convGeom) inShape() tensor.Shape  { return tensor.Shape{g.n, g.c, g.h, g.w} }
func (g convGeom) wShape() tensor.Shape   { return tensor.Shape{g.f, g.c, g.kh, g.kw} }
func (g convGeom) outShape() tensor.Shape { return tensor.Shape{g.n, g.f, g.oh, g.ow} }
func (g convGeom) ckk() int               { return g.c * g.kh * g.kw }
func (g convGeom) ohw() int               { return g.oh * g.ow }

// convState is shared by a convolution and its gradient ops.
type convState struct {
	convGeom
	dt        tensor.Dtype
	inputGrad bool // differentiate with respect to the images too
	work      *workers

	// Scratch, []T: the forward pass's unrolled image [ckk × ohw] and the
	// input gradient's columns [ckk × ohw], one of each per worker; the
	// weight gradient's run of unrolled images [ckk+1 × run·ohw] (row r
	// holds the run's rows r side by side, and the last row is all ones),
	// whose rows the workers share out; [dW | db] [f × ckk+1].
	col, dcol          []any
	runCols, dwb, wb   any // wb: the forward pass's [W | b] [f × ckk+1]
	out, dx, dw, dbias *tensor.Dense
}

// convRun is how many images the weight gradient unrolls at a time: about
// 256 KiB of float32 columns, which stay in the L2 cache for the product.
func (g convGeom) convRun() int {
	return max(1, min(g.n, (64<<10)/((g.ckk()+1)*g.ohw())))
}

// conv2d applies the fast convolution: x [n,c,h,w] * w [f,c,kh,kw] + b [f],
// no padding, stride 1. inputGrad says whether gradients may flow to x.
// work (nil: one thread) does the work.
func conv2d(x, w, b *G.Node, inputGrad bool, work *workers) (*G.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if len(xs) != 4 || len(ws) != 4 || len(bs) != 1 || xs[1] != ws[1] || bs[0] != ws[0] || ws[2] > xs[2] || ws[3] > xs[3] {
		return nil, fmt.Errorf("model: conv2d of %v by %v + %v: bad shapes", xs, ws, bs)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], f: ws[0], kh: ws[2], kw: ws[3]}
	g.oh, g.ow = g.h-g.kh+1, g.w-g.kw+1
	g.unrollOffsets()
	s := &convState{convGeom: g, dt: dt, inputGrad: inputGrad, work: work}
	s.col, s.dcol = make([]any, work.n()), make([]any, work.n())
	s.out = newDense(dt, g.outShape()...)
	return G.ApplyOp(convOp{opBase{"Conv2d", s}, s}, x, w, b)
}

type convOp struct {
	opBase
	s *convState
}

func (op convOp) Arity() int { return 3 }
func (op convOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(1), tensorType(4))
}
func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.outShape(), nil }

func (op convOp) DiffWRT(int) []bool { return []bool{op.s.inputGrad, true, true} }

func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := op.s
	s.dw = newDense(s.dt, s.wShape()...)
	s.dbias = newDense(s.dt, s.f)
	dw, err := G.ApplyOp(convGradWOp{opBase{"Conv2dGradW", s}, s}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	// The bias gradient is a by-product of dW's product: its op reads it
	// from there, so it takes dW as input to run after it.
	db, err := G.ApplyOp(convGradBOp{opBase{"Conv2dGradB", s}, s}, dw)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if s.inputGrad {
		s.dx = newDense(s.dt, s.inShape()...)
		if dx, err = G.ApplyOp(convGradXOp{opBase{"Conv2dGradX", s}, s}, inputs[1], grad); err != nil {
			return nil, err
		}
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op convOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("Conv2d", s.dt, vals, s.inShape(), s.wShape(), tensor.Shape{s.f})
	if err != nil {
		return nil, err
	}
	out, err := ownedDense(s.out, s.outShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		convForward(s, in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), out.Float32s())
	case tensor.Float64:
		convForward(s, in[0].Float64s(), in[1].Float64s(), in[2].Float64s(), out.Float64s())
	}
	return out, nil
}

// convForward shares the images out among the workers: each image's
// output is computed as with one thread. The bias rides in the product
// as a last step of k (filters [W | b] by columns [cols; 1]): its FMA
// b·1 + Σ rounds exactly as the sum plus the bias did.
func convForward[T float](s *convState, x, w, b, y []T) {
	ckk := s.ckk()
	wb := scratch[T](&s.wb, s.f*(ckk+1))
	for o := 0; o < s.f; o++ {
		copy(wb[o*(ckk+1):], w[o*ckk:(o+1)*ckk])
		wb[o*(ckk+1)+ckk] = b[o]
	}
	s.work.share(s.n, 1, func(wk, lo, hi int) {
		convForwardImages(s, wk, lo, hi, x, wb, y)
	})
}

func convForwardImages[T float](s *convState, wk, lo, hi int, x, wb, y []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	col, fresh := scratchFresh[T](&s.col[wk], (ckk+1)*ohw)
	if fresh {
		for j := range col[ckk*ohw:] {
			col[ckk*ohw+j] = 1 // the bias's row; im2col never writes it
		}
	}
	for i := lo; i < hi; i++ {
		im2col(s.convGeom, x[i*chw:(i+1)*chw], col, ohw)
		gemmNN(s.f, ohw, ckk+1, wb, ckk+1, 1, col, ohw, y[i*s.f*ohw:(i+1)*s.f*ohw], ohw, false)
	}
}

// im2col unrolls one image x [c,h,w] into the columns col (row stride ld):
// col[((ci·kh+ky)·kw+kx)·ld + oy·ow+ox] = x[ci][oy+ky][ox+kx].
func im2col[T float](g convGeom, x, col []T, ld int) {
	im2colRows(g, x, col, ld, 0, g.ckk())
}

// im2colRows is im2col for rows r0 ≤ r < r1 of the columns alone.
func im2colRows[T float](g convGeom, x, col []T, ld, r0, r1 int) {
	if r0 >= r1 || im2colAsm(x, col[r0*ld:], ld, g.offs[r0:r1], g.w, g.oh, g.ow) {
		return
	}
	if x32, ok := any(x).([]float32); ok { // one type switch per image, not per row
		im2colT(g, x32, any(col).([]float32), ld, r0, r1, copyRows32)
		return
	}
	im2colT(g, x, col, ld, r0, r1, copyRowsGo[T])
}

func im2colT[T float](g convGeom, x, col []T, ld, r0, r1 int, copyRows func(dst []T, ds int, src []T, ss, rows, width int)) {
	// Row r unrolls channel ci at kernel offset (ky, kx): step them along
	// (no division per row: this runs for every row of every image).
	kk := g.kh * g.kw
	ci, ky, kx := r0/kk, r0%kk/g.kw, r0%g.kw
	for r := r0; r < r1; ci, ky = ci+1, 0 {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ; ky < g.kh && r < r1; ky, kx = ky+1, 0 {
			src := plane[ky*g.w:]
			for ; kx < g.kw && r < r1; kx++ {
				copyRows(col[r*ld:], g.ow, src[kx:], g.w, g.oh, g.ow)
				r++
			}
		}
	}
}

// col2im adds the columns col [c·kh·kw × oh·ow] back into one image's
// gradient dx [c,h,w] (which it zeroes first): the transpose of im2col.
func col2im[T float](g convGeom, col, dx []T) {
	clear(dx)
	if col2imAsm(dx, col, g.offs, g.w, g.oh, g.ow) {
		return
	}
	if c32, ok := any(col).([]float32); ok {
		col2imT(g, c32, any(dx).([]float32), addRows32)
		return
	}
	col2imT(g, col, dx, addRowsGo[T])
}

func col2imT[T float](g convGeom, col, dx []T, addRows func(dst []T, ds int, src []T, ss, rows, width int)) {
	ohw := g.ohw()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := dx[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				addRows(plane[ky*g.w+kx:], g.w, col[r*ohw:], g.ow, g.oh, g.ow)
				r++
			}
		}
	}
}

// convGradWOp computes dW = Σ_images dY·colsᵀ (and db with it). Inputs:
// the images and dY.
type convGradWOp struct {
	opBase
	s *convState
}

func (op convGradWOp) Arity() int { return 2 }
func (op convGradWOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op convGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.wShape(), nil }

func (op convGradWOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("Conv2dGradW", s.dt, vals, s.inShape(), s.outShape())
	if err != nil {
		return nil, err
	}
	dw, err := ownedDense(s.dw, s.wShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		convWeightGrad(s, in[0].Float32s(), in[1].Float32s(), dw.Float32s())
	case tensor.Float64:
		convWeightGrad(s, in[0].Float64s(), in[1].Float64s(), dw.Float64s())
	}
	return dw, nil
}

// convWeightGrad forms [dW | db] = Σ_images dY·[cols; 1]ᵀ, run by run of
// unrolled images, and copies dW out; convGradBOp picks up db.
//
// The workers share out the columns of [dW | db] in blocks of 4 (the
// kernel's): each unrolls only its own rows of every run and sums its own
// columns over the batch, run by run as with one thread, so every element
// is summed in the same order whatever the number of threads.
func convWeightGrad[T float](s *convState, x, dy, dw []T) {
	ckk := s.ckk()
	run := s.convRun()
	cols, fresh := scratchFresh[T](&s.runCols, (ckk+1)*run*s.ohw())
	if fresh {
		for j := range cols[ckk*run*s.ohw():] {
			cols[ckk*run*s.ohw()+j] = 1 // the bias's row; im2col never writes it
		}
	}
	dwb := scratch[T](&s.dwb, s.f*(ckk+1))
	align := 4
	if !gemmCutExact {
		align = ckk + 1 // one part: the whole product
	}
	s.work.share(ckk+1, align, func(_, lo, hi int) {
		convWeightGradCols(s, lo, hi, x, dy, cols, dwb)
	})
	for o := 0; o < s.f; o++ {
		copy(dw[o*ckk:(o+1)*ckk], dwb[o*(ckk+1):])
	}
}

// convWeightGradCols computes columns lo ≤ j < hi of [dW | db].
func convWeightGradCols[T float](s *convState, lo, hi int, x, dy, cols, dwb []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	run := s.convRun()
	// Every run has the same row stride, so each worker's rows stay clear
	// of the others' even while workers are on different runs.
	ld := run * ohw
	for s0 := 0; s0 < s.n; s0 += run {
		ns := min(run, s.n-s0)
		for j := 0; j < ns; j++ {
			im2colRows(s.convGeom, x[(s0+j)*chw:(s0+j+1)*chw], cols[j*ohw:], ld, lo, min(hi, ckk))
		}
		gemmNT(s.f, hi-lo, ohw, ns, dy[s0*s.f*ohw:], ohw, s.f*ohw, cols[lo*ld:], ld, ohw, dwb[lo:], ckk+1, s0 > 0)
	}
}

// convGradBOp returns the bias gradient, dY summed over images and pixels,
// which convGradWOp computed. Input: dW (for ordering).
type convGradBOp struct {
	opBase
	s *convState
}

func (op convGradBOp) Arity() int    { return 1 }
func (op convGradBOp) Type() hm.Type { return hm.NewFnType(tensorType(4), tensorType(1)) }
func (op convGradBOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.f}, nil
}

func (op convGradBOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	if _, err := denseArgs("Conv2dGradB", s.dt, vals, s.wShape()); err != nil {
		return nil, err
	}
	db, err := ownedDense(s.dbias, tensor.Shape{s.f})
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		err = biasColumn(s, db.Float32s())
	case tensor.Float64:
		err = biasColumn(s, db.Float64s())
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

func biasColumn[T float](s *convState, db []T) error {
	ckk := s.ckk()
	dwb, ok := s.dwb.([]T)
	if !ok || len(dwb) != s.f*(ckk+1) {
		return fmt.Errorf("Conv2dGradB: the weight gradient has not run")
	}
	for o := range db {
		db[o] = dwb[o*(ckk+1)+ckk]
	}
	return nil
}

// convGradXOp computes the input gradient: per image, Wᵀ·dY folded back
// by col2im. Inputs: the filters and dY.
type convGradXOp struct {
	opBase
	s *convState
}

func (op convGradXOp) Arity() int { return 2 }
func (op convGradXOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op convGradXOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.inShape(), nil }

func (op convGradXOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("Conv2dGradX", s.dt, vals, s.wShape(), s.outShape())
	if err != nil {
		return nil, err
	}
	dx, err := ownedDense(s.dx, s.inShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		convInputGrad(s, in[0].Float32s(), in[1].Float32s(), dx.Float32s())
	case tensor.Float64:
		convInputGrad(s, in[0].Float64s(), in[1].Float64s(), dx.Float64s())
	}
	return dx, nil
}

// convInputGrad shares the images out among the workers, as convForward.
func convInputGrad[T float](s *convState, w, dy, dx []T) {
	s.work.share(s.n, 1, func(wk, lo, hi int) {
		convInputGradImages(s, wk, lo, hi, w, dy, dx)
	})
}

func convInputGradImages[T float](s *convState, wk, lo, hi int, w, dy, dx []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	dcol := scratch[T](&s.dcol[wk], ckk*ohw)
	for i := lo; i < hi; i++ {
		gemmNN(ckk, ohw, s.f, w, 1, ckk, dy[i*s.f*ohw:(i+1)*s.f*ohw], ohw, dcol, ohw, false)
		col2im(s.convGeom, dcol, dx[i*chw:(i+1)*chw])
	}
}
