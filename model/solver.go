package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
)

// newSolver makes the optimiser the settings ask for: Adam or SGD with
// momentum at a fixed rate, with weight decay when set. stockOps uses
// gorgonia's own AdamSolver, for comparison.
func newSolver(s sweep.Settings, stockOps bool, work *workers) G.Solver {
	var solver G.Solver
	switch {
	case s.Optimizer == sweep.OptimizerAdam && stockOps:
		solver = G.NewAdamSolver(G.WithLearnRate(s.LR))
	case s.Optimizer == sweep.OptimizerAdam:
		// gorgonia's Adam, bit for bit, in one pass per tensor.
		a := newAdamSolver(s.LR)
		a.work = work
		solver = a
	case stockOps:
		solver = G.NewMomentum(G.WithLearnRate(s.LR), G.WithMomentum(s.Momentum))
	default:
		// v = μv − η∇; w += v: PyTorch's SGD with momentum at a fixed rate,
		// as gorgonia's Momentum computes it, bit for bit.
		solver = &momentumSolver{eta: s.LR, mu: s.Momentum}
	}
	if s.WeightDecay > 0 {
		solver = &weightDecay{inner: solver, rate: s.WeightDecay, lr: s.LR, decoupled: s.Optimizer == sweep.OptimizerAdam}
	}
	return solver
}

// adamSolver is gorgonia's AdamSolver (no regularisation, no clipping, batch
// 1: what NewAdamSolver(WithLearnRate(lr)) builds) in one pass over each
// tensor, without the eight clones and fifteen passes gorgonia's Step makes
// per parameter. It performs the same operations in the same order with the
// same rounding, so the weights it produces are bit-identical to
// gorgonia's (TestAdamMatchesGorgonia), except that the float32 kernel of
// the default amd64 build flushes subnormal values (below 2⁻¹²⁶) to zero:
// see adamF32.
type adamSolver struct {
	eta, eps, beta1, beta2 float64
	iter                   int
	m, v                   []any    // per parameter: running mean and variance, []float32 or []float64
	work                   *workers // the run's workers (nil: one)
	segs                   []adamSeg
}

func newAdamSolver(lr float64) *adamSolver {
	// gorgonia's defaults.
	return &adamSolver{eta: lr, eps: 1e-8, beta1: 0.9, beta2: 0.999}
}

// Step applies one update to every parameter and zeroes its gradient. The
// run's workers share the elements out (all parameters end to end): each
// element is updated on its own, so who updates it changes no bit.
func (s *adamSolver) Step(model []G.ValueGrad) error {
	if s.m == nil {
		s.m, s.v = make([]any, len(model)), make([]any, len(model))
	}
	if len(model) != len(s.m) {
		return fmt.Errorf("adam: %d parameters, had %d", len(model), len(s.m))
	}
	s.iter++
	c1 := 1 - math.Pow(s.beta1, float64(s.iter))
	c2 := 1 - math.Pow(s.beta2, float64(s.iter))
	s.segs = s.segs[:0]
	total := 0
	for i, n := range model {
		w, g, err := weightGrad("adam", i, n)
		if err != nil {
			return err
		}
		size := w.Shape().TotalSize()
		seg := adamSeg{off: total, n: size}
		switch w.Dtype() {
		case tensor.Float32:
			seg.w, seg.g = w.Float32s(), g.Float32s()
			seg.m, seg.v = scratch[float32](&s.m[i], size), scratch[float32](&s.v[i], size)
		case tensor.Float64:
			seg.w, seg.g = w.Float64s(), g.Float64s()
			seg.m, seg.v = scratch[float64](&s.m[i], size), scratch[float64](&s.v[i], size)
		default:
			return fmt.Errorf("adam: parameter %d has dtype %v", i, w.Dtype())
		}
		s.segs = append(s.segs, seg)
		total += size
	}
	p32 := adamParams[float32]{float32(s.beta1), float32(s.beta2), float32(1) - float32(s.beta1), float32(1) - float32(s.beta2),
		float32(1) / float32(c1), float32(1) / float32(c2), float32(s.eps), -float32(s.eta)}
	p64 := adamParams[float64]{s.beta1, s.beta2, 1 - s.beta1, 1 - s.beta2, 1 / c1, 1 / c2, s.eps, -s.eta}
	s.work.share(total, adamBlock, func(_, lo, hi int) {
		for _, seg := range s.segs {
			a, b := max(lo, seg.off)-seg.off, min(hi, seg.off+seg.n)-seg.off
			if a >= b {
				continue
			}
			switch w := seg.w.(type) {
			case []float32:
				adamUpdate(w[a:b], seg.g.([]float32)[a:b], seg.m.([]float32)[a:b], seg.v.([]float32)[a:b], &p32)
			case []float64:
				adamUpdate(w[a:b], seg.g.([]float64)[a:b], seg.m.([]float64)[a:b], seg.v.([]float64)[a:b], &p64)
			}
		}
	})
	return nil
}

// adamBlock is the smallest share of Adam's elements a worker takes.
const adamBlock = 2048

// adamSeg is one parameter's place in Step's shared range [off, off+n)
// and its slices ([]float32 or []float64).
type adamSeg struct {
	w, g, m, v any
	off, n     int
}

// adamParams are β1, β2, 1−β1, 1−β2, c1, c2, ε, −η in that order (the
// layout adamF32 reads).
type adamParams[T float] [8]T

