package search

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestSeedAwareKeepsUnluckyConfig is the hand-made case of one unlucky
// seed. Four configurations of three seeds each reach the rung (test R²,
// higher is better):
//
//	A 0.90 0.91 0.92   mean 0.91
//	B 0.88 0.89 0.90   mean 0.89
//	C 0.89 0.90 0.50   mean 0.763, s = 0.228, SE = 0.132  (seed 3 unlucky)
//	D 0.60 0.62 0.61   mean 0.61,  s = 0.01,  SE = 0.0058
//
// The median of the others' means, for C, is 0.89 (A 0.91, B 0.89, D 0.61):
// C is 0.127 below it, less than its SE 0.132, so the seed-aware rule keeps
// it. A single-seed median rule, looking at C's unlucky seed alone (0.50)
// against the median of the other runs at that epoch, stops it. D is
// stopped by both: 0.28 below the median, far more than its SE.
func TestSeedAwareKeepsUnluckyConfig(t *testing.T) {
	r := Rule{Method: Median, HigherIsBetter: true}
	seeds := map[string][]float64{
		"A": {0.90, 0.91, 0.92},
		"B": {0.88, 0.89, 0.90},
		"C": {0.89, 0.90, 0.50},
		"D": {0.60, 0.62, 0.61},
	}
	stats := map[string]SeedStats{}
	for k, v := range seeds {
		stats[k] = r.Stats(k, v)
	}
	c := stats["C"]
	if math.Abs(c.Mean-0.763333) > 1e-5 || math.Abs(c.Std-0.2282) > 1e-4 || math.Abs(c.SE-0.13178) > 1e-4 {
		t.Fatalf("C's stats %+v: want mean 0.7633, s 0.2282, SE 0.1318", c)
	}
	others := func(name string) []SeedStats {
		var out []SeedStats
		for _, k := range []string{"A", "B", "C", "D"} {
			if k != name {
				out = append(out, stats[k])
			}
		}
		return out
	}
	if stop, why := r.Decide(c, others("C")); stop {
		t.Errorf("the seed-aware rule stops C: %s", why)
	}
	if stop, why := r.Decide(stats["D"], others("D")); !stop || !strings.Contains(why, "median cut 0.89") {
		t.Errorf("the seed-aware rule keeps D (stop %v, %q)", stop, why)
	}
	// The single-seed rule: each run alone, against the median of the other
	// runs' values at the epoch (11 others).
	single := Rule{Method: Median, HigherIsBetter: true}
	var runs []SeedStats
	for _, k := range []string{"A", "B", "C", "D"} {
		for i, v := range seeds[k] {
			runs = append(runs, single.Stats(k+string(rune('1'+i)), []float64{v}))
		}
	}
	unlucky := runs[8] // C3 = 0.50
	rest := slices.Delete(slices.Clone(runs), 8, 9)
	if stop, _ := single.Decide(unlucky, rest); !stop {
		t.Error("the single-seed median rule keeps C's unlucky seed: the hand-made case does not show the difference")
	}
}

// TestASHACut: with η = 3, of the n configurations at a rung the best
// max(1, ⌊n/3⌋) go on; the rest stop unless within their SE of the cut.
func TestASHACut(t *testing.T) {
	r := Rule{Method: ASHA, ReductionFactor: 3, HigherIsBetter: true}
	mk := func(name string, v ...float64) SeedStats { return r.Stats(name, v) }
	a, b, c := mk("a", 0.9, 0.9), mk("b", 0.8, 0.8), mk("c", 0.7, 0.7)
	d, e, f := mk("d", 0.6, 0.6), mk("e", 0.5, 0.5), mk("f", 0.86, 0.74) // f: mean 0.8, SE 0.06
	// Six at the rung: the best 2 go on, the cut is b's 0.8.
	all := []SeedStats{a, b, c, d, e, f}
	for _, tc := range []struct {
		s    SeedStats
		stop bool
	}{{a, false}, {b, false}, {c, true}, {d, true}, {e, true}, {f, false}} {
		var others []SeedStats
		for _, o := range all {
			if o.Config != tc.s.Config {
				others = append(others, o)
			}
		}
		if stop, why := r.Decide(tc.s, others); stop != tc.stop {
			t.Errorf("%s: stop = %v (%s), want %v", tc.s.Config, stop, why, tc.stop)
		}
	}
	// The first configuration at a rung always goes on.
	if stop, _ := r.Decide(e, nil); stop {
		t.Error("the first configuration at a rung is stopped")
	}
	// Lower is better flips the order: for NLL the cut of {0.1, 0.2, 0.3}
	// is 0.1 and 0.3 stops.
	low := Rule{Method: ASHA, ReductionFactor: 3}
	if stop, _ := low.Decide(low.Stats("x", []float64{0.3}), []SeedStats{low.Stats("y", []float64{0.1}), low.Stats("z", []float64{0.2})}); !stop {
		t.Error("lower-is-better: the worst of three goes on")
	}
	// A diverged seed (NaN) makes the configuration the worst.
	if s := r.Stats("nan", []float64{0.9, math.NaN()}); !math.IsInf(s.Mean, -1) {
		t.Errorf("a diverged seed: mean %v, want -Inf", s.Mean)
	}
}

func TestRungs(t *testing.T) {
	if got := (Rule{Method: ASHA, MinEpochs: 1, ReductionFactor: 3}).Rungs(10); !slices.Equal(got, []int{1, 3, 9}) {
		t.Errorf("asha rungs %v, want [1 3 9]", got)
	}
	if got := (Rule{Method: ASHA, MinEpochs: 2, ReductionFactor: 2}).Rungs(9); !slices.Equal(got, []int{2, 4, 8}) {
		t.Errorf("asha rungs %v, want [2 4 8]", got)
	}
	if got := (Rule{Method: Median, MinEpochs: 2}).Rungs(5); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("median rungs %v, want [2 3 4]", got)
	}
}
