package reports

import (
	"math"
	"slices"
	"testing"

	"sweep"
)

// Hand-made data: every expected number below is computed by hand in the
// comments next to it.

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func settings(head sweep.Head, sumWeight, lr float64) sweep.Settings {
	s := baseSettings()
	s.Head, s.SumWeight, s.LR = head, sumWeight, lr
	return s
}

// run is one hand-made run whose final test metrics are r2 and acc, with
// epochs giving per-epoch test R² (and train R² = test − 0.1).
func run(s sweep.Settings, seed int64, st sweep.Status, acc, r2 float64, epochR2 ...float64) (sweep.RunResult, []sweep.EpochResult) {
	s.Seed = seed
	id := sweep.RunID("t", s)
	r := sweep.RunResult{Sweep: "t", RunID: id, Status: st, Settings: s, EpochsDone: len(epochR2)}
	if len(epochR2) == 0 && st == sweep.StatusDone {
		r.EpochsDone = s.Epochs
	}
	r.Final = sweep.SplitMetrics{DigitAccuracy: acc, SumR2: r2, SumAccuracy: acc / 2, DigitNLL: 1 - acc, SumMSE: (1 - r2) * 16.5, SumNLL: math.NaN()}
	var es []sweep.EpochResult
	for i, v := range epochR2 {
		es = append(es,
			sweep.EpochResult{Sweep: "t", RunID: id, Epoch: i + 1, Split: "test", Metrics: sweep.SplitMetrics{SumR2: v, DigitAccuracy: acc}},
			sweep.EpochResult{Sweep: "t", RunID: id, Epoch: i + 1, Split: "train", Metrics: sweep.SplitMetrics{SumR2: v - 0.1, DigitAccuracy: acc}})
	}
	return r, es
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4})
	// mean 2.5; squared deviations 2.25+0.25+0.25+2.25 = 5; var 5/3.
	if s.N != 4 || !near(s.Mean, 2.5) || !near(s.Std, math.Sqrt(5.0/3)) || s.Min != 1 || s.Max != 4 {
		t.Errorf("Summarize(1..4) = %+v", s)
	}
	s = Summarize([]float64{0.5, math.NaN(), 1.5, math.Inf(1)})
	// finite 0.5, 1.5: mean 1, var ((0.5)²+(0.5)²)/1 = 0.5.
	if s.N != 2 || s.NonFinite != 2 || !near(s.Mean, 1) || !near(s.Std, math.Sqrt(0.5)) || s.Min != 0.5 || s.Max != 1.5 {
		t.Errorf("Summarize with NaN/Inf = %+v", s)
	}
	s = Summarize([]float64{0.7})
	if s.N != 1 || s.Mean != 0.7 || !math.IsNaN(s.Std) || s.Min != 0.7 || s.Max != 0.7 {
		t.Errorf("Summarize(one) = %+v, want std NaN", s)
	}
	s = Summarize(nil)
	if s.N != 0 || !math.IsNaN(s.Mean) || !math.IsNaN(s.Min) {
		t.Errorf("Summarize(nil) = %+v", s)
	}
}

func TestVaryingSettings(t *testing.T) {
	a := settings(sweep.HeadRegression, 1, 0.001)
	b := settings(sweep.HeadClassify, 1, 0.0010) // same lr written differently
	c := a
	c.Seed = 99     // the seed is never a setting
	c.TrainSize = 0 // 0 means all 60,000 …
	d := a
	d.TrainSize = sweep.TrainImages // … so this is the same train_size
	got := VaryingSettings([]sweep.Settings{a, b, c, d})
	if !slices.Equal(got, []string{"head"}) {
		t.Errorf("VaryingSettings = %v, want [head]", got)
	}
	e := settings(sweep.HeadRegression, 10, 0.01)
	got = VaryingSettings([]sweep.Settings{a, b, e})
	if !slices.Equal(got, []string{"head", "sum_weight", "lr"}) {
		t.Errorf("VaryingSettings = %v, want [head sum_weight lr] in display order", got)
	}
	if got := VaryingSettings([]sweep.Settings{a}); len(got) != 0 {
		t.Errorf("one run varies %v", got)
	}
	if got := VaryingSettings(nil); len(got) != 0 {
		t.Errorf("no runs vary %v", got)
	}
}

