package search

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sweep"
	"sweep/pipeline"
)

// parseSearch parses a [tpe] sweep file.
func parseSearch(t *testing.T, src string) *sweep.Search {
	t.Helper()
	sw, err := pipeline.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return sw.Search
}

const hunt = `name = "hunt"
repeats = 2
[train]
momentum = 0.9
seed = 5
[tpe]
trials = 20
startup_trials = 4
objective = "test_r2"
lr = { log_uniform = [1e-4, 1e-1] }
sum_weight = { uniform = [0.1, 10] }
sum_hidden = { int_uniform = [0, 128] }
optimizer = { choice = ["adam", "sgd"] }
`

// done returns the runs of specs, finished with status and the test
// metrics m.
func done(specs []sweep.RunSpec, status sweep.Status, m sweep.SplitMetrics) []sweep.RunResult {
	var out []sweep.RunResult
	for _, r := range specs {
		out = append(out, sweep.RunResult{Sweep: r.Sweep, RunID: r.ID, Status: status, Settings: r.Settings, Trial: r.Trial, Final: m})
	}
	return out
}

// sweepBowl is a made-up objective with its best at lr 0.01, sum_weight 3:
// test_nll is the squared distance from there, test_r2 its negative.
func sweepBowl(s sweep.Settings) sweep.SplitMetrics {
	d := math.Pow(math.Log10(s.LR)+2, 2) + math.Pow((s.SumWeight-3)/3, 2)
	return sweep.SplitMetrics{SumR2: -d, DigitNLL: d}
}

// next calls Next, failing the test on an error.
func next(t *testing.T, name string, s *sweep.Search, runs []sweep.RunResult) []sweep.RunSpec {
	t.Helper()
	specs, err := Next(name, s, runs)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

// history makes n configurations with Next, each finished with sweepBowl's
// metrics.
func history(t *testing.T, name string, s *sweep.Search, n int) []sweep.RunResult {
	t.Helper()
	var runs []sweep.RunResult
	for range n {
		specs := next(t, name, s, runs)
		if specs == nil {
			t.Fatalf("Next made no configuration %d of %d", len(runs)/max(1, s.Repeats)+1, s.Trials)
		}
		runs = append(runs, done(specs, sweep.StatusDone, sweepBowl(specs[0].Settings))...)
	}
	return runs
}

func TestNextRunSpecs(t *testing.T) {
	s := parseSearch(t, hunt)
	runs := history(t, "hunt", s, 7) // past the 4 startup trials
	specs := next(t, "hunt", s, runs)
	if len(specs) != 2 {
		t.Fatalf("%d runs, want repeats = 2", len(specs))
	}
	for i, r := range specs {
		st := r.Settings
		if st.Seed != 5+int64(i) || r.Sweep != "hunt" || r.ID != sweep.RunID("hunt", st) || r.Trial != 8 {
			t.Errorf("run %d: seed %d sweep %q id %s trial %d", i, st.Seed, r.Sweep, r.ID, r.Trial)
		}
		if err := st.Validate(); err != nil {
			t.Errorf("run %d does not validate: %v", i, err)
		}
		if sweep.ConfigKey(st) != sweep.ConfigKey(specs[0].Settings) {
			t.Errorf("the repeats are not one configuration")
		}
	}
	// Every configuration so far: in range, rounded as [random] draws are,
	// momentum only for sgd, [train]'s values kept.
	for _, r := range append(runs, done(specs, sweep.StatusPending, sweep.SplitMetrics{})...) {
		st := r.Settings
		if st.LR < 1e-4 || st.LR > 1e-1 || st.SumWeight < 0.1 || st.SumWeight > 10 || st.SumHidden < 0 || st.SumHidden > 128 {
			t.Errorf("out of the space: %+v", st)
		}
		for _, v := range []float64{st.LR, st.SumWeight} {
			if v != pipeline.RoundDraw(v, 0, math.Inf(1)) {
				t.Errorf("%v is not rounded to %d significant digits", v, pipeline.SignificantDigits)
			}
		}
		if want := map[sweep.Optimizer]float64{sweep.OptimizerAdam: 0, sweep.OptimizerSGD: 0.9}[st.Optimizer]; st.Momentum != want {
			t.Errorf("%s with momentum %v, want %v", st.Optimizer, st.Momentum, want)
		}
		if st.Epochs != 3 || st.Head != sweep.HeadClassify {
			t.Errorf("base settings lost: %+v", st)
		}
	}
}

func TestNextDeterministic(t *testing.T) {
	s := parseSearch(t, hunt)
	runs := history(t, "hunt", s, 6)
	a, errA := Next("hunt", s, runs)
	b, errB := Next("hunt", s, runs)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("the same history gave\n%+v\n%+v", a, b)
	}
	// The order the store lists runs in does not matter: trials are
	// ordered by their Trial numbers.
	reversed := slices.Clone(runs)
	slices.Reverse(reversed)
	if c, _ := Next("hunt", s, reversed); !reflect.DeepEqual(c, a) {
		t.Error("the same runs in another order gave another suggestion")
	}
	// The same history again from scratch: the same sweep.
	if again := history(t, "hunt", s, 6); !reflect.DeepEqual(again, runs) {
		t.Error("the same sweep made other configurations")
	}
	if c, _ := Next("hunt2", s, runs); sweep.ConfigKey(c[0].Settings) == sweep.ConfigKey(a[0].Settings) {
		t.Error("another sweep name suggested the same configuration")
	}
	other := *s
	other.Base.Seed = 6
	if c, _ := Next("hunt", &other, runs); sweep.ConfigKey(c[0].Settings) == sweep.ConfigKey(a[0].Settings) {
		t.Error("another sweep seed suggested the same configuration")
	}
}

