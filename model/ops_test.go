package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chewxy/math32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
)

// opRun is one evaluation of a small graph: the op's output and the
// gradients of loss = Σ output ⊙ r with respect to the chosen inputs.
type opRun struct {
	out   []float64
	grads [][]float64
}

// runGraph binds inputs (and the weights r of the loss) into a new graph,
// builds the op under test with build and returns its output and the
// gradients of Σ out ⊙ r with respect to the inputs whose wrt flag is set.
func runGraph(t *testing.T, dt tensor.Dtype, inputs []*tensor.Dense, wrt []bool, r *tensor.Dense,
	build func(in []*G.Node) (*G.Node, error)) opRun {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	var learn G.Nodes
	for i, v := range inputs {
		c := v.Clone().(*tensor.Dense)
		nodes[i] = G.NewTensor(g, dt, c.Dims(), G.WithShape(c.Shape()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(c))
		if wrt[i] {
			learn = append(learn, nodes[i])
		}
	}
	out, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	rn := G.NewTensor(g, dt, r.Dims(), G.WithShape(r.Shape()...), G.WithName("r"), G.WithValue(r.Clone()))
	var outCopy G.Value = newDense(dt, out.Shape()...)
	G.Read(out, &outCopy)
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	var vm G.VM
	if len(learn) > 0 {
		if _, err := G.Grad(loss, learn...); err != nil {
			t.Fatal(err)
		}
		vm = G.NewTapeMachine(g, G.BindDualValues(learn...))
	} else {
		vm = G.NewTapeMachine(g)
	}
	defer vm.Close()
	// Twice: the second run reuses every buffer the first one allocated.
	for run := 0; run < 2; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			vm.Reset()
			for _, n := range learn {
				zeroGrad(t, n)
			}
		}
	}
	res := opRun{out: floats(outCopy.Data())}
	for _, n := range learn {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		res.grads = append(res.grads, floats(gv.Data()))
	}
	return res
}

func zeroGrad(t *testing.T, n *G.Node) {
	t.Helper()
	gv, err := n.Grad()
	if err != nil {
		t.Fatal(err)
	}
	switch d := gv.Data().(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	}
}

// relClose reports whether got matches want to tol relative to want's
// largest magnitude (float32 sums in another order differ by rounding, so a
// near-zero element is judged against the tensor's scale).
func relClose(got, want []float64, tol float64) (bool, string) {
	if len(got) != len(want) {
		return false, fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(scale, 1e-30)) {
			return false, fmt.Sprintf("[%d] = %.9g, want %.9g (scale %.3g)", i, got[i], want[i], scale)
		}
	}
	return true, ""
}

func randDense(rng *rand.Rand, dt tensor.Dtype, quantum float64, shape ...int) *tensor.Dense {
	d := newDense(dt, shape...)
	for i := 0; i < d.Shape().TotalSize(); i++ {
		v := 2*rng.Float64() - 1
		if quantum > 0 {
			v = math.Round(v/quantum) * quantum // ties and exact zeros
		}
		switch x := d.Data().(type) {
		case []float32:
			x[i] = float32(v)
		case []float64:
			x[i] = v
		}
	}
	return d
}

func stockConv(x, w, b *G.Node) (*G.Node, error) {
	k := w.Shape()
	c, err := G.Conv2d(x, w, tensor.Shape{k[2], k[3]}, []int{0, 0}, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(c, b, nil, []byte{0, 2, 3})
}

func stockPoolReLU(x *G.Node) (*G.Node, error) {
	p, err := G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
	if err != nil {
		return nil, err
	}
	return G.Rectify(p)
}

func tolFor(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-5
	}
	return 1e-12
}

func compareRuns(t *testing.T, what string, dt tensor.Dtype, got, want opRun, names ...string) {
	t.Helper()
	if ok, msg := relClose(got.out, want.out, tolFor(dt)); !ok {
		t.Errorf("%s %v output: %s", what, dt, msg)
	}
	for i := range want.grads {
		if ok, msg := relClose(got.grads[i], want.grads[i], tolFor(dt)); !ok {
			t.Errorf("%s %v d/d%s: %s", what, dt, names[i], msg)
		}
	}
}

