package model

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"sweep"
)

// TestGradientsMatchFiniteDifferences checks gorgonia's gradients of the
// total loss against central finite differences in float64, for a few
// entries of every parameter tensor and both head forms.
//
// The variants cover the later settings: other trunk widths, the sum head
// reading probabilities, and dropout, whose mask is drawn again for every
// evaluation from a generator reseeded to the same state, so every
// evaluation sees the same mask.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	train, _ := data(t)
	later := func(head sweep.Head) func(*sweep.Settings) {
		return func(s *sweep.Settings) {
			s.Head, s.Conv1Channels, s.Conv2Channels, s.FCHidden = head, 4, 6, 12
			s.SumInput, s.Dropout = sweep.SumInputProbs, 0.3
		}
	}
	cases := []struct {
		name   string
		change func(*sweep.Settings)
	}{
		{"regression", func(s *sweep.Settings) { s.Head = sweep.HeadRegression }},
		{"classify", func(s *sweep.Settings) { s.Head = sweep.HeadClassify }},
		{"regression, widths 4/6/12, probs, dropout 0.3", later(sweep.HeadRegression)},
		{"classify, widths 4/6/12, probs, dropout 0.3", later(sweep.HeadClassify)},
		{"regression, broadcast_mse", func(s *sweep.Settings) { s.Head, s.SumLoss = sweep.HeadRegression, sweep.SumLossBroadcastMSE }},
	}
	for _, c := range cases {
		s := settings(sweep.HeadRegression)
		s.BatchSize, s.DigitWeight, s.SumWeight = 4, 0.7, 1.3
		c.change(&s)
		head := c.name
		tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float64})
		if err != nil {
			t.Fatal(err)
		}
		split := TrainSplit(train, s.Seed)
		idx := []int{10, 20, 30, 40}
		lossAt := func() float64 {
			tr.startEpoch(1)
			tr.train.fill(split, idx)
			if err := tr.trainVM.RunAll(); err != nil {
				t.Fatal(err)
			}
			l := scalar(tr.train.loss.Value())
			tr.trainVM.Reset()
			return l
		}
		// Analytic gradients first: the tape accumulates gradients until a
		// solver step zeroes them, so the finite-difference runs come after.
		grads := make([][]float64, len(tr.learn))
		tr.startEpoch(1)
		tr.train.fill(split, idx)
		if err := tr.trainVM.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, n := range tr.learn {
			g, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[i] = floats(g.Data())
		}
		tr.trainVM.Reset()
		for i, n := range tr.learn {
			w := n.Value().Data().([]float64)
			for _, j := range probeIndices(len(w)) {
				num := centralDiff(w, j, lossAt)
				if diff := math.Abs(num - grads[i][j]); diff > 1e-5*math.Max(1, math.Abs(num)) {
					t.Errorf("%s: d loss / d %s[%d] = %.8g, finite difference %.8g", head, n.Name(), j, grads[i][j], num)
				}
			}
		}
	}
}

// probeIndices are the entries of a parameter tensor of n values whose
// gradients the finite-difference tests check.
func probeIndices(n int) []int { return []int{0, n / 3, n - 1} }

// centralDiff is the central finite difference of f with respect to w[j],
// with step 1e-5; w[j] is left as it was.
func centralDiff(w []float64, j int, f func() float64) float64 {
	const h = 1e-5
	orig := w[j]
	w[j] = orig + h
	up := f()
	w[j] = orig - h
	down := f()
	w[j] = orig
	return (up - down) / (2 * h)
}