func TestSettingValuesNumericOrder(t *testing.T) {
	var ss []sweep.Settings
	for _, w := range []float64{10, 0.1, 1, 0.1, 2.5} {
		ss = append(ss, settings(sweep.HeadClassify, w, 0.001))
	}
	if got := SettingValues(ss, "sum_weight"); !slices.Equal(got, []string{"0.1", "1", "2.5", "10"}) {
		t.Errorf("SettingValues = %v, want numeric order", got)
	}
}

// twoConfigs: regression (seeds 1–3, one failed) and classify (seeds 1–3,
// one pending), with per-epoch R² for the learning curves.
func twoConfigs() ([]sweep.RunResult, []sweep.EpochResult) {
	reg := settings(sweep.HeadRegression, 1, 0.001)
	cls := settings(sweep.HeadClassify, 1, 0.001)
	var runs []sweep.RunResult
	var eps []sweep.EpochResult
	add := func(r sweep.RunResult, e []sweep.EpochResult) {
		runs = append(runs, r)
		eps = append(eps, e...)
	}
	add(run(reg, 1, sweep.StatusDone, 0.97, 0.06, 0.02, 0.06))
	add(run(reg, 2, sweep.StatusDone, 0.98, 0.10, 0.04, 0.10))
	add(run(reg, 3, sweep.StatusFailed, 0.50, -3, 0.01))
	add(run(cls, 3, sweep.StatusDone, 0.99, 0.92, 0.70, 0.92))
	add(run(cls, 1, sweep.StatusDone, 0.99, 0.90, 0.60, 0.90))
	add(run(cls, 2, sweep.StatusPending, 0, 0))
	return runs, eps
}

func TestGroupConfigs(t *testing.T) {
	runs, _ := twoConfigs()
	varying := VaryingSettings(RunSettings(runs))
	cs := GroupConfigs(runs, varying)
	if len(cs) != 2 {
		t.Fatalf("got %d configs, want 2", len(cs))
	}
	// "classify" sorts before "regression".
	cls, reg := cs[0], cs[1]
	if cls.Label != "head=classify" || reg.Label != "head=regression" {
		t.Fatalf("labels %q, %q", cls.Label, reg.Label)
	}
	if cls.Planned != 3 || len(cls.Runs) != 2 || reg.Planned != 3 || len(reg.Runs) != 2 {
		t.Errorf("planned/finished: classify %d/%d, regression %d/%d; want 3/2 each",
			cls.Planned, len(cls.Runs), reg.Planned, len(reg.Runs))
	}
	if got := cls.Seeds(); !slices.Equal(got, []int64{1, 3}) {
		t.Errorf("classify seeds %v, want [1 3] (sorted, pending left out)", got)
	}
	if cls.Key != sweep.ConfigKey(cls.Settings) {
		t.Errorf("key mismatch")
	}
	// regression finished R²: 0.06, 0.10 → mean 0.08, std sqrt(2·0.02²/1) = 0.028284…
	s := reg.Final(MetricR2)
	if s.N != 2 || !near(s.Mean, 0.08) || !near(s.Std, math.Sqrt(0.0008)) || s.Min != 0.06 || s.Max != 0.10 {
		t.Errorf("regression R² stats %+v", s)
	}
	// failed run's R² of −3 must not enter: classify R² 0.90, 0.92 → mean 0.91.
	if s := cls.Final(MetricR2); !near(s.Mean, 0.91) {
		t.Errorf("classify R² mean %v, want 0.91", s.Mean)
	}
	if s := reg.Final(MetricAccuracy); !near(s.Mean, 0.975) {
		t.Errorf("regression accuracy mean %v, want 0.975", s.Mean)
	}
	if got := Label(reg.Settings, nil); got != "all runs" {
		t.Errorf("Label with nothing varying = %q", got)
	}
}