// TestConvMatchesStock compares the fast convolution (+ bias) with
// gorgonia's Conv2d + BroadcastAdd: output and gradients for the images,
// filters and bias, in both dtypes, on the trunk's two shapes and an odd one.
func TestConvMatchesStock(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][6]int{{5, 1, 28, 28, 10, 5}, {4, 10, 12, 12, 20, 5}, {3, 3, 9, 7, 5, 3}} {
		n, c, h, w, f, k := sh[0], sh[1], sh[2], sh[3], sh[4], sh[5]
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			in := []*tensor.Dense{randDense(rng, dt, 0, n, c, h, w), randDense(rng, dt, 0, f, c, k, k), randDense(rng, dt, 0, f)}
			r := randDense(rng, dt, 0, n, f, h-k+1, w-k+1)
			for _, inputGrad := range []bool{true, false} {
				wrt := []bool{inputGrad, true, true}
				fast := runGraph(t, dt, in, wrt, r, func(x []*G.Node) (*G.Node, error) { return conv2d(x[0], x[1], x[2], inputGrad, nil) })
				stock := runGraph(t, dt, in, wrt, r, func(x []*G.Node) (*G.Node, error) { return stockConv(x[0], x[1], x[2]) })
				names := []string{"w", "b"}
				if inputGrad {
					names = []string{"x", "w", "b"}
				}
				compareRuns(t, fmt.Sprintf("conv %v inputGrad=%v", sh, inputGrad), dt, fast, stock, names...)
			}
		}
	}
}

// TestLinearMatchesStock compares the fast fully connected layer with
// G.Mul + G.BroadcastAdd (+ G.Rectify): output and all three gradients.
func TestLinearMatchesStock(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range [][3]int{{64, 320, 50}, {64, 50, 10}, {64, 20, 64}, {64, 64, 19}, {5, 3, 7}} {
		n, in, out := sh[0], sh[1], sh[2]
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			for _, relu := range []bool{false, true} {
				// Quantised inputs give exact zeros before the ReLU too.
				inputs := []*tensor.Dense{randDense(rng, dt, 0.125, n, in), randDense(rng, dt, 0.125, in, out), randDense(rng, dt, 0.125, out)}
				r := randDense(rng, dt, 0, n, out)
				wrt := []bool{true, true, true}
				fast := runGraph(t, dt, inputs, wrt, r, func(x []*G.Node) (*G.Node, error) { return linear(x[0], x[1], x[2], relu, nil) })
				stock := runGraph(t, dt, inputs, wrt, r, func(x []*G.Node) (*G.Node, error) {
					xw, err := G.Mul(x[0], x[1])
					if err != nil {
						return nil, err
					}
					y, err := G.BroadcastAdd(xw, x[2], nil, []byte{0})
					if err != nil || !relu {
						return y, err
					}
					return G.Rectify(y)
				})
				compareRuns(t, fmt.Sprintf("linear %v relu=%v", sh, relu), dt, fast, stock, "x", "w", "b")
			}
		}
	}
}

// TestPoolReLUMatchesStock compares the fused max-pool + ReLU with
// gorgonia's MaxPool2D + Rectify, on inputs with many ties and exact zeros.
func TestPoolReLUMatchesStock(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][]int{{4, 10, 24, 24}, {3, 20, 8, 8}, {2, 3, 7, 9}} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			for _, quantum := range []float64{0, 0.25} {
				in := []*tensor.Dense{randDense(rng, dt, quantum, shape...)}
				r := randDense(rng, dt, 0, shape[0], shape[1], shape[2]/2, shape[3]/2)
				fast := runGraph(t, dt, in, []bool{true}, r, func(x []*G.Node) (*G.Node, error) { return maxPoolReLU(x[0], 2, nil) })
				stock := runGraph(t, dt, in, []bool{true}, r, func(x []*G.Node) (*G.Node, error) { return stockPoolReLU(x[0]) })
				// Both pick the same winners, so the results are identical.
				if ok, msg := relClose(fast.out, stock.out, 0); !ok {
					t.Errorf("pool %v %v quantum %v output: %s", shape, dt, quantum, msg)
				}
				if ok, msg := relClose(fast.grads[0], stock.grads[0], 0); !ok {
					t.Errorf("pool %v %v quantum %v gradient: %s", shape, dt, quantum, msg)
				}
			}
		}
	}
}