// adamUpdate mirrors gorgonia's AdamSolver.Step operation by operation:
//
//	m ← g·(1−β1) + m·β1;  v ← (g·g)·(1−β2) + v·β2
//	w ← w + (m·c1)·(−η) / (√(v·c2) + ε);  g ← 0
//
// Each intermediate is rounded to T, as gorgonia's tensor operations round
// them (the explicit conversions forbid fusing a product into an FMA).
// float32 runs 8 lanes at a time where the CPU can (adamF32, the same
// operations), the rest here.
func adamUpdate[T float](w, g, m, v []T, p *adamParams[T]) {
	m, v, g = m[:len(w)], v[:len(w)], g[:len(w)]
	done := adamAsm(w, g, m, v, p)
	beta1, beta2, omb1, omb2, c1, c2, eps, negEta := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
	for i := done; i < len(w); i++ {
		gi := g[i]
		t1 := T(gi*omb1) + T(m[i]*beta1)
		gg := T(T(gi*gi)*omb2) + T(v[i]*beta2)
		m[i], v[i] = t1, gg
		vHat := T(math.Sqrt(float64(T(gg*c2)))) + eps
		w[i] += T(T(t1*c1)*negEta) / vHat
		g[i] = 0
	}
}

// weightDecay adds weight decay to a solver, as PyTorch does it:
//
//   - coupled (SGD's weight_decay, L2 regularisation): g ← g + λ·w before
//     the inner step, the gradient of loss + λ/2·‖w‖²;
//   - decoupled (AdamW): w ← w·(1 − η·λ) before the inner step, which then
//     moves w by the gradient of the loss alone.
//
// Every parameter decays, biases included (PyTorch's default).
type weightDecay struct {
	inner     G.Solver
	rate, lr  float64 // λ and η
	decoupled bool
}

func (d *weightDecay) Step(model []G.ValueGrad) error {
	for i, n := range model {
		w, g, err := weightGrad("weight decay", i, n)
		if err != nil {
			return err
		}
		switch w.Dtype() {
		case tensor.Float32:
			decay(w.Float32s(), g.Float32s(), float32(d.rate), float32(1-d.lr*d.rate), d.decoupled)
		case tensor.Float64:
			decay(w.Float64s(), g.Float64s(), d.rate, 1-d.lr*d.rate, d.decoupled)
		default:
			return fmt.Errorf("weight decay: parameter %d has dtype %v", i, w.Dtype())
		}
	}
	return d.inner.Step(model)
}

// decay applies one step's weight decay: w ← w·keep when decoupled, else
// g ← g + rate·w.
func decay[T float](w, g []T, rate, keep T, decoupled bool) {
	if decoupled {
		for i := range w {
			w[i] *= keep
		}
		return
	}
	g = g[:len(w)]
	for i := range w {
		g[i] += rate * w[i]
	}
}

// momentumSolver is gorgonia's Momentum solver (no regularisation, no
// clipping, batch 1: what NewMomentum(WithLearnRate(lr),
// WithMomentum(mu)) builds) with its velocity in reach, so that a
// checkpoint can save it. Same operations, same order, same rounding:
// bit-identical weights (TestMomentumMatchesGorgonia).
type momentumSolver struct {
	eta, mu float64
	v       []any // per parameter: the velocity, []float32 or []float64
}

func (s *momentumSolver) Step(model []G.ValueGrad) error {
	if s.v == nil {
		s.v = make([]any, len(model))
	}
	if len(model) != len(s.v) {
		return fmt.Errorf("momentum: %d parameters, had %d", len(model), len(s.v))
	}
	for i, n := range model {
		w, g, err := weightGrad("momentum", i, n)
		if err != nil {
			return err
		}
		size := w.Shape().TotalSize()
		switch w.Dtype() {
		case tensor.Float32:
			momentumUpdate(w.Float32s(), g.Float32s(), scratch[float32](&s.v[i], size), float32(s.mu), -float32(s.eta))
		case tensor.Float64:
			momentumUpdate(w.Float64s(), g.Float64s(), scratch[float64](&s.v[i], size), s.mu, -s.eta)
		default:
			return fmt.Errorf("momentum: parameter %d has dtype %v", i, w.Dtype())
		}
	}
	return nil
}

// momentumUpdate mirrors gorgonia's Momentum.Step: g ← g·(−η);
// v ← v·μ; v ← v + g; w ← w + v; g ← 0, each rounded to T.
func momentumUpdate[T float](w, g, v []T, mu, negEta T) {
	g, v = g[:len(w)], v[:len(w)]
	for i := range w {
		v[i] = T(v[i]*mu) + T(g[i]*negEta)
		w[i] += v[i]
		g[i] = 0
	}
}

// weightGrad returns parameter i's value and gradient as dense tensors of
// one dtype and size, or says what is wrong (op names the caller).
func weightGrad(op string, i int, n G.ValueGrad) (w, g *tensor.Dense, err error) {
	gv, err := n.Grad()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: parameter %d has no gradient: %w", op, i, err)
	}
	w, ok1 := n.Value().(*tensor.Dense)
	g, ok2 := gv.(*tensor.Dense)
	if !ok1 || !ok2 || w.Dtype() != g.Dtype() || w.Shape().TotalSize() != g.Shape().TotalSize() {
		return nil, nil, fmt.Errorf("%s: parameter %d: value %T and gradient %T do not match", op, i, n.Value(), gv)
	}
	return w, g, nil
}