func TestRankBestWorst(t *testing.T) {
	runs, _ := twoConfigs()
	// A third configuration whose only run is pending: no finite mean.
	r, _ := run(settings(sweep.HeadClassify, 10, 0.001), 1, sweep.StatusPending, 0, 0)
	runs = append(runs, r)
	cs := GroupConfigs(runs, VaryingSettings(RunSettings(runs)))
	ranked := Rank(cs, MetricR2)
	if ranked[0].Label != "head=classify sum_weight=1" || ranked[1].Label != "head=regression sum_weight=1" || len(ranked[2].Runs) != 0 {
		t.Errorf("rank by R²: %q, %q, %q", ranked[0].Label, ranked[1].Label, ranked[2].Label)
	}
	best, worst, ok := BestWorst(cs, MetricR2)
	if !ok || best.Settings.Head != sweep.HeadClassify || worst.Settings.Head != sweep.HeadRegression {
		t.Errorf("best/worst by R²: %q/%q ok=%v", best.Label, worst.Label, ok)
	}
	// MSE is lower-is-better: (1−0.91)·16.5 for classify < (1−0.08)·16.5.
	best, worst, _ = BestWorst(cs, MetricMSE)
	if best.Settings.Head != sweep.HeadClassify || worst.Settings.Head != sweep.HeadRegression {
		t.Errorf("best/worst by MSE: %q/%q", best.Label, worst.Label)
	}
	// Digit NLL = 1 − acc: regression 0.025 mean vs classify 0.01 → classify best.
	if best, _, _ := BestWorst(cs, MetricNLL); best.Settings.Head != sweep.HeadClassify {
		t.Errorf("best by NLL %q", best.Label)
	}
	if _, _, ok := BestWorst(nil, MetricR2); ok {
		t.Errorf("BestWorst(nil) ok")
	}
	one := WithRuns(cs)[:1]
	b, w, ok := BestWorst(one, MetricR2)
	if !ok || b.Key != w.Key {
		t.Errorf("single config: best and worst should be the same")
	}
}

func TestConfigCurveAndAtEpoch(t *testing.T) {
	runs, eps := twoConfigs()
	cs := GroupConfigs(runs, []string{"head"})
	idx := IndexEpochs(eps)
	r2 := func(s sweep.SplitMetrics) float64 { return s.SumR2 }
	cls := cs[0]
	got := ConfigCurve(cls, idx, "test", r2)
	// epoch 1: 0.70, 0.60 → mean 0.65, min 0.60, max 0.70; epoch 2: 0.92, 0.90 → 0.91.
	if len(got) != 2 || got[0].Epoch != 1 || !near(got[0].Mean, 0.65) || got[0].Min != 0.60 || got[0].Max != 0.70 ||
		got[1].Epoch != 2 || !near(got[1].Mean, 0.91) || got[1].N != 2 {
		t.Errorf("classify test curve %+v", got)
	}
	train := ConfigCurve(cls, idx, "train", r2)
	if !near(train[0].Mean, 0.55) {
		t.Errorf("train curve epoch 1 mean %v, want 0.55", train[0].Mean)
	}
	// regression: the failed run's epoch (0.01) must not enter; 0.02, 0.04 → 0.03.
	reg := ConfigCurve(cs[1], idx, "test", r2)
	if !near(reg[0].Mean, 0.03) || reg[0].N != 2 {
		t.Errorf("regression epoch 1 %+v, want mean 0.03 over 2", reg[0])
	}
	if s := AtEpoch(cls, idx, 2, r2); !near(s.Mean, 0.91) || s.N != 2 {
		t.Errorf("AtEpoch(2) %+v", s)
	}
	if s := AtEpoch(cls, idx, 7, r2); s.N != 0 {
		t.Errorf("AtEpoch(7) should be empty, got %+v", s)
	}
}