// TestOpsFiniteDifferences checks the fast ops' gradients against central
// differences in float64, entry by entry for small shapes.
func TestOpsFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dt := tensor.Float64
	type tc struct {
		name   string
		inputs []*tensor.Dense
		r      *tensor.Dense
		build  func(x []*G.Node) (*G.Node, error)
	}
	cases := []tc{
		{"conv", []*tensor.Dense{randDense(rng, dt, 0, 2, 3, 7, 6), randDense(rng, dt, 0, 4, 3, 3, 2), randDense(rng, dt, 0, 4)},
			randDense(rng, dt, 0, 2, 4, 5, 5),
			func(x []*G.Node) (*G.Node, error) { return conv2d(x[0], x[1], x[2], true, nil) }},
		{"linear", []*tensor.Dense{randDense(rng, dt, 0, 3, 5), randDense(rng, dt, 0, 5, 4), randDense(rng, dt, 0, 4)},
			randDense(rng, dt, 0, 3, 4),
			func(x []*G.Node) (*G.Node, error) { return linear(x[0], x[1], x[2], false, nil) }},
		{"linear+relu", []*tensor.Dense{randDense(rng, dt, 0, 3, 5), randDense(rng, dt, 0, 5, 4), randDense(rng, dt, 0, 4)},
			randDense(rng, dt, 0, 3, 4),
			func(x []*G.Node) (*G.Node, error) { return linear(x[0], x[1], x[2], true, nil) }},
		{"pool", []*tensor.Dense{randDense(rng, dt, 0, 2, 3, 6, 5)}, randDense(rng, dt, 0, 2, 3, 3, 2),
			func(x []*G.Node) (*G.Node, error) { return maxPoolReLU(x[0], 2, nil) }},
		{"conv+pool", []*tensor.Dense{randDense(rng, dt, 0, 2, 2, 8, 8), randDense(rng, dt, 0, 3, 2, 3, 3), randDense(rng, dt, 0, 3)},
			randDense(rng, dt, 0, 2, 3, 3, 3),
			func(x []*G.Node) (*G.Node, error) {
				c, err := conv2d(x[0], x[1], x[2], true, nil)
				if err != nil {
					return nil, err
				}
				return maxPoolReLU(c, 2, nil)
			}},
	}
	for _, c := range cases {
		wrt := make([]bool, len(c.inputs))
		for i := range wrt {
			wrt[i] = true
		}
		analytic := runGraph(t, dt, c.inputs, wrt, c.r, c.build)
		rs := c.r.Float64s()
		lossAt := func() float64 {
			out := runGraph(t, dt, c.inputs, make([]bool, len(c.inputs)), c.r, c.build).out
			s := 0.0
			for i, v := range out {
				s += v * rs[i]
			}
			return s
		}
		for i, in := range c.inputs {
			v := in.Float64s()
			for j := range v {
				const h = 1e-6
				orig := v[j]
				v[j] = orig + h
				up := lossAt()
				v[j] = orig - h
				down := lossAt()
				v[j] = orig
				num := (up - down) / (2 * h)
				if got := analytic.grads[i][j]; math.Abs(got-num) > 1e-6*math.Max(1, math.Abs(num)) {
					t.Errorf("%s: d loss/d input%d[%d] = %.9g, finite difference %.9g", c.name, i, j, got, num)
				}
			}
		}
	}
}

