package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The trunk's two hot layers as custom gorgonia ops, for float32 and
// float64 alike:
//
//   - conv2d: a 'valid' (no padding), stride-1 convolution of NCHW images
//     with a bias per filter. Each image is unrolled (im2col) straight into
//     the [C·KH·KW × OH·OW] layout that one matrix product with the
//     [F × C·KH·KW] filters needs, and the product lands in NCHW order: no
//     transposes. The filter gradient unrolls the images again, a few at a
//     time (cheaper than keeping the whole batch unrolled: it would leave
//     the cache), under a row of ones whose product with the output
//     gradient is the bias gradient, and sums the products over the batch.
//     The input gradient is a product with the transposed filters folded
//     back (col2im); it exists only when asked for (the first layer's input
//     is the data).
//   - maxPoolReLU: max-pool P×P with stride P followed by ReLU, in one pass
//     that remembers each window's winner (or that ReLU zeroed it) for the
//     gradient, which scatters the output gradient back.
//
// They reproduce gorgonia's Conv2d + BroadcastAdd and MaxPool2D + Rectify
// up to the summation order of the products (ties in a pooling window go to
// the first maximum in row-major order, as in gorgonia; ReLU's gradient at 0
// is 1, as for gorgonia's Rectify). One deliberate difference: a NaN in a
// pooling window comes out as NaN (gorgonia's max-pool skips NaN, and its
// gradient then panics), so a diverged run's loss is NaN.
//
// Every op owns its output and scratch buffers, allocated once and reused
// for every batch (ops belong to one graph, so one network).

// float32 and float64 dtypes, for checks.
func checkDtype(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("model: dtype %v: want Float32 or Float64", dt)
	}
	return nil
}

func lowest[T float]() T {
	var z T
	if _, ok := any(z).(float32); ok {
		return T(-math.MaxFloat32)
	}
	m := -math.MaxFloat64 // a variable: the constant overflows float32
	return T(m)
}

// scratch returns a slice of n elements of type T stored in *p, replacing it
// when it is missing or too short.
func scratch[T float](p *any, n int) []T {
	if s, ok := (*p).([]T); ok && len(s) >= n {
		return s[:n]
	}
	s := make([]T, n)
	*p = s
	return s
}

// ownedDense returns the op-owned output d, first restoring its shape: a
// consumer such as Reshape may have reshaped it in place during the last run.
func ownedDense(d *tensor.Dense, shape tensor.Shape) (*tensor.Dense, error) {
	if !d.Shape().Eq(shape) {
		if err := d.Reshape(shape...); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// denseArgs checks that vals are dense, contiguous tensors of dtype dt
// with as many elements as the given shapes and returns them. Only the
// count is checked, not the shape: another consumer may have reshaped a
// value in place (gorgonia's Reshape can), which leaves its data as it was.
func denseArgs(name string, dt tensor.Dtype, vals []G.Value, shapes ...tensor.Shape) ([]*tensor.Dense, error) {
	if len(vals) != len(shapes) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", name, len(vals), len(shapes))
	}
	out := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%s: input %d is %T, want *tensor.Dense", name, i, v)
		}
		if d.Dtype() != dt || d.Shape().TotalSize() != shapes[i].TotalSize() || d.IsView() {
			return nil, fmt.Errorf("%s: input %d is %v%v, want %v%v", name, i, d.Dtype(), d.Shape(), dt, shapes[i])
		}
		out[i] = d
	}
	return out, nil
}

func tensorType(dims int) *G.TensorType {
	return &G.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// opBase supplies the Op methods every fast op shares. Its name and state
// pointer make the hash unique to the op instance, so gorgonia never merges
// two ops that own different buffers.
type opBase struct {
	name  string
	state any
}

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "sweep.%s@%p", o.name, o.state) }
func (o opBase) String() string        { return o.name }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// ---------------------------------------------------------------------------
// Convolution

