package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"sweep"
)

// SignificantDigits is how many significant digits random real-valued
// draws are rounded to.
const SignificantDigits = 4

// config is one configuration: settings without the seed.
type config struct {
	s      sweep.Settings
	varied []string // "key = value" of the grid and random settings, for messages
}

// expand turns a checked spec into runs. It reports problems that only
// show in combinations of settings; the caller discards the runs if there
// are any.
func (p *parser) expand(sp *spec) []sweep.RunSpec {
	base := sp.base()
	trials := drawTrials(sp)

	// Grid points in canonical key order, first key outermost, values in
	// file order; each point with every random trial.
	vals := make([][]any, len(sp.axes))
	var sets []setting
	for i, a := range sp.axes {
		vals[i] = a.vals
		sets = append(sets, a.set)
	}
	for _, d := range sp.dists {
		sets = append(sets, d.set)
	}
	var configs []config
	for _, point := range product(vals) {
		for _, trial := range trials {
			configs = append(configs, configAt(base, sets, append(point[:len(point):len(point)], trial...)))
		}
	}

	p.combinations(sp, configs, "configurations")
	if len(p.probs) > 0 {
		return nil
	}
	if sp.prune != nil {
		shuffleConfigs(sp, configs)
	}

	var runs []sweep.RunSpec
	seen := map[string]bool{}
	for _, c := range configs {
		s := Normalize(c.s)
		for r := int64(0); r < sp.repeats; r++ {
			s.Seed = sp.seed + r
			id := sweep.RunID(sp.name, s)
			if seen[id] {
				continue // the same run from another point, e.g. adam at two momenta
			}
			seen[id] = true
			if err := s.Validate(); err != nil {
				p.add(0, "", "run %d (%s): %v", len(runs)+1, strings.Join(c.varied, ", "), err)
				continue
			}
			runs = append(runs, sweep.RunSpec{ID: id, Sweep: sp.name, Settings: s})
		}
	}
	return runs
}

// shuffleConfigs puts a pruned sweep's configurations in a random order
// (its repeats stay together), which is the order runs are claimed in. A
// pruning rule compares each configuration with those that reached the
// rung before it; in grid order the first ones to arrive are a corner of
// the grid (e.g. the smallest learning rates), which, having nothing
// better to be compared with, train to the end. The permutation is PCG
// seeded with the base seed and a hash of the sweep's name, so the order,
// like the runs, is the same on every machine; run ids do not depend on it.
func shuffleConfigs(sp *spec, configs []config) {
	h := sha256.Sum256([]byte("sweep/pipeline prune order\x00" + sp.name))
	rng := rand.New(rand.NewPCG(uint64(sp.seed), binary.BigEndian.Uint64(h[:8])))
	rng.Shuffle(len(configs), func(i, j int) { configs[i], configs[j] = configs[j], configs[i] })
}

// base is the settings every configuration starts from: the defaults with
// [train]'s values, the seed not set.
func (sp *spec) base() sweep.Settings {
	var base sweep.Settings
	for _, s := range settingKeys() {
		v, ok := sp.fixed[s.name]
		if !ok {
			v = s.def
		}
		s.set(&base, v)
	}
	return base
}

// configAt is base with each of sets at its value in vals, noted for
// messages.
func configAt(base sweep.Settings, sets []setting, vals []any) config {
	c := config{s: base}
	for i, s := range sets {
		s.set(&c.s, vals[i])
		c.varied = append(c.varied, s.name+" = "+fmtValue(vals[i]))
	}
	return c
}

// product returns every combination of one value of each list, the first
// list outermost and each list in its order; no lists give one empty
// combination.
func product(lists [][]any) [][]any {
	out := [][]any{nil}
	for _, l := range lists {
		next := make([][]any, 0, len(out)*len(l))
		for _, prefix := range out {
			for _, v := range l {
				next = append(next, append(prefix[:len(prefix):len(prefix)], v))
			}
		}
		out = next
	}
	return out
}

// Normalize returns the settings a run trains with: momentum is set to 0
// when the optimizer is adam, which ignores it, so that it does not change
// the run's identity. Grid and random runs, and the configurations a
// search suggests (package search), all go through it.
func Normalize(s sweep.Settings) sweep.Settings {
	if s.Optimizer == sweep.OptimizerAdam {
		s.Momentum = 0
	}
	return s
}

