package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"

	"sweep"
	"sweep/mnist"
	"sweep/model"
)

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "[flags]", `
Train one run with the given settings and print its per-epoch train and
test metrics as a table. Nothing is written to a database: use it to try a
setting quickly or to check the model. There is a flag for every setting,
named by its sweep-file key with '-' for '_' (sum_hidden: -sum-hidden); it
means what the key means in sweep files ('go doc sweep/pipeline').

Example:
  sweep train -head classify -sum-hidden 64 -epochs 3
  sweep train -head regression -sum-hidden 0 -optimizer sgd -lr 0.01 -momentum 0.5 -epochs 5
  sweep train -dropout 0.5 -fc-hidden 128 -weight-decay 1e-4 -epochs 3
  sweep train -sum-input probs -epochs 3 -o model.safetensors   # then: sweep predict --weights model.safetensors
`)
	settings := settingFlags(fs.FlagSet)
	weightsOut := fs.String("o", "", "after training, write the model's weights to this safetensors file (for sweep predict, or PyTorch)")
	threads := fs.Int("threads", runtime.NumCPU(), "threads to train with; results do not depend on it")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files (default: $"+mnist.EnvDir+" or the Go module cache)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	s, err := settings()
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return usageError{err}
	}
	if *threads < 1 {
		return usageError{fmt.Errorf("--threads %d: want at least 1", *threads)}
	}
	train, test, err := loadData(*dataDir)
	if err != nil {
		return err
	}
	p := &tablePrinter{w: stdout}
	fmt.Fprintf(stdout, "training %s\n", settingsLine(s))
	cfg := model.Config{Settings: s, Threads: *threads, Checkpoints: *weightsOut != ""}
	if err := model.Train(ctx, cfg, model.TrainSplit(train, s.Seed), model.TestSplit(test), p); err != nil {
		return err
	}
	if *weightsOut == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := model.ExportWeights(&buf, s, p.checkpoint); err != nil {
		return err
	}
	if err := writeFileAtomic(*weightsOut, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "weights: %s (%d bytes)\n", *weightsOut, buf.Len())
	return nil
}

// loadData finds, verifies and loads MNIST.
func loadData(dir string) (train, test *mnist.Set, err error) {
	if dir, err = mnist.Find(dir); err != nil {
		return nil, nil, err
	}
	return mnist.Load(dir)
}

// tablePrinter prints each epoch as it ends: a train and a test row.
type tablePrinter struct {
	w          io.Writer
	header     bool
	checkpoint []byte // the last epoch's, when training was asked for them
}

func (p *tablePrinter) Batch(epoch, batch, batches int) {}

func (p *tablePrinter) Epoch(m sweep.EpochMetrics) error {
	p.checkpoint = m.Checkpoint
	if !p.header {
		fmt.Fprintln(p.w, epochHeader)
		p.header = true
	}
	epochRow(p.w, m.Epoch, "train", m.Train, m.TrainSeconds, fmt.Sprintf("%.0f", m.SamplesPerSec))
	epochRow(p.w, m.Epoch, "test", m.Test, m.EvalSeconds, "")
	return nil
}

// epochHeader and epochRow lay out per-epoch metrics in fixed columns, for
// 'sweep train' as it trains and for 'sweep show' afterwards.
// sum_std is the standard deviation of the sum predictions: near 0 when
// the sum head has collapsed to a constant.
const epochHeader = "epoch  split   digit_nll  digit_acc   sum_mse   sum_r2  sum_acc   sum_nll  sum_std  seconds  samples/s"

func epochRow(w io.Writer, epoch int, split string, s sweep.SplitMetrics, secs float64, rate string) {
	fmt.Fprintf(w, "%5d  %-5s  %10.4f  %8.2f%%  %8.4f  %7.4f  %6.2f%%  %8.4f  %7.3f  %7.1f  %9s\n",
		epoch, split, s.DigitNLL, 100*s.DigitAccuracy, s.SumMSE, s.SumR2, 100*s.SumAccuracy, s.SumNLL, s.SumPredStd, secs, rate)
}