// TestNetworkMatchesStock evaluates 300 test images and runs one training
// batch of real images through the model built with the fast ops and with
// gorgonia's stock ops, from the same weights: evaluation metrics,
// outputs, loss and every parameter's gradient must agree.
func TestNetworkMatchesStock(t *testing.T) {
	train, test := data(t)
	evalSplit := TestSplit(test.Slice(300))
	s := settings(sweep.HeadClassify)
	s.BatchSize = 32
	idx := make([]int, s.BatchSize)
	for i := range idx {
		idx[i] = 100 + 7*i
	}
	split := TrainSplit(train, s.Seed)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		var runs [2]opRun
		var losses [2]float64
		var evals [2]sweep.SplitMetrics
		for k, stock := range []bool{false, true} {
			tr, err := NewTrainer(Config{Settings: s, Dtype: dt, stockOps: stock})
			if err != nil {
				t.Fatal(err)
			}
			// The evaluation graph (no gradient ops) first, then a step.
			if evals[k], err = tr.Evaluate(context.Background(), evalSplit); err != nil {
				t.Fatal(err)
			}
			losses[k] = forwardBackward(t, tr, split, idx)
			net := tr.shards[0].net // one shard: batch_size 32
			runs[k].out = append(floats(net.digitsRead.Data()), floats(net.sumsRead.Data())...)
			for _, n := range tr.learn {
				gv, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				runs[k].grads = append(runs[k].grads, floats(gv.Data()))
			}
		}
		if math.Abs(losses[0]-losses[1]) > tolFor(dt)*math.Abs(losses[1]) {
			t.Errorf("%v: loss %v, stock %v", dt, losses[0], losses[1])
		}
		e, w := evals[0], evals[1]
		if math.Abs(e.DigitNLL-w.DigitNLL) > tolFor(dt)*w.DigitNLL || math.Abs(e.SumNLL-w.SumNLL) > tolFor(dt)*w.SumNLL ||
			e.DigitAccuracy != w.DigitAccuracy || e.SumAccuracy != w.SumAccuracy || e.Samples != w.Samples {
			t.Errorf("%v: evaluation %+v, stock %+v", dt, e, w)
		}
		var names []string
		for _, p := range append(trunkParams(s.Resolved()), sumHeadParams(s.Head, s.SumHidden)...) {
			names = append(names, p.name)
		}
		compareRuns(t, "network", dt, runs[0], runs[1], names...)
	}
}

