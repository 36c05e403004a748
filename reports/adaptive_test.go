package reports

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"sweep"
)

// Adaptive sweeps (issue #11): pruned and reused runs, tpe trials. Every
// expected number is worked out by hand next to it.

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return near(x, y) || (math.IsNaN(x) && math.IsNaN(y)) })
}

func TestBestSoFar(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name   string
		in     []float64
		higher bool
		want   []float64
	}{
		{"higher is better", []float64{0.5, 0.7, 0.6, 0.9}, true, []float64{0.5, 0.7, 0.7, 0.9}},
		// test_nll: lower is better, so 0.25 stays best until 0.20.
		{"lower is better", []float64{0.30, 0.25, 0.28, 0.20}, false, []float64{0.30, 0.25, 0.25, 0.20}},
		// A trial without a value keeps the best before it.
		{"NaN kept over", []float64{nan, 0.4, nan, 0.3}, true, []float64{nan, 0.4, 0.4, 0.4}},
		{"empty", nil, true, []float64{}},
	} {
		if got := BestSoFar(c.in, c.higher); !sameFloats(got, c.want) {
			t.Errorf("%s: BestSoFar(%v) = %v, want %v", c.name, c.in, got, c.want)
		}
	}
}

// tpeRuns is a tpe sweep of four trials with two seeds each, objective
// test_r2:
//
//	trial 1: done, R² 0.50 and 0.70        → 0.60
//	trial 2: pruned after 2 of 5 epochs, R² 0.20 and 0.30 → 0.25 (not final)
//	trial 3: done, R² 0.80, and one seed still running → 0.80 (n=1)
//	trial 4: done, R² 0.70 and 0.74 (one reused) → 0.72
//
// plus a grid-style run with Trial 0, left out of Trials.
func tpeRuns() []sweep.RunResult {
	var runs []sweep.RunResult
	add := func(trial int, lr float64, seed int64, st sweep.Status, epochs int, r2 float64) *sweep.RunResult {
		r, _ := run(settings(sweep.HeadClassify, 1, lr), seed, st, 0.9, r2)
		r.Trial, r.EpochsDone = trial, epochs
		runs = append(runs, r)
		return &runs[len(runs)-1]
	}
	add(1, 0.001, 1, sweep.StatusDone, 5, 0.50)
	add(1, 0.001, 2, sweep.StatusDone, 5, 0.70)
	add(2, 0.1, 1, sweep.StatusPruned, 2, 0.20)
	add(2, 0.1, 2, sweep.StatusPruned, 2, 0.30)
	add(3, 0.003, 1, sweep.StatusDone, 5, 0.80)
	add(3, 0.003, 2, sweep.StatusRunning, 3, 0.99)
	add(4, 0.002, 1, sweep.StatusDone, 5, 0.70)
	add(4, 0.002, 2, sweep.StatusDone, 5, 0.74).ReusedFrom = "3f2a9c1b7d6e5f4a"
	add(0, 0.0005, 1, sweep.StatusDone, 5, 0.10)
	return runs
}

func TestTrials(t *testing.T) {
	r2, _ := sweep.LookupMetric("test_r2")
	ts := Trials(tpeRuns(), r2)
	if len(ts) != 4 {
		t.Fatalf("%d trials, want 4: %+v", len(ts), ts)
	}
	want := []Trial{
		{Number: 1, Value: 0.60, N: 2, Runs: 2},
		{Number: 2, Value: 0.25, N: 2, Runs: 2, Pruned: true, Epoch: 2},
		{Number: 3, Value: 0.80, N: 1, Runs: 2},
		{Number: 4, Value: 0.72, N: 2, Runs: 2},
	}
	for i, w := range want {
		g := ts[i]
		if g.Number != w.Number || !near(g.Value, w.Value) || g.N != w.N || g.Runs != w.Runs || g.Pruned != w.Pruned || g.Epoch != w.Epoch {
			t.Errorf("trial %d = %+v, want %+v", i+1, g, w)
		}
	}
	// Best so far over the trials trained to the end (1, 3, 4):
	// 0.60, 0.80, 0.80.
	var vals []float64
	for _, tr := range ts {
		if !tr.Pruned {
			vals = append(vals, tr.Value)
		}
	}
	if got := BestSoFar(vals, r2.HigherIsBetter); !sameFloats(got, []float64{0.60, 0.80, 0.80}) {
		t.Errorf("best so far = %v", got)
	}
}

func TestPruningSavings(t *testing.T) {
	// Epochs of 5 each, 9 runs: full 45. Saved: trial 2's two runs stopped
	// after 2 of 5 → 3 + 3 = 6. The running run (3 of 5) saves nothing.
	saved, full := PruningSavings(tpeRuns())
	if saved != 6 || full != 45 {
		t.Errorf("PruningSavings = %d of %d, want 6 of 45", saved, full)
	}
	// 6/45 = 13.3% → "13%".
	if got, want := PruningText(saved, full), "pruning saved 6 of 45 epochs (13%)"; got != want {
		t.Errorf("PruningText = %q, want %q", got, want)
	}
	if got := PruningText(0, 0); got != "pruning saved 0 of 0 epochs (0%)" {
		t.Errorf("PruningText(0, 0) = %q", got)
	}
}

func TestStatusText(t *testing.T) {
	runs := tpeRuns()
	for i, want := range map[int]string{0: "done", 2: "pruned at epoch 2", 5: "running", 7: "done (reused from 3f2a9c1b…)"} {
		if got := StatusText(runs[i]); got != want {
			t.Errorf("StatusText(run %d) = %q, want %q", i, got, want)
		}
	}
	if n := Reused(runs); n != 1 {
		t.Errorf("Reused = %d, want 1", n)
	}
}

