package model

import (
	"math"

	"sweep"
)

// Accumulator gathers one split's metrics batch by batch. R² is computed
// over the whole split (1 − SSE/SST with SST around the split's mean sum),
// not averaged over batches.
//
// The sum prediction is, for the regression head, the output itself (its
// accuracy counts the rounded output) and, for the classify head, the
// arg-max class; MSE, R² and the prediction's standard deviation over the
// split use that prediction.
type Accumulator struct {
	head sweep.Head

	n            int
	digitNLL     float64
	digitCorrect int
	sumSqErr     float64
	sumY, sumY2  float64 // of the true sums, for SST
	sumCorrect   int
	sumNLL       float64
	predMean     float64 // running mean of the sum prediction (Welford)
	predM2       float64 // running sum of squared deviations from it
}

// NewAccumulator starts an empty accumulator for the given head form.
func NewAccumulator(head sweep.Head) *Accumulator { return &Accumulator{head: head} }

// Add records one example: the trunk's 10 digit log-probabilities, the
// true digit, the sum head's output (1 value for regression, 19
// log-probabilities for classify) and the true sum.
func (a *Accumulator) Add(digitLogProbs []float64, label byte, sumOut []float64, sum byte) {
	a.n++
	a.digitNLL -= digitLogProbs[label]
	if argmax(digitLogProbs) == int(label) {
		a.digitCorrect++
	}
	y := float64(sum)
	var pred float64
	if a.head == sweep.HeadClassify {
		k := argmax(sumOut)
		pred = float64(k)
		a.sumNLL -= sumOut[sum]
		if k == int(sum) {
			a.sumCorrect++
		}
	} else {
		pred = sumOut[0]
		if math.Round(pred) == y {
			a.sumCorrect++
		}
	}
	d := pred - a.predMean
	a.predMean += d / float64(a.n)
	a.predM2 += d * (pred - a.predMean)
	a.sumSqErr += (pred - y) * (pred - y)
	a.sumY += y
	a.sumY2 += y * y
}

// Metrics returns the split's metrics so far. With no examples every metric
// is NaN.
func (a *Accumulator) Metrics() sweep.SplitMetrics {
	n := float64(a.n)
	m := sweep.SplitMetrics{
		DigitNLL:      a.digitNLL / n,
		DigitAccuracy: float64(a.digitCorrect) / n,
		SumMSE:        a.sumSqErr / n,
		SumAccuracy:   float64(a.sumCorrect) / n,
		SumNLL:        math.NaN(),
		SumPredStd:    math.Sqrt(a.predM2 / n),
		Samples:       a.n,
	}
	if a.head == sweep.HeadClassify {
		m.SumNLL = a.sumNLL / n
	}
	sst := a.sumY2 - a.sumY*a.sumY/n
	m.SumR2 = 1 - a.sumSqErr/sst
	if a.n == 0 {
		m.SumR2 = math.NaN()
	}
	return m
}

// argmax returns the index of the largest value (the first on ties).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
