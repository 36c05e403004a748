package model

import (
	"context"
	"errors"
	"flag"
	"math"
	"runtime"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"sweep"
	"sweep/mnist"
)

var (
	dataOnce          sync.Once
	trainSet, testSet *mnist.Set
	dataErr           error
)

// data loads the real MNIST once per test binary.
func data(t testing.TB) (*mnist.Set, *mnist.Set) {
	t.Helper()
	dataOnce.Do(func() {
		var dir string
		if dir, dataErr = mnist.Find(""); dataErr == nil {
			trainSet, testSet, dataErr = mnist.Load(dir)
		}
	})
	if dataErr != nil {
		t.Fatal(dataErr)
	}
	return trainSet, testSet
}

func settings(head sweep.Head) sweep.Settings {
	return sweep.Settings{Head: head, SumHidden: 16, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 8, Epochs: 1, TrainSize: 256, Seed: 7}
}

// forwardBackward runs tr's forward and backward passes on the batch idx
// and returns its loss; the gradients are left in tr.learn's nodes.
func forwardBackward(t testing.TB, tr *Trainer, split Split, idx []int) float64 {
	t.Helper()
	loss, err := tr.forwardBackward(split, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return loss
}

// TestLossMatchesOutputs recomputes each head's loss in plain Go from the
// graph's own outputs on a tiny batch: the graph must wire targets, weights
// and both loss terms as documented.
func TestLossMatchesOutputs(t *testing.T) {
	train, _ := data(t)
	for _, tc := range []struct {
		head   sweep.Head
		dw, sw float64
		hidden int
	}{
		{sweep.HeadRegression, 1, 1, 0},
		{sweep.HeadRegression, 0.5, 3, 16},
		{sweep.HeadClassify, 1, 1, 16},
		{sweep.HeadClassify, 2, 0.25, 0},
	} {
		s := settings(tc.head)
		s.DigitWeight, s.SumWeight, s.SumHidden = tc.dw, tc.sw, tc.hidden
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			tr, err := NewTrainer(Config{Settings: s, Dtype: dt})
			if err != nil {
				t.Fatal(err)
			}
			split := TrainSplit(train, s.Seed)
			idx := []int{3, 1, 4, 1, 5, 9, 2, 6}
			got := forwardBackward(t, tr, split, idx)
			net := tr.shards[0].net // one shard: batch_size 8
			digits := floats(net.digitsRead.Data())
			sums := floats(net.sumsRead.Data())

			var digitNLL, sumLoss float64
			width := len(sums) / len(idx)
			for k, i := range idx {
				row := digits[k*10 : (k+1)*10]
				var p float64
				for _, v := range row {
					p += math.Exp(v)
				}
				if math.Abs(p-1) > 1e-4 {
					t.Errorf("%s %v: digit probabilities of row %d sum to %v", tc.head, dt, k, p)
				}
				digitNLL -= row[split.Labels[i]]
				y := float64(split.Sum(i))
				if tc.head == sweep.HeadClassify {
					sumLoss -= sums[k*width+int(split.Sum(i))]
				} else {
					sumLoss += (sums[k] - y) * (sums[k] - y)
				}
			}
			n := float64(len(idx))
			want := tc.dw*digitNLL/n + tc.sw*sumLoss/n
			if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("%s hidden=%d weights %g/%g %v: loss %v, recomputed %v", tc.head, tc.hidden, tc.dw, tc.sw, dt, got, want)
			}
		}
	}
}

