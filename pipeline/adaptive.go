package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"sweep"
)

// The adaptive tables: [tpe], a search that makes a sweep's configurations
// while it runs, and [prune], early stopping. This file checks their keys
// and what they say together with the rest of the file; the decisions
// themselves are package search's.

// DefaultStartupTrials is how many random configurations a [tpe] search
// makes before its model takes over, unless startup_trials says otherwise.
const DefaultStartupTrials = 10

// maxEnumerated bounds the configurations of a discrete space that are
// listed to count the distinct ones (momentum counts once for adam).
const maxEnumerated = 100000

// tpe checks the [tpe] table.
func (p *parser) tpe(n *node, byName map[string]setting, names []string, given func(*node)) *tpeSpec {
	t := &tpeSpec{at: origin{n.key(), n.line}, startup: DefaultStartupTrials}
	var dir *node
	haveTrials, haveObjective, bad := false, false, false
	for _, c := range n.children {
		_, isSetting := byName[c.name()]
		switch c.name() {
		case "trials":
			haveTrials = true
			t.trialsAt = origin{c.key(), c.line}
			t.trials, _ = p.intAtLeast(c, 1)
		case "startup_trials":
			if v, ok := p.intAtLeast(c, 0); ok {
				t.startup = v
			}
		case "objective":
			haveObjective = true
			t.objective, _ = p.metric(c)
		case "direction":
			dir = c
		default:
			if !isSetting {
				p.unknown(c, "tpe", append(slices.Clone(names), tpeKeys()...))
				bad = true
			} else if !p.spaceKey(c, byName, &t.dists, given) {
				bad = true
			}
		}
	}
	if higher, ok := p.direction(dir); ok && t.objective.Name != "" {
		t.objective.HigherIsBetter = higher
	}
	if !haveTrials {
		p.add(n.line, "tpe.trials", "missing: say how many configurations to try, e.g. trials = 24")
	}
	if !haveObjective {
		p.add(n.line, "tpe.objective", "missing: say what the search optimises, e.g. objective = \"test_r2\" (one of %s)", metricList())
	}
	if len(t.dists) == 0 && !bad { // else the bad key is the problem
		p.add(n.line, "tpe", "[tpe] has no setting to search: add one, e.g. lr = { log_uniform = [1e-4, 1e-1] }")
	}
	return t
}

// pruneTable checks the [prune] table's keys; adaptive fills in the
// metric from [tpe] and prune checks it against the runs' epochs.
func (p *parser) pruneTable(n *node) *pruneSpec {
	ps := &pruneSpec{at: origin{n.key(), n.line}, minEpochs: 1, eta: 3}
	var methodNode, etaNode, dir *node
	for _, c := range n.children {
		switch c.name() {
		case "method":
			methodNode = c
			ps.method, _ = p.oneOf(c, "method", []string{"asha", "median"}, nil)
		case "metric":
			ps.metricGiven = true
			ps.metric, _ = p.metric(c)
		case "direction":
			dir = c
		case "min_epochs":
			ps.minEpochsAt = origin{c.key(), c.line}
			if v, ok := p.intAtLeast(c, 1); ok {
				ps.minEpochs = v
			}
		case "reduction_factor":
			etaNode = c
			if v, ok := p.intAtLeast(c, 2); ok {
				ps.eta = v
			}
		default:
			p.unknown(c, "prune", pruneKeys())
		}
	}
	if methodNode == nil {
		p.add(n.line, "prune.method", `missing: say how to stop configurations early: method = "asha" or "median"`)
	}
	if ps.method == "median" {
		ps.eta = 0
		if etaNode != nil {
			p.at(etaNode, `reduction_factor only applies to method = "asha": the median rule decides at every epoch from min_epochs on; drop it`)
		}
	}
	if higher, ok := p.direction(dir); ok {
		ps.higher = &higher
	}
	return ps
}

// adaptive checks what [tpe] and [prune] say together with the rest of the
// file.
func (p *parser) adaptive(sp *spec) {
	if t := sp.tpe; t != nil {
		var with []string
		names := []string{"grid", "random"}
		slices.SortFunc(names, func(a, b string) int { return sp.tables[a] - sp.tables[b] })
		for _, name := range names {
			if line, ok := sp.tables[name]; ok {
				with = append(with, fmt.Sprintf("[%s] (line %d)", name, line))
			}
		}
		if len(with) > 0 {
			p.add(t.at.line, t.at.key, "[tpe] cannot be combined with %s: a tpe sweep makes its own configurations; fixed values go in [train], the space to search in [tpe]",
				strings.Join(with, " and "))
		}
	}
	pr := sp.prune
	if pr == nil {
		return
	}
	if !pr.metricGiven {
		if sp.tpe != nil {
			pr.metric = sp.tpe.objective // when it is missing or wrong, [tpe] says so
		} else {
			p.add(pr.at.line, "prune.metric", "missing: say which test metric the rungs compare, e.g. metric = \"test_r2\" (one of %s); a [tpe] sweep compares its objective", metricList())
		}
	}
	if pr.higher != nil && pr.metric.Name != "" {
		pr.metric.HigherIsBetter = *pr.higher
	}
}