// convGeom is a convolution's shapes: images n×c×h×w, filters f×c×kh×kw,
// outputs n×f×oh×ow.
type convGeom struct {
	n, c, h, w, f, kh, kw, oh, ow int
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

	// Scratch, []T: the forward pass's unrolled image [ckk × ohw]; the
	// weight gradient's run of unrolled images [ckk+1 × run·ohw] (row r
	// holds the run's rows r side by side, and the last row is all ones);
	// the input gradient's columns [ckk × ohw]; [dW | db] [f × ckk+1].
	col, runCols, dcol, dwb any
	out, dx, dw, dbias      *tensor.Dense
}

// convRun is how many images the weight gradient unrolls at a time: about
// 256 KiB of float32 columns, which stay in the L2 cache for the product.
func (g convGeom) convRun() int {
	return max(1, min(g.n, (64<<10)/((g.ckk()+1)*g.ohw())))
}

// conv2d applies the fast convolution: x [n,c,h,w] * w [f,c,kh,kw] + b [f],
// no padding, stride 1. inputGrad says whether gradients may flow to x.
func conv2d(x, w, b *G.Node, inputGrad bool) (*G.Node, error) {
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
	s := &convState{convGeom: g, dt: dt, inputGrad: inputGrad}
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

func convForward[T float](s *convState, x, w, b, y []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	col := scratch[T](&s.col, ckk*ohw)
	for i := 0; i < s.n; i++ {
		im2col(s.convGeom, x[i*chw:(i+1)*chw], col, ohw)
		yi := y[i*s.f*ohw : (i+1)*s.f*ohw]
		gemmNN(s.f, ohw, ckk, w, ckk, 1, col, ohw, yi, ohw, false)
		for o := 0; o < s.f; o++ {
			row, bo := yi[o*ohw:(o+1)*ohw], b[o]
			for j := range row {
				row[j] += bo
			}
		}
	}
}

// im2col unrolls one image x [c,h,w] into the columns col (row stride ld):
// col[((ci·kh+ky)·kw+kx)·ld + oy·ow+ox] = x[ci][oy+ky][ox+kx].
func im2col[T float](g convGeom, x, col []T, ld int) {
	if x32, ok := any(x).([]float32); ok { // one type switch per image, not per row
		im2colT(g, x32, any(col).([]float32), ld, copyRows32)
		return
	}
	im2colT(g, x, col, ld, copyRowsGo[T])
}

func im2colT[T float](g convGeom, x, col []T, ld int, copyRows func(dst []T, ds int, src []T, ss, rows, width int)) {
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				copyRows(col[r*ld:], g.ow, plane[ky*g.w+kx:], g.w, g.oh, g.ow)
				r++
			}
		}
	}
}

// col2im adds the columns col [c·kh·kw × oh·ow] back into one image's
// gradient dx [c,h,w] (which it zeroes first): the transpose of im2col.
func col2im[T float](g convGeom, col, dx []T) {
	if c32, ok := any(col).([]float32); ok {
		col2imT(g, c32, any(dx).([]float32), addRows32)
		return
	}
	col2imT(g, col, dx, addRowsGo[T])
}