// TestNextTwoWorkers simulates two workers sharing one search, each
// asking for a configuration while the other's still trains: the sweep
// ends with exactly trials configurations, none twice, numbered in order.
func TestNextTwoWorkers(t *testing.T) {
	for _, tt := range []struct{ name, sweep, src string }{
		{"continuous space", "hunt", hunt},
		// 3 adam + 3 × 2 sgd configurations in all (momentum counts once
		// for adam): the last ones are found by redrawing duplicates.
		{"every configuration of a small space", "small", `name = "small"
[tpe]
trials = 9
startup_trials = 2
objective = "test_nll"
sum_hidden = { choice = [0, 32, 64] }
optimizer = { choice = ["adam", "sgd"] }
momentum = { choice = [0.5, 0.9] }
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSearch(t, tt.src)
			name := tt.sweep
			var runs []sweep.RunResult
			current := [2][]int{} // indices in runs of each worker's configuration
			for step := 0; ; step++ {
				w := step % 2
				// The worker finishes what it trains, then asks for more
				// while the other worker's configuration is still running.
				for _, i := range current[w] {
					runs[i].Status, runs[i].Final = sweep.StatusDone, sweepBowl(runs[i].Settings)
				}
				current[w] = nil
				specs := next(t, name, s, runs)
				if specs == nil {
					break
				}
				for _, r := range done(specs, sweep.StatusRunning, sweep.SplitMetrics{}) {
					current[w] = append(current[w], len(runs))
					runs = append(runs, r)
				}
				if step > 10*s.Trials {
					t.Fatal("the search does not end")
				}
			}
			keys := map[string]bool{}
			for _, c := range groupConfigs(runs) {
				if keys[c.key] {
					t.Errorf("configuration %s made twice", c.key)
				}
				keys[c.key] = true
				if c.trial != len(keys) || len(c.runs) != max(1, s.Repeats) {
					t.Errorf("configuration %d has trial %d and %d runs", len(keys), c.trial, len(c.runs))
				}
			}
			if len(keys) != s.Trials {
				t.Errorf("%d configurations, want exactly %d", len(keys), s.Trials)
			}
		})
	}
}

func TestNextConstantLiar(t *testing.T) {
	s := parseSearch(t, hunt)
	runs := history(t, "hunt", s, 6)
	// set returns runs with the last configuration's two runs in status,
	// with metrics m.
	set := func(status sweep.Status, m sweep.SplitMetrics) []sweep.RunResult {
		out := append([]sweep.RunResult(nil), runs...)
		for i := len(out) - 2; i < len(out); i++ {
			out[i].Status, out[i].Final = status, m
		}
		return out
	}
	worst := math.Inf(1)
	for _, r := range runs[:len(runs)-2] {
		worst = min(worst, r.Final.SumR2)
	}
	// A configuration still training counts as the worst value seen...
	running, _ := Next("hunt", s, set(sweep.StatusRunning, sweep.SplitMetrics{}))
	liar, _ := Next("hunt", s, set(sweep.StatusDone, sweep.SplitMetrics{SumR2: worst}))
	if !reflect.DeepEqual(running, liar) {
		t.Errorf("a running configuration does not count as the worst value:\n%+v\n%+v", running, liar)
	}
	// ...not as the 0 its missing results would average to (better than
	// every finished one: sweepBowl's test_r2 is negative), which would draw
	// the search to it.
	zero, _ := Next("hunt", s, set(sweep.StatusDone, sweep.SplitMetrics{}))
	if reflect.DeepEqual(running, zero) {
		t.Error("a running configuration counts as its (empty) mean")
	}

	// Not finished: pending, running, failed, interrupted; finished: done
	// and pruned, both averaged.
	c := &configRuns{runs: set(sweep.StatusDone, sweep.SplitMetrics{})[len(runs)-2:]}
	for _, st := range []sweep.Status{sweep.StatusPending, sweep.StatusRunning, sweep.StatusFailed, sweep.StatusInterrupted} {
		c.runs[1].Status = st
		if tr := c.trialOf(s); !tr.Running {
			t.Errorf("a configuration with a run %s is not Running", st)
		}
	}
	c.runs[0].Status, c.runs[0].Final.SumR2 = sweep.StatusDone, 0.5
	c.runs[1].Status, c.runs[1].Final.SumR2 = sweep.StatusPruned, 0.25
	if tr := c.trialOf(s); tr.Running || tr.Value != 0.375 {
		t.Errorf("done 0.5 and pruned 0.25: %+v, want value 0.375, not running", tr)
	}
}

// TestNextDirection checks that the objective's direction steers the
// search: minimising test_nll and maximising test_r2 of the same sweepBowl
// both move towards its best point once the model takes over; maximising
// test_nll moves away.
func TestNextDirection(t *testing.T) {
	nll, _ := sweep.LookupMetric("test_nll")
	r2, _ := sweep.LookupMetric("test_r2")
	wrong := sweep.Metric{Name: "test_nll", HigherIsBetter: true}
	for _, tt := range []struct {
		objective sweep.Metric
		toward    bool
	}{{nll, true}, {r2, true}, {wrong, false}} {
		s := parseSearch(t, strings.Replace(hunt, "trials = 20", "trials = 40", 1))
		s.Objective = tt.objective
		runs := history(t, "hunt", s, s.Trials)
		dist := func(rs []sweep.RunResult) float64 {
			sum := 0.0
			for _, r := range rs {
				sum += sweepBowl(r.Settings).DigitNLL
			}
			return sum / float64(len(rs))
		}
		startup, model := dist(runs[:2*s.StartupTrials]), dist(runs[len(runs)-20:])
		t.Logf("%v: mean squared distance to the best %.3g at startup, %.3g over the last 10 trials", tt.objective, startup, model)
		if toward := model < startup/2; toward != tt.toward {
			t.Errorf("%v: moves towards the best: %v, want %v", tt.objective, toward, tt.toward)
		}
	}
}

func TestNextEnds(t *testing.T) {
	s := parseSearch(t, strings.Replace(hunt, "trials = 20", "trials = 3", 1))
	runs := history(t, "hunt", s, 3)
	if specs, err := Next("hunt", s, runs); specs != nil || err != nil {
		t.Errorf("after trials configurations: %v, %v; want nil, nil", specs, err)
	}
	// A space the sweep has used up (here: trials raised by hand past it)
	// is an error naming the sweep.
	small := parseSearch(t, "name = \"tiny\"\n[tpe]\ntrials = 2\nobjective = \"test_r2\"\nhead = { choice = [\"regression\", \"classify\"] }\n")
	small.Trials = 3
	_, err := Next("tiny", small, history(t, "tiny", small, 2))
	if err == nil || !strings.Contains(err.Error(), `sweep "tiny"`) {
		t.Errorf("used-up space: %v", err)
	}
}

// Pruning decisions.

// pruneCase is a sweep's runs and epochs for Judge.
type pruneCase struct {
	runs   []sweep.RunResult
	epochs []sweep.EpochResult
}

// config adds the runs of one configuration (lr tells them apart), one per
// list of values: a seed's test_r2 and test_nll at epochs 1, 2, ….
func (pc *pruneCase) config(lr float64, epochs int, values ...[]float64) string {
	st := sweep.Settings{Head: sweep.HeadClassify, Optimizer: sweep.OptimizerAdam, DigitWeight: 1, SumWeight: 1, LR: lr, BatchSize: 64, Epochs: epochs}
	for seed, vs := range values {
		st.Seed = int64(seed + 1)
		id := sweep.RunID("p", st)
		pc.runs = append(pc.runs, sweep.RunResult{Sweep: "p", RunID: id, Status: sweep.StatusRunning, Settings: st})
		for e, v := range vs {
			m := sweep.SplitMetrics{SumR2: v, DigitNLL: v}
			pc.epochs = append(pc.epochs,
				sweep.EpochResult{Sweep: "p", RunID: id, Epoch: e + 1, Split: "train", Metrics: sweep.SplitMetrics{SumR2: 99, DigitNLL: -99}},
				sweep.EpochResult{Sweep: "p", RunID: id, Epoch: e + 1, Split: "test", Metrics: m})
		}
	}
	return sweep.ConfigKey(st)
}

// TestJudgeASHA is a hand-computed ASHA rung with 2 seeds per
// configuration: η = 3, rungs at epochs 1 and 3 of 9. At epoch 1:
//
//	A: 0.80, 0.82   mean 0.81
//	B: 0.70, 0.74   mean 0.72, s = 0.02828, SE = 0.02
//	C: 0.60, 0.90   mean 0.75, s = 0.2121,  SE = 0.15
//
// Three configurations, ⌊3/3⌋ = 1 goes on: the cut is the best mean, 0.81.
// B is worse by 0.09 > 0.02: paused. C is worse by 0.06 < 0.15: goes on (a
// single-seed rule would stop it on its 0.60). A is the cut: goes on.
func TestJudgeASHA(t *testing.T) {
	p := &sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 3}
	var pc pruneCase
	a := pc.config(0.1, 9, []float64{0.80, 0.5}, []float64{0.82, 0.5})
	b := pc.config(0.2, 9, []float64{0.70, 0.5}, []float64{0.74, 0.5})
	c := pc.config(0.3, 9, []float64{0.60, 0.5}, []float64{0.90, 0.5})
	for _, tt := range []struct {
		config string
		want   Verdict
	}{{a, Go}, {b, Pause}, {c, Go}} {
		v, reason := Judge(p, tt.config, 1, pc.runs, pc.epochs)
		if v != tt.want {
			t.Errorf("config %s: verdict %v (%s), want %v", tt.config, v, reason, tt.want)
		}
		if v == Pause && !strings.Contains(reason, "paused at epoch 1, compared with 2 other configurations: asha cut 0.81: seed-mean 0.72 (n=2) is worse by 0.09, more than its standard error 0.02") {
			t.Errorf("reason %q", reason)
		}
		if v == Go && reason != "" {
			t.Errorf("goes on with reason %q", reason)
		}
	}
	// Epoch 2 is not a rung; epoch 9 is the last, never one.
	for _, e := range []int{2, 9} {
		if v, _ := Judge(p, b, e, pc.runs, pc.epochs); v != Go {
			t.Errorf("epoch %d: verdict %v, but it is not a rung", e, v)
		}
	}
	// No [prune] and an unknown configuration decide nothing.
	if v, _ := Judge(nil, b, 1, pc.runs, pc.epochs); v != Go {
		t.Error("a verdict without a rule")
	}
	if v, _ := Judge(p, "nope", 1, pc.runs, pc.epochs); v != Go {
		t.Error("a verdict for a configuration without runs")
	}
}

// TestASHAPausesAndPromotes: with fewer than η configurations at a rung
// none goes on; each waits, and is promoted once enough have arrived for
// it to be among the best ⌊n/η⌋, or at the end (final) if it is the best.
// η = 2, rung at epoch 1 of 4, one seed each: A 0.5 arrives alone
// (⌊1/2⌋ = 0: paused); B 0.9 arrives (⌊2/2⌋ = 1, B is the best: goes on;
// A is not among the best 1: stays paused); C 0.7 (⌊3/2⌋ = 1: paused);
// D 0.8 (⌊4/2⌋ = 2: the cut is 0.8, D goes on, and C, held, is still
// below it). At the end only B and D went on; final promotes none of the
// held A and C since the best ⌊4/2⌋ = 2 are B and D.
func TestASHAPausesAndPromotes(t *testing.T) {
	p := &sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 2}
	var pc pruneCase
	hold := func(key string) {
		for i := range pc.runs {
			if sweep.ConfigKey(pc.runs[i].Settings) == key {
				pc.runs[i].Status, pc.runs[i].HoldEpoch = sweep.StatusPending, 1
			}
		}
	}
	a := pc.config(0.1, 4, []float64{0.5})
	if v, reason := Judge(p, a, 1, pc.runs, pc.epochs); v != Pause || !strings.Contains(reason, "fewer than η = 2") {
		t.Fatalf("A alone: %v %q, want paused", v, reason)
	}
	hold(a)
	if got := Promotable(p, 1, pc.runs, pc.epochs, false); len(got) != 0 {
		t.Errorf("A promoted alone: %v", got)
	}
	if got := Promotable(p, 1, pc.runs, pc.epochs, true); !slices.Equal(got, []string{a}) {
		t.Errorf("final with A alone: %v, want A (the best of one)", got)
	}
	b := pc.config(0.2, 4, []float64{0.9})
	if v, _ := Judge(p, b, 1, pc.runs, pc.epochs); v != Go {
		t.Errorf("B: %v, want it to go on", v)
	}
	c := pc.config(0.3, 4, []float64{0.7})
	if v, _ := Judge(p, c, 1, pc.runs, pc.epochs); v != Pause {
		t.Errorf("C: %v, want paused", v)
	}
	hold(c)
	d := pc.config(0.4, 4, []float64{0.8})
	if v, _ := Judge(p, d, 1, pc.runs, pc.epochs); v != Go {
		t.Errorf("D: %v, want it to go on", v)
	}
	if got := Promotable(p, 1, pc.runs, pc.epochs, true); len(got) != 0 {
		t.Errorf("promoted %v at the end, want none", got)
	}
	// Were C at 0.85 instead, D's arrival would promote it: ⌊4/2⌋ = 2 and
	// C is second best.
	for i := range pc.epochs {
		if pc.epochs[i].Split == "test" && pc.epochs[i].RunID == pc.runs[2].RunID {
			pc.epochs[i].Metrics.SumR2 = 0.85
		}
	}
	if got := Promotable(p, 1, pc.runs, pc.epochs, false); !slices.Equal(got, []string{c}) {
		t.Errorf("promoted %v, want C", got)
	}
}

// TestJudgeReadiness: the last repeat to reach a rung decides, and only
// configurations all of whose runs reached it are compared.
func TestJudgeReadiness(t *testing.T) {
	p := &sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 2}
	var pc pruneCase
	pc.config(0.1, 4, []float64{0.9}, []float64{0.9})
	bad := pc.config(0.2, 4, []float64{0.1}, []float64{}) // its second seed has not reached epoch 1
	pc.config(0.3, 4, []float64{0.2}, []float64{})        // nor has this one's: not compared
	if v, _ := Judge(p, bad, 1, pc.runs, pc.epochs); v != Wait {
		t.Errorf("verdict %v before the configuration's last repeat reached the rung, want Wait", v)
	}
	// bad's second seed arrives: it decides, compared with the complete
	// configuration alone: of 2, the best 1 goes on, the cut is 0.9.
	pc.epochs = append(pc.epochs, sweep.EpochResult{RunID: pc.runs[3].RunID, Epoch: 1, Split: "test", Metrics: sweep.SplitMetrics{SumR2: 0.1}})
	v, reason := Judge(p, bad, 1, pc.runs, pc.epochs)
	if v != Pause || !strings.Contains(reason, "epoch 1, compared with 1 other configuration: asha cut 0.9:") {
		t.Errorf("verdict %v reason %q", v, reason)
	}

	// Runs that stopped before a rung (pruned or failed) keep their
	// configuration out of it, however good it was earlier: at epoch 2, x
	// is compared with y alone, not with z.
	var pc2 pruneCase
	x := pc2.config(0.1, 4, []float64{0.5, 0.3}, []float64{0.5, 0.3})
	pc2.config(0.2, 4, []float64{0.6, 0.8}, []float64{0.6, 0.8})
	pc2.config(0.3, 4, []float64{0.95}, []float64{0.95})
	pc2.runs[4].Status, pc2.runs[5].Status = sweep.StatusPruned, sweep.StatusFailed
	v, reason = Judge(p, x, 2, pc2.runs, pc2.epochs)
	if v != Pause || !strings.Contains(reason, "epoch 2, compared with 1 other configuration: asha cut 0.8:") {
		t.Errorf("rung 2: verdict %v reason %q", v, reason)
	}
}

// TestPruneDecisionMedianLowerIsBetter: test_nll, lower is better. The
// median rule compares with the median of the others' seed-means.
//
//	A: 0.10, 0.10   B: 0.20, 0.20   C: 0.50, 0.52 (mean 0.51, SE 0.01)
//
// For C the others' median is 0.15: 0.36 worse, more than 0.01: stopped.
// For A it is (0.2 + 0.51)/2: A is better, kept.
func TestJudgeMedianLowerIsBetter(t *testing.T) {
	nll, _ := sweep.LookupMetric("test_nll")
	p := &sweep.Prune{Method: "median", Metric: nll, MinEpochs: 1}
	var pc pruneCase
	a := pc.config(0.1, 3, []float64{0.10}, []float64{0.10})
	pc.config(0.2, 3, []float64{0.20}, []float64{0.20})
	c := pc.config(0.3, 3, []float64{0.50}, []float64{0.52})
	if v, reason := Judge(p, c, 1, pc.runs, pc.epochs); v != Stop || !strings.Contains(reason, "median cut 0.15: seed-mean 0.51") {
		t.Errorf("C: %v %q, want stopped", v, reason)
	}
	if v, _ := Judge(p, a, 1, pc.runs, pc.epochs); v != Go {
		t.Error("A, the lowest test_nll, stopped")
	}
	// Read the other way round (higher is better), A would stop.
	p.Metric.HigherIsBetter = true
	if v, _ := Judge(p, a, 1, pc.runs, pc.epochs); v != Stop {
		t.Error("with higher is better, A should stop")
	}
}
