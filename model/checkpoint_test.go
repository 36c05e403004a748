package model

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"sweep"
	"sweep/safetensors"
)

// epochRecorder keeps every epoch's metrics, checkpoint included.
type epochRecorder struct{ epochs []sweep.EpochMetrics }

func (r *epochRecorder) Batch(int, int, int) {}
func (r *epochRecorder) Epoch(m sweep.EpochMetrics) error {
	r.epochs = append(r.epochs, m)
	return nil
}

// metricsText prints the metrics that must match (NaN alike; not the
// timings).
func metricsText(m sweep.EpochMetrics) string {
	return fmt.Sprintf("%d %+v %+v", m.Epoch, m.Train, m.Test)
}

// TestResumeIsBitIdentical trains runs of 3 epochs straight through, and
// again stopped after epoch 1 and after epoch 2 and resumed from the
// checkpoint each time in a new trainer: every epoch's metrics and the
// final checkpoint (weights and optimiser state) are bit-identical. For
// Adam with dropout and weight decay, and for SGD with momentum on the
// regression head with the shuffled pairing, in float32 and float64.
func TestResumeIsBitIdentical(t *testing.T) {
	train, test := data(t)
	adam := settings(sweep.HeadClassify)
	adam.Dropout, adam.WeightDecay = 0.3, 0.01
	sgd := settings(sweep.HeadRegression)
	sgd.Optimizer, sgd.LR, sgd.Momentum, sgd.Pairing = sweep.OptimizerSGD, 0.01, 0.5, sweep.PairingShuffled
	for _, s := range []sweep.Settings{adam, sgd} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			s.Epochs = 3
			name := fmt.Sprintf("%s/%v", s.Optimizer, dt)
			run := func(resume []byte) []sweep.EpochMetrics {
				rec := &epochRecorder{}
				cfg := Config{Settings: s, Dtype: dt, Resume: resume, Checkpoints: true}
				if err := Train(t.Context(), cfg, TrainSplit(train, s.Seed), TestSplit(test.Slice(300)), rec); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return rec.epochs
			}
			straight := run(nil)
			if len(straight) != 3 {
				t.Fatalf("%s: %d epochs", name, len(straight))
			}
			for stop := 1; stop <= 2; stop++ {
				resumed := run(straight[stop-1].Checkpoint)
				if len(resumed) != 3-stop || resumed[0].Epoch != stop+1 {
					t.Fatalf("%s: resumed after epoch %d trained %d epochs from %d", name, stop, len(resumed), resumed[0].Epoch)
				}
				for i, m := range resumed {
					if want := straight[stop+i]; metricsText(m) != metricsText(want) {
						t.Errorf("%s, resumed after epoch %d: epoch %d\n%s\nwant\n%s", name, stop, m.Epoch, metricsText(m), metricsText(want))
					}
				}
				if !bytes.Equal(resumed[len(resumed)-1].Checkpoint, straight[2].Checkpoint) {
					t.Errorf("%s, resumed after epoch %d: final weights or optimiser state differ", name, stop)
				}
			}
		}
	}
}

// TestCheckpointContents reads a checkpoint as a plain safetensors file:
// every parameter, Adam's two moments per parameter and the metadata.
func TestCheckpointContents(t *testing.T) {
	train, _ := data(t)
	s := settings(sweep.HeadClassify)
	tr, err := NewTrainer(Config{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrainBatch(TrainSplit(train, s.Seed), []int{0, 1, 2, 3, 4, 5, 6, 7}, nil); err != nil {
		t.Fatal(err)
	}
	blob, err := tr.Checkpoint(1)
	if err != nil {
		t.Fatal(err)
	}
	tensors, meta, err := safetensors.Read(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	if meta["epoch"] != "1" || meta["step"] != "1" || meta["optimizer"] != "adam" || meta["config"] != sweep.ConfigKey(s) {
		t.Errorf("metadata %v", meta)
	}
	if len(tensors) != 3*len(tr.learn) {
		t.Errorf("%d tensors, want %d (weights, m, v)", len(tensors), 3*len(tr.learn))
	}
	w, err := safetensors.Find(tensors, "trunk.conv1.w")
	if err != nil || !slices.Equal(w.Shape, []int{10, 1, 5, 5}) || w.F32 == nil {
		t.Errorf("trunk.conv1.w: %v %v", w.Shape, err)
	}
	// Another run's checkpoint does not restore.
	other := s
	other.Seed++
	tr2, _ := NewTrainer(Config{Settings: other})
	if _, err := tr2.Restore(blob); err == nil || !strings.Contains(err.Error(), "not this run's") {
		t.Errorf("restoring another seed's checkpoint: %v", err)
	}
}
