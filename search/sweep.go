package search

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"sweep"
	"sweep/pipeline"
)

// The bridge between a sweep's records and the rules above: what the store
// calls, under its write lock, with every run (and epoch) of a sweep it
// holds. Pure functions: no SQL, no training.

// Redraws bound the search for a configuration the sweep does not have
// yet: so many suggestions of the model, then so many random draws.
const (
	suggestTries = 100
	randomTries  = 1000
)

// Next returns the runs of a tpe sweep's next configuration: Repeats runs
// with seeds Base.Seed, Base.Seed+1, …, each with Trial one more than the
// configurations runs already has. runs are every run of the sweep
// recorded so far, in any status. It returns nil, nil once the sweep has
// s.Trials configurations.
//
// The history it suggests from is one Trial per configuration (runs with
// the same sweep.ConfigKey), ordered by Trial: its value is the mean over
// its finished (done or pruned) runs of the objective after their last
// recorded epoch; while any of its runs is not finished (pending, running,
// failed, interrupted) it is Running, a constant liar. The generator is
// PCG seeded with Base.Seed and a hash of the sweep's name and the number
// of configurations so far, so the same sweep seed and the same history
// give the same suggestion. A suggestion that repeats a configuration or
// cannot train is drawn again.
func Next(name string, s *sweep.Search, runs []sweep.RunResult) ([]sweep.RunSpec, error) {
	if s == nil {
		return nil, fmt.Errorf("search: sweep %q has no search", name)
	}
	space, err := Space(s.Params)
	if err != nil {
		return nil, fmt.Errorf("search: sweep %q: %w", name, err)
	}
	configs := groupConfigs(runs)
	if len(configs) >= s.Trials {
		return nil, nil
	}
	slices.SortStableFunc(configs, func(a, b *configRuns) int { return cmp.Compare(a.trial, b.trial) })
	history := make([]Trial, len(configs))
	have := map[string]bool{}
	for i, c := range configs {
		history[i] = c.trialOf(s)
		have[c.key] = true
	}

	h := sha256.Sum256([]byte("sweep/search tpe\x00" + name + "\x00" + strconv.Itoa(len(configs))))
	rng := rand.New(rand.NewPCG(uint64(s.Base.Seed), binary.BigEndian.Uint64(h[:8])))
	tpe := TPE{Space: space, StartupTrials: s.StartupTrials, Minimize: !s.Objective.HigherIsBetter}
	for try := range suggestTries + randomTries {
		var vals []float64
		if try < suggestTries {
			if vals, err = tpe.Suggest(history, rng); err != nil {
				return nil, fmt.Errorf("search: sweep %q: %w", name, err)
			}
		} else {
			vals = Random(space, rng)
		}
		settings := Settings(s, vals)
		if have[sweep.ConfigKey(settings)] || settings.Validate() != nil {
			continue
		}
		return runSpecs(name, s, settings, len(configs)+1), nil
	}
	return nil, fmt.Errorf("search: sweep %q: no new configuration after %d tries with %d of %d trials made: the space has hardly more configurations than trials",
		name, suggestTries+randomTries, len(configs), s.Trials)
}

// runSpecs returns the Repeats runs of one configuration.
func runSpecs(name string, s *sweep.Search, settings sweep.Settings, trial int) []sweep.RunSpec {
	specs := make([]sweep.RunSpec, max(1, s.Repeats))
	for r := range specs {
		settings.Seed = s.Base.Seed + int64(r)
		specs[r] = sweep.RunSpec{ID: sweep.RunID(name, settings), Sweep: name, Settings: settings, Trial: trial}
	}
	return specs
}

// Space is a search's parameters as the TPE's space; a choice's values are
// written as text (TPE only needs their number).
func Space(params []sweep.SearchParam) ([]Param, error) {
	kinds := map[string]Kind{"uniform": Uniform, "log_uniform": LogUniform, "int_uniform": IntUniform, "choice": Choice}
	space := make([]Param, len(params))
	for i, p := range params {
		kind, ok := kinds[p.Dist]
		if !ok {
			return nil, fmt.Errorf("%s: unknown distribution %q", p.Key, p.Dist)
		}
		sp := Param{Name: p.Key, Kind: kind, Lo: p.Lo, Hi: p.Hi}
		for _, c := range p.Choices {
			sp.Choices = append(sp.Choices, sweep.FormatValue(c))
		}
		if _, ok := sweep.LookupSetting(p.Key); !ok {
			return nil, fmt.Errorf("%s: no such setting", p.Key)
		}
		if err := sp.Validate(); err != nil {
			return nil, err
		}
		space[i] = sp
	}
	return space, nil
}

