package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"sweep"
)

// Metric names the final test metric that ranks configurations: it orders
// the table, picks the best and worst configuration, and is the value shown
// in effect plots and heat maps.
type Metric string

// The metrics a report can rank by. All are on the test split.
const (
	MetricR2          Metric = "test_r2"           // sum R², higher is better (the default)
	MetricAccuracy    Metric = "test_accuracy"     // digit accuracy, higher is better
	MetricSumAccuracy Metric = "test_sum_accuracy" // sum accuracy, higher is better
	MetricNLL         Metric = "test_nll"          // digit NLL, lower is better
	MetricMSE         Metric = "test_mse"          // sum MSE, lower is better
)

// Metrics lists every valid metric, default first.
var Metrics = []Metric{MetricR2, MetricAccuracy, MetricSumAccuracy, MetricNLL, MetricMSE}

// ParseMetric validates a metric name; "" means the default, test_r2.
func ParseMetric(s string) (Metric, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MetricR2, nil
	}
	for _, m := range Metrics {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown metric %q: want one of %s", s, strings.Join(names, ", "))
}

// String returns the metric's name.
func (m Metric) String() string { return string(m) }

// Name is the metric in words, e.g. "sum R²".
func (m Metric) Name() string {
	switch m {
	case MetricAccuracy:
		return "digit accuracy"
	case MetricSumAccuracy:
		return "sum accuracy"
	case MetricNLL:
		return "digit NLL"
	case MetricMSE:
		return "sum MSE"
	}
	return "sum R²"
}

// AxisLabel is the label for a plot axis showing the metric, with its unit.
func (m Metric) AxisLabel() string {
	switch m {
	case MetricAccuracy:
		return "test digit accuracy (%)"
	case MetricSumAccuracy:
		return "test sum accuracy (%)"
	case MetricNLL:
		return "test digit NLL (nats)"
	case MetricMSE:
		return "test sum MSE"
	}
	return "test sum R²"
}

// LowerIsBetter reports whether smaller values rank first.
func (m Metric) LowerIsBetter() bool { return m == MetricNLL || m == MetricMSE }

// Percent reports whether the metric is a fraction shown in percent.
func (m Metric) Percent() bool { return m == MetricAccuracy || m == MetricSumAccuracy }

// Of extracts the metric from one split's metrics, as stored (fractions
// stay fractions).
func (m Metric) Of(s sweep.SplitMetrics) float64 {
	switch m {
	case MetricAccuracy:
		return s.DigitAccuracy
	case MetricSumAccuracy:
		return s.SumAccuracy
	case MetricNLL:
		return s.DigitNLL
	case MetricMSE:
		return s.SumMSE
	}
	return s.SumR2
}

// Display converts a stored value to the unit shown in figures and text
// (percent for accuracies).
func (m Metric) Display(v float64) float64 {
	if m.Percent() {
		return 100 * v
	}
	return v
}

// Better reports whether a ranks strictly before b. NaN ranks last.
func (m Metric) Better(a, b float64) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case m.LowerIsBetter():
		return a < b
	}
	return a > b
}

// Format renders a stored value for text, e.g. "92.0%" or "0.065".
func (m Metric) Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if m.Percent() {
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	}
	return formatNum(v)
}

// FormatSpread renders a spread (a std or a difference) in the metric's
// display unit: percentage points for accuracies.
func (m Metric) FormatSpread(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if m.Percent() {
		return formatSpread(100*v, 1) + " pp"
	}
	return formatSpread(v, numDecimals(v))
}

// FormatStats renders mean ± std (n) in the metric's display unit; with
// n = 1 there is no ±.
func (m Metric) FormatStats(s Stats) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N < 2 {
		return m.Format(s.Mean) + " (n=1)"
	}
	return fmt.Sprintf("%s (n=%d)", m.FormatMeanStd(s.Mean, s.Std), s.N)
}

// FormatMeanStd renders "mean ± std" with the std printed to the mean's
// decimals, or finer when that would round it to zero.
func (m Metric) FormatMeanStd(mean, std float64) string {
	if m.Percent() {
		return m.Format(mean) + " ± " + formatSpread(100*std, 1) + " pp"
	}
	return formatNum(mean) + " ± " + formatSpread(std, numDecimals(mean))
}

// formatSpread prints a non-negative spread with at least dec decimals,
// adding decimals (up to six) until it does not round to zero. A spread
// below 1e-9 is rounding noise of equal values and prints as zero.
func formatSpread(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if dec < 0 {
		dec = 0
	}
	if math.Abs(v) < 1e-9 {
		v = 0
	}
	for dec < 6 && v != 0 && math.Abs(v) < 0.5*math.Pow(10, -float64(dec)) {
		dec++
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// numDecimals is the number of decimals formatNum prints for v in fixed
// notation.
func numDecimals(v float64) int {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return 0
	case a >= 10:
		return 1
	case a >= 1:
		return 2
	case a >= 0.01 || a == 0:
		return 3
	}
	return 4
}

// formatNum prints a number with about three significant digits, in
// fixed notation unless it is very small or very large.
func formatNum(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1e6 || a < 1e-3:
		return strconv.FormatFloat(v, 'g', 2, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
