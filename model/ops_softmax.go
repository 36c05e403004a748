package model

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"github.com/chewxy/math32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Log-softmax over the last axis of [n, k] as one op, for both heads.
// gorgonia's LogSoftMax starts a goroutine per row, forward and backward
// (four ops of a step, 64 goroutines each at batch 64): on one core that
// is scheduling work, and with more cores the rows wander to other
// threads, which slowed a one-thread run when Go could use two cores. It
// also shifts every row by the larger of the row's maximum and the
// batch's very first logit rather than by the row's own maximum, so a
// row's output depends on another example. This op shifts each row by its
// own maximum, in the calling goroutine:
//
//	y_j = (x_j − m) − log Σ_i exp(x_i − m),   m = max_i x_i
//	dx_j = dy_j − exp(y_j) · Σ_i dy_i
//
// summing in row order, with math32's Exp and Log for float32 as
// gorgonia's does.

type softmaxState struct {
	n, k  int
	dt    tensor.Dtype
	y, dx *tensor.Dense
}

func (s *softmaxState) shape() tensor.Shape { return tensor.Shape{s.n, s.k} }

// logSoftmax applies log-softmax to each row of x [n, k].
func logSoftmax(x *G.Node) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 2 {
		return nil, fmt.Errorf("model: log-softmax of shape %v: want [n, k]", xs)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	s := &softmaxState{n: xs[0], k: xs[1], dt: dt}
	s.y = newDense(dt, s.shape()...)
	return G.ApplyOp(softmaxOp{opBase{"LogSoftmax", s}, s}, x)
}

type softmaxOp struct {
	opBase
	s *softmaxState
}

func (op softmaxOp) Arity() int                                     { return 1 }
func (op softmaxOp) Type() hm.Type                                  { return hm.NewFnType(tensorType(2), tensorType(2)) }
func (op softmaxOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.shape(), nil }
func (op softmaxOp) DiffWRT(int) []bool                             { return []bool{true} }

func (op softmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.s.dx = newDense(op.s.dt, op.s.shape()...)
	dx, err := G.ApplyOp(softmaxGradOp{opBase{"LogSoftmaxGrad", op.s}, op.s}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op softmaxOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.shape())
	if err != nil {
		return nil, err
	}
	y, err := ownedDense(s.y, s.shape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		logSoftmaxRows(y.Float32s(), in[0].Float32s(), s.k, math32.Exp, math32.Log)
	case tensor.Float64:
		logSoftmaxRows(y.Float64s(), in[0].Float64s(), s.k, math.Exp, math.Log)
	}
	return y, nil
}

func logSoftmaxRows[T float](y, x []T, k int, exp, log func(T) T) {
	for r := 0; r+k <= len(x); r += k {
		row, out := x[r:r+k], y[r:r+k]
		m := row[0]
		for _, v := range row[1:] {
			if v > m {
				m = v
			}
		}
		var sum T
		for j, v := range row {
			z := v - m
			out[j] = z
			sum += exp(z)
		}
		l := log(sum)
		for j := range out {
			out[j] -= l
		}
	}
}

// softmaxGradOp computes dX from the op's output Y and dY.
type softmaxGradOp struct {
	opBase
	s *softmaxState
}

func (op softmaxGradOp) Arity() int { return 2 }
func (op softmaxGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op softmaxGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.shape(), nil }

func (op softmaxGradOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs(op.name, s.dt, vals, s.shape(), s.shape())
	if err != nil {
		return nil, err
	}
	dx, err := ownedDense(s.dx, s.shape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		logSoftmaxGradRows(dx.Float32s(), in[0].Float32s(), in[1].Float32s(), s.k, math32.Exp)
	case tensor.Float64:
		logSoftmaxGradRows(dx.Float64s(), in[0].Float64s(), in[1].Float64s(), s.k, math.Exp)
	}
	return dx, nil
}

func logSoftmaxGradRows[T float](dx, y, dy []T, k int, exp func(T) T) {
	for r := 0; r+k <= len(y); r += k {
		var sum T
		for _, g := range dy[r : r+k] {
			sum += g
		}
		for j := r; j < r+k; j++ {
			dx[j] = dy[j] - exp(y[j])*sum
		}
	}
}
