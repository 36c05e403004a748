package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Inverted dropout as one op, for training graphs only: each forward pass
// draws a fresh mask that keeps a unit with probability 1−p and scales the
// kept ones by 1/(1−p), so evaluation (which has no dropout op) needs no
// rescaling; the gradient multiplies dY by the same mask. gorgonia's own
// Dropout is not used: its gradient is wrong for p ≠ 0.5.
//
// The mask comes from a PCG generator that the trainer reseeds from the
// run's seed, the epoch number and the shard at the start of every epoch
// (dropoutState.reseed), so an epoch's masks depend only on the seed, the
// epoch, the shard and the shard's batches before it in that epoch.

type dropoutState struct {
	n, units int
	dt       tensor.Dtype
	p        float64
	rng      *rand.Rand
	mask     any // []float32 or []float64: 0 or 1/(1−p) per element

	y, dx *tensor.Dense
}

func (s *dropoutState) shape() tensor.Shape { return tensor.Shape{s.n, s.units} }

// dropoutStream separates the dropout generator's stream from the other
// generators seeded by the run's seed.
const dropoutStream = 0xd70b0007 << 32

// reseed restarts the mask generator for an epoch and a shard of the
// step (Trainer): each shard draws its masks from a stream of its own.
func (s *dropoutState) reseed(seed int64, epoch, shard int) {
	s.rng = rand.New(rand.NewPCG(uint64(seed), dropoutStream|uint64(shard)<<24|uint64(epoch)))
}

// dropout applies inverted dropout with probability p to x [n, units].
func dropout(x *G.Node, p float64) (*G.Node, *dropoutState, error) {
	xs := x.Shape()
	if len(xs) != 2 {
		return nil, nil, fmt.Errorf("model: dropout of shape %v: want [n, units]", xs)
	}
	if !(p > 0 && p < 1) {
		return nil, nil, fmt.Errorf("model: dropout %v: want 0 < p < 1", p)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, nil, err
	}
	s := &dropoutState{n: xs[0], units: xs[1], dt: dt, p: p}
	s.reseed(0, 0, 0)
	s.y = newDense(dt, s.shape()...)
	y, err := G.ApplyOp(dropoutOp{opBase{"Dropout", s}, s}, x)
	return y, s, err
}

type dropoutOp struct {
	opBase
	s *dropoutState
}

func (op dropoutOp) Arity() int                                     { return 1 }
func (op dropoutOp) Type() hm.Type                                  { return hm.NewFnType(tensorType(2), tensorType(2)) }
func (op dropoutOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.shape(), nil }
func (op dropoutOp) DiffWRT(int) []bool                             { return []bool{true} }

func (op dropoutOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.s.dx = newDense(op.s.dt, op.s.shape()...)
	dx, err := G.ApplyOp(dropoutGradOp{opBase{"DropoutGrad", op.s}, op.s}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op dropoutOp) Do(vals ...G.Value) (G.Value, error) {
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
		dropoutForward(s, scratch[float32](&s.mask, s.n*s.units), in[0].Float32s(), y.Float32s())
	case tensor.Float64:
		dropoutForward(s, scratch[float64](&s.mask, s.n*s.units), in[0].Float64s(), y.Float64s())
	}
	return y, nil
}

// dropoutForward draws the mask (one uniform draw per element, in order)
// and applies it.
func dropoutForward[T float](s *dropoutState, mask, x, y []T) {
	scale := T(1 / (1 - s.p))
	for i := range mask {
		var m T
		if s.rng.Float64() >= s.p {
			m = scale
		}
		mask[i] = m
		y[i] = x[i] * m
	}
}

// dropoutGradOp computes dX = dY·mask. Inputs: the op's output (for
// ordering) and dY.
type dropoutGradOp struct {
	opBase
	s *dropoutState
}

func (op dropoutGradOp) Arity() int { return 2 }
func (op dropoutGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op dropoutGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.shape(), nil }

func (op dropoutGradOp) Do(vals ...G.Value) (G.Value, error) {
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
		mulInto(dx.Float32s(), in[1].Float32s(), scratch[float32](&s.mask, s.n*s.units))
	case tensor.Float64:
		mulInto(dx.Float64s(), in[1].Float64s(), scratch[float64](&s.mask, s.n*s.units))
	}
	return dx, nil
}

// mulInto sets dst[i] = a[i]·b[i].
func mulInto[T float](dst, a, b []T) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}
