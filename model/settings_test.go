package model

import (
	"context"
	"math"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"sweep"
	"sweep/mnist"
)

// TestDropoutMask checks the mask a forward pass draws: about p of the
// hidden units zeroed, the others scaled by exactly 1/(1−p), the same
// masks again after reseeding for the same epoch, other masks for another
// epoch; and evaluation graphs have no dropout at all.
func TestDropoutMask(t *testing.T) {
	train, _ := data(t)
	s := settings(sweep.HeadClassify)
	s.Dropout, s.BatchSize = 0.4, 64
	tr, err := NewTrainer(Config{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	if tr.eval.trunk.drop != nil || len(tr.shards) != 2 || tr.shards[0].net.trunk.drop == nil || tr.shards[1].net.trunk.drop == nil {
		t.Fatal("want dropout in the two shards' training graphs only")
	}
	split := TrainSplit(train, s.Seed)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	// The batch's mask: the shards' masks end to end.
	mask := func(epoch int) []float32 {
		tr.startEpoch(epoch)
		forwardBackward(t, tr, split, idx)
		return slices.Concat(tr.shards[0].net.trunk.drop.mask.([]float32), tr.shards[1].net.trunk.drop.mask.([]float32))
	}
	m1 := mask(1)
	if half := len(m1) / 2; slices.Equal(m1[:half], m1[half:]) {
		t.Error("both shards drew the same mask: want a stream per shard")
	}
	zeros := 0
	for _, v := range m1 {
		switch v {
		case 0:
			zeros++
		case float32(1 / (1 - 0.4)):
		default:
			t.Fatalf("mask value %v: want 0 or 1/(1-p)", v)
		}
	}
	// 64 × 50 units: the zeroed fraction is within 0.4 ± 0.03 (about 3.5
	// standard deviations).
	if frac := float64(zeros) / float64(len(m1)); math.Abs(frac-0.4) > 0.03 {
		t.Errorf("%.3f of the units dropped, want about 0.4", frac)
	}
	if !slices.Equal(m1, mask(1)) {
		t.Error("reseeding for the same epoch drew another mask")
	}
	if slices.Equal(m1, mask(2)) {
		t.Error("epochs 1 and 2 drew the same mask")
	}
}

// TestDropoutTrainsDeterministically trains twice with dropout: the same
// weights and metrics, bit for bit; and differently from no dropout.
func TestDropoutTrainsDeterministically(t *testing.T) {
	train, test := data(t)
	run := func(p float64) ([]float64, sweep.SplitMetrics) {
		s := settings(sweep.HeadClassify)
		s.Dropout, s.Epochs = p, 2
		var last sweep.SplitMetrics
		rec := recorderFunc(func(m sweep.EpochMetrics) { last = m.Test })
		tr, err := NewTrainer(Config{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		if err := train2(tr, s, train, test, rec); err != nil {
			t.Fatal(err)
		}
		return tr.Weights(), last
	}
	w1, m1 := run(0.5)
	w2, m2 := run(0.5)
	if !slices.Equal(w1, w2) || m1 != m2 {
		t.Error("two runs with dropout differ")
	}
	w0, _ := run(0)
	if slices.Equal(w0, w1) {
		t.Error("dropout 0.5 trained the same weights as no dropout")
	}
}

// train2 is Train with the trainer given, so the test can read its weights.
func train2(tr *Trainer, s sweep.Settings, train, test *mnist.Set, rec recorderFunc) error {
	perm := make([]int, s.TrainImages())
	trainSplit, testSplit := TrainSplit(train, s.Seed), TestSplit(test)
	for epoch := 1; epoch <= s.Epochs; epoch++ {
		epochOrder(perm, s.Seed, epoch)
		tr.startEpoch(epoch)
		for b := 0; b+s.BatchSize <= len(perm); b += s.BatchSize {
			if _, err := tr.TrainBatch(trainSplit, perm[b:b+s.BatchSize], nil); err != nil {
				return err
			}
		}
		m, err := tr.Evaluate(context.Background(), testSplit)
		if err != nil {
			return err
		}
		rec(sweep.EpochMetrics{Epoch: epoch, Test: m})
	}
	return nil
}

type recorderFunc func(sweep.EpochMetrics)

// TestWeightDecaySGDIsL2 takes one SGD step (no momentum) with weight
// decay λ in float64: for every parameter, (w − w')/η must be the central
// finite difference of loss + λ/2·Σw², the L2-regularised objective.
func TestWeightDecaySGDIsL2(t *testing.T) {
	train, _ := data(t)
	const lr, lambda = 0.05, 0.3
	s := settings(sweep.HeadRegression)
	s.Optimizer, s.LR, s.WeightDecay, s.BatchSize = sweep.OptimizerSGD, lr, lambda, 4
	tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	split := TrainSplit(train, s.Seed)
	idx := []int{10, 20, 30, 40}
	objective := func() float64 {
		l := forwardBackward(t, tr, split, idx)
		for _, n := range tr.learn {
			for _, w := range n.Value().Data().([]float64) {
				l += lambda / 2 * w * w
			}
		}
		return l
	}
	type probe struct {
		param, index int
		num          float64
	}
	var probes []probe
	for i, n := range tr.learn {
		w := n.Value().Data().([]float64)
		for _, j := range probeIndices(len(w)) {
			probes = append(probes, probe{i, j, centralDiff(w, j, objective)})
		}
	}
	// The tape adds up gradients until a solver step zeroes them: clear
	// what the finite-difference runs left before the real step.
	before := make([][]float64, len(tr.learn))
	for i, n := range tr.learn {
		before[i] = slices.Clone(n.Value().Data().([]float64))
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		clear(g.Data().([]float64))
	}
	forwardBackward(t, tr, split, idx)
	grads := make([][]float64, len(tr.learn))
	for i, n := range tr.learn {
		g, _ := n.Grad()
		grads[i] = slices.Clone(g.Data().([]float64))
	}
	if err := tr.solver.Step(tr.valGrads); err != nil {
		t.Fatal(err)
	}
	// Every weight: w' = w − η·(g + λ·w), g the loss's own gradient.
	for i, n := range tr.learn {
		after := n.Value().Data().([]float64)
		for j, w := range before[i] {
			if want := w - lr*(grads[i][j]+lambda*w); math.Abs(after[j]-want) > 1e-15 {
				t.Fatalf("%s[%d] = %.17g after the step, want w − η(g + λw) = %.17g", n.Name(), j, after[j], want)
			}
		}
	}
	for _, p := range probes {
		after := tr.learn[p.param].Value().Data().([]float64)[p.index]
		step := (before[p.param][p.index] - after) / lr
		if math.Abs(step-p.num) > 1e-5*math.Max(1, math.Abs(p.num)) {
			t.Errorf("%s[%d]: step/η = %.8g, finite difference of loss + λ/2‖w‖² = %.8g",
				tr.learn[p.param].Name(), p.index, step, p.num)
		}
	}
}

// TestWeightDecayAdamIsDecoupled takes one Adam step with weight decay λ
// and checks it against AdamW computed by hand: w ← w·(1 − ηλ), then
// Adam's first step on the gradient of the loss alone, which moves every
// weight by −η·g/(|g| + ε′) (m̂ = g and v̂ = g² on the first step).
func TestWeightDecayAdamIsDecoupled(t *testing.T) {
	train, _ := data(t)
	const lr, lambda = 0.01, 0.5
	s := settings(sweep.HeadClassify)
	s.LR, s.WeightDecay, s.BatchSize = lr, lambda, 4
	tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	split := TrainSplit(train, s.Seed)
	idx := []int{3, 5, 7, 9}
	forwardBackward(t, tr, split, idx)
	before := make([][]float64, len(tr.learn))
	grads := make([][]float64, len(tr.learn))
	for i, n := range tr.learn {
		before[i] = slices.Clone(n.Value().Data().([]float64))
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[i] = slices.Clone(g.Data().([]float64))
	}
	if err := tr.solver.Step(tr.valGrads); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, n := range tr.learn {
		after := n.Value().Data().([]float64)
		for j, w := range before[i] {
			g := grads[i][j]
			want := w * (1 - lr*lambda)
			if g != 0 {
				want -= lr * g / (math.Sqrt(g*g) + 1e-8)
			}
			if math.Abs(after[j]-want) > 1e-12 {
				t.Fatalf("%s[%d]: %.15g after the step, want %.15g (w %.15g, g %.3g)", n.Name(), j, after[j], want, w, g)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Errorf("checked %d weights", checked)
	}
}

// TestTrunkWidths builds the trunk at other widths: the parameter shapes
// follow the settings, and the defaults are the classic net's 21,840
// trunk parameters.
func TestTrunkWidths(t *testing.T) {
	count := func(s sweep.Settings) int {
		n := 0
		for _, p := range trunkParams(s.Resolved()) {
			n += p.shape.TotalSize()
		}
		return n
	}
	if got := count(settings(sweep.HeadClassify)); got != 21840 {
		t.Errorf("default trunk has %d parameters, want 21840", got)
	}
	s := settings(sweep.HeadClassify)
	s.Conv1Channels, s.Conv2Channels, s.FCHidden = 16, 32, 128
	// conv1 16·25+16, conv2 32·16·25+32, fc1 512·128+128, fc2 128·10+10.
	if got, want := count(s), 416+12832+65664+1290; got != want {
		t.Errorf("16/32/128 trunk has %d parameters, want %d", got, want)
	}
	tr, err := NewTrainer(Config{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	train, _ := data(t)
	if _, err := tr.TrainBatch(TrainSplit(train, 1), []int{0, 1, 2, 3, 4, 5, 6, 7}, nil); err != nil {
		t.Fatal(err)
	}
}
