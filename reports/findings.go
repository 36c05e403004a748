package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"sweep"
)

// Finding is one sentence of a report's findings, generated from the data.
type Finding struct {
	Kind string // "status", "best", "pruned", "compare", "reference" or "warning"
	Text string
}

// analysis is everything the report derives from one sweep's data.
type analysis struct {
	data    SweepData
	metric  Metric
	varying []string
	configs []Config // all configurations, in setting order
	ranked  []Config // configurations with finished runs, best first
	idx     EpochIndex
	counts  map[sweep.Status]int
	total   int      // runs in the sweep
	done    int      // finished runs (aggregated)
	pruned  []Config // pruned configurations, latest stop first (see Config)
	stopped int      // their finished runs, never aggregated
}

func analyze(sd SweepData, m Metric) *analysis {
	a := &analysis{data: sd, metric: m}
	a.varying = VaryingSettings(RunSettings(sd.Runs))
	a.configs = GroupConfigs(sd.Runs, a.varying)
	a.ranked = Rank(WithRuns(a.configs), m)
	a.idx = IndexEpochs(sd.Epochs)
	a.counts = statusCounts(sd.Info, sd.Runs)
	for _, n := range a.counts {
		a.total += n
	}
	if a.total < len(sd.Runs) {
		a.total = len(sd.Runs)
	}
	for _, c := range a.configs {
		a.done += len(c.Runs)
		if c.Pruned() {
			a.pruned = append(a.pruned, c)
			a.stopped += len(c.Stopped)
		}
	}
	slices.SortStableFunc(a.pruned, func(x, y Config) int { return cmp.Compare(y.PrunedAt, x.PrunedAt) })
	return a
}