// Settings turns a point of the space (values in the order of s.Params, a
// choice's value its index) into a configuration: Base with each
// parameter set, reals rounded as [random] draws are (pipeline.RoundDraw),
// and normalised as grid and random runs are (pipeline.Normalize). The
// seed is Base's.
func Settings(s *sweep.Search, vals []float64) sweep.Settings {
	st := s.Base
	for i, p := range s.Params {
		d, _ := sweep.LookupSetting(p.Key)
		switch p.Dist {
		case "choice":
			d.Set(&st, p.Choices[min(max(int(vals[i]), 0), len(p.Choices)-1)])
		case "int_uniform":
			d.Set(&st, int64(min(max(math.Round(vals[i]), p.Lo), p.Hi)))
		default:
			d.Set(&st, pipeline.RoundDraw(vals[i], p.Lo, p.Hi))
		}
	}
	return pipeline.Normalize(st)
}

// Values is the inverse of Settings: a configuration's point in the space.
// A value outside its range (momentum, set to 0 for adam, say) is taken
// to the nearest one the space has: it changes nothing the runs do.
func Values(s *sweep.Search, settings sweep.Settings) []float64 {
	vals := make([]float64, len(s.Params))
	for i, p := range s.Params {
		d, _ := sweep.LookupSetting(p.Key)
		v := d.Value(settings)
		if p.Dist == "choice" {
			vals[i] = float64(nearestChoice(p.Choices, v))
			continue
		}
		x, _ := v.(float64)
		if n, ok := v.(int64); ok {
			x = float64(n)
		}
		vals[i] = min(max(x, p.Lo), p.Hi)
	}
	return vals
}

