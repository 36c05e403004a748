package sweep

import (
	"fmt"
	"math"
)

// Adaptive sweeps. A sweep file's [tpe] table makes a sweep whose
// configurations are not known in advance: they are suggested one at a
// time from the results recorded so far (package search), under the
// database's lock, until Search.Trials configurations exist. A [prune]
// table stops configurations early at rungs (package search's Rule). Both
// are plain data here; the decisions live in package search.

// Search is a sweep's adaptive search (a [tpe] table). Each trial is one
// configuration trained with Repeats seeds; its value is the seed-mean of
// the Objective after the last epoch.
type Search struct {
	Method        string        // "tpe"
	Trials        int           // configurations in all, >= 1
	StartupTrials int           // random configurations before the model takes over; 0 means 10
	Objective     Metric        // what the search optimises
	Params        []SearchParam // the space, in the settings registry's order
	Base          Settings      // every other setting; Base.Seed is the first seed
	Repeats       int           // runs per configuration, seeds Base.Seed … Base.Seed+Repeats−1
}

// SearchParam is one setting the search chooses, with its distribution
// (the same syntax and meaning as a [random] distribution).
type SearchParam struct {
	Key     string  // a setting key (LookupSetting)
	Dist    string  // "uniform", "log_uniform", "int_uniform" or "choice"
	Lo, Hi  float64 // bounds of uniform, log_uniform and int_uniform (inclusive)
	Choices []any   // the values of choice, of the setting's kind (float64, int64 or string)
}

// Prune is a sweep's early-stopping rule (a [prune] table); see package
// search's Rule for the decision.
type Prune struct {
	Method          string // "asha" or "median"
	Metric          Metric // compared at each rung
	MinEpochs       int    // first rung; >= 1
	ReductionFactor int    // η: ASHA's rungs are MinEpochs × ηᵏ and about 1/η go on; >= 2
}

// Metric names one test metric of an epoch, as in the views' columns
// (test_accuracy, test_r2, test_sum_accuracy, test_nll, test_mse), and
// which way is better.
type Metric struct {
	Name           string
	HigherIsBetter bool
}

// Metrics lists the metrics a search or a pruning rule may use, each with
// its natural direction.
func Metrics() []Metric {
	return []Metric{
		{"test_accuracy", true},
		{"test_r2", true},
		{"test_sum_accuracy", true},
		{"test_nll", false},
		{"test_mse", false},
	}
}

// LookupMetric finds a metric of Metrics by name.
func LookupMetric(name string) (Metric, bool) {
	for _, m := range Metrics() {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Of reads the metric from a split's metrics (the test split's). An unknown
// name gives NaN.
func (m Metric) Of(s SplitMetrics) float64 {
	switch m.Name {
	case "test_accuracy":
		return s.DigitAccuracy
	case "test_r2":
		return s.SumR2
	case "test_sum_accuracy":
		return s.SumAccuracy
	case "test_nll":
		return s.DigitNLL
	case "test_mse":
		return s.SumMSE
	}
	return math.NaN()
}

// String is the name with its direction, e.g. "test_r2 (higher is better)".
func (m Metric) String() string {
	dir := "lower"
	if m.HigherIsBetter {
		dir = "higher"
	}
	return fmt.Sprintf("%s (%s is better)", m.Name, dir)
}