// Findings generates the findings of one sweep from its data, ranking by
// metric m. The honesty rule: a difference is called a win only when it is
// larger than twice the pooled standard deviation over seeds and the
// min–max ranges over seeds do not overlap (Judge); otherwise the text says
// it is within the spread over seeds, or, with a single run on a side, that
// no spread can be estimated.
func Findings(sd SweepData, m Metric) []Finding {
	return analyze(sd, m).findings()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// unfinished lists the runs not finished for good, by status: pruned runs
// are finished (stopped on purpose), so they are not among them.
func (a *analysis) unfinished() string {
	var parts []string
	for _, st := range sweep.Statuses() {
		if n := a.counts[st]; n > 0 && !st.Finished() {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return strings.Join(parts, ", ")
}

func (a *analysis) findings() []Finding {
	m := a.metric
	var out []Finding
	add := func(kind, format string, args ...any) {
		out = append(out, Finding{kind, fmt.Sprintf(format, args...)})
	}
	if len(a.ranked) == 0 {
		switch {
		case a.total == 0:
			add("status", "No runs recorded yet.")
		case len(a.pruned) > 0:
			add("status", "No configuration has trained to the end yet (%s).", a.unfinished())
			add("pruned", "%s", a.prunedText())
		default:
			add("status", "No finished runs yet (%s).", a.unfinished())
		}
		return out
	}
	if a.done+a.stopped < a.total {
		add("status", "%d of %d runs finished (%s); everything below uses the finished runs only, so it is preliminary.",
			a.done+a.stopped, a.total, a.unfinished())
	}
	if len(a.pruned) > 0 {
		add("pruned", "%s", a.prunedText())
	}

	best := a.ranked[0]
	bs := best.Final(m)
	if len(a.ranked) == 1 {
		add("best", "%s: %s %s, with %s.", singleConfigLead(best, len(a.configs)-len(a.pruned), len(a.pruned)), m.Name(), m.FormatStats(bs), a.otherMetrics(best))
	} else {
		add("best", "Best configuration by %s: %s, %s, with %s.", m.Name(), best.Label, m.FormatStats(bs), a.otherMetrics(best))
		second := a.ranked[1]
		ss := second.Final(m)
		switch Judge(bs, ss) {
		case Clear:
			add("best", "It is clearly ahead of the runner-up, %s (%s): the difference, %s, is more than twice the pooled std over seeds (%s) and the min–max ranges do not overlap.",
				second.Label, m.FormatStats(ss), m.FormatSpread(math.Abs(bs.Mean-ss.Mean)), m.FormatSpread(PooledStd(bs, ss)))
		case WithinNoise:
			add("best", "The runner-up, %s (%s), is within the spread over seeds of it (%s), so the top spot is not settled.",
				second.Label, m.FormatStats(ss), noiseReason(bs, ss, m))
		default:
			add("best", "The runner-up is %s (%s); with a single run on one side no spread over seeds can be estimated, so the ranking is not evidence of a win.",
				second.Label, m.FormatStats(ss))
		}
	}

	names := append([]string(nil), a.varying...)
	for _, name := range names {
		c, ok := CompareSetting(a.configs, name, m)
		if !ok {
			continue
		}
		add("compare", "%s", compareText(c))
	}

	if ref := a.data.Reference; ref != nil {
		if t := a.referenceText(ref, maxRefConfigs); t != "" {
			add("reference", "%s", t)
		}
		if t := a.referenceFit(ref); t != "" {
			add("reference", "%s", t)
		}
	}

	nonFinite := 0
	for _, c := range a.configs {
		nonFinite += c.Final(m).NonFinite
	}
	if nonFinite > 0 {
		add("warning", "%s produced a non-finite final %s (diverged) and %s left out of the means.",
			plural(nonFinite, "run", "runs"), m.Name(), map[bool]string{true: "is", false: "are"}[nonFinite == 1])
	}
	if f := a.counts[sweep.StatusFailed]; f > 0 {
		add("warning", "%s failed; see the list at the end of this sweep.", plural(f, "run", "runs"))
	}
	return out
}

// prunedText says which configurations were pruned and how they are
// treated (see Config).
func (a *analysis) prunedText() string {
	lo, hi := a.pruned[len(a.pruned)-1].PrunedAt, a.pruned[0].PrunedAt
	at := fmt.Sprintf("after epoch %d", lo)
	if lo != hi {
		at = fmt.Sprintf("after epochs %d to %d", lo, hi)
	}
	return fmt.Sprintf("%s (%s) %s pruned, stopped early by the sweep's pruning rule %s: drawn in the learning curves, ending with ×, and listed in the table, but left out of every ranking and mean of final metrics, since their last metrics come from an earlier epoch than the final ones.",
		plural(len(a.pruned), "configuration", "configurations"), plural(a.stopped, "run", "runs"),
		map[bool]string{true: "was", false: "were"}[len(a.pruned) == 1], at)
}

// singleConfigLead opens the finding of the only ranked configuration;
// configs counts the configurations that were not pruned.
func singleConfigLead(c Config, configs, pruned int) string {
	switch {
	case configs > 1:
		return fmt.Sprintf("Only one configuration has finished runs so far (%s); it reaches", c.Label)
	case pruned > 0:
		return fmt.Sprintf("The only configuration not pruned (%s) reaches", c.Label)
	}
	return "The sweep's single configuration reaches"
}

// otherMetrics describes the final metrics of c other than the ranking one.
func (a *analysis) otherMetrics(c Config) string {
	var parts []string
	for _, om := range []Metric{MetricAccuracy, MetricR2, MetricSumAccuracy} {
		if om == a.metric {
			continue
		}
		s := c.Final(om)
		parts = append(parts, om.Name()+" "+statsShort(om, s))
	}
	return strings.Join(parts, " and ")
}

// statsShort renders mean ± std without n.
func statsShort(m Metric, s Stats) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N < 2 {
		return m.Format(s.Mean)
	}
	return m.FormatMeanStd(s.Mean, s.Std)
}

func noiseReason(a, b Stats, m Metric) string {
	d := math.Abs(a.Mean - b.Mean)
	p := PooledStd(a, b)
	var why []string
	if !(d > 2*p) {
		why = append(why, fmt.Sprintf("difference %s vs. 2 × pooled std %s", m.FormatSpread(d), m.FormatSpread(2*p)))
	}
	if Overlap(a, b) {
		why = append(why, "the min–max ranges over seeds overlap")
	}
	if len(why) == 0 {
		return fmt.Sprintf("difference %s", m.FormatSpread(d))
	}
	return strings.Join(why, "; ")
}

// compareText words a Comparison honestly.
func compareText(c Comparison) string {
	m := c.Metric
	d := m.FormatSpread(math.Abs(c.Diff))
	of := ""
	if c.Values > 2 {
		of = fmt.Sprintf(" (best of %d values)", c.Values)
	}
	sides := fmt.Sprintf("best configuration with each: %s vs. %s", m.FormatStats(c.SA), m.FormatStats(c.SB))
	if c.A.Label == c.B.Label || len(strings.Fields(c.A.Label)) <= 1 {
		sides = fmt.Sprintf("%s vs. %s", m.FormatStats(c.SA), m.FormatStats(c.SB))
	}
	switch c.Verdict {
	case Clear:
		return fmt.Sprintf("%s: %s%s beats %s on %s by %s (%s) — a clear difference: more than twice the pooled std over seeds (%s) and no overlap of the min–max ranges.",
			c.Setting, c.Winner, of, c.RunnerUp, m.Name(), d, sides, m.FormatSpread(c.Pooled))
	case WithinNoise:
		return fmt.Sprintf("%s: %s%s is ahead of %s on %s by %s (%s), but that is within the spread over seeds (%s) — not a win.",
			c.Setting, c.Winner, of, c.RunnerUp, m.Name(), d, sides, noiseReason(c.SA, c.SB, m))
	}
	return fmt.Sprintf("%s: %s%s is ahead of %s on %s by %s (%s), but with n=1 on one side no spread over seeds can be estimated — not evidence of a win.",
		c.Setting, c.Winner, of, c.RunnerUp, m.Name(), d, sides)
}

// vsRef places a group of runs relative to a reference value.
func vsRef(s Stats, ref float64) string {
	switch {
	case s.N == 0:
		return ""
	case s.Min > ref && s.N == 1:
		return "above the reference (single run)"
	case s.Min > ref:
		return fmt.Sprintf("above the reference in all %d seeds", s.N)
	case s.Max < ref && s.N == 1:
		return "below the reference (single run)"
	case s.Max < ref:
		return fmt.Sprintf("below the reference in all %d seeds", s.N)
	case s.N == 1:
		return "equal to the reference"
	}
	return "the reference lies within the range over seeds"
}

const maxRefConfigs = 4

// referenceText states the reference's figures next to ours at its epoch,
// for at most max configurations (best first).
func (a *analysis) referenceText(ref *sweep.Reference, max int) string {
	label := ref.Label
	if label == "" {
		label = "The reference"
	}
	head := fmt.Sprintf("%s reported %s digit accuracy and sum R² %s after %s",
		label, MetricAccuracy.Format(ref.DigitAccuracy), formatNum(ref.SumR2), plural(ref.Epoch, "epoch", "epochs"))
	acc := func(s sweep.SplitMetrics) float64 { return s.DigitAccuracy }
	r2 := func(s sweep.SplitMetrics) float64 { return s.SumR2 }
	var parts []string
	with := 0
	for _, c := range a.ranked {
		sa, sr := AtEpoch(c, a.idx, ref.Epoch, acc), AtEpoch(c, a.idx, ref.Epoch, r2)
		if sa.N == 0 && sr.N == 0 {
			continue
		}
		with++
		if len(parts) == max {
			continue
		}
		n := sa.N
		if sr.N > n {
			n = sr.N
		}
		who := fmt.Sprintf("%s (n=%d)", c.Label, n)
		if len(a.configs) == 1 {
			who = fmt.Sprintf("the reproduction (n=%d)", n)
		}
		parts = append(parts, fmt.Sprintf("%s reaches %s (%s) and R² %s (%s)",
			who, statsShort(MetricAccuracy, sa), vsRef(sa, ref.DigitAccuracy),
			statsShort(MetricR2, sr), vsRef(sr, ref.SumR2)))
	}
	if len(parts) == 0 {
		return head + fmt.Sprintf("; no finished run of this sweep has test metrics after epoch %d to compare.", ref.Epoch)
	}
	more := ""
	if with > len(parts) {
		more = fmt.Sprintf(" (%d more configurations in the table)", with-len(parts))
	}
	return head + fmt.Sprintf(". After the same %s here, ", plural(ref.Epoch, "epoch", "epochs")) +
		strings.Join(parts, "; ") + more + "."
}

// SeedSpread is the range a configuration's metric is taken to span over
// seeds when it is compared with a reference: from min to max over its
// runs, widened to mean ± 2 standard deviations when that is wider. It
// needs at least two runs (ok is false otherwise).
func SeedSpread(s Stats) (lo, hi float64, ok bool) {
	if s.N < 2 {
		return math.NaN(), math.NaN(), false
	}
	return math.Min(s.Min, s.Mean-2*s.Std), math.Max(s.Max, s.Mean+2*s.Std), true
}

// referenceFit says which configurations could have produced the
// reference's figures: those whose spread over seeds (SeedSpread) at the
// reference's epoch contains both its digit accuracy and its sum R², and
// which clearly could not, with the metric that rules each out.
func (a *analysis) referenceFit(ref *sweep.Reference) string {
	acc := func(s sweep.SplitMetrics) float64 { return s.DigitAccuracy }
	r2 := func(s sweep.SplitMetrics) float64 { return s.SumR2 }
	var fit, not []string
	single := 0
	for _, c := range a.ranked {
		sa, sr := AtEpoch(c, a.idx, ref.Epoch, acc), AtEpoch(c, a.idx, ref.Epoch, r2)
		alo, ahi, ok1 := SeedSpread(sa)
		rlo, rhi, ok2 := SeedSpread(sr)
		if !ok1 || !ok2 {
			if sa.N > 0 || sr.N > 0 {
				single++
			}
			continue
		}
		desc := fmt.Sprintf("%s (accuracy %s, R² %s)", c.Label, statsShort(MetricAccuracy, sa), statsShort(MetricR2, sr))
		var out, in []string
		place := func(name string, v, lo, hi float64) {
			switch {
			case v < lo:
				out = append(out, name+" above")
			case v > hi:
				out = append(out, name+" below")
			default:
				in = append(in, name)
			}
		}
		place("accuracy", ref.DigitAccuracy, alo, ahi)
		place("R²", ref.SumR2, rlo, rhi)
		switch {
		case len(out) == 0:
			fit = append(fit, desc)
		case len(in) == 0:
			not = append(not, desc+": "+strings.Join(out, " and ")+" the reference")
		default:
			not = append(not, desc+": "+strings.Join(out, " and ")+" the reference, whose "+strings.Join(in, " and ")+" it does span")
		}
	}
	if len(fit)+len(not) == 0 {
		return ""
	}
	label := ref.Label
	if label == "" {
		label = "the reference"
	}
	text := fmt.Sprintf("Which configurations fit %s's %s digit accuracy and sum R² %s after %s, within their spread over seeds (min–max, or mean ± 2 std where wider): ",
		label, MetricAccuracy.Format(ref.DigitAccuracy), formatNum(ref.SumR2), plural(ref.Epoch, "epoch", "epochs"))
	if len(fit) == 0 {
		text += "none"
	} else {
		text += strings.Join(fit, "; ")
	}
	if len(not) > 0 {
		text += ". Clearly not: " + strings.Join(not, "; ")
	}
	if single > 0 {
		text += fmt.Sprintf(". %s with a single run at that epoch %s no spread to judge by",
			plural(single, "configuration", "configurations"), map[bool]string{true: "has", false: "have"}[single == 1])
	}
	return text + "."
}

// overallFindings summarises all sweeps for the top of the page.
func overallFindings(as []*analysis, m Metric) []Finding {
	var out []Finding
	total, done, pruned, failed := 0, 0, 0, 0
	var secs float64
	withRuns := 0
	for _, a := range as {
		total += a.total
		done += a.done + a.stopped
		pruned += a.counts[sweep.StatusPruned]
		failed += a.counts[sweep.StatusFailed]
		secs += a.data.Info.Seconds
		if len(a.ranked) > 0 {
			withRuns++
		}
	}
	prunedPart := ""
	if pruned > 0 {
		prunedPart = fmt.Sprintf(" (%d of them pruned)", pruned)
	}
	out = append(out, Finding{"status", fmt.Sprintf("%s with %s in total: %d finished%s, %d failed, %d not finished yet; %s of training.",
		plural(len(as), "sweep", "sweeps"), plural(total, "run", "runs"), done, prunedPart, failed, total-done-failed, formatDuration(secs))})
	if withRuns == 0 {
		out = append(out, Finding{"status", "No finished runs yet: there is nothing to compare."})
		return out
	}
	if withRuns > 1 {
		var bestA *analysis
		for _, a := range as {
			if len(a.ranked) == 0 {
				continue
			}
			if bestA == nil || m.Better(a.ranked[0].Final(m).Mean, bestA.ranked[0].Final(m).Mean) {
				bestA = a
			}
		}
		c := bestA.ranked[0]
		out = append(out, Finding{"best", fmt.Sprintf("Best configuration by %s across sweeps: %s in sweep “%s”, %s.",
			m.Name(), c.Label, bestA.data.Info.Name, m.FormatStats(c.Final(m)))})
	}
	return out
}

// headline picks a sweep's findings for the top of the page: its best
// configuration, the head comparison (or else the first comparison) and a
// short version of its reference comparison.
func (a *analysis) headline(fs []Finding) []string {
	var out []string
	bestSeen, compareSeen := false, false
	firstCompare := ""
	for _, f := range fs {
		switch {
		case f.Kind == "best" && !bestSeen:
			bestSeen = true
			out = append(out, f.Text)
		case f.Kind == "compare" && strings.HasPrefix(f.Text, "head:"):
			compareSeen = true
			out = append(out, f.Text)
		case f.Kind == "compare" && firstCompare == "":
			firstCompare = f.Text
		case f.Kind == "status" && len(a.ranked) == 0:
			out = append(out, f.Text)
		}
	}
	if !compareSeen && firstCompare != "" {
		out = append(out, firstCompare)
	}
	if ref := a.data.Reference; ref != nil && len(a.ranked) > 0 {
		out = append(out, a.referenceText(ref, 1))
	}
	return out
}
