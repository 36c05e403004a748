package search

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Seed-aware early stopping. The unit of a decision is a configuration
// with all its repeats over seeds: at a rung (an epoch where decisions are
// taken), each configuration is represented by the mean of its seeds'
// metric at that epoch, and it is stopped only when that mean falls short
// of the rung's cut by more than its standard error over seeds,
//
//	stop  ⇔  mean is worse than cut by more than SE,  SE = s/√n,
//
// where s is the sample standard deviation (divisor n−1) of its n seeds'
// values; with a single seed SE is 0 and the rule is the classic one. A
// configuration that is merely unlucky in one seed has a large SE and is
// kept; a single-seed rule would stop it on that seed alone.

// Method is how a rung's cut is set.
type Method string

const (
	// ASHA is asynchronous successive halving: the cut is the seed-mean of
	// the configuration ranked max(1, ⌊n/η⌋) among the n that have reached
	// the rung so far (itself included), so about the best 1/η go on.
	ASHA Method = "asha"
	// Median: the cut is the median of the other configurations'
	// seed-means at the same epoch (needs at least MinOthers of them).
	Median Method = "median"
)

// Rule is an early-stopping rule. Zero values: ReductionFactor 0 means 3;
// MinEpochs 0 means 1; MinOthers 0 means 2 (Median only).
type Rule struct {
	Method          Method
	MinEpochs       int
	ReductionFactor int
	MinOthers       int
	HigherIsBetter  bool
}

func (r Rule) eta() int {
	if r.ReductionFactor <= 0 {
		return 3
	}
	return r.ReductionFactor
}

func (r Rule) minEpochs() int { return max(1, r.MinEpochs) }

func (r Rule) minOthers() int {
	if r.MinOthers <= 0 {
		return 2
	}
	return r.MinOthers
}

// Rungs lists the epochs below last at which the rule decides: for ASHA
// MinEpochs × ηᵏ, for Median every epoch from MinEpochs on.
func (r Rule) Rungs(last int) []int {
	var out []int
	for e := r.minEpochs(); e < last; {
		out = append(out, e)
		if r.Method == Median {
			e++
		} else {
			e *= r.eta()
		}
	}
	return out
}

// IsRung reports whether epoch is one of the rule's rungs for runs of last
// epochs.
func (r Rule) IsRung(epoch, last int) bool { return slices.Contains(r.Rungs(last), epoch) }

// SeedStats is a configuration's metric at one epoch over its seeds.
type SeedStats struct {
	N        int
	Mean, SE float64 // SE = s/√n; 0 when N < 2
	Std      float64 // sample standard deviation; 0 when N < 2
	Config   string  // who it is, for reasons
}

// Stats summarises one configuration's seeds' values (non-finite values,
// from diverged runs, count as the worst possible).
func (r Rule) Stats(config string, values []float64) SeedStats {
	worst := math.Inf(-1)
	if !r.HigherIsBetter {
		worst = math.Inf(1)
	}
	vals := make([]float64, len(values))
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = worst
		}
		vals[i] = v
	}
	s := SeedStats{N: len(vals), Config: config}
	for _, v := range vals {
		s.Mean += v
	}
	s.Mean /= float64(max(1, s.N))
	if s.N >= 2 && !math.IsInf(s.Mean, 0) {
		ss := 0.0
		for _, v := range vals {
			ss += (v - s.Mean) * (v - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
		s.SE = s.Std / math.Sqrt(float64(s.N))
	}
	return s
}

// better reports whether a is better than b.
func (r Rule) better(a, b float64) bool {
	if r.HigherIsBetter {
		return a > b
	}
	return a < b
}

// Promote is asynchronous successive halving's rule at a rung: config goes
// on to the next rung when it is among the best k = ⌊n/η⌋ of the n
// configurations that have reached the rung so far (itself and others),
// seed-aware: unless its seed-mean is worse than the k-th best by more than
// its SE. With k = 0 (fewer than η have arrived) none goes on yet: the
// configuration waits, and may be promoted as more arrive. final makes k
// at least 1, for the end of a sweep, when no more will arrive. The reason
// says why it does not go on.
func (r Rule) Promote(config SeedStats, others []SeedStats, final bool) (ok bool, reason string) {
	n := len(others) + 1
	k := n / r.eta()
	if final {
		k = max(1, k)
	}
	if k == 0 {
		return false, fmt.Sprintf("%s: %d of the configurations have reached this rung, fewer than η = %d: none goes on yet",
			r.Method, n, r.eta())
	}
	// Decide's cut is the seed-mean ranked max(1, ⌊n/η⌋), which is k here.
	stop, why := r.Decide(config, others)
	return !stop, why
}

// Decide says whether to stop config at a rung, given the configurations
// that have reached the same rung (others, not including config), and why.
// The reason names the cut, the configuration's seed-mean and its SE. For
// ASHA the cut is the seed-mean ranked k = max(1, ⌊n/η⌋) (Promote).
func (r Rule) Decide(config SeedStats, others []SeedStats) (stop bool, reason string) {
	var cut float64
	switch r.Method {
	case ASHA:
		all := append([]SeedStats{config}, others...)
		means := make([]float64, len(all))
		for i, s := range all {
			means[i] = s.Mean
		}
		sort.Slice(means, func(i, j int) bool { return r.better(means[i], means[j]) })
		k := max(1, len(means)/r.eta())
		cut = means[k-1]
	case Median:
		if len(others) < r.minOthers() {
			return false, ""
		}
		means := make([]float64, len(others))
		for i, s := range others {
			means[i] = s.Mean
		}
		sort.Float64s(means)
		if n := len(means); n%2 == 1 {
			cut = means[n/2]
		} else {
			cut = (means[n/2-1] + means[n/2]) / 2
		}
	default:
		return false, ""
	}
	// Worse than the cut by more than SE.
	margin := cut - config.Mean
	if !r.HigherIsBetter {
		margin = config.Mean - cut
	}
	if margin > config.SE || math.IsInf(config.Mean, 0) {
		return true, fmt.Sprintf("%s cut %.6g: seed-mean %.6g (n=%d) is worse by %.3g, more than its standard error %.3g",
			r.Method, cut, config.Mean, config.N, margin, config.SE)
	}
	return false, ""
}