// metric checks a metric's name: one of sweep.Metrics, with its natural
// direction.
func (p *parser) metric(n *node) (sweep.Metric, bool) {
	var names []string
	for _, m := range sweep.Metrics() {
		names = append(names, m.Name)
	}
	name, ok := p.oneOf(n, "metric", names, func(s string) string {
		// "r2", "accuracy", "sum_r2", "digit_accuracy": the test_ name.
		bare := strings.TrimPrefix(strings.ToLower(s), "test_")
		for _, c := range []string{s, "test_" + bare, "test_" + strings.TrimPrefix(bare, "sum_"), "test_" + strings.TrimPrefix(bare, "digit_")} {
			if d := suggest(c, names); d != "" {
				return d
			}
		}
		return ""
	})
	if !ok {
		return sweep.Metric{}, false
	}
	m, _ := sweep.LookupMetric(name)
	return m, true
}

func metricList() string {
	var names []string
	for _, m := range sweep.Metrics() {
		names = append(names, m.Name)
	}
	return sweep.QuoteList(names)
}

// direction checks a direction key; n may be nil (not given). higher
// reports whether "maximize" was given.
func (p *parser) direction(n *node) (higher, ok bool) {
	if n == nil {
		return false, false
	}
	d, ok := p.oneOf(n, "direction", []string{"maximize", "minimize"}, nil)
	return d == "maximize", ok
}

// oneOf checks that n is one of the allowed strings. near suggests a close
// allowed value for a wrong one; nil uses the key suggestions.
func (p *parser) oneOf(n *node, what string, allowed []string, near func(string) string) (string, bool) {
	want := sweep.QuoteList(allowed)
	if len(allowed) > 2 {
		want = "one of " + want
	}
	s, isStr := n.raw.(string)
	if !isStr {
		p.at(n, "want %s, got %s", want, describe(n.raw))
		return "", false
	}
	if slices.Contains(allowed, s) {
		return s, true
	}
	if near == nil {
		near = func(s string) string { return suggest(s, allowed) }
	}
	msg := fmt.Sprintf("unknown %s %q: want %s", what, s, want)
	if d := near(s); d != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", d)
	}
	p.at(n, "%s", msg)
	return "", false
}

// search checks a [tpe] sweep's space together with its fixed settings
// and returns its Search.
//
// What cannot train is decided on the space's corners: every value of a
// choice and both bounds of a range, in every combination (one parameter
// at a time when they are too many). The checks that look at all
// configurations together (momentum without sgd) see the whole space.
func (p *parser) search(sp *spec) *sweep.Search {
	t := sp.tpe
	base := sp.base()
	corners := make([][]any, len(t.dists))
	sets := make([]setting, len(t.dists))
	for i, d := range t.dists {
		corners[i], sets[i] = d.corners(), d.set
	}
	var configs []config
	for _, point := range combine(corners) {
		configs = append(configs, configAt(base, sets, point))
	}
	p.combinations(sp, configs, "combinations of the space's bounds and choices")
	if len(p.probs) > 0 {
		return nil
	}
	for _, c := range configs {
		s := Normalize(c.s)
		s.Seed = sp.seed
		if err := s.Validate(); err != nil {
			p.add(t.at.line, t.at.key, "the search could suggest a configuration that cannot train (%s): %v", strings.Join(c.varied, ", "), err)
			return nil
		}
	}
	p.distinct(t, base)
	if len(p.probs) > 0 {
		return nil
	}
	params := make([]sweep.SearchParam, len(t.dists))
	for i, d := range t.dists {
		params[i] = sweep.SearchParam{Key: d.set.name, Dist: d.kind, Lo: d.lo, Hi: d.hi, Choices: slices.Clone(d.choices)}
	}
	base.Seed = sp.seed
	return &sweep.Search{
		Method:        "tpe",
		Trials:        int(t.trials),
		StartupTrials: int(t.startup),
		Objective:     t.objective,
		Params:        params,
		Base:          base,
		Repeats:       int(sp.repeats),
	}
}

