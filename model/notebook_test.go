package model

import (
	"fmt"
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
)

// TestBroadcastMSE checks the notebook's broadcasting MSE on hand-made
// numbers: predictions 1, 2, 4 and targets 3, 5, 10 give the mean of the
// nine squared differences, (4+16+81 + 1+9+64 + 1+1+36)/9 = 213/9, and the
// gradient (2/9)·Σ_j (p_i − t_j) = (2/9)(3p_i − 18): −30/9, −24/9, −12/9.
// The gradient is also checked against central finite differences.
func TestBroadcastMSE(t *testing.T) {
	p := []float64{1, 2, 4}
	target := []float64{3, 5, 10}
	loss := func(p []float64) (float64, []float64) {
		g := G.NewGraph()
		pred := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("p"),
			G.WithValue(tensor.New(tensor.WithBacking(slices.Clone(p)))))
		tgt := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("t"),
			G.WithValue(tensor.New(tensor.WithBacking(slices.Clone(target)))))
		b := &builder{}
		l := b.broadcastMSE(pred, tgt)
		if b.err != nil {
			t.Fatal(b.err)
		}
		if _, err := G.Grad(l, pred); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g, G.BindDualValues(pred))
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		grad, err := pred.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return scalar(l.Value()), slices.Clone(grad.Data().([]float64))
	}
	got, grad := loss(p)
	check(t, "loss", got, 213.0/9)
	for i, want := range []float64{-30.0 / 9, -24.0 / 9, -12.0 / 9} {
		check(t, "gradient", grad[i], want)
		const h = 1e-6
		up, down := slices.Clone(p), slices.Clone(p)
		up[i] += h
		down[i] -= h
		lu, _ := loss(up)
		ld, _ := loss(down)
		if num := (lu - ld) / (2 * h); math.Abs(num-grad[i]) > 1e-6 {
			t.Errorf("d loss / d p[%d] = %v, finite difference %v", i, grad[i], num)
		}
	}
}

// TestShuffledPairing checks the misaligned pairing: each epoch a
// permutation from the seed and the epoch alone; example i keeps its image
// and digit label but gets the addend and the sum of its partner.
func TestShuffledPairing(t *testing.T) {
	train, _ := data(t)
	split := TrainSplit(train, 3)
	split.Partner = make([]int, 1000)
	shuffledPartners(split.Partner, 3, 1)
	sorted := slices.Sorted(slices.Values(split.Partner))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("partners are not a permutation of 0..999")
		}
	}
	moved := 0
	for i, k := range split.Partner {
		if k != i {
			moved++
		}
		if split.Addend(i) != split.Addends[k] || split.Sum(i) != split.Labels[k]+split.Addends[k] {
			t.Fatalf("example %d: addend %d, sum %d; want its partner %d's %d and %d", i, split.Addend(i), split.Sum(i), k, split.Addends[k], split.Labels[k]+split.Addends[k])
		}
	}
	if moved < 990 {
		t.Errorf("only %d of 1000 examples moved", moved)
	}
	again := make([]int, 1000)
	shuffledPartners(again, 3, 1)
	if !slices.Equal(again, split.Partner) {
		t.Error("the same seed and epoch gave another pairing")
	}
	shuffledPartners(again, 3, 2)
	if slices.Equal(again, split.Partner) {
		t.Error("epochs 1 and 2 gave the same pairing")
	}
	aligned := TrainSplit(train, 3)
	for i := range 1000 {
		if aligned.Sum(i) != aligned.Labels[i]+aligned.Addends[i] || aligned.Addend(i) != aligned.Addends[i] {
			t.Fatal("an aligned split is misaligned")
		}
	}
}

// TestNotebookBugsTrain trains the two bugs briefly: both run, are
// deterministic, and change the result against the correct setting.
func TestNotebookBugsTrain(t *testing.T) {
	train, test := data(t)
	base := settings(sweep.HeadRegression)
	base.SumHidden, base.Optimizer, base.LR, base.Momentum, base.BatchSize = 0, sweep.OptimizerSGD, 0.01, 0.5, 16
	run := func(s sweep.Settings) sweep.SplitMetrics {
		var last sweep.SplitMetrics
		rec := &recorder{}
		if err := Train(t.Context(), Config{Settings: s}, TrainSplit(train, s.Seed), TestSplit(test.Slice(500)), rec); err != nil {
			t.Fatal(err)
		}
		last = rec.epochs[len(rec.epochs)-1].Test
		return last
	}
	correct := run(base)
	for _, change := range []func(*sweep.Settings){
		func(s *sweep.Settings) { s.SumLoss = sweep.SumLossBroadcastMSE },
		func(s *sweep.Settings) { s.Pairing = sweep.PairingShuffled },
	} {
		s := base
		change(&s)
		// %v prints NaN (the regression head's sum NLL) alike.
		a, b := fmt.Sprintf("%+v", run(s)), fmt.Sprintf("%+v", run(s))
		if a != b {
			t.Errorf("%+v: two runs differ:\n%s\n%s", s, a, b)
		}
		if a == fmt.Sprintf("%+v", correct) {
			t.Errorf("%+v trains exactly as the correct setting", s)
		}
	}
}
