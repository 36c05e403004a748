package sweep

import (
	"strings"
	"testing"
)

func valid() Settings {
	return Settings{Head: HeadClassify, SumHidden: 64, DigitWeight: 1, SumWeight: 1, Optimizer: OptimizerAdam,
		LR: 0.001, BatchSize: 64, Epochs: 3, TrainSize: 60000, Seed: 1}
}

func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid settings: %v", err)
	}
	for _, tc := range []struct {
		change func(*Settings)
		want   string
	}{
		{func(s *Settings) { s.Head = "linear" }, "head"},
		{func(s *Settings) { s.Optimizer = "rmsprop" }, "optimizer"},
		{func(s *Settings) { s.LR = 0 }, "lr"},
		{func(s *Settings) { s.DigitWeight = -1 }, "digit_weight"},
		{func(s *Settings) { s.DigitWeight, s.SumWeight = 0, 0 }, "both 0"},
		{func(s *Settings) { s.Momentum = 1 }, "momentum"},
		{func(s *Settings) { s.SumHidden = -1 }, "sum_hidden"},
		{func(s *Settings) { s.BatchSize = 0 }, "batch_size"},
		{func(s *Settings) { s.Epochs = 0 }, "epochs"},
		{func(s *Settings) { s.TrainSize = 60001 }, "train_size"},
	} {
		s := valid()
		tc.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to name %q", s, err, tc.want)
		}
	}
}

// TestRunIDStable pins the identity of a run: a change here would make
// every existing database retrain everything.
func TestRunIDStable(t *testing.T) {
	s := valid()
	if got, want := RunID("heads", s), RunID("heads", s); got != want || len(got) != 12 {
		t.Fatalf("RunID not stable or not 12 hex digits: %q %q", got, want)
	}
	if got := RunID("heads", s); got != pinnedRunID {
		t.Errorf("RunID changed: %q, want %q", got, pinnedRunID)
	}
	other := s
	other.SumWeight = 0.1
	if RunID("heads", s) == RunID("heads", other) || RunID("heads", s) == RunID("other", s) {
		t.Error("different settings or sweeps share a run id")
	}
	// train_size 0 means all images: the same run.
	all := s
	all.TrainSize = 0
	if RunID("heads", s) != RunID("heads", all) {
		t.Error("train_size 0 and 60000 are different runs")
	}
}

func TestConfigKeyIgnoresSeed(t *testing.T) {
	a, b := valid(), valid()
	b.Seed = 2
	if ConfigKey(a) != ConfigKey(b) {
		t.Error("repeats of one configuration have different config keys")
	}
	b.LR = 0.01
	if ConfigKey(a) == ConfigKey(b) {
		t.Error("different configurations share a config key")
	}
}

const pinnedRunID = "b20c73fc8803"