// combine is product of the lists, or, when that has more than MaxRuns
// combinations, each list's values in turn with the others at their first.
func combine(lists [][]any) [][]any {
	n := 1.0
	for _, l := range lists {
		n *= float64(len(l))
	}
	if n <= MaxRuns {
		return product(lists)
	}
	first := make([]any, len(lists))
	for i, l := range lists {
		first[i] = l[0]
	}
	var out [][]any
	for i, l := range lists {
		for _, v := range l {
			point := slices.Clone(first)
			point[i] = v
			out = append(out, point)
		}
	}
	return out
}

// distinct reports a discrete space with fewer distinct configurations
// than trials: the search could never make them all.
func (p *parser) distinct(t *tpeSpec, base sweep.Settings) {
	size := 1.0
	var parts []string
	for _, d := range t.dists {
		n := d.count()
		size *= n
		parts = append(parts, fmt.Sprintf("%s: %.0f values", d.set.name, n))
	}
	if math.IsInf(size, 1) || (size >= float64(t.trials) && size > maxEnumerated) {
		return
	}
	count, note := int(size), ""
	if size >= float64(t.trials) {
		// Momentum counts once for adam: count what the runs would be.
		lists := make([][]any, len(t.dists))
		for i, d := range t.dists {
			lists[i] = d.values()
		}
		keys := map[string]bool{}
		for _, point := range product(lists) {
			s := base
			for i, d := range t.dists {
				d.set.set(&s, point[i])
			}
			keys[sweep.ConfigKey(Normalize(s))] = true
		}
		count, note = len(keys), `, momentum counting once for adam`
	}
	if count < int(t.trials) {
		p.add(t.trialsAt.line, t.trialsAt.key, "trials = %d, but the space has only %d distinct configurations (%s%s): the search could never make %d; lower trials or widen the space",
			t.trials, count, strings.Join(parts, " × "), note, t.trials)
	}
}

// count is how many distinct values d can give: +Inf for a real range.
func (d dist) count() float64 {
	switch {
	case d.kind == "choice":
		return float64(len(d.choices))
	case d.kind == "int_uniform":
		return float64(d.ihi-d.ilo) + 1
	case d.lo == d.hi:
		return 1
	}
	return math.Inf(1)
}

// values lists every value of a discrete d (count is finite).
func (d dist) values() []any {
	switch d.kind {
	case "choice":
		return d.choices
	case "int_uniform":
		var out []any
		for v := d.ilo; v <= d.ihi; v++ {
			out = append(out, v)
		}
		return out
	}
	return []any{d.lo}
}

// corners lists d's extremes: every choice, or both bounds of a range.
func (d dist) corners() []any {
	switch {
	case d.kind == "choice":
		return d.choices
	case d.kind == "int_uniform" && d.ilo != d.ihi:
		return []any{d.ilo, d.ihi}
	case d.kind == "int_uniform":
		return []any{d.ilo}
	case d.lo != d.hi:
		return []any{d.lo, d.hi}
	}
	return []any{d.lo}
}

// prune checks [prune] against the runs' epochs and returns the sweep's
// Prune.
func (p *parser) prune(sp *spec, sw sweep.Sweep) *sweep.Prune {
	pr := sp.prune
	most, varies := 0, false
	note := func(e int) {
		varies = varies || (most != 0 && e != most)
		most = max(most, e)
	}
	for _, r := range sw.Runs {
		note(r.Settings.Epochs)
	}
	if s := sw.Search; s != nil {
		note(s.Base.Epochs)
		for _, d := range sp.tpe.dists {
			if d.set.name == "epochs" {
				most, varies = 0, false
				for _, v := range d.corners() {
					note(int(v.(int64)))
				}
			}
		}
	}
	if pr.minEpochs >= int64(most) {
		at, given := pr.minEpochsAt, ""
		if at.key == "" {
			at, given = origin{"prune.min_epochs", pr.at.line}, " (the default)"
		}
		only := "only"
		if varies {
			only = "at most"
		}
		p.add(at.line, at.key, "min_epochs = %d%s: runs have %s %d %s: the first rung must come before the last epoch, or no run can ever be pruned",
			pr.minEpochs, given, only, most, plural(most, "epoch"))
		return nil
	}
	return &sweep.Prune{Method: pr.method, Metric: pr.metric, MinEpochs: int(pr.minEpochs), ReductionFactor: int(pr.eta)}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
