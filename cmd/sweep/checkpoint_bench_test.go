package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"sweep"
	"sweep/model"
	"sweep/store"
)

// BenchmarkEpochRecord is what 'sweep run' adds to each epoch besides
// training and evaluation: recording the epoch in a SQLite file, with the
// checkpoint (encoding the trainer's state and writing it in the same
// transaction) and without. Set against an epoch's training time on all
// 60,000 images (BenchmarkTrainStep: about 3.5 s on one core), the
// difference of the two is the checkpoint's cost; the README quotes it.
func BenchmarkEpochRecord(b *testing.B) {
	train, _, err := loadData("")
	if err != nil {
		b.Fatal(err)
	}
	split := model.TrainSplit(train, 1)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	for _, opt := range []sweep.Optimizer{sweep.OptimizerAdam, sweep.OptimizerSGD} {
		for _, ckpt := range []bool{false, true} {
			name := string(opt) + "/checkpoint=false"
			if ckpt {
				name = string(opt) + "/checkpoint=true"
			}
			b.Run(name, func(b *testing.B) {
				s := sweep.Settings{Head: sweep.HeadClassify, SumHidden: 64, DigitWeight: 1, SumWeight: 1, Optimizer: opt, LR: 0.01, BatchSize: 64, Epochs: 1 << 20}.Resolved()
				s.Momentum = map[sweep.Optimizer]float64{sweep.OptimizerSGD: 0.9}[opt]
				tr, err := model.NewTrainer(model.Config{Settings: s, Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				// One step, so that the optimiser's state exists.
				if _, err := tr.TrainBatch(split, idx, nil); err != nil {
					b.Fatal(err)
				}
				db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				ctx := context.Background()
				sw := sweep.Sweep{Name: "bench", Runs: []sweep.RunSpec{{ID: sweep.RunID("bench", s), Sweep: "bench", Settings: s}}}
				if err := db.SaveSweep(ctx, sw); err != nil {
					b.Fatal(err)
				}
				owner := sweep.Owner{ID: "bench:1:1:x", Host: "bench"}
				if _, _, err := db.Claim(ctx, []string{sw.Runs[0].ID}, owner, time.Hour); err != nil {
					b.Fatal(err)
				}
				m := sweep.EpochMetrics{Train: sweep.SplitMetrics{Samples: 60000}, Test: sweep.SplitMetrics{Samples: 10000}}
				var size int
				b.ResetTimer()
				for i := range b.N {
					m.Epoch = i + 1
					m.Checkpoint = nil
					if ckpt {
						if m.Checkpoint, err = tr.Checkpoint(m.Epoch); err != nil {
							b.Fatal(err)
						}
						size = len(m.Checkpoint)
					}
					if err := db.RecordEpoch(ctx, sw.Runs[0].ID, owner, m); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(size), "checkpoint-bytes")
			})
		}
	}
}