func TestJudge(t *testing.T) {
	a := Summarize([]float64{0.90, 0.91, 0.92}) // std 0.01
	b := Summarize([]float64{0.06, 0.07, 0.08}) // std 0.01
	// pooled std = sqrt((2·0.0001 + 2·0.0001)/4) = 0.01
	if p := PooledStd(a, b); !near(p, 0.01) {
		t.Errorf("pooled std %v, want 0.01", p)
	}
	if v := Judge(a, b); v != Clear {
		t.Errorf("0.91 vs 0.07 with std 0.01: %v, want clear", v)
	}
	// Means 0.6 vs 0.5733: difference 0.0267 < 2 × pooled (~0.09), ranges overlap.
	c := Summarize([]float64{0.50, 0.60, 0.70})
	d := Summarize([]float64{0.48, 0.58, 0.66})
	if v := Judge(c, d); v != WithinNoise {
		t.Errorf("overlapping groups: %v, want within noise", v)
	}
	// Ranges do not overlap but the difference is below 2 × pooled std:
	// {0, 1} vs {1.1, 2.1}: diff 1.1, pooled std 0.7071 → 2× = 1.41.
	if v := Judge(Summarize([]float64{0, 1}), Summarize([]float64{1.1, 2.1})); v != WithinNoise {
		t.Errorf("large spread: %v, want within noise", v)
	}
	// n = 1 on a side: no spread, whatever the difference.
	if v := Judge(Summarize([]float64{0.9}), b); v != NoSpread {
		t.Errorf("n=1: %v, want no spread", v)
	}
	if !math.IsNaN(PooledStd(Summarize([]float64{0.9}), b)) {
		t.Errorf("pooled std with n=1 should be NaN")
	}
}

func TestCompareSetting(t *testing.T) {
	var runs []sweep.RunResult
	add := func(s sweep.Settings, vals ...float64) {
		for i, v := range vals {
			r, _ := run(s, int64(i+1), sweep.StatusDone, 0.98, v)
			runs = append(runs, r)
		}
	}
	add(settings(sweep.HeadRegression, 0.1, 0.001), 0.05, 0.06, 0.07)
	add(settings(sweep.HeadRegression, 10, 0.001), 0.20, 0.21, 0.22) // best regression
	add(settings(sweep.HeadClassify, 0.1, 0.001), 0.70, 0.71, 0.72)
	add(settings(sweep.HeadClassify, 10, 0.001), 0.90, 0.91, 0.92) // best classify
	cs := GroupConfigs(runs, VaryingSettings(RunSettings(runs)))
	c, ok := CompareSetting(cs, "head", MetricR2)
	if !ok {
		t.Fatal("no comparison")
	}
	if c.Winner != "classify" || c.RunnerUp != "regression" || !near(c.Diff, 0.91-0.21) || c.Verdict != Clear || c.Values != 2 {
		t.Errorf("head comparison %+v", c)
	}
	if c.A.Label != "head=classify sum_weight=10" || c.B.Label != "head=regression sum_weight=10" {
		t.Errorf("compared %q with %q, want the best configuration of each head", c.A.Label, c.B.Label)
	}
	c, _ = CompareSetting(cs, "sum_weight", MetricR2)
	if c.Winner != "10" || c.RunnerUp != "0.1" {
		t.Errorf("sum_weight comparison %s vs %s", c.Winner, c.RunnerUp)
	}
	if _, ok := CompareSetting(cs, "lr", MetricR2); ok {
		t.Errorf("lr does not vary: no comparison expected")
	}
}

