package pipeline

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"sweep"
)

// readFile returns a file's text, failing the test if it cannot.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAdaptiveValidation checks every problem [tpe] and [prune] can have,
// with exact lines and keys; the cases are in testdata/adaptive_errors.txt.
func TestAdaptiveValidation(t *testing.T) {
	data := readFile(t, "testdata/adaptive_errors.txt")
	type tcase struct {
		name, src string
		wants     []want
		inWant    bool
	}
	var cases []*tcase
	for _, line := range strings.Split(data, "\n") {
		name, isHeader := strings.CutPrefix(line, "-- ")
		switch {
		case isHeader && name == "want" && len(cases) > 0:
			cases[len(cases)-1].inWant = true
		case isHeader:
			cases = append(cases, &tcase{name: name})
		case len(cases) == 0: // the file's introduction
		case !cases[len(cases)-1].inWant:
			cases[len(cases)-1].src += line + "\n"
		case line != "":
			lineNo, keyMsg, _ := strings.Cut(line, " ")
			key, msg, ok := strings.Cut(keyMsg, ": ")
			n, err := strconv.Atoi(lineNo)
			if !ok || err != nil {
				t.Fatalf("want line %q is not \"LINE KEY: message\"", line)
			}
			c := cases[len(cases)-1]
			c.wants = append(c.wants, want{n, key, msg})
		}
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases in testdata/adaptive_errors.txt", len(cases))
	}
	for _, c := range cases {
		if len(c.wants) == 0 {
			t.Errorf("case %q wants no problem", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			match(t, problems(t, c.src), c.wants)
		})
	}
}

func TestTPESearch(t *testing.T) {
	sw := mustParse(t, `name = "hunt"
repeats = 3
[train]
epochs = 4
momentum = 0.9
seed = 11
[tpe]
trials = 24
objective = "test_r2"
# keys out of the registry's order on purpose
lr = { log_uniform = [1e-4, 1e-1] }
optimizer = { choice = ["adam", "sgd"] }
sum_hidden = { int_uniform = [0, 128] }
dropout = { uniform = [0, 0.5] }
`)
	if sw.Runs != nil {
		t.Errorf("a tpe sweep has %d runs, want none", len(sw.Runs))
	}
	if sw.Prune != nil {
		t.Errorf("Prune = %+v without [prune]", sw.Prune)
	}
	base := defaults()
	base.Epochs, base.Momentum, base.Seed = 4, 0.9, 11
	want := &sweep.Search{
		Method: "tpe", Trials: 24, StartupTrials: 10,
		Objective: sweep.Metric{Name: "test_r2", HigherIsBetter: true},
		Params: []sweep.SearchParam{
			{Key: "sum_hidden", Dist: "int_uniform", Lo: 0, Hi: 128},
			{Key: "dropout", Dist: "uniform", Lo: 0, Hi: 0.5},
			{Key: "optimizer", Dist: "choice", Choices: []any{"adam", "sgd"}},
			{Key: "lr", Dist: "log_uniform", Lo: 1e-4, Hi: 1e-1},
		},
		Base:    base,
		Repeats: 3,
	}
	if !reflect.DeepEqual(sw.Search, want) {
		t.Errorf("search\n got %+v\nwant %+v", sw.Search, want)
	}
}

func TestTPEObjectiveDirection(t *testing.T) {
	tests := []struct {
		extra   string
		want    sweep.Metric
		startup int
	}{
		{"objective = \"test_nll\"\n", sweep.Metric{Name: "test_nll"}, 10},
		{"objective = \"test_accuracy\"\nstartup_trials = 0\n", sweep.Metric{Name: "test_accuracy", HigherIsBetter: true}, 0},
		{"objective = \"test_mse\"\ndirection = \"maximize\"\nstartup_trials = 3\n", sweep.Metric{Name: "test_mse", HigherIsBetter: true}, 3},
		{"direction = \"minimize\"\nobjective = \"test_r2\"\n", sweep.Metric{Name: "test_r2"}, 10},
	}
	for _, tt := range tests {
		sw := mustParse(t, "name = \"d\"\n[tpe]\ntrials = 2\nlr = { uniform = [0.1, 1] }\n"+tt.extra)
		if sw.Search.Objective != tt.want || sw.Search.StartupTrials != tt.startup {
			t.Errorf("%q: objective %v startup %d, want %v %d", tt.extra, sw.Search.Objective, sw.Search.StartupTrials, tt.want, tt.startup)
		}
	}
}

func TestPruneParsed(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want sweep.Prune
	}{
		{"asha defaults from the tpe objective", "name = \"p\"\n[tpe]\ntrials = 2\nobjective = \"test_nll\"\nlr = { uniform = [0.1, 1] }\n[prune]\nmethod = \"asha\"\n",
			sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_nll"}, MinEpochs: 1, ReductionFactor: 3}},
		{"the objective's given direction", "name = \"p\"\n[tpe]\ntrials = 2\nobjective = \"test_nll\"\ndirection = \"maximize\"\nlr = { uniform = [0.1, 1] }\n[prune]\nmethod = \"asha\"\n",
			sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_nll", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 3}},
		{"a metric of its own on a grid", "name = \"p\"\n[train]\nepochs = 9\n[grid]\nlr = [0.1, 0.01]\n[prune]\nmethod = \"asha\"\nmetric = \"test_accuracy\"\nmin_epochs = 2\nreduction_factor = 2\n",
			sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_accuracy", HigherIsBetter: true}, MinEpochs: 2, ReductionFactor: 2}},
		{"median on a random sweep, direction given", "name = \"p\"\n[random]\ntrials = 3\nlr = { uniform = [0.1, 1] }\n[prune]\nmethod = \"median\"\nmetric = \"test_r2\"\ndirection = \"minimize\"\n",
			sweep.Prune{Method: "median", Metric: sweep.Metric{Name: "test_r2"}, MinEpochs: 1}},
		{"a metric other than the objective", "name = \"p\"\n[tpe]\ntrials = 2\nobjective = \"test_nll\"\nlr = { uniform = [0.1, 1] }\n[prune]\nmethod = \"asha\"\nmetric = \"test_r2\"\n",
			sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 3}},
	}
	for _, tt := range tests {
		sw := mustParse(t, tt.src)
		if sw.Prune == nil || *sw.Prune != tt.want {
			t.Errorf("%s: prune %+v, want %+v", tt.name, sw.Prune, tt.want)
		}
	}
	// The grid's runs are expanded as without [prune].
	if sw := mustParse(t, tests[2].src); len(sw.Runs) != 2 || sw.Search != nil {
		t.Errorf("grid with [prune]: %d runs, search %v", len(sw.Runs), sw.Search)
	}
}

// TestManualTPEExample parses the manual's [tpe] example and checks what
// it states.
func TestManualTPEExample(t *testing.T) {
	sw := mustParse(t, manualExample(t, "// # [tpe]: adaptive search", "// This sweep makes 24 configurations × 2 repeats = 48 runs"))
	s := sw.Search
	if s == nil || s.Trials != 24 || s.Repeats != 2 || s.StartupTrials != 8 || len(s.Params) != 3 || sw.Runs != nil {
		t.Fatalf("search %+v, %d runs", s, len(sw.Runs))
	}
	want := sweep.Prune{Method: "asha", Metric: s.Objective, MinEpochs: 1, ReductionFactor: 3}
	if sw.Prune == nil || *sw.Prune != want {
		t.Errorf("prune %+v, want %+v", sw.Prune, want)
	}
}
