package model

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A fully connected layer as one fast op: y = x·w + b, optionally followed
// by ReLU (gorgonia's x·(x ≥ 0), gradient 1 at 0), for x [n,in], w
// [in,out], b [out]. It replaces G.Mul + G.BroadcastAdd (+ G.Rectify),
// whose gradients take five more ops and allocate every output. With ReLU a
// first gradient op masks dY; the input, weight and bias gradients then
// share that masked gradient.

type linearState struct {
	n, in, out int
	dt         tensor.Dtype
	relu       bool
	keep       []bool // relu: which pre-activations were ≥ 0
	work       *workers

	y, dpre, dx, dw, db *tensor.Dense
}

func (s *linearState) xShape() tensor.Shape { return tensor.Shape{s.n, s.in} }
func (s *linearState) wShape() tensor.Shape { return tensor.Shape{s.in, s.out} }
func (s *linearState) yShape() tensor.Shape { return tensor.Shape{s.n, s.out} }

// linear applies the fast fully connected layer; work (nil: one thread)
// computes its larger products.
func linear(x, w, b *G.Node, relu bool, work *workers) (*G.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if len(xs) != 2 || len(ws) != 2 || len(bs) != 1 || xs[1] != ws[0] || bs[0] != ws[1] {
		return nil, fmt.Errorf("model: linear %v·%v + %v: bad shapes", xs, ws, bs)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	s := &linearState{n: xs[0], in: xs[1], out: ws[1], dt: dt, relu: relu, work: work}
	s.y = newDense(dt, s.yShape()...)
	if relu {
		s.keep = make([]bool, s.n*s.out)
	}
	name := "Linear"
	if relu {
		name = "LinearReLU"
	}
	return G.ApplyOp(linearOp{opBase{name, s}, s}, x, w, b)
}

type linearOp struct {
	opBase
	s *linearState
}

func (op linearOp) Arity() int { return 3 }
func (op linearOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1), tensorType(2))
}
func (op linearOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.yShape(), nil }
func (op linearOp) DiffWRT(int) []bool                             { return []bool{true, true, true} }

func (op linearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := op.s
	dpre := grad
	var err error
	if s.relu {
		s.dpre = newDense(s.dt, s.yShape()...)
		if dpre, err = G.ApplyOp(linGradPreOp{opBase{"LinearReLUGrad", s}, s}, output, grad); err != nil {
			return nil, err
		}
	}
	s.dx = newDense(s.dt, s.xShape()...)
	s.dw = newDense(s.dt, s.wShape()...)
	s.db = newDense(s.dt, s.out)
	dx, err := G.ApplyOp(linGradXOp{opBase{"LinearGradX", s}, s}, inputs[1], dpre)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(linGradWOp{opBase{"LinearGradW", s}, s}, inputs[0], dpre)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(linGradBOp{opBase{"LinearGradB", s}, s}, dpre)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op linearOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.xShape(), s.wShape(), tensor.Shape{s.out})
	if err != nil {
		return nil, err
	}
	y, err := ownedDense(s.y, s.yShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		linearForward(s, in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), y.Float32s())
	case tensor.Float64:
		linearForward(s, in[0].Float64s(), in[1].Float64s(), in[2].Float64s(), y.Float64s())
	}
	return y, nil
}

// linearParMin is the smallest product (multiply-adds) worth sharing out
// among the workers: smaller ones cost more to hand out than they save.
const linearParMin = 256 << 10

// rows runs f on the workers' shares of m rows, in blocks of 4 (so no
// share is a sliver the kernels would treat differently), or on all of
// them at once when the product (madds multiply-adds) is small. Each row
// of a product is computed alike either way.
func (s *linearState) rows(m, madds int, f func(lo, hi int)) {
	if s.work.n() == 1 || madds < linearParMin || !gemmCutExact {
		f(0, m)
		return
	}
	s.work.share(m, 4, func(_, lo, hi int) { f(lo, hi) })
}

func linearForward[T float](s *linearState, x, w, b, y []T) {
	s.rows(s.n, s.n*s.in*s.out, func(lo, hi int) {
		gemmNN(hi-lo, s.out, s.in, x[lo*s.in:], s.in, 1, w, s.out, y[lo*s.out:], s.out, false)
		linearBiasReLU(s, lo, hi, b, y)
	})
}