func TestEffectValuesAndPairGrid(t *testing.T) {
	var runs []sweep.RunResult
	add := func(s sweep.Settings, vals ...float64) {
		for i, v := range vals {
			r, _ := run(s, int64(i+1), sweep.StatusDone, 0.98, v)
			runs = append(runs, r)
		}
	}
	add(settings(sweep.HeadRegression, 1, 0.001), 0.1, 0.3)
	add(settings(sweep.HeadRegression, 1, 0.01), 0.5)
	add(settings(sweep.HeadClassify, 1, 0.001), 0.8, 0.9)
	add(settings(sweep.HeadClassify, 10, 0.01), 0.7)
	failed, _ := run(settings(sweep.HeadClassify, 10, 0.001), 1, sweep.StatusFailed, 0, -5)
	runs = append(runs, failed)
	cs := GroupConfigs(runs, VaryingSettings(RunSettings(runs)))

	eff := EffectValues(cs, "head", "", MetricR2)
	if len(eff) != 2 || eff[0].Value != "classify" || eff[1].Value != "regression" {
		t.Fatalf("effect groups %+v", eff)
	}
	got := append([]float64(nil), eff[0].Values...)
	slices.Sort(got)
	if !slices.Equal(got, []float64{0.7, 0.8, 0.9}) {
		t.Errorf("classify values %v, want 0.7 0.8 0.9 (failed run left out)", got)
	}
	if eff[0].Kinds != nil {
		t.Errorf("kinds without by: %v", eff[0].Kinds)
	}
	eff = EffectValues(cs, "lr", "head", MetricR2)
	// lr=0.001: regression 0.1, 0.3 and classify 0.8, 0.9 (config order: classify first).
	if len(eff) != 2 || eff[0].Value != "0.001" || len(eff[0].Values) != 4 ||
		!slices.Equal(eff[0].Kinds, []string{"head=classify", "head=classify", "head=regression", "head=regression"}) {
		t.Errorf("lr by head: %+v", eff)
	}

	g := PairGrid(cs, "lr", "head", MetricR2)
	if !slices.Equal(g.XValues, []string{"0.001", "0.01"}) || !slices.Equal(g.YValues, []string{"classify", "regression"}) {
		t.Fatalf("grid axes %v × %v", g.XValues, g.YValues)
	}
	// classify×0.001: (0.8+0.9)/2 = 0.85; classify×0.01: 0.7;
	// regression×0.001: (0.1+0.3)/2 = 0.2; regression×0.01: 0.5.
	want := [][]float64{{0.85, 0.7}, {0.2, 0.5}}
	for j := range want {
		for i := range want[j] {
			if !near(g.Values[j][i], want[j][i]) {
				t.Errorf("cell (%s, %s) = %v, want %v", g.XValues[i], g.YValues[j], g.Values[j][i], want[j][i])
			}
		}
	}
	if g.N[0][0] != 2 || g.N[1][1] != 1 {
		t.Errorf("cell counts %v", g.N)
	}
	// sum_weight × lr has an empty cell: sum_weight=10 only ran with lr=0.01.
	g = PairGrid(cs, "lr", "sum_weight", MetricR2)
	if !math.IsNaN(g.Values[1][0]) || g.N[1][0] != 0 {
		t.Errorf("empty cell = %v (n=%d), want NaN", g.Values[1][0], g.N[1][0])
	}
}

func TestParseMetric(t *testing.T) {
	for in, want := range map[string]Metric{"": MetricR2, "test_r2": MetricR2, "test_accuracy": MetricAccuracy,
		"test_sum_accuracy": MetricSumAccuracy, "test_nll": MetricNLL, " test_mse ": MetricMSE} {
		got, err := ParseMetric(in)
		if err != nil || got != want {
			t.Errorf("ParseMetric(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMetric("r2"); err == nil {
		t.Errorf("ParseMetric(r2) should fail")
	}
	if !MetricNLL.LowerIsBetter() || !MetricMSE.LowerIsBetter() || MetricR2.LowerIsBetter() {
		t.Errorf("lower-is-better flags wrong")
	}
	if !MetricMSE.Better(1, 2) || MetricR2.Better(1, 2) || !MetricR2.Better(0, math.NaN()) || MetricR2.Better(math.NaN(), 0) {
		t.Errorf("Better wrong")
	}
}

func TestFormatting(t *testing.T) {
	cases := []struct{ got, want string }{
		{MetricAccuracy.Format(0.92), "92.0%"},
		{MetricR2.Format(0.065), "0.065"},
		{MetricR2.Format(0.9512), "0.951"},
		{MetricMSE.Format(15.234), "15.2"},
		{MetricR2.FormatMeanStd(0.952, 0.0072), "0.952 ± 0.007"},
		{MetricR2.FormatMeanStd(0.952, 0.0003), "0.952 ± 0.0003"},
		{MetricAccuracy.FormatMeanStd(0.993, 0.0004), "99.3% ± 0.04 pp"},
		{MetricR2.FormatStats(Summarize([]float64{0.5})), "0.500 (n=1)"},
		{formatDuration(3725), "1h 02m 05s"},
		{formatDuration(65), "1m 05s"},
		{formatDuration(0), "0s"},
		{slugify("Head vs <Weight>!"), "head-vs-weight"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