// TestLossFallsOnFixedBatch checks that gradients reach every parameter:
// repeated steps on one batch drive the loss down and move trunk and head.
func TestLossFallsOnFixedBatch(t *testing.T) {
	train, _ := data(t)
	for _, head := range []sweep.Head{sweep.HeadRegression, sweep.HeadClassify} {
		s := settings(head)
		s.BatchSize = 16
		tr, err := NewTrainer(Config{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		split := TrainSplit(train, s.Seed)
		idx := make([]int, s.BatchSize)
		for i := range idx {
			idx[i] = i
		}
		before := tr.Weights()
		first, err := tr.TrainBatch(split, idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := first
		for step := 0; step < 60; step++ {
			if last, err = tr.TrainBatch(split, idx, nil); err != nil {
				t.Fatal(err)
			}
		}
		if !(last < first/4) {
			t.Errorf("%s: loss %v after 60 steps on one batch, started at %v: want < a quarter", head, last, first)
		}
		after := tr.Weights()
		// Every parameter tensor must have moved: check each learnable.
		off := 0
		for _, n := range tr.learn {
			size := n.Shape().TotalSize()
			moved := false
			for i := off; i < off+size; i++ {
				if before[i] != after[i] {
					moved = true
					break
				}
			}
			if !moved {
				t.Errorf("%s: parameter %s did not change: no gradient reaches it", head, n.Name())
			}
			off += size
		}
	}
}

type recorder struct {
	epochs  []sweep.EpochMetrics
	batches int
	cancel  func()
}

func (r *recorder) Batch(epoch, batch, batches int) {
	r.batches++
	if r.cancel != nil && r.batches == 3 {
		r.cancel()
	}
}

func (r *recorder) Epoch(m sweep.EpochMetrics) error {
	r.epochs = append(r.epochs, m)
	return nil
}

// TestDeterministic trains twice with the same settings and seed and
// expects identical metrics and weights; another seed must differ.
func TestDeterministic(t *testing.T) {
	train, test := data(t)
	testSplit := TestSplit(test.Slice(300))
	runOnce := func(seed int64) ([]sweep.EpochMetrics, []float64) {
		s := settings(sweep.HeadClassify)
		s.Seed, s.Epochs = seed, 2
		rec := &recorder{}
		tr, err := NewTrainer(Config{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		_ = tr
		if err := Train(context.Background(), Config{Settings: s}, TrainSplit(train, seed), testSplit, rec); err != nil {
			t.Fatal(err)
		}
		return rec.epochs, nil
	}
	a, _ := runOnce(3)
	b, _ := runOnce(3)
	c, _ := runOnce(4)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("epochs recorded: %d and %d, want 2", len(a), len(b))
	}
	for i := range a {
		if a[i].Train != b[i].Train || !sameMetrics(a[i].Test, b[i].Test) {
			t.Errorf("epoch %d differs between identical runs:\n%+v\n%+v", i+1, a[i], b[i])
		}
	}
	if sameMetrics(a[1].Test, c[1].Test) {
		t.Errorf("seeds 3 and 4 gave identical test metrics %+v", a[1].Test)
	}
}

// sameMetrics compares metrics treating NaN as equal to NaN.
func sameMetrics(x, y sweep.SplitMetrics) bool {
	eq := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	return eq(x.DigitNLL, y.DigitNLL) && eq(x.DigitAccuracy, y.DigitAccuracy) && eq(x.SumMSE, y.SumMSE) &&
		eq(x.SumR2, y.SumR2) && eq(x.SumAccuracy, y.SumAccuracy) && eq(x.SumNLL, y.SumNLL) && x.Samples == y.Samples
}

// TestTrainLearns runs a short real training and expects the model to
// beat chance clearly on held-out data. 188 steps are enough for digits
// (≥ 90%) but only the start of the sum: R² above 0.2 shows the head uses
// its inputs (a constant prediction scores ≤ 0).
func TestTrainLearns(t *testing.T) {
	train, test := data(t)
	s := settings(sweep.HeadClassify)
	s.TrainSize, s.BatchSize, s.Epochs, s.SumHidden, s.LR = 3000, 32, 2, 32, 0.003
	rec := &recorder{}
	if err := Train(context.Background(), Config{Settings: s}, TrainSplit(train, s.Seed), TestSplit(test.Slice(1000)), rec); err != nil {
		t.Fatal(err)
	}
	m := rec.epochs[len(rec.epochs)-1]
	if m.Test.DigitAccuracy < 0.9 {
		t.Errorf("test digit accuracy %.3f after 2 epochs on 3000 images, want ≥ 0.9", m.Test.DigitAccuracy)
	}
	if m.Test.SumR2 < 0.2 {
		t.Errorf("test sum R² %.3f, want ≥ 0.2", m.Test.SumR2)
	}
	if m.Test.Samples != 1000 || m.Train.Samples != 3000/32*32 {
		t.Errorf("samples: test %d train %d", m.Test.Samples, m.Train.Samples)
	}
	if rec.batches != 2*(3000/32) {
		t.Errorf("Batch called %d times, want %d", rec.batches, 2*(3000/32))
	}
}

func TestDivergenceIsReported(t *testing.T) {
	train, test := data(t)
	s := settings(sweep.HeadRegression)
	s.Optimizer, s.LR, s.SumWeight = sweep.OptimizerSGD, 1e4, 100
	err := Train(context.Background(), Config{Settings: s}, TrainSplit(train, s.Seed), TestSplit(test.Slice(100)), nil)
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("Train with lr 1e4: err = %v, want a DivergedError", err)
	}
	if de.Epoch != 1 || de.Batch < 1 || !(math.IsNaN(de.Loss) || math.IsInf(de.Loss, 0)) {
		t.Errorf("DivergedError %+v", de)
	}
}

// TestNaNWeightsFailTheBatchNotTheProcess poisons a weight with NaN, as an
// overflowing step does: the next batch must report a NaN loss. Without
// the tape's NaN watch gorgonia's max-pool gradient panics on NaN input.
func TestNaNWeightsFailTheBatchNotTheProcess(t *testing.T) {
	train, _ := data(t)
	s := settings(sweep.HeadRegression)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		tr, err := NewTrainer(Config{Settings: s, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		switch w := tr.learn[0].Value().Data().(type) {
		case []float32:
			w[0] = float32(math.NaN())
		case []float64:
			w[0] = math.NaN()
		}
		loss, err := tr.TrainBatch(TrainSplit(train, 1), []int{0, 1, 2, 3, 4, 5, 6, 7}, nil)
		if err != nil || !math.IsNaN(loss) {
			t.Errorf("%v: TrainBatch with a NaN weight: loss %v, err %v; want NaN loss and no error", dt, loss, err)
		}
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	train, test := data(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{cancel: cancel}
	s := settings(sweep.HeadClassify)
	err := Train(ctx, Config{Settings: s}, TrainSplit(train, 1), TestSplit(test.Slice(100)), rec)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if rec.batches != 3 || len(rec.epochs) != 0 {
		t.Errorf("ran %d batches and %d epochs after cancel at batch 3", rec.batches, len(rec.epochs))
	}
}

func TestAccumulator(t *testing.T) {
	logp := func(p ...float64) []float64 {
		out := make([]float64, len(p))
		for i, v := range p {
			out[i] = math.Log(v)
		}
		return out
	}
	digit := func(best int) []float64 { // 0.91 on best, 0.01 elsewhere
		p := make([]float64, 10)
		for i := range p {
			p[i] = 0.01
		}
		p[best] = 0.91
		return logp(p...)
	}
	t.Run("regression", func(t *testing.T) {
		a := NewAccumulator(sweep.HeadRegression)
		// sums 2, 4, 6; predictions 2.4 (rounds right), 5.0 (wrong), 6.0 (right)
		a.Add(digit(1), 1, []float64{2.4}, 2)
		a.Add(digit(3), 2, []float64{5.0}, 4) // digit wrong
		a.Add(digit(5), 5, []float64{6.0}, 6)
		m := a.Metrics()
		// SSE = 0.16 + 1 + 0 = 1.16; mean sum 4, SST = 4+0+4 = 8.
		check(t, "mse", m.SumMSE, 1.16/3)
		check(t, "r2", m.SumR2, 1-1.16/8)
		check(t, "sum accuracy", m.SumAccuracy, 2.0/3)
		check(t, "digit accuracy", m.DigitAccuracy, 2.0/3)
		check(t, "digit nll", m.DigitNLL, (-math.Log(0.91)*2-math.Log(0.01))/3)
		// Predictions 2.4, 5, 6: Σp² − (Σp)²/3 = 66.76 − 179.56/3 = 20.72/3.
		check(t, "prediction std", m.SumPredStd, math.Sqrt(20.72/9))
		if !math.IsNaN(m.SumNLL) {
			t.Errorf("regression sum NLL %v, want NaN", m.SumNLL)
		}
	})
	t.Run("classify", func(t *testing.T) {
		a := NewAccumulator(sweep.HeadClassify)
		sumProbs := func(best int) []float64 {
			p := make([]float64, 19)
			for i := range p {
				p[i] = 0.1 / 18
			}
			p[best] = 0.9
			return logp(p...)
		}
		a.Add(digit(0), 0, sumProbs(3), 3)
		a.Add(digit(9), 9, sumProbs(10), 18) // predicts 10 for 18
		m := a.Metrics()
		// SSE = 0 + 64; mean 10.5; SST = 56.25*2 = 112.5
		check(t, "mse", m.SumMSE, 32)
		check(t, "r2", m.SumR2, 1-64/112.5)
		check(t, "sum accuracy", m.SumAccuracy, 0.5)
		check(t, "sum nll", m.SumNLL, (-math.Log(0.9)-math.Log(0.1/18))/2)
		check(t, "prediction std", m.SumPredStd, 3.5) // classes 3 and 10
	})
	t.Run("empty", func(t *testing.T) {
		m := NewAccumulator(sweep.HeadClassify).Metrics()
		if !math.IsNaN(m.SumR2) || !math.IsNaN(m.DigitAccuracy) {
			t.Errorf("empty accumulator: %+v, want NaN metrics", m)
		}
	})
}

func check(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("%s = %.15g, want %.15g", what, got, want)
	}
}

// BenchmarkTrainStep measures training throughput: one optimisation step
// of the classify model (sum_hidden 64) on a batch of 64, float32, Adam,
// with as many threads as -cpu says (or -threads).
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, false) }

// benchThreads is the benchmarks' thread count: -threads, or GOMAXPROCS
// (-cpu) when that is 0.
func benchThreads() int {
	if *threadsFlag > 0 {
		return *threadsFlag
	}
	return runtime.GOMAXPROCS(0)
}

var threadsFlag = flag.Int("threads", 0, "threads of BenchmarkTrainStep and BenchmarkEvaluate (0: GOMAXPROCS, as -cpu sets it)")

// BenchmarkStockTrainStep is BenchmarkTrainStep with gorgonia's stock ops
// in place of the fast ones, for comparison. (Its name keeps it out of
// -bench BenchmarkTrainStep.)
func BenchmarkStockTrainStep(b *testing.B) { benchTrainStep(b, true) }

func benchSettings() sweep.Settings {
	return sweep.Settings{Head: sweep.HeadClassify, SumHidden: 64, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 64, Epochs: 1, Seed: 1}
}

func benchTrainStep(b *testing.B, stock bool) {
	train, _ := data(b)
	s := benchSettings()
	tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float32, stockOps: stock, Threads: benchThreads()})
	if err != nil {
		b.Fatal(err)
	}
	split := TrainSplit(train, s.Seed)
	perm := make([]int, train.Len())
	epochOrder(perm, s.Seed, 1)
	batches := len(perm) / s.BatchSize
	acc := NewAccumulator(s.Head)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % batches
		if _, err := tr.TrainBatch(split, perm[k*s.BatchSize:(k+1)*s.BatchSize], acc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*s.BatchSize)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkEvaluate measures evaluation throughput on the 10,000 test
// images with the default evaluation batch.
func BenchmarkEvaluate(b *testing.B) {
	_, test := data(b)
	tr, err := NewTrainer(Config{Settings: benchSettings(), Dtype: tensor.Float32, Threads: benchThreads()})
	if err != nil {
		b.Fatal(err)
	}
	split := TestSplit(test)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Evaluate(context.Background(), split); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*split.Len())/b.Elapsed().Seconds(), "samples/s")
}
