package model

import (
	"context"
	"math"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"sweep"
)

// TestThreads trains the same short run with 1, 2 and 3 threads: every
// batch's loss, every epoch's train and test metrics and the final weights
// must be bit-identical.
func TestThreads(t *testing.T) {
	train, test := data(t)
	testSplit := TestSplit(test.Slice(300))
	for _, tc := range []struct {
		name string
		dt   tensor.Dtype
		head sweep.Head
		opt  sweep.Optimizer
	}{
		{"classify-adam-float32", tensor.Float32, sweep.HeadClassify, sweep.OptimizerAdam},
		{"regression-sgd-float32", tensor.Float32, sweep.HeadRegression, sweep.OptimizerSGD},
		{"classify-adam-float64", tensor.Float64, sweep.HeadClassify, sweep.OptimizerAdam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settings(tc.head)
			s.Optimizer, s.BatchSize, s.TrainSize, s.Epochs, s.Seed = tc.opt, 30, 300, 2, 11
			if tc.opt == sweep.OptimizerSGD {
				s.LR, s.Momentum = 0.01, 0.5
			}
			if tc.dt == tensor.Float64 {
				s.Epochs = 1
			}
			type result struct {
				losses  []float64
				epochs  []sweep.EpochMetrics
				weights []float64
			}
			runWith := func(threads int) result {
				tr, err := NewTrainer(Config{Settings: s, Dtype: tc.dt, Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				defer tr.work.close()
				var r result
				split := TrainSplit(train, s.Seed)
				perm := make([]int, s.TrainImages())
				for epoch := 1; epoch <= s.Epochs; epoch++ {
					epochOrder(perm, s.Seed, epoch)
					acc := NewAccumulator(s.Head)
					for b := 0; b+s.BatchSize <= len(perm); b += s.BatchSize {
						loss, err := tr.TrainBatch(split, perm[b:b+s.BatchSize], acc)
						if err != nil {
							t.Fatal(err)
						}
						r.losses = append(r.losses, loss)
					}
					m, err := tr.Evaluate(context.Background(), testSplit)
					if err != nil {
						t.Fatal(err)
					}
					r.epochs = append(r.epochs, sweep.EpochMetrics{Epoch: epoch, Train: acc.Metrics(), Test: m})
				}
				r.weights = tr.Weights()
				return r
			}
			one := runWith(1)
			for _, threads := range []int{2, 3} {
				got := runWith(threads)
				for i := range one.losses {
					if math.Float64bits(got.losses[i]) != math.Float64bits(one.losses[i]) {
						t.Fatalf("%d threads: batch %d loss %v, 1 thread %v", threads, i+1, got.losses[i], one.losses[i])
					}
				}
				for i := range one.epochs {
					if !sameMetrics(got.epochs[i].Train, one.epochs[i].Train) || !sameMetrics(got.epochs[i].Test, one.epochs[i].Test) {
						t.Errorf("%d threads: epoch %d metrics\n%+v\n1 thread:\n%+v", threads, i+1, got.epochs[i], one.epochs[i])
					}
				}
				if len(got.weights) != len(one.weights) {
					t.Fatalf("%d threads: %d weights, 1 thread %d", threads, len(got.weights), len(one.weights))
				}
				for i := range one.weights {
					if math.Float64bits(got.weights[i]) != math.Float64bits(one.weights[i]) {
						t.Fatalf("%d threads: weight %d = %v, 1 thread %v", threads, i, got.weights[i], one.weights[i])
					}
				}
			}
		})
	}
}

// TestSpan checks that the workers' shares tile the range in order, with
// no part shorter than a block unless it is the whole range.
func TestSpan(t *testing.T) {
	for threads := 1; threads <= 8; threads++ {
		p := &workers{threads: threads}
		for _, align := range []int{1, 4} {
			for n := 0; n <= 70; n++ {
				next := 0
				for w := 0; w < threads; w++ {
					lo, hi := p.span(w, n, align)
					if lo != next || hi < lo {
						t.Fatalf("threads %d align %d n %d: worker %d gets [%d,%d), want it to start at %d", threads, align, n, w, lo, hi, next)
					}
					if hi > lo && hi-lo < align && hi-lo != n {
						t.Fatalf("threads %d align %d n %d: worker %d gets [%d,%d), a sliver", threads, align, n, w, lo, hi)
					}
					next = hi
				}
				if next != n {
					t.Fatalf("threads %d align %d n %d: parts end at %d", threads, align, n, next)
				}
			}
		}
	}
}

// TestWorkersRunEveryWorker runs many jobs back to back, with pauses that
// let the helpers park, and after close.
func TestWorkersRunEveryWorker(t *testing.T) {
	p := newWorkers(3)
	counts := make([]int, 3)
	for i := 0; i < 2000; i++ {
		p.run(func(w int) { counts[w]++ })
		if i%500 == 0 {
			time.Sleep(2 * spinFor)
		}
	}
	p.close()
	p.run(func(w int) { counts[w]++ })
	for w, c := range counts {
		if c != 2001 {
			t.Errorf("worker %d ran %d jobs, want 2001", w, c)
		}
	}
}