// combinations reports settings that are each fine but not together, once
// per kind of problem, with how many configurations it affects and the
// first of them; unit names what configs are, for messages.
func (p *parser) combinations(sp *spec, configs []config, unit string) {
	from := func(name string) origin { return sp.from[name] } // zero: default
	type finding struct {
		count int
		first config
	}
	var zeroWeights, bigBatch finding
	usesSGD, momentum := false, false
	for _, c := range configs {
		if c.s.DigitWeight == 0 && c.s.SumWeight == 0 {
			if zeroWeights.count == 0 {
				zeroWeights.first = c
			}
			zeroWeights.count++
		}
		if c.s.BatchSize > c.s.TrainImages() {
			if bigBatch.count == 0 {
				bigBatch.first = c
			}
			bigBatch.count++
		}
		usesSGD = usesSGD || c.s.Optimizer == sweep.OptimizerSGD
		momentum = momentum || c.s.Momentum != 0
	}
	example := func(f finding) string {
		if len(configs) == 1 {
			return ""
		}
		s := fmt.Sprintf(", in %d of %d %s", f.count, len(configs), unit)
		if len(f.first.varied) > 0 {
			s += ", e.g. " + strings.Join(f.first.varied, ", ")
		}
		return s
	}
	// Report at the key that varies, if one does: that is where to fix it.
	rank := func(o origin) int {
		switch {
		case strings.HasPrefix(o.key, "grid.") || strings.HasPrefix(o.key, "random.") || strings.HasPrefix(o.key, "tpe."):
			return 2
		case o.key != "":
			return 1
		}
		return 0
	}
	blame := func(a, b string) origin {
		if rank(from(a)) >= rank(from(b)) {
			return from(a)
		}
		return from(b)
	}
	if zeroWeights.count > 0 {
		at := blame("sum_weight", "digit_weight")
		p.add(at.line, at.key, "digit_weight = 0 (%s) and sum_weight = 0 (%s) together leave nothing to train%s",
			from("digit_weight"), from("sum_weight"), example(zeroWeights))
	}
	if bigBatch.count > 0 {
		at := blame("batch_size", "train_size")
		p.add(at.line, at.key, "batch_size = %d (%s) is larger than train_size = %d (%s)%s",
			bigBatch.first.s.BatchSize, from("batch_size"), bigBatch.first.s.TrainImages(), from("train_size"), example(bigBatch))
	}
	// Settings whose non-default values need others (sweep.Setting.Requires).
	for _, d := range sweep.SettingDefs() {
		var f finding
		var why string
		for _, c := range configs {
			if msg := d.Requires(c.s); msg != "" {
				if f.count == 0 {
					f.first, why = c, msg
				}
				f.count++
			}
		}
		if f.count > 0 {
			at := from(d.Key)
			p.add(at.line, at.key, "%s = %s: %s%s", d.Key, fmtValue(d.Value(f.first.s)), why, example(f))
		}
	}
	if at := from("momentum"); at.key != "" && momentum && !usesSGD {
		p.add(at.line, at.key, `momentum only applies to optimizer = "sgd", but every run uses adam: set optimizer = "sgd" or drop momentum`)
	}
}

// drawTrials draws the [random] trials: one value per distribution, in
// canonical key order, trial after trial. Without [random] it returns one
// empty trial. The generator is PCG seeded with the sweep's base seed and
// a hash of its name, so the same file always draws the same values on
// every platform, and adding trials keeps the earlier ones.
func drawTrials(sp *spec) [][]any {
	if len(sp.dists) == 0 {
		return [][]any{nil}
	}
	h := sha256.Sum256([]byte("sweep/pipeline random\x00" + sp.name))
	rng := rand.New(rand.NewPCG(uint64(sp.seed), binary.BigEndian.Uint64(h[:8])))
	trials := make([][]any, sp.trials)
	for t := range trials {
		trial := make([]any, len(sp.dists))
		for i, d := range sp.dists {
			trial[i] = d.draw(rng)
		}
		trials[t] = trial
	}
	return trials
}

// draw draws one value. Real numbers go through RoundDraw.
func (d dist) draw(rng *rand.Rand) any {
	switch d.kind {
	case "choice":
		return d.choices[rng.IntN(len(d.choices))]
	case "int_uniform":
		return d.ilo + int64(rng.Uint64N(uint64(d.ihi-d.ilo)+1))
	}
	u := rng.Float64()
	var v float64
	if d.kind == "log_uniform" {
		v = math.Exp(math.Log(d.lo) + u*(math.Log(d.hi)-math.Log(d.lo)))
	} else {
		v = d.lo + u*(d.hi-d.lo)
	}
	return RoundDraw(v, d.lo, d.hi)
}

// RoundDraw is how a drawn or suggested real value becomes a setting's
// value: rounded to SignificantDigits significant digits (which also hides
// last-bit differences of math.Exp between platforms) and kept within the
// distribution's bounds [lo, hi]. Random draws and the configurations a
// search suggests (package search) both use it.
func RoundDraw(v, lo, hi float64) float64 {
	return min(max(roundSignificant(v, SignificantDigits), lo), hi)
}

func roundSignificant(v float64, digits int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	if err != nil {
		return v
	}
	return r
}
