package main

import (
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
setting quickly or to check the model. Settings mean what they mean in sweep
files (see 'sweep plan --help').

Example:
  sweep train -head classify -sum-hidden 64 -epochs 3
  sweep train -head regression -sum-hidden 0 -optimizer sgd -lr 0.01 -momentum 0.5 -epochs 5
`)
	s := sweep.Settings{}
	head := fs.String("head", "classify", "sum head: regression (1 output, MSE) or classify (19 classes, NLL)")
	fs.IntVar(&s.SumHidden, "sum-hidden", 64, "hidden units of the sum head; 0 = a single linear layer")
	fs.Float64Var(&s.DigitWeight, "digit-weight", 1, "weight of the digit NLL in the loss")
	fs.Float64Var(&s.SumWeight, "sum-weight", 1, "weight of the sum loss")
	opt := fs.String("optimizer", "adam", "adam or sgd")
	fs.Float64Var(&s.LR, "lr", 0.001, "learning rate")
	fs.Float64Var(&s.Momentum, "momentum", 0, "momentum (sgd only)")
	fs.IntVar(&s.BatchSize, "batch-size", 64, "training batch size")
	fs.IntVar(&s.Epochs, "epochs", 3, "passes over the training images")
	fs.IntVar(&s.TrainSize, "train-size", sweep.TrainImages, "use the first N training images")
	fs.Int64Var(&s.Seed, "seed", 1, "seed of weights, shuffling and training addends")
	threads := fs.Int("threads", runtime.NumCPU(), "threads to train with; results do not depend on it")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files (default: $"+mnist.EnvDir+" or the Go module cache)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	s.Head, s.Optimizer = sweep.Head(*head), sweep.Optimizer(*opt)
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
	fmt.Fprintf(stdout, "training %s head, sum_hidden %d, weights %g/%g, %s lr %g, batch %d, %d images × %d epochs, seed %d\n",
		s.Head, s.SumHidden, s.DigitWeight, s.SumWeight, s.Optimizer, s.LR, s.BatchSize, s.TrainImages(), s.Epochs, s.Seed)
	return model.Train(ctx, model.Config{Settings: s, Threads: *threads}, model.TrainSplit(train, s.Seed), model.TestSplit(test), p)
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
	w      io.Writer
	header bool
}

func (p *tablePrinter) Batch(epoch, batch, batches int) {}

func (p *tablePrinter) Epoch(m sweep.EpochMetrics) error {
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
const epochHeader = "epoch  split   digit_nll  digit_acc   sum_mse   sum_r2  sum_acc   sum_nll  seconds  samples/s"

func epochRow(w io.Writer, epoch int, split string, s sweep.SplitMetrics, secs float64, rate string) {
	fmt.Fprintf(w, "%5d  %-5s  %10.4f  %8.2f%%  %8.4f  %7.4f  %6.2f%%  %8.4f  %7.1f  %9s\n",
		epoch, split, s.DigitNLL, 100*s.DigitAccuracy, s.SumMSE, s.SumR2, 100*s.SumAccuracy, s.SumNLL, secs, rate)
}