// TestAdamMatchesGorgonia trains two identical trainers for a few steps,
// one with gorgonia's AdamSolver and one with the model's own: the weights
// must stay bit-identical.
func TestAdamMatchesGorgonia(t *testing.T) {
	train, _ := data(t)
	s := settings(sweep.HeadClassify)
	s.LR = 0.003
	split := TrainSplit(train, s.Seed)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		own, err := NewTrainer(Config{Settings: s, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := own.solver.(*adamSolver); !ok {
			t.Fatalf("solver %T, want *adamSolver", own.solver)
		}
		stock, err := NewTrainer(Config{Settings: s, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		stock.solver = G.NewAdamSolver(G.WithLearnRate(s.LR))
		for step := 0; step < 6; step++ {
			idx := []int{8 * step, 8*step + 1, 8*step + 2, 8*step + 3, 8*step + 4, 8*step + 5, 8*step + 6, 8*step + 7}
			for _, tr := range []*Trainer{own, stock} {
				if _, err := tr.TrainBatch(split, idx, nil); err != nil {
					t.Fatal(err)
				}
			}
			a, b := own.Weights(), stock.Weights()
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%v step %d: weight %d = %v, with gorgonia's Adam %v", dt, step, j, a[j], b[j])
				}
			}
		}
	}
}

// TestMomentumMatchesGorgonia: the model's SGD with momentum against
// gorgonia's Momentum, a few steps, bit for bit.
func TestMomentumMatchesGorgonia(t *testing.T) {
	train, _ := data(t)
	s := settings(sweep.HeadRegression)
	s.Optimizer, s.LR, s.Momentum = sweep.OptimizerSGD, 0.01, 0.5
	split := TrainSplit(train, s.Seed)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		own, err := NewTrainer(Config{Settings: s, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := own.solver.(*momentumSolver); !ok {
			t.Fatalf("solver %T, want *momentumSolver", own.solver)
		}
		stock, err := NewTrainer(Config{Settings: s, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		stock.solver = G.NewMomentum(G.WithLearnRate(s.LR), G.WithMomentum(s.Momentum))
		for step := 0; step < 6; step++ {
			idx := []int{8 * step, 8*step + 1, 8*step + 2, 8*step + 3, 8*step + 4, 8*step + 5, 8*step + 6, 8*step + 7}
			for _, tr := range []*Trainer{own, stock} {
				if _, err := tr.TrainBatch(split, idx, nil); err != nil {
					t.Fatal(err)
				}
			}
			a, b := own.Weights(), stock.Weights()
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%v step %d: weight %d = %v, with gorgonia's Momentum %v", dt, step, j, a[j], b[j])
				}
			}
		}
	}
}

// TestPoolPropagatesNaN: a NaN anywhere in a pooling window makes that
// output NaN, so a diverged run's loss is NaN (gorgonia's max-pool skips
// it). 8×8 planes take the AVX kernel where there is one, 4×4 the Go loop.
func TestPoolPropagatesNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, side := range []int{4, 8} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			x := randDense(rng, dt, 0, 1, 1, side, side)
			at := side + 1 // row 1, column 1: the first window
			switch d := x.Data().(type) {
			case []float32:
				d[at] = float32(math.NaN())
			case []float64:
				d[at] = math.NaN()
			}
			out := runGraph(t, dt, []*tensor.Dense{x}, []bool{false}, randDense(rng, dt, 0, 1, 1, side/2, side/2),
				func(x []*G.Node) (*G.Node, error) { return maxPoolReLU(x[0], 2, nil) }).out
			for i, v := range out {
				if math.IsNaN(v) != (i == 0) {
					t.Errorf("%v %d×%d: pooled %v, want NaN in the first window only", dt, side, side, out)
					break
				}
			}
		}
	}
}

// TestLogSoftmaxRows checks the log-softmax kernels on hand-computed rows:
// log-softmax of (0, 1, 2) is (0, 1, 2) − log(1 + e + e²), and each row is
// shifted by its own maximum, so a row of logits near 1000 (whose exp
// overflows) gives the same values and is unaffected by the batch's other
// rows. The gradient of y_0 alone (dy = (1, 0, 0)) is (1 − p_0, −p_1, −p_2).
func TestLogSoftmaxRows(t *testing.T) {
	lse := math.Log(1 + math.E + math.E*math.E)
	want := []float64{-lse, 1 - lse, 2 - lse}
	x := []float64{1000, 1001, 1002, 0, 1, 2, -1000, -999, -998}
	y := make([]float64, len(x))
	logSoftmaxRows(y, x, 3, math.Exp, math.Log)
	for r := 0; r < 3; r++ {
		for j := range 3 {
			if got := y[3*r+j]; math.Abs(got-want[j]) > 1e-15 {
				t.Errorf("row %d: y[%d] = %.17g, want %.17g", r, j, got, want[j])
			}
		}
	}
	dy := []float64{1, 0, 0, 1, 0, 0, 1, 0, 0}
	dx := make([]float64, len(x))
	logSoftmaxGradRows(dx, y, dy, 3, math.Exp)
	for r := 0; r < 3; r++ {
		for j := range 3 {
			w := -math.Exp(want[j])
			if j == 0 {
				w += 1
			}
			if got := dx[3*r+j]; math.Abs(got-w) > 1e-15 {
				t.Errorf("row %d: dx[%d] = %.17g, want %.17g", r, j, got, w)
			}
		}
	}
	// float32 through math32, as the op runs it.
	x32 := []float32{1000, 1001, 1002}
	y32 := make([]float32, 3)
	logSoftmaxRows(y32, x32, 3, math32.Exp, math32.Log)
	for j, v := range y32 {
		if math.Abs(float64(v)-want[j]) > 1e-6 {
			t.Errorf("float32: y[%d] = %v, want %v", j, v, want[j])
		}
	}
}