// nearestChoice is v's index among choices, or the numerically nearest
// choice's (the first for text).
func nearestChoice(choices []any, v any) int {
	if i := slices.Index(choices, v); i >= 0 {
		return i
	}
	num := func(x any) float64 {
		switch n := x.(type) {
		case float64:
			return n
		case int64:
			return float64(n)
		}
		return math.NaN()
	}
	best, bestD := 0, math.Inf(1)
	for i, c := range choices {
		if d := math.Abs(num(c) - num(v)); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// configRuns is one configuration's runs.
type configRuns struct {
	key   string
	trial int
	runs  []sweep.RunResult
}

// groupConfigs groups runs by configuration, in the order each first
// appears.
func groupConfigs(runs []sweep.RunResult) []*configRuns {
	var out []*configRuns
	by := map[string]*configRuns{}
	for _, r := range runs {
		k := sweep.ConfigKey(r.Settings)
		c := by[k]
		if c == nil {
			c = &configRuns{key: k, trial: r.Trial}
			by[k] = c
			out = append(out, c)
		}
		c.runs = append(c.runs, r)
	}
	return out
}

// trialOf is the configuration as a TPE trial.
func (c *configRuns) trialOf(s *sweep.Search) Trial {
	tr := Trial{Values: Values(s, c.runs[0].Settings)}
	n := 0
	for _, r := range c.runs {
		if !r.Status.Finished() {
			tr.Running = true
			continue
		}
		tr.Value += s.Objective.Of(r.Final)
		n++
	}
	if n > 0 {
		tr.Value /= float64(n)
	}
	return tr
}

// RuleOf is the rule a sweep's [prune] table describes.
func RuleOf(p *sweep.Prune) Rule {
	return Rule{Method: Method(p.Method), MinEpochs: p.MinEpochs, ReductionFactor: p.ReductionFactor, HigherIsBetter: p.Metric.HigherIsBetter}
}

// Verdict is what a [prune] rule says about a configuration at a rung.
type Verdict int

const (
	Go    Verdict = iota // not a rung, or it goes on to the next rung
	Wait                 // some of its seeds have not reached the rung: the others wait for them
	Pause                // ASHA: not (yet) among the best at the rung: it waits, and may be promoted as more configurations arrive (Promotable)
	Stop                 // stopped for good: pruned
)

// Judge says, right after a run of configuration config (a
// sweep.ConfigKey) recorded epoch, what becomes of the configuration.
// runs are every run of the sweep and epochs every epoch they recorded
// (only the test split counts).
//
// Only a rung of the rule for the runs' epochs decides anything, and only
// once every run of the configuration has recorded that epoch (a failed
// run, which diverged, counts as arrived with the worst value): the last
// of its repeats to arrive judges; until then Wait. The configuration is
// compared by its seed-mean with the configurations all of whose runs
// have recorded that epoch: ASHA promotes it (Go) or pauses it
// (Rule.Promote); the median rule lets it go on or stops it (Rule.Decide).
// reason says why it does not go on.
func Judge(p *sweep.Prune, config string, epoch int, runs []sweep.RunResult, epochs []sweep.EpochResult) (v Verdict, reason string) {
	if p == nil {
		return Go, ""
	}
	rule := RuleOf(p)
	r := rungOf(p, epoch, runs, epochs)
	c := r.configs[config]
	if c == nil || !rule.IsRung(epoch, c.runs[0].Settings.Epochs) {
		return Go, ""
	}
	mine, ok := r.values[config]
	if !ok {
		return Wait, ""
	}
	others := r.others(rule, config)
	var stop bool
	var why string
	if rule.Method == ASHA {
		ok, why = rule.Promote(rule.Stats(config, mine), others, false)
		stop = !ok
	} else {
		stop, why = rule.Decide(rule.Stats(config, mine), others)
	}
	if !stop {
		return Go, ""
	}
	noun := "configurations"
	if len(others) == 1 {
		noun = "configuration"
	}
	reason = fmt.Sprintf("epoch %d, compared with %d other %s: %s", epoch, len(others), noun, why)
	if rule.Method == ASHA {
		return Pause, "paused at " + reason
	}
	return Stop, reason
}

// Promotable lists the configurations paused at rung epoch (all their
// runs held there) that ASHA now promotes, in the order they first
// appear in runs: more configurations have reached the rung since they
// arrived. final, at the end of a sweep when no more will arrive, promotes
// at least the best (Rule.Promote).
func Promotable(p *sweep.Prune, epoch int, runs []sweep.RunResult, epochs []sweep.EpochResult, final bool) []string {
	if p == nil {
		return nil
	}
	rule := RuleOf(p)
	if rule.Method != ASHA {
		return nil
	}
	r := rungOf(p, epoch, runs, epochs)
	var out []string
	for _, key := range r.order {
		c := r.configs[key]
		vals, arrived := r.values[key]
		if !arrived || !c.heldAt(epoch) {
			continue
		}
		if ok, _ := rule.Promote(rule.Stats(key, vals), r.others(rule, key), final); ok {
			out = append(out, key)
		}
	}
	return out
}

// rung is the configurations of a sweep and their values at one epoch.
type rung struct {
	configs map[string]*configRuns
	order   []string
	values  map[string][]float64 // configurations all of whose runs reached the epoch
}

func rungOf(p *sweep.Prune, epoch int, runs []sweep.RunResult, epochs []sweep.EpochResult) rung {
	at := map[string]float64{} // run id → metric at epoch
	for _, e := range epochs {
		if e.Split == "test" && e.Epoch == epoch {
			at[e.RunID] = p.Metric.Of(e.Metrics)
		}
	}
	r := rung{configs: map[string]*configRuns{}, values: map[string][]float64{}}
	for _, c := range groupConfigs(runs) {
		r.configs[c.key] = c
		r.order = append(r.order, c.key)
		vals := make([]float64, len(c.runs))
		complete := true
		for i, run := range c.runs {
			v, ok := at[run.RunID]
			switch {
			case ok:
			case run.Status == sweep.StatusFailed:
				v = math.NaN() // diverged: the worst (Rule.Stats)
			default:
				complete = false
			}
			vals[i] = v
		}
		if complete {
			r.values[c.key] = vals
		}
	}
	return r
}

// others is every configuration at the rung but config, summarised.
func (r rung) others(rule Rule, config string) []SeedStats {
	var out []SeedStats
	for _, key := range r.order {
		if vals, ok := r.values[key]; ok && key != config {
			out = append(out, rule.Stats(key, vals))
		}
	}
	return out
}

// heldAt reports whether every run of the configuration is held at epoch.
func (c *configRuns) heldAt(epoch int) bool {
	for _, r := range c.runs {
		if r.Status != sweep.StatusPending || r.HoldEpoch != epoch {
			return false
		}
	}
	return true
}
