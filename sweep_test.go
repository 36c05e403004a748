package sweep

import (
	"encoding/json"
	"reflect"
	"slices"
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
		{func(s *Settings) { s.Dropout = 1 }, "dropout"},
		{func(s *Settings) { s.WeightDecay = -0.1 }, "weight_decay"},
		{func(s *Settings) { s.Conv1Channels = -3 }, "conv1_channels"},
		{func(s *Settings) { s.Conv2Channels = 513 }, "conv2_channels"},
		{func(s *Settings) { s.FCHidden = 5000 }, "fc_hidden"},
		{func(s *Settings) { s.SumInput = "logits" }, "sum_input"},
		{func(s *Settings) { s.SumLoss = SumLossBroadcastMSE }, `sum_loss = "broadcast_mse": only with head = "regression"`},
		{func(s *Settings) { s.Pairing = PairingShuffled }, `pairing = "shuffled": only with head = "regression"`},
		{func(s *Settings) { s.Pairing = "random" }, "pairing"},
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

// TestLaterSettingsKeepIDs: settings added after the first release leave a
// run's id as it was while they hold their default, whether given
// explicitly or as zero values, and change it when they don't. The
// non-default id is pinned too: the registry's order and the canonical
// text are part of every database's identity.
func TestLaterSettingsKeepIDs(t *testing.T) {
	s := valid()
	explicit := s
	explicit.SumInput, explicit.Conv1Channels, explicit.Conv2Channels, explicit.FCHidden = SumInputLogProbs, 10, 20, 50
	if got := RunID("heads", explicit); got != pinnedRunID {
		t.Errorf("explicit defaults: id %s, want %s", got, pinnedRunID)
	}
	seen := map[string]string{}
	for _, c := range []struct {
		name   string
		change func(*Settings)
	}{
		{"dropout", func(s *Settings) { s.Dropout = 0.5 }},
		{"weight_decay", func(s *Settings) { s.WeightDecay = 1e-4 }},
		{"conv1_channels", func(s *Settings) { s.Conv1Channels = 16 }},
		{"conv2_channels", func(s *Settings) { s.Conv2Channels = 32 }},
		{"fc_hidden", func(s *Settings) { s.FCHidden = 128 }},
		{"sum_input", func(s *Settings) { s.SumInput = SumInputProbs }},
		{"sum_loss", func(s *Settings) { s.Head, s.SumLoss = HeadRegression, SumLossBroadcastMSE }},
		{"pairing", func(s *Settings) { s.Head, s.Pairing = HeadRegression, PairingShuffled }},
	} {
		o := valid()
		c.change(&o)
		id := RunID("heads", o)
		base := valid()
		base.Head = o.Head
		if id == RunID("heads", base) {
			t.Errorf("%s away from its default keeps the default's id", c.name)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s give the same id", c.name, other)
		}
		seen[id] = c.name
	}
	o := valid()
	o.Dropout, o.FCHidden = 0.5, 128
	if got, want := o.canonical(), "v1\nhead=classify\nsum_hidden=64\nfc_hidden=128\ndropout=0.5\ndigit_weight=1\nsum_weight=1\noptimizer=adam\nlr=0.001\nmomentum=0\nbatch_size=64\nepochs=3\ntrain_size=60000\nseed=1"; got != want {
		t.Errorf("canonical text\n%s\nwant\n%s", got, want)
	}
	if got := RunID("heads", o); got != pinnedLaterRunID {
		t.Errorf("RunID with dropout 0.5 and fc_hidden 128 changed: %q, want %q", got, pinnedLaterRunID)
	}
}

const pinnedLaterRunID = "9437890050db"

// TestRegistryCoversSettings fails when a field of Settings has no entry
// in the registry (or an entry names no field): every field must be
// validated, stored, hashed and shown.
func TestRegistryCoversSettings(t *testing.T) {
	typ := reflect.TypeOf(Settings{})
	var fields []string
	for i := 0; i < typ.NumField(); i++ {
		fields = append(fields, typ.Field(i).Tag.Get("json"))
	}
	keys := SettingKeys(true)
	if !slices.Equal(fields, keys) {
		t.Errorf("Settings fields (json tags) %v\nregistry keys %v\nwant the same list in the same order", fields, keys)
	}
	// Each entry reads and writes its own field: set a non-default value
	// through the registry and find it in that field alone.
	for _, d := range SettingDefs() {
		var v any
		switch d.Kind {
		case KindFloat:
			v = 0.25
		case KindInt:
			v = int64(7)
		default:
			v = d.Values[len(d.Values)-1]
			if v == d.Default {
				v = d.Values[0]
			}
		}
		var s Settings
		d.Set(&s, v)
		if got := d.Value(s); got != v {
			t.Errorf("%s: set %v, read back %v", d.Key, v, got)
		}
		raw, _ := json.Marshal(s)
		var m map[string]any
		json.Unmarshal(raw, &m)
		for k, x := range m {
			if k != d.Key && x != "" && x != 0.0 {
				t.Errorf("setting %s through the registry changed field %s to %v", d.Key, k, x)
			}
		}
		if d.Kind == KindEnum && !slices.Contains(d.Values, d.Default.(string)) {
			t.Errorf("%s: default %v is not among %v", d.Key, d.Default, d.Values)
		}
		if msg := d.Check(d.Default); msg != "" && !d.PerRun {
			t.Errorf("%s: default %v fails its own check: %s", d.Key, d.Default, msg)
		}
		if d.Doc == "" {
			t.Errorf("%s has no Doc", d.Key)
		}
	}
}

// TestResolved: the zero values that stand for defaults become them.
func TestResolved(t *testing.T) {
	got := Settings{Head: HeadClassify}.Resolved()
	if got.TrainSize != 60000 || got.Conv1Channels != 10 || got.Conv2Channels != 20 || got.FCHidden != 50 || got.SumInput != SumInputLogProbs {
		t.Errorf("Resolved() = %+v", got)
	}
	if ConfigKey(got) != ConfigKey(Settings{Head: HeadClassify}) {
		t.Error("resolved settings are another configuration")
	}
}
