package model

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"sweep"
)

// TestThreads trains the same short run with 1, 2 and 3 threads, and with
// 3 threads of which a Config.Share lets 1, 2 or 3 work, changing at every
// batch: every batch's loss, every epoch's train and test metrics and the
// final weights must be bit-identical. The batch sizes give steps of one shard (the
// threads share each op), two (with dropout: a mask stream per shard),
// three and four shards: with 2 threads one thread runs two shards, with
// 3 threads and 2 shards the third helps inside the first shard's ops.
// The last case also runs its tapes through gorgonia's RunAll: the direct
// runner (tape.go) must not change a bit either.
func TestThreads(t *testing.T) {
	train, test := data(t)
	testSplit := TestSplit(test.Slice(300))
	for _, tc := range []struct {
		name    string
		dt      tensor.Dtype
		head    sweep.Head
		opt     sweep.Optimizer
		batch   int
		dropout float64
		runAll  bool
	}{
		{"classify-adam-float32-2-shards-dropout", tensor.Float32, sweep.HeadClassify, sweep.OptimizerAdam, 64, 0.3, false},
		{"regression-sgd-float32-3-shards", tensor.Float32, sweep.HeadRegression, sweep.OptimizerSGD, 100, 0, false},
		{"classify-adam-float64-1-shard", tensor.Float64, sweep.HeadClassify, sweep.OptimizerAdam, 30, 0, false},
		{"classify-adam-float32-4-shards-runall", tensor.Float32, sweep.HeadClassify, sweep.OptimizerAdam, 128, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settings(tc.head)
			s.Optimizer, s.BatchSize, s.TrainSize, s.Epochs, s.Seed = tc.opt, tc.batch, 4*tc.batch, 2, 11
			s.Dropout = tc.dropout
			if want := min(4, max(1, tc.batch/32)); Shards(s) != want {
				t.Fatalf("%d shards, want %d", Shards(s), want)
			}
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
			// threads < 0: up to -threads, the share changing every batch.
			runWith := func(threads int) result {
				var share *ThreadShare
				if threads < 0 {
					threads, share = -threads, NewThreadShare(1)
				}
				tr, err := NewTrainer(Config{Settings: s, Dtype: tc.dt, Threads: threads, Share: share})
				if err != nil {
					t.Fatal(err)
				}
				defer tr.close()
				if tc.runAll && threads > 1 {
					for _, sh := range tr.shards {
						sh.vm.ran = true // never direct: gorgonia's RunAll every step
					}
				}
				var r result
				split := TrainSplit(train, s.Seed)
				perm := make([]int, s.TrainImages())
				for epoch := 1; epoch <= s.Epochs; epoch++ {
					epochOrder(perm, s.Seed, epoch)
					tr.startEpoch(epoch)
					acc := NewAccumulator(s.Head)
					for b := 0; b+s.BatchSize <= len(perm); b += s.BatchSize {
						if share != nil {
							share.Set(1 + (b/s.BatchSize+epoch)%threads)
						}
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
			for _, threads := range []int{2, 3, -3} {
				got := runWith(threads)
				name := fmt.Sprintf("%d threads", threads)
				if threads < 0 {
					name = fmt.Sprintf("a share of 1 to %d threads", -threads)
				}
				for i := range one.losses {
					if math.Float64bits(got.losses[i]) != math.Float64bits(one.losses[i]) {
						t.Fatalf("%s: batch %d loss %v, 1 thread %v", name, i+1, got.losses[i], one.losses[i])
					}
				}
				for i := range one.epochs {
					if !sameMetrics(got.epochs[i].Train, one.epochs[i].Train) || !sameMetrics(got.epochs[i].Test, one.epochs[i].Test) {
						t.Errorf("%s: epoch %d metrics\n%+v\n1 thread:\n%+v", name, i+1, got.epochs[i], one.epochs[i])
					}
				}
				if len(got.weights) != len(one.weights) {
					t.Fatalf("%s: %d weights, 1 thread %d", name, len(got.weights), len(one.weights))
				}
				for i := range one.weights {
					if math.Float64bits(got.weights[i]) != math.Float64bits(one.weights[i]) {
						t.Fatalf("%s: weight %d = %v, 1 thread %v", name, i, got.weights[i], one.weights[i])
					}
				}
			}
		})
	}
}

// TestShare checks that share's parts tile [0, n) exactly once, with no
// part shorter than a block unless it is the whole range and none taken by
// a worker beyond the limit, for jobs back to back, after pauses that let
// the helpers park, with the limit lowered to 2 and raised again, and
// after close.
func TestShare(t *testing.T) {
	for threads := 1; threads <= 4; threads++ {
		p := newWorkers(threads)
		limit := threads
		check := func(n, align int) {
			var mu sync.Mutex
			hits := make([]int, n)
			var bad string
			p.share(n, align, func(w, lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				if w < 0 || w >= limit || lo >= hi || (hi-lo < align && hi-lo != n) {
					bad = fmt.Sprintf("worker %d, part [%d,%d)", w, lo, hi)
				}
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			if bad != "" {
				t.Fatalf("threads %d n %d align %d: %s", threads, n, align, bad)
			}
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads %d n %d align %d: element %d covered %d times", threads, n, align, i, h)
				}
			}
		}
		// Round 1 lowers the limit while the helpers still spin from round
		// 0's jobs; the others start with them parked.
		for round := 0; round < 4; round++ {
			limit = []int{threads, min(2, threads), min(2, threads), threads}[round]
			p.setLimit(limit)
			for _, align := range []int{1, 4} {
				for n := 0; n <= 70; n++ {
					check(n, align)
				}
			}
			if round > 0 {
				time.Sleep(3 * spinFor)
			}
		}
		p.close()
		check(50, 4)
	}
}
