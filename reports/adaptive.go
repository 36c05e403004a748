package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"sweep"
)

// This file reads what adaptive sweeps add to runs (issue #11): pruned
// runs, reused runs and the trials of a tpe search. Pure functions on runs,
// like aggregate.go; the report and the live UI both use them.

// shortID is how tables abbreviate a run id.
func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8] + "…"
}

// StatusText is a run's status as run tables show it: the status, and for
// a run that reused another sweep's identical done run the source, e.g.
// "done (reused from 3f2a9c1b…)", and for a pruned run the epoch it was
// stopped after, e.g. "pruned at epoch 2". A reused run is done: it counts
// as done everywhere.
func StatusText(r sweep.RunResult) string {
	switch {
	case r.ReusedFrom != "":
		return fmt.Sprintf("%s (reused from %s)", r.Status, shortID(r.ReusedFrom))
	case r.Status == sweep.StatusPruned:
		return fmt.Sprintf("%s at epoch %d", r.Status, r.EpochsDone)
	}
	return string(r.Status)
}

// Reused counts the runs that reused another sweep's epochs instead of
// training.
func Reused(runs []sweep.RunResult) int {
	n := 0
	for _, r := range runs {
		if r.ReusedFrom != "" {
			n++
		}
	}
	return n
}

// PruningSavings counts the epochs pruning saved: saved sums, over the
// pruned runs, the epochs each would still have trained (Settings.Epochs −
// EpochsDone); full sums Settings.Epochs over every run, the epochs of
// training every run to the end. Unfinished runs count in full only.
func PruningSavings(runs []sweep.RunResult) (saved, full int) {
	for _, r := range runs {
		full += r.Settings.Epochs
		if r.Status == sweep.StatusPruned {
			saved += max(0, r.Settings.Epochs-r.EpochsDone)
		}
	}
	return saved, full
}

// PruningText words PruningSavings, e.g. "pruning saved 12 of 30 epochs
// (40%)".
func PruningText(saved, full int) string {
	pct := 0.0
	if full > 0 {
		pct = 100 * float64(saved) / float64(full)
	}
	return fmt.Sprintf("pruning saved %d of %d epochs (%.0f%%)", saved, full, pct)
}

// Trial is one configuration of a tpe sweep.
type Trial struct {
	Number int     // RunResult.Trial, 1-based, in the order the search made them
	Value  float64 // seed-mean of the objective over the finished runs' final test metrics (stored units); NaN when none finished
	N      int     // finished runs in Value
	Runs   int     // runs of the trial, any status
	Pruned bool    // a run of it was pruned: Value is from the epoch it was stopped at, not final
	Epoch  int     // pruned: the last epoch its pruned runs recorded
}

// Trials groups the runs of a tpe sweep by RunResult.Trial (runs with
// Trial 0 are left out) and computes each trial's objective value, ordered
// by trial number. Finished means done or pruned with at least one epoch;
// a pruned trial's value is its runs' mean at the epoch they stopped.
func Trials(runs []sweep.RunResult, objective sweep.Metric) []Trial {
	byNum := map[int]*Trial{}
	vals := map[int][]float64{}
	for _, r := range runs {
		if r.Trial <= 0 {
			continue
		}
		t := byNum[r.Trial]
		if t == nil {
			t = &Trial{Number: r.Trial}
			byNum[r.Trial] = t
		}
		t.Runs++
		if r.Status == sweep.StatusPruned {
			t.Pruned = true
			t.Epoch = max(t.Epoch, r.EpochsDone)
		}
		if stoppedRun(r) {
			vals[r.Trial] = append(vals[r.Trial], objective.Of(r.Final))
		}
	}
	out := make([]Trial, 0, len(byNum))
	for n, t := range byNum {
		s := Summarize(vals[n])
		t.Value, t.N = s.Mean, s.N
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Trial) int { return cmp.Compare(a.Number, b.Number) })
	return out
}

// BestSoFar returns the running best of values in order: higher or lower
// as higherIsBetter says. A NaN (a trial with no value) keeps the best
// before it; leading NaNs stay NaN.
func BestSoFar(values []float64, higherIsBetter bool) []float64 {
	out := make([]float64, len(values))
	best := math.NaN()
	for i, v := range values {
		if !math.IsNaN(v) && (math.IsNaN(best) || (higherIsBetter && v > best) || (!higherIsBetter && v < best)) {
			best = v
		}
		out[i] = best
	}
	return out
}