func linearBiasReLU[T float](s *linearState, lo, hi int, b, y []T) {
	for i := lo; i < hi; i++ {
		row := y[i*s.out : (i+1)*s.out]
		for j := range row {
			v := row[j] + b[j]
			if s.relu {
				var m T
				if v >= 0 {
					m = 1
				}
				s.keep[i*s.out+j] = v >= 0
				v *= m
			}
			row[j] = v
		}
	}
}

// linGradPreOp masks dY with ReLU's gradient. Inputs: the layer's output
// (for ordering) and dY.
type linGradPreOp struct {
	opBase
	s *linearState
}

func (op linGradPreOp) Arity() int { return 2 }
func (op linGradPreOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op linGradPreOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.yShape(), nil }

func (op linGradPreOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.yShape(), s.yShape())
	if err != nil {
		return nil, err
	}
	d, err := ownedDense(s.dpre, s.yShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		reluMask(s.keep, in[1].Float32s(), d.Float32s())
	case tensor.Float64:
		reluMask(s.keep, in[1].Float64s(), d.Float64s())
	}
	return d, nil
}

// reluMask is Rectify's gradient dy·(x ≥ 0).
func reluMask[T float](keep []bool, dy, d []T) {
	for i, k := range keep {
		var m T
		if k {
			m = 1
		}
		d[i] = dy[i] * m
	}
}

// linGradXOp computes dX = dPre·wᵀ. Inputs: w and dPre.
type linGradXOp struct {
	opBase
	s *linearState
}

func (op linGradXOp) Arity() int { return 2 }
func (op linGradXOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op linGradXOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.xShape(), nil }

func (op linGradXOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.wShape(), s.yShape())
	if err != nil {
		return nil, err
	}
	dx, err := ownedDense(s.dx, s.xShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		linearInputGrad(s, in[0].Float32s(), in[1].Float32s(), dx.Float32s())
	case tensor.Float64:
		linearInputGrad(s, in[0].Float64s(), in[1].Float64s(), dx.Float64s())
	}
	return dx, nil
}

// linearInputGrad is dX = dPre·wᵀ, its rows (images) shared out.
func linearInputGrad[T float](s *linearState, w, dpre, dx []T) {
	s.rows(s.n, s.n*s.in*s.out, func(lo, hi int) {
		gemmNT(hi-lo, s.in, s.out, 1, dpre[lo*s.out:], s.out, 0, w, s.out, 0, dx[lo*s.in:], s.in, false)
	})
}

// linearWeightGrad is dW = xᵀ·dPre, its rows (inputs) shared out.
func linearWeightGrad[T float](s *linearState, x, dpre, dw []T) {
	s.rows(s.in, s.n*s.in*s.out, func(lo, hi int) {
		gemmNN(hi-lo, s.out, s.n, x[lo:], 1, s.in, dpre, s.out, dw[lo*s.out:], s.out, false)
	})
}

// linGradWOp computes dW = xᵀ·dPre. Inputs: x and dPre.
type linGradWOp struct {
	opBase
	s *linearState
}

func (op linGradWOp) Arity() int { return 2 }
func (op linGradWOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op linGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.wShape(), nil }

func (op linGradWOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.xShape(), s.yShape())
	if err != nil {
		return nil, err
	}
	dw, err := ownedDense(s.dw, s.wShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		linearWeightGrad(s, in[0].Float32s(), in[1].Float32s(), dw.Float32s())
	case tensor.Float64:
		linearWeightGrad(s, in[0].Float64s(), in[1].Float64s(), dw.Float64s())
	}
	return dw, nil
}

// linGradBOp computes db: dPre summed over the batch.
type linGradBOp struct {
	opBase
	s *linearState
}

func (op linGradBOp) Arity() int    { return 1 }
func (op linGradBOp) Type() hm.Type { return hm.NewFnType(tensorType(2), tensorType(1)) }
func (op linGradBOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.out}, nil
}

func (op linGradBOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.yShape())
	if err != nil {
		return nil, err
	}
	db, err := ownedDense(s.db, tensor.Shape{s.out})
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		colSums(s.n, s.out, in[0].Float32s(), db.Float32s())
	case tensor.Float64:
		colSums(s.n, s.out, in[0].Float64s(), db.Float64s())
	}
	return db, nil
}

func colSums[T float](n, width int, d, out []T) {
	clear(out)
	for i := 0; i < n; i++ {
		for j, v := range d[i*width : (i+1)*width] {
			out[j] += v
		}
	}
}
