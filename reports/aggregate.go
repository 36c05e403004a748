package reports

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"sweep"
)

// This file is the aggregation layer: pure functions from runs and epochs
// to configurations, summary statistics and comparisons. Nothing here
// draws, formats HTML or touches a database.

// Stats summarises one quantity over repeats (runs of a configuration, or
// all runs in a group). Non-finite values (NaN, ±Inf: a diverged run, or
// SumNLL of a regression head) are left out and counted in NonFinite.
type Stats struct {
	N         int     // finite values summarised
	Mean      float64 // NaN when N == 0
	Std       float64 // sample standard deviation (n−1); NaN when N < 2
	Min, Max  float64 // NaN when N == 0
	NonFinite int     // values left out because they were NaN or ±Inf
}

// Summarize computes Stats over xs.
func Summarize(xs []float64) Stats {
	s := Stats{Mean: math.NaN(), Std: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	var sum float64
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			s.NonFinite++
			continue
		}
		if s.N == 0 || x < s.Min {
			s.Min = x
		}
		if s.N == 0 || x > s.Max {
			s.Max = x
		}
		s.N++
		sum += x
	}
	if s.N == 0 {
		return s
	}
	s.Mean = sum / float64(s.N)
	if s.N > 1 {
		var ss float64
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// settingDef is one setting a sweep can vary: an entry of the settings
// registry (sweep.SettingDefs). The seed is not one: repeats over seeds
// are the noise, not a setting.
type settingDef struct{ sweep.Setting }

func (d settingDef) value(s sweep.Settings) string { return d.Text(s) }
func (d settingDef) numeric() bool                 { return d.Numeric() }

// SettingNames lists the settings a sweep can vary, in display order (the
// registry's order and TOML names; the seed is not among them).
func SettingNames() []string { return sweep.SettingKeys(false) }

func findSetting(name string) (settingDef, bool) {
	d, ok := sweep.LookupSetting(name)
	if !ok || d.PerRun {
		return settingDef{}, false
	}
	return settingDef{d}, true
}

// SettingValue returns one setting of s as text ("" for an unknown name).
func SettingValue(s sweep.Settings, name string) string {
	d, ok := findSetting(name)
	if !ok {
		return ""
	}
	return d.value(s)
}

// SettingValues returns the distinct values of one setting over settings,
// sorted numerically for numeric settings and alphabetically otherwise.
func SettingValues(settings []sweep.Settings, name string) []string {
	d, ok := findSetting(name)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var vals []string
	for _, s := range settings {
		v := d.value(s)
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sortValues(vals, d.numeric())
	return vals
}

func sortValues(vals []string, numeric bool) {
	slices.SortFunc(vals, func(a, b string) int {
		if numeric {
			fa, ea := strconv.ParseFloat(a, 64)
			fb, eb := strconv.ParseFloat(b, 64)
			if ea == nil && eb == nil {
				return cmp.Compare(fa, fb)
			}
		}
		return strings.Compare(a, b)
	})
}

// VaryingSettings returns the names of the settings that take more than one
// value among settings (seed excluded), in display order.
func VaryingSettings(settings []sweep.Settings) []string {
	var out []string
	for _, name := range SettingNames() {
		if len(SettingValues(settings, name)) > 1 {
			out = append(out, name)
		}
	}
	return out
}

// RunSettings returns the settings of every run.
func RunSettings(runs []sweep.RunResult) []sweep.Settings {
	out := make([]sweep.Settings, len(runs))
	for i, r := range runs {
		out[i] = r.Settings
	}
	return out
}

// Finished reports whether a run's final metrics enter the aggregates: it
// is done (trained, or reused from an identical run) and recorded at least
// one epoch. Failed, interrupted, running and pending runs never do, so
// partial results cannot pass for final ones; nor do pruned runs, whose
// last metrics are from the epoch they were stopped at (see Config).
func Finished(r sweep.RunResult) bool {
	return r.Status == sweep.StatusDone && r.EpochsDone > 0
}

// stoppedRun reports whether a run belongs in a pruned configuration's
// Stopped: finished for good (done or pruned) with at least one epoch.
func stoppedRun(r sweep.RunResult) bool {
	return r.Status.Finished() && r.EpochsDone > 0
}

// Config is one configuration of a sweep (its settings without the seed)
// with its finished repeats.
//
// Pruned configurations. A pruning rule stops a configuration (all its
// repeats) at a rung, so a pruned run's last metrics come from an earlier
// epoch than a done run's final ones: they are not comparable end results.
// The rule, here and only here: a configuration with at least one pruned
// run is pruned. Its finished repeats (the pruned ones and any done one)
// are in Stopped, never in Runs, so they enter no final-metric aggregate
// (Final, Rank, BestWorst, CompareSetting, EffectValues, PairGrid, the
// scatter, the findings' best configuration); they are drawn in learning
// curves, ending with a × at their last epoch, and listed in the table as
// "pruned at epoch PrunedAt". A configuration has Runs or Stopped, never
// both.
type Config struct {
	Key      string            // sweep.ConfigKey
	Settings sweep.Settings    // of the first run by seed
	Label    string            // the varying settings as "name=value ..."; "all runs" when none vary
	Runs     []sweep.RunResult // finished repeats, ordered by seed; empty when the configuration was pruned
	Stopped  []sweep.RunResult // a pruned configuration's finished repeats (pruned or done), ordered by seed
	PrunedAt int               // the last epoch a pruned repeat recorded (at least 1: rules prune after a rung); 0 when not pruned
	Planned  int               // runs of this configuration in the sweep, any status
}

// Pruned reports whether the configuration was stopped early by its
// sweep's pruning rule (see Config).
func (c Config) Pruned() bool { return c.PrunedAt > 0 }

// curveRuns are the repeats a learning curve averages: the finished ones,
// or a pruned configuration's stopped ones.
func (c Config) curveRuns() []sweep.RunResult {
	if c.Pruned() {
		return c.Stopped
	}
	return c.Runs
}

// Label names a configuration by the settings that vary, e.g.
// "head=classify sum_weight=10".
func Label(s sweep.Settings, varying []string) string {
	if len(varying) == 0 {
		return "all runs"
	}
	parts := make([]string, len(varying))
	for i, name := range varying {
		parts[i] = name + "=" + SettingValue(s, name)
	}
	return strings.Join(parts, " ")
}

// GroupConfigs groups runs by sweep.ConfigKey. Every configuration with at
// least one run is returned, including those with no finished repeat yet
// (empty Runs). The order is by the varying settings' values (numeric
// settings numerically), then by key.
func GroupConfigs(runs []sweep.RunResult, varying []string) []Config {
	byKey := map[string]*Config{}
	var order []*Config
	for _, r := range runs {
		k := sweep.ConfigKey(r.Settings)
		c := byKey[k]
		if c == nil {
			c = &Config{Key: k, Settings: r.Settings, Label: Label(r.Settings, varying)}
			byKey[k] = c
			order = append(order, c)
		}
		c.Planned++
		if r.Settings.Seed < c.Settings.Seed {
			c.Settings = r.Settings
		}
		if r.Status == sweep.StatusPruned {
			c.PrunedAt = max(c.PrunedAt, r.EpochsDone, 1)
		}
		if stoppedRun(r) {
			c.Stopped = append(c.Stopped, r)
		}
	}
	out := make([]Config, len(order))
	for i, c := range order {
		slices.SortStableFunc(c.Stopped, func(a, b sweep.RunResult) int {
			return cmp.Or(cmp.Compare(a.Settings.Seed, b.Settings.Seed), strings.Compare(a.RunID, b.RunID))
		})
		if !c.Pruned() {
			c.Runs, c.Stopped = c.Stopped, nil
		}
		out[i] = *c
	}
	slices.SortStableFunc(out, func(a, b Config) int {
		for _, name := range varying {
			d, _ := findSetting(name)
			va, vb := d.value(a.Settings), d.value(b.Settings)
			if va == vb {
				continue
			}
			vals := []string{va, vb}
			sortValues(vals, d.numeric())
			if vals[0] == va {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Final summarises the configuration's final test metric m over its
// finished repeats, in stored units (fractions for accuracies).
func (c Config) Final(m Metric) Stats {
	xs := make([]float64, len(c.Runs))
	for i, r := range c.Runs {
		xs[i] = m.Of(r.Final)
	}
	return Summarize(xs)
}

// Seeds returns the seeds of the finished repeats.
func (c Config) Seeds() []int64 {
	out := make([]int64, len(c.Runs))
	for i, r := range c.Runs {
		out[i] = r.Settings.Seed
	}
	return out
}

// WithRuns returns the configurations that have at least one finished run.
func WithRuns(configs []Config) []Config {
	var out []Config
	for _, c := range configs {
		if len(c.Runs) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Rank orders configurations by the mean of final metric m, best first;
// configurations without a finite mean come last, ties go by label. The
// input is not modified.
func Rank(configs []Config, m Metric) []Config {
	type scored struct {
		c    Config
		mean float64
	}
	sc := make([]scored, len(configs))
	for i, c := range configs {
		sc[i] = scored{c, c.Final(m).Mean}
	}
	slices.SortStableFunc(sc, func(a, b scored) int {
		switch {
		case m.Better(a.mean, b.mean):
			return -1
		case m.Better(b.mean, a.mean):
			return 1
		}
		return strings.Compare(a.c.Label, b.c.Label)
	})
	out := make([]Config, len(sc))
	for i, s := range sc {
		out[i] = s.c
	}
	return out
}

// BestWorst returns the best and worst configuration by final metric m
// among those with a finite mean; ok is false when there is none. With one
// such configuration, best and worst are the same.
func BestWorst(configs []Config, m Metric) (best, worst Config, ok bool) {
	var ranked []Config
	for _, c := range Rank(configs, m) {
		if c.Final(m).N > 0 {
			ranked = append(ranked, c)
		}
	}
	if len(ranked) == 0 {
		return Config{}, Config{}, false
	}
	return ranked[0], ranked[len(ranked)-1], true
}

// EpochIndex holds a sweep's epoch results by run ID, sorted by epoch.
type EpochIndex map[string][]sweep.EpochResult

// IndexEpochs builds an EpochIndex.
func IndexEpochs(epochs []sweep.EpochResult) EpochIndex {
	idx := EpochIndex{}
	for _, e := range epochs {
		idx[e.RunID] = append(idx[e.RunID], e)
	}
	for _, es := range idx {
		slices.SortStableFunc(es, func(a, b sweep.EpochResult) int { return cmp.Compare(a.Epoch, b.Epoch) })
	}
	return idx
}

// EpochStats is one epoch of a learning curve aggregated over repeats.
type EpochStats struct {
	Epoch int
	Stats
}

// ConfigCurve aggregates metric f of one split ("train" or "test") over the
// configuration's finished repeats (a pruned configuration's stopped ones),
// epoch by epoch. Epochs where no repeat
// has a finite value are left out.
func ConfigCurve(c Config, idx EpochIndex, split string, f func(sweep.SplitMetrics) float64) []EpochStats {
	vals := map[int][]float64{}
	for _, r := range c.curveRuns() {
		for _, e := range idx[r.RunID] {
			if e.Split == split {
				vals[e.Epoch] = append(vals[e.Epoch], f(e.Metrics))
			}
		}
	}
	epochs := make([]int, 0, len(vals))
	for ep := range vals {
		epochs = append(epochs, ep)
	}
	slices.Sort(epochs)
	var out []EpochStats
	for _, ep := range epochs {
		s := Summarize(vals[ep])
		if s.N > 0 {
			out = append(out, EpochStats{Epoch: ep, Stats: s})
		}
	}
	return out
}

// AtEpoch summarises test metric f after the given epoch over the
// configuration's finished repeats.
func AtEpoch(c Config, idx EpochIndex, epoch int, f func(sweep.SplitMetrics) float64) Stats {
	var xs []float64
	for _, r := range c.Runs {
		for _, e := range idx[r.RunID] {
			if e.Split == "test" && e.Epoch == epoch {
				xs = append(xs, f(e.Metrics))
			}
		}
	}
	return Summarize(xs)
}

// Verdict is how a difference between two groups compares with the spread
// over seeds.
type Verdict int

const (
	// NoSpread: one side has a single run, so the spread over seeds cannot
	// be estimated and no difference can be called a win.
	NoSpread Verdict = iota
	// WithinNoise: the difference is at most twice the pooled standard
	// deviation, or the min–max ranges over seeds overlap.
	WithinNoise
	// Clear: the difference exceeds twice the pooled standard deviation and
	// the min–max ranges over seeds do not overlap.
	Clear
)

func (v Verdict) String() string {
	switch v {
	case WithinNoise:
		return "within the spread over seeds"
	case Clear:
		return "clear"
	}
	return "no spread (n=1)"
}

// PooledStd is the pooled sample standard deviation of two groups; NaN
// when either has fewer than two values.
func PooledStd(a, b Stats) float64 {
	if a.N < 2 || b.N < 2 {
		return math.NaN()
	}
	v := (float64(a.N-1)*a.Std*a.Std + float64(b.N-1)*b.Std*b.Std) / float64(a.N+b.N-2)
	return math.Sqrt(v)
}

// Overlap reports whether the min–max ranges of two groups intersect.
func Overlap(a, b Stats) bool {
	return a.N > 0 && b.N > 0 && a.Min <= b.Max && b.Min <= a.Max
}

// Judge compares two groups' means against their spread over seeds. The
// rule is deliberately conservative: a difference is Clear only when it is
// larger than twice the pooled standard deviation AND the min–max ranges do
// not overlap.
func Judge(a, b Stats) Verdict {
	if a.N < 2 || b.N < 2 {
		return NoSpread
	}
	d := math.Abs(a.Mean - b.Mean)
	if d > 2*PooledStd(a, b) && !Overlap(a, b) {
		return Clear
	}
	return WithinNoise
}

// Comparison sets the best configuration having one value of a setting
// against the best configuration having another value.
type Comparison struct {
	Setting          string
	Metric           Metric
	Winner, RunnerUp string // setting values: the best value and the next best
	A, B             Config // best configuration with Winner, with RunnerUp
	SA, SB           Stats  // their final metric (stored units)
	Diff             float64
	Pooled           float64 // NaN with n < 2 on either side
	Verdict          Verdict
	Values           int // distinct values of the setting with finished runs
}

// CompareSetting compares the values of one setting on final metric m: for
// each value it takes the best configuration with that value, and sets the
// best of those against the runner-up. ok is false when fewer than two
// values have finished runs.
func CompareSetting(configs []Config, setting string, m Metric) (c Comparison, ok bool) {
	d, found := findSetting(setting)
	if !found {
		return Comparison{}, false
	}
	var best []Config
	seen := map[string]bool{}
	for _, c := range Rank(configs, m) {
		v := d.value(c.Settings)
		if seen[v] || c.Final(m).N == 0 {
			continue
		}
		seen[v] = true
		best = append(best, c)
	}
	if len(best) < 2 {
		return Comparison{}, false
	}
	a, b := best[0], best[1]
	sa, sb := a.Final(m), b.Final(m)
	return Comparison{
		Setting:  setting,
		Metric:   m,
		Winner:   d.value(a.Settings),
		RunnerUp: d.value(b.Settings),
		A:        a,
		B:        b,
		SA:       sa,
		SB:       sb,
		Diff:     sa.Mean - sb.Mean,
		Pooled:   PooledStd(sa, sb),
		Verdict:  Judge(sa, sb),
		Values:   len(best),
	}, true
}

// EffectValues returns, for each value of one setting (in value order), the
// final metric m of every finished run having that value, in stored units.
// With by naming another setting, each value is tagged "by=value" in Kinds.
func EffectValues(configs []Config, setting, by string, m Metric) []EffectGroup {
	d, ok := findSetting(setting)
	if !ok {
		return nil
	}
	groups := map[string]*EffectGroup{}
	var vals []string
	for _, c := range configs {
		v := d.value(c.Settings)
		g := groups[v]
		if g == nil {
			g = &EffectGroup{Value: v}
			groups[v] = g
			vals = append(vals, v)
		}
		for _, r := range c.Runs {
			x := m.Of(r.Final)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			g.Values = append(g.Values, x)
			if by != "" {
				g.Kinds = append(g.Kinds, by+"="+SettingValue(c.Settings, by))
			}
		}
	}
	sortValues(vals, d.numeric())
	out := make([]EffectGroup, 0, len(vals))
	for _, v := range vals {
		out = append(out, *groups[v])
	}
	return out
}

// PairGrid averages final metric m over all finished runs in each cell of
// two settings (x across, y up), in stored units. Cells without runs are
// NaN; runs of other settings that vary are pooled into the cell.
func PairGrid(configs []Config, xName, yName string, m Metric) HeatGrid {
	var settings []sweep.Settings
	for _, c := range configs {
		settings = append(settings, c.Settings)
	}
	g := HeatGrid{
		XName:   xName,
		YName:   yName,
		XValues: SettingValues(settings, xName),
		YValues: SettingValues(settings, yName),
	}
	xi := map[string]int{}
	for i, v := range g.XValues {
		xi[v] = i
	}
	yi := map[string]int{}
	for i, v := range g.YValues {
		yi[v] = i
	}
	sums := make([][]float64, len(g.YValues))
	g.N = make([][]int, len(g.YValues))
	g.Values = make([][]float64, len(g.YValues))
	for j := range g.YValues {
		sums[j] = make([]float64, len(g.XValues))
		g.N[j] = make([]int, len(g.XValues))
		g.Values[j] = make([]float64, len(g.XValues))
	}
	for _, c := range configs {
		i, j := xi[SettingValue(c.Settings, xName)], yi[SettingValue(c.Settings, yName)]
		for _, r := range c.Runs {
			x := m.Of(r.Final)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			sums[j][i] += x
			g.N[j][i]++
		}
	}
	for j := range g.YValues {
		for i := range g.XValues {
			if g.N[j][i] == 0 {
				g.Values[j][i] = math.NaN()
			} else {
				g.Values[j][i] = sums[j][i] / float64(g.N[j][i])
			}
		}
	}
	return g
}

// statusCounts returns runs by status, preferring the sweep's recorded
// counts and falling back to counting runs.
func statusCounts(info sweep.SweepInfo, runs []sweep.RunResult) map[sweep.Status]int {
	if len(info.Counts) > 0 {
		return info.Counts
	}
	c := map[sweep.Status]int{}
	for _, r := range runs {
		c[r.Status]++
	}
	return c
}