func col2imT[T float](g convGeom, col, dx []T, addRows func(dst []T, ds int, src []T, ss, rows, width int)) {
	clear(dx)
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
func convWeightGrad[T float](s *convState, x, dy, dw []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	run := s.convRun()
	cols := scratch[T](&s.runCols, (ckk+1)*run*ohw)
	dwb := scratch[T](&s.dwb, s.f*(ckk+1))
	for s0 := 0; s0 < s.n; s0 += run {
		ns := min(run, s.n-s0)
		ld := ns * ohw
		for j := 0; j < ns; j++ {
			im2col(s.convGeom, x[(s0+j)*chw:(s0+j+1)*chw], cols[j*ohw:], ld)
		}
		ones := cols[ckk*ld : (ckk+1)*ld]
		for j := range ones {
			ones[j] = 1
		}
		gemmNT(s.f, ckk+1, ohw, ns, dy[s0*s.f*ohw:], ohw, s.f*ohw, cols, ld, ohw, dwb, ckk+1, s0 > 0)
	}
	for o := 0; o < s.f; o++ {
		copy(dw[o*ckk:(o+1)*ckk], dwb[o*(ckk+1):])
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

func convInputGrad[T float](s *convState, w, dy, dx []T) {
	ckk, ohw, chw := s.ckk(), s.ohw(), s.c*s.h*s.w
	dcol := scratch[T](&s.dcol, ckk*ohw)
	for i := 0; i < s.n; i++ {
		gemmNN(ckk, ohw, s.f, w, 1, ckk, dy[i*s.f*ohw:(i+1)*s.f*ohw], ohw, dcol, ohw, false)
		col2im(s.convGeom, dcol, dx[i*chw:(i+1)*chw])
	}
}

// ---------------------------------------------------------------------------
// Max-pool + ReLU

type poolState struct {
	n, c, h, w, p, oh, ow int
	dt                    tensor.Dtype
	// win[o] is the index within its plane of output o's winning input
	// (for p = 2: its place in the window, 0–3 in row-major order), or -1
	// when ReLU zeroed the output (or it is NaN, or no input beat the
	// lowest float).
	win     []int32
	out, dx *tensor.Dense
}

func (s *poolState) inShape() tensor.Shape  { return tensor.Shape{s.n, s.c, s.h, s.w} }
func (s *poolState) outShape() tensor.Shape { return tensor.Shape{s.n, s.c, s.oh, s.ow} }

// maxPoolReLU applies relu(maxpool(x)) with p×p windows and stride p to
// x [n,c,h,w]; rows and columns past the last whole window are ignored.
func maxPoolReLU(x *G.Node, p int) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 4 || p < 1 || xs[2] < p || xs[3] < p {
		return nil, fmt.Errorf("model: max-pool %d of %v: bad shape", p, xs)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	s := &poolState{n: xs[0], c: xs[1], h: xs[2], w: xs[3], p: p, oh: xs[2] / p, ow: xs[3] / p, dt: dt}
	s.win = make([]int32, s.n*s.c*s.oh*s.ow)
	s.out = newDense(dt, s.outShape()...)
	return G.ApplyOp(poolOp{opBase{"MaxPoolReLU", s}, s}, x)
}

type poolOp struct {
	opBase
	s *poolState
}

func (op poolOp) Arity() int                                     { return 1 }
func (op poolOp) Type() hm.Type                                  { return hm.NewFnType(tensorType(4), tensorType(4)) }
func (op poolOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.outShape(), nil }
func (op poolOp) DiffWRT(int) []bool                             { return []bool{true} }

func (op poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := op.s
	s.dx = newDense(s.dt, s.inShape()...)
	dx, err := G.ApplyOp(poolGradOp{opBase{"MaxPoolReLUGrad", s}, s}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op poolOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("MaxPoolReLU", s.dt, vals, s.inShape())
	if err != nil {
		return nil, err
	}
	out, err := ownedDense(s.out, s.outShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		poolForward(s, in[0].Float32s(), out.Float32s())
	case tensor.Float64:
		poolForward(s, in[0].Float64s(), out.Float64s())
	}
	return out, nil
}

func poolForward[T float](s *poolState, x, y []T) {
	if s.p == 2 {
		pool2Forward(s, x, y)
		return
	}
	hw, ohw := s.h*s.w, s.oh*s.ow
	low := lowest[T]()
	for pl := 0; pl < s.n*s.c; pl++ {
		xp, yp, wp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw], s.win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < s.oh; oy++ {
			for ox := 0; ox < s.ow; ox++ {
				best, at := low, int32(-1)
				for dy := 0; dy < s.p; dy++ {
					row := (oy*s.p+dy)*s.w + ox*s.p
					for dx, v := range xp[row : row+s.p] {
						// v != v: a NaN wins and stays (unlike gorgonia,
						// which skips it), so a diverged run's NaN reaches
						// the loss.
						if v > best || v != v {
							best, at = v, int32(row+dx)
						}
					}
				}
				// As gorgonia's Rectify: x·(x ≥ 0), NaN for NaN.
				var keep T
				if best >= 0 {
					keep = 1
				} else {
					at = -1
				}
				yp[oy*s.ow+ox] = best * keep
				wp[oy*s.ow+ox] = at
			}
		}
	}
}

// pool2Forward is poolForward unrolled for 2×2 windows and free of
// data-dependent branches (a max-pool's comparisons are coin flips for the
// branch predictor): Go's max, which propagates NaN, and selects that
// compile to conditional moves. The winner is the first input equal to the
// maximum, as with gorgonia's strict comparisons. It differs from the
// generic loop only in the sign of the zeros ReLU produces (+0, not −0).
func pool2Forward[T float](s *poolState, x, y []T) {
	w, oh, ow := s.w, s.oh, s.ow
	// Without leftover rows or columns the planes are one image of
	// n·c·oh output rows, for the AVX kernel where there is one.
	if s.h == 2*oh && w == 2*ow && pool2Asm(x, y, s.win, ow, s.n*s.c*oh) {
		return
	}
	hw, ohw := s.h*w, oh*ow
	for pl := 0; pl < s.n*s.c; pl++ {
		xp, yp, wp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw], s.win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < oh; oy++ {
			top := 2 * oy * w
			r0, r1 := xp[top:top+2*ow], xp[top+w:top+w+2*ow]
			yr, wr := yp[oy*ow:(oy+1)*ow], wp[oy*ow:(oy+1)*ow]
			for ox := range yr {
				j := 2 * ox
				a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
				best := max(max(a, b), max(c, d))
				code := int32(3)
				if c == best {
					code = 2
				}
				if b == best {
					code = 1
				}
				if a == best {
					code = 0
				}
				if !(best >= 0) { // ReLU zeroed it, or NaN
					code = -1
				}
				yr[ox], wr[ox] = max(best, 0), code
			}
		}
	}
}

// poolGradOp scatters dY to the winning inputs. Inputs: the pool's output
// (for ordering) and dY.
type poolGradOp struct {
	opBase
	s *poolState
}

func (op poolGradOp) Arity() int { return 2 }
func (op poolGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op poolGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.inShape(), nil }

func (op poolGradOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("MaxPoolReLUGrad", s.dt, vals, s.outShape(), s.outShape())
	if err != nil {
		return nil, err
	}
	dx, err := ownedDense(s.dx, s.inShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		poolBackward(s, in[1].Float32s(), dx.Float32s())
	case tensor.Float64:
		poolBackward(s, in[1].Float64s(), dx.Float64s())
	}
	return dx, nil
}

func poolBackward[T float](s *poolState, dy, dx []T) {
	if s.p == 2 {
		pool2Backward(s, dy, dx)
		return
	}
	clear(dx)
	hw, ohw := s.h*s.w, s.oh*s.ow
	for pl := 0; pl < s.n*s.c; pl++ {
		dxp := dx[pl*hw : (pl+1)*hw]
		for o, at := range s.win[pl*ohw : (pl+1)*ohw] {
			if at >= 0 {
				dxp[at] += dy[pl*ohw+o]
			}
		}
	}
}

// pool2Backward is poolBackward for 2×2 windows with no data-dependent
// branch: each window adds dY times 1 (0 when ReLU zeroed the output) at
// the winner's place (the window's first when there is none).
func pool2Backward[T float](s *poolState, dy, dx []T) {
	clear(dx)
	w, oh, ow := s.w, s.oh, s.ow
	hw, ohw := s.h*w, oh*ow
	place := [8]int{0, 0, 1, w, w + 1} // by code+1
	scale := [8]T{0, 1, 1, 1, 1}
	for pl := 0; pl < s.n*s.c; pl++ {
		dxp, dyp, wp := dx[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], s.win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < oh; oy++ {
			top := 2 * oy * w
			window := dxp[top : top+w+2*ow]
			dyr, wr := dyp[oy*ow:(oy+1)*ow], wp[oy*ow:(oy+1)*ow]
			for ox, g := range dyr {
				k := (wr[ox] + 1) & 7
				window[2*ox+place[k]] += g * scale[k]
			}
		}
	}
}
