package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sweep"
)

// mustParse parses src and fails the test on any problem.
func mustParse(t *testing.T, src string) sweep.Sweep {
	t.Helper()
	sw, err := Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: unexpected problems:\n%v", err)
	}
	return sw
}

// defaults are the settings of a run of a file that sets nothing.
func defaults() sweep.Settings {
	return sweep.Settings{
		Head: sweep.HeadClassify, SumHidden: 64, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, Momentum: 0, BatchSize: 64,
		Epochs: 3, TrainSize: 60000, Seed: 1,
		SumInput: sweep.SumInputLogProbs, Conv1Channels: 10, Conv2Channels: 20, FCHidden: 50,
		SumLoss: sweep.SumLossMSE, Pairing: sweep.PairingAligned,
	}
}

func TestDefaults(t *testing.T) {
	sw := mustParse(t, `name = "d"`)
	if len(sw.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(sw.Runs))
	}
	if got, want := sw.Runs[0].Settings, defaults(); got != want {
		t.Errorf("settings\n got %+v\nwant %+v", got, want)
	}
	if err := sw.Runs[0].Settings.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestSweepFields(t *testing.T) {
	src := `name = "fields"
description = "what it is"
[reference]
label = "PyTorch notebook"
epoch = 5
digit_accuracy = 0.92
sum_r2 = 0.065
`
	sw, err := Parse("some/dir/fields.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(src))
	if sw.Name != "fields" || sw.Description != "what it is" || sw.File != "some/dir/fields.toml" ||
		sw.Source != src || sw.Hash != hex.EncodeToString(h[:]) {
		t.Errorf("fields wrong: %+v", sw)
	}
	want := sweep.Reference{Label: "PyTorch notebook", Epoch: 5, DigitAccuracy: 0.92, SumR2: 0.065}
	if sw.Reference == nil || *sw.Reference != want {
		t.Errorf("reference = %+v, want %+v", sw.Reference, want)
	}
	if sw := mustParse(t, `name = "noref"`); sw.Reference != nil {
		t.Errorf("reference without [reference] = %+v, want nil", sw.Reference)
	}
}

func TestTrainSingleValues(t *testing.T) {
	sw := mustParse(t, `name = "single"
repeats = 3
[train]
head = "regression"
sum_hidden = 0
digit_weight = 2
sum_weight = 0.5
optimizer = "sgd"
lr = 1          # an integer where a real is expected is fine
momentum = 0.5
batch_size = 32
epochs = 5
train_size = 1234
seed = 100
`)
	want := sweep.Settings{Head: sweep.HeadRegression, SumHidden: 0, DigitWeight: 2, SumWeight: 0.5,
		Optimizer: sweep.OptimizerSGD, LR: 1, Momentum: 0.5, BatchSize: 32, Epochs: 5, TrainSize: 1234}.Resolved()
	if len(sw.Runs) != 3 {
		t.Fatalf("got %d runs, want 3", len(sw.Runs))
	}
	for i, r := range sw.Runs {
		want.Seed = int64(100 + i)
		if r.Settings != want {
			t.Errorf("run %d\n got %+v\nwant %+v", i, r.Settings, want)
		}
		if r.Sweep != "single" || r.ID != sweep.RunID("single", want) {
			t.Errorf("run %d: Sweep %q ID %q", i, r.Sweep, r.ID)
		}
	}
}

func TestGridOrder(t *testing.T) {
	// Keys written out of canonical order; values in file order.
	sw := mustParse(t, `name = "order"
repeats = 2
[train]
seed = 5
[grid]
lr = [0.01, 0.001]
head = ["regression", "classify"]
`)
	type point struct {
		head string
		lr   float64
		seed int64
	}
	want := []point{
		{"regression", 0.01, 5}, {"regression", 0.01, 6},
		{"regression", 0.001, 5}, {"regression", 0.001, 6},
		{"classify", 0.01, 5}, {"classify", 0.01, 6},
		{"classify", 0.001, 5}, {"classify", 0.001, 6},
	}
	var got []point
	for _, r := range sw.Runs {
		got = append(got, point{string(r.Settings.Head), r.Settings.LR, r.Settings.Seed})
	}
	if !slices.Equal(got, want) {
		t.Errorf("runs\n got %v\nwant %v", got, want)
	}
	ids := map[string]bool{}
	for _, r := range sw.Runs {
		if r.ID != sweep.RunID("order", r.Settings) || r.Sweep != "order" {
			t.Errorf("run %+v: wrong ID or sweep", r)
		}
		ids[r.ID] = true
	}
	if len(ids) != len(sw.Runs) {
		t.Errorf("%d distinct IDs for %d runs", len(ids), len(sw.Runs))
	}
}

func TestGridCount(t *testing.T) {
	tests := []struct {
		src  string
		want int
	}{
		{`name = "a"`, 1},
		{"name = \"a\"\nrepeats = 4", 4},
		{"name = \"a\"\n[grid]\nlr = [0.1]", 1},
		{"name = \"a\"\nrepeats = 3\n[grid]\nlr = [0.1, 0.2]\nsum_weight = [0.1, 1, 10]\nepochs = [1, 2]", 36},
		{"name = \"a\"\nrepeats = 2\n[grid]\nhead = [\"regression\", \"classify\"]\n[random]\ntrials = 5\nlr = { log_uniform = [1e-4, 1e-1] }", 20},
	}
	for _, tt := range tests {
		if got := len(mustParse(t, tt.src).Runs); got != tt.want {
			t.Errorf("%q: %d runs, want %d", tt.src, got, tt.want)
		}
	}
}

func TestRandomReproducible(t *testing.T) {
	src, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	a := mustParse(t, string(src))
	b := mustParse(t, string(src))
	if !reflect.DeepEqual(a.Runs, b.Runs) {
		t.Fatal("the same file gave different runs")
	}
	// Another seed draws other values.
	c := mustParse(t, strings.Replace(string(src), "seed = 7", "seed = 8", 1))
	same := 0
	for i := range a.Runs {
		x, y := a.Runs[i].Settings, c.Runs[i].Settings
		if x.SumWeight == y.SumWeight && x.DigitWeight == y.DigitWeight {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seed 8 drew the same weights as seed 7 in %d of %d runs", same, len(a.Runs))
	}
	// So does another name.
	d := mustParse(t, strings.Replace(string(src), `name = "full"`, `name = "full2"`, 1))
	if d.Runs[0].Settings.SumWeight == a.Runs[0].Settings.SumWeight {
		t.Errorf("renamed sweep drew the same first sum_weight %v", a.Runs[0].Settings.SumWeight)
	}
	// More trials keep the earlier ones: the first trial of each grid point
	// is unchanged.
	e := mustParse(t, strings.Replace(string(src), "trials = 3", "trials = 5", 1))
	first := func(sw sweep.Sweep, trials int) []sweep.Settings {
		var out []sweep.Settings
		for i := 0; i < len(sw.Runs); i += trials * 2 {
			out = append(out, sw.Runs[i].Settings)
		}
		return out
	}
	if !slices.Equal(first(a, 3), first(e, 5)) {
		t.Errorf("raising trials changed the first trial:\n%v\n%v", first(a, 3), first(e, 5))
	}
}

// TestRandomGolden pins the draws, so a change of generator, seeding or
// rounding (which would silently change every random sweep's runs) fails.
func TestRandomGolden(t *testing.T) {
	sw := mustParse(t, `name = "golden"
[random]
trials = 3
lr = { log_uniform = [1e-4, 1e-1] }
sum_weight = { uniform = [0.1, 10.0] }
batch_size = { int_uniform = [16, 256] }
head = { choice = ["regression", "classify"] }
`)
	var got []string
	for _, r := range sw.Runs {
		s := r.Settings
		got = append(got, strings.Join([]string{string(s.Head), fmtValue(s.SumWeight), fmtValue(s.LR), strconv.Itoa(s.BatchSize)}, " "))
	}
	want := []string{"regression 3.781 0.0901 64", "classify 5.445 0.002738 241", "classify 1.123 0.0003108 71"}
	if !slices.Equal(got, want) {
		t.Errorf("draws changed:\n got %q\nwant %q", got, want)
	}
}

func TestRandomBounds(t *testing.T) {
	src, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	sw := mustParse(t, strings.Replace(string(src), "trials = 3", "trials = 200", 1))
	if len(sw.Runs) != 2*2*200*2 {
		t.Fatalf("got %d runs, want %d", len(sw.Runs), 2*2*200*2)
	}
	hidden := map[int]bool{}
	for _, r := range sw.Runs {
		s := r.Settings
		if s.SumWeight < 0.01 || s.SumWeight > 100 || s.DigitWeight < 0.5 || s.DigitWeight > 2 ||
			s.BatchSize < 16 || s.BatchSize > 128 {
			t.Fatalf("draw out of bounds: %+v", s)
		}
		for _, v := range []float64{s.SumWeight, s.DigitWeight} {
			if v != roundSignificant(v, 4) {
				t.Fatalf("%v not rounded to 4 significant digits", v)
			}
		}
		hidden[s.SumHidden] = true
	}
	if len(hidden) != 3 || !hidden[0] || !hidden[32] || !hidden[64] {
		t.Errorf("choice drew %v, want all of 0, 32, 64", hidden)
	}
	// log_uniform spreads over the decades: some draws below 0.1, some above 10.
	low, high := 0, 0
	for _, r := range sw.Runs {
		if r.Settings.SumWeight < 0.1 {
			low++
		}
		if r.Settings.SumWeight > 10 {
			high++
		}
	}
	if low == 0 || high == 0 {
		t.Errorf("log_uniform [0.01, 100]: %d draws < 0.1 and %d > 10 of %d", low, high, len(sw.Runs))
	}
}

func TestGridWithRandom(t *testing.T) {
	src, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	sw := mustParse(t, string(src))
	// 2 heads × 2 lr × 3 trials × 2 repeats, head outermost.
	if len(sw.Runs) != 24 {
		t.Fatalf("got %d runs, want 24", len(sw.Runs))
	}
	type drawn struct {
		dw, sw float64
		bs, sh int
	}
	trialOf := func(s sweep.Settings) drawn { return drawn{s.DigitWeight, s.SumWeight, s.BatchSize, s.SumHidden} }
	var trials []drawn
	for i, r := range sw.Runs {
		s := r.Settings
		point, trial, rep := i/6, i/2%3, i%2
		wantHead := []sweep.Head{"regression", "classify"}[point/2]
		wantLR := []float64{0.01, 0.1}[point%2]
		if s.Head != wantHead || s.LR != wantLR || s.Seed != int64(7+rep) {
			t.Errorf("run %d: head %s lr %v seed %d, want %s %v %d", i, s.Head, s.LR, s.Seed, wantHead, wantLR, 7+rep)
		}
		if s.Optimizer != sweep.OptimizerSGD || s.Momentum != 0.9 || s.Epochs != 2 || s.TrainSize != 1000 {
			t.Errorf("run %d: [train] settings not applied: %+v", i, s)
		}
		if point == 0 && rep == 0 {
			trials = append(trials, trialOf(s))
		}
		// Every grid point gets the same trials.
		if trialOf(s) != trials[trial] {
			t.Errorf("run %d: trial %d is %+v at this grid point, %+v at the first", i, trial, trialOf(s), trials[trial])
		}
	}
	if trials[0] == trials[1] || trials[1] == trials[2] {
		t.Errorf("trials are not distinct: %+v", trials)
	}
}

func TestMomentumNormalisedForAdam(t *testing.T) {
	sw := mustParse(t, `name = "mom"
[grid]
optimizer = ["sgd", "adam"]
momentum = [0.0, 0.9]
`)
	type om struct {
		opt string
		m   float64
	}
	var got []om
	for _, r := range sw.Runs {
		got = append(got, om{string(r.Settings.Optimizer), r.Settings.Momentum})
	}
	// optimizer comes before momentum in canonical order; adam at 0.9 is
	// adam at 0, a duplicate, and dropped.
	want := []om{{"sgd", 0}, {"sgd", 0.9}, {"adam", 0}}
	if !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}

	// momentum in [train] with a grid over optimizers: only sgd keeps it.
	sw = mustParse(t, `name = "mom2"
[train]
momentum = 0.5
[grid]
optimizer = ["adam", "sgd"]
`)
	if len(sw.Runs) != 2 || sw.Runs[0].Settings.Momentum != 0 || sw.Runs[1].Settings.Momentum != 0.5 {
		t.Errorf("runs %+v", sw.Runs)
	}
}

func TestIDsStable(t *testing.T) {
	// Formatting, comments, key order and number spelling do not change a
	// run's identity; its settings and the sweep's name do.
	a := mustParse(t, "name = \"ids\"\n[train]\nlr = 0.1\nepochs = 2\n")
	b := mustParse(t, "# a comment\nname = \"ids\"\n\n[train]\nepochs = 2   # two\nlr = 0.10\n")
	c := mustParse(t, "name = \"ids\"\n[grid]\nlr = [1e-1]\nepochs = [2]\n")
	if a.Runs[0].ID != b.Runs[0].ID || a.Runs[0].ID != c.Runs[0].ID {
		t.Errorf("IDs differ: %s %s %s", a.Runs[0].ID, b.Runs[0].ID, c.Runs[0].ID)
	}
	// lr = 1 and lr = 1.0 are the same run.
	d := mustParse(t, "name = \"ids\"\n[train]\nlr = 1\n")
	e := mustParse(t, "name = \"ids\"\n[train]\nlr = 1.0\n")
	if d.Runs[0].ID != e.Runs[0].ID {
		t.Errorf("lr = 1 and lr = 1.0 have IDs %s and %s", d.Runs[0].ID, e.Runs[0].ID)
	}
	f := mustParse(t, "name = \"ids2\"\n[train]\nlr = 0.1\nepochs = 2\n")
	g := mustParse(t, "name = \"ids\"\n[train]\nlr = 0.2\nepochs = 2\n")
	if f.Runs[0].ID == a.Runs[0].ID || g.Runs[0].ID == a.Runs[0].ID {
		t.Error("another name or lr gave the same ID")
	}
	// Pinned: the defaults of sweep "ids" with lr 0.1, epochs 2, seed 1.
	if got, want := a.Runs[0].ID, "a53307079b6c"; got != want {
		t.Errorf("ID = %s, want %s (run identities changed: existing results would be re-run)", got, want)
	}
}

func TestRoundSignificant(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0.000123456, 0.0001235}, {1.23456, 1.235}, {98765.4, 98770}, {0.1, 0.1}, {3, 3},
	}
	for _, tt := range tests {
		if got := roundSignificant(tt.in, 4); got != tt.want {
			t.Errorf("roundSignificant(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if math.IsNaN(roundSignificant(math.NaN(), 4)) == false {
		t.Error("NaN should stay NaN")
	}
}

func TestParseReturnsNilError(t *testing.T) {
	_, err := Parse("ok.toml", []byte(`name = "ok"`))
	if err != nil {
		t.Fatalf("err = %#v, want nil", err)
	}
	_, err = Parse("bad.toml", []byte(`name = 1`))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %#v, want Errors with one problem", err)
	}
}

// manualExample returns the example of the package manual (doc.go) that
// starts at the line start and ends before the line end: its indented
// lines, unindented.
func manualExample(t *testing.T, start, end string) string {
	t.Helper()
	text := readFile(t, "doc.go")
	i := strings.Index(text, start+"\n")
	j := strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("example %q … %q not found in doc.go", start, end)
	}
	var src strings.Builder
	for _, line := range strings.Split(text[i:j], "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			src.WriteString(rest + "\n")
		}
	}
	return src.String()
}

// TestManualExample parses the example at the top of the package manual
// (doc.go) and checks the run count it states.
func TestManualExample(t *testing.T) {
	sw := mustParse(t, manualExample(t, "// # A sweep file", "// This file has 2 × 2 grid points × 4 trials × 2 repeats = 32 runs."))
	if len(sw.Runs) != 32 || sw.Reference == nil {
		t.Errorf("manual example: %d runs, reference %v; want 32 runs and a reference", len(sw.Runs), sw.Reference)
	}
}