func TestGroupConfigsPruned(t *testing.T) {
	// A pruned configuration whose truncated R² (0.95) beats every final
	// one must not be ranked: its runs go to Stopped.
	var runs []sweep.RunResult
	for seed, st := range []sweep.Status{sweep.StatusPruned, sweep.StatusPruned, sweep.StatusDone} {
		r, _ := run(settings(sweep.HeadClassify, 10, 0.001), int64(seed+1), st, 0.9, 0.95)
		if st == sweep.StatusPruned {
			r.EpochsDone = 1 + seed // stopped after 1 and 2 epochs
		}
		runs = append(runs, r)
	}
	for seed := range 2 {
		r, _ := run(settings(sweep.HeadClassify, 1, 0.001), int64(seed+1), sweep.StatusDone, 0.9, 0.6)
		runs = append(runs, r)
	}
	cs := GroupConfigs(runs, []string{"sum_weight"})
	if len(cs) != 2 {
		t.Fatalf("%d configs", len(cs))
	}
	ok, pruned := cs[0], cs[1] // sum_weight 1, then 10
	if ok.Pruned() || len(ok.Runs) != 2 || len(ok.Stopped) != 0 {
		t.Errorf("done config: %+v", ok)
	}
	// The done seed of the pruned configuration is stopped too, not ranked;
	// PrunedAt is the last epoch a pruned run recorded: 2.
	if !pruned.Pruned() || pruned.PrunedAt != 2 || len(pruned.Runs) != 0 || len(pruned.Stopped) != 3 || pruned.Planned != 3 {
		t.Errorf("pruned config: pruned %v at %d, runs %d, stopped %d, planned %d", pruned.Pruned(), pruned.PrunedAt, len(pruned.Runs), len(pruned.Stopped), pruned.Planned)
	}
	best, _, found := BestWorst(cs, MetricR2)
	if !found || best.Key != ok.Key {
		t.Errorf("best = %q, want the done configuration", best.Label)
	}
	if r := WithRuns(cs); len(r) != 1 {
		t.Errorf("WithRuns kept %d configurations, want 1", len(r))
	}
}

func TestFindingsPruned(t *testing.T) {
	sd := SweepData{Info: sweep.SweepInfo{Name: "asha"}}
	r2s := map[float64][]float64{1: {0.60, 0.62}, 10: {0.30, 0.31}}
	for _, w := range []float64{1, 10} {
		for seed, v := range r2s[w] {
			st := sweep.StatusDone
			if w == 10 {
				st = sweep.StatusPruned
			}
			r, es := run(settings(sweep.HeadClassify, w, 0.001), int64(seed+1), st, 0.9, v, v)
			sd.Runs, sd.Epochs = append(sd.Runs, r), append(sd.Epochs, es...)
		}
	}
	all := texts(Findings(sd, MetricR2))
	for _, want := range []string{
		"1 configuration (2 runs) was pruned, stopped early by the sweep's pruning rule after epoch 1",
		"left out of every ranking",
		"The only configuration not pruned (sum_weight=1) reaches", // the pruned one is no rival
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	for _, bad := range []string{"preliminary", "pruned)", "failed"} {
		if strings.Contains(all, bad) {
			t.Errorf("findings say %q of a finished sweep with pruned runs:\n%s", bad, all)
		}
	}
}

func TestSearchProgress(t *testing.T) {
	// Trials 1, 3, 4 trained to the end, 2 pruned (values of tpeRuns).
	pts := []TrialPoint{{1, 0.60, false}, {2, 0.25, true}, {3, 0.80, false}, {4, 0.72, false}}
	p, err := SearchProgress("Objective by trial: test_r2", "test_r2 (higher is better)", pts, true)
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Objective by trial: test_r2", "trial (in the order the search made them)", "test_r2 (higher is better)")
	checkRange(t, p.X, "x", 1, 4)
	checkRange(t, p.Y, "y", 0.25, 0.80)
	texts := svgTexts(t, p)
	for _, want := range []string{"trial, trained to the end", "best so far", "× pruned (value when stopped)"} {
		if count(texts, want) != 1 {
			t.Errorf("legend %q drawn %d times; texts %q", want, count(texts, want), texts)
		}
	}
	if _, err := SearchProgress("t", "y", []TrialPoint{{1, math.NaN(), false}}, true); !errors.Is(err, ErrNoData) {
		t.Errorf("no finite trial: err %v, want ErrNoData", err)
	}
	// Only pruned trials: points, no best-so-far line.
	p, err = SearchProgress("t", "y", []TrialPoint{{1, 0.3, true}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if texts := svgTexts(t, p); count(texts, "best so far") != 0 || count(texts, "× pruned (value when stopped)") != 1 {
		t.Errorf("pruned-only legend: %q", texts)
	}
}

func TestLearningCurvesPruned(t *testing.T) {
	curves := demoCurves()
	curves[1].Stopped = true
	curves[1].Label = "head=regression (n=3)"
	p, err := LearningCurves("t", "y", curves, nil)
	if err != nil {
		t.Fatal(err)
	}
	if texts := svgTexts(t, p); count(texts, "× pruned") != 1 {
		t.Errorf("legend lacks one \"× pruned\": %q", texts)
	}
	p, err = LearningCurves("t", "y", demoCurves(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if texts := svgTexts(t, p); count(texts, "× pruned") != 0 {
		t.Errorf("no curve is pruned, yet the legend says so: %q", texts)
	}
}
