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
			return forwardBackward(t, tr, split, idx)
		}
		// Analytic gradients first: the tape accumulates gradients until a
		// solver step zeroes them, so the finite-difference runs come after.
		grads := make([][]float64, len(tr.learn))
		tr.startEpoch(1)
		forwardBackward(t, tr, split, idx)
		for i, n := range tr.learn {
			g, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[i] = floats(g.Data())
			clear(g.Data().([]float64))
		}
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

// TestShardsSumGradients computes one batch in shards and in one piece,
// in float64 without dropout: the loss and every gradient entry must agree
// to rounding, since the shards' weighted sum is the batch's mean.
func TestShardsSumGradients(t *testing.T) {
	train, _ := data(t)
	for _, tc := range []struct {
		head  sweep.Head
		batch int
	}{{sweep.HeadClassify, 64}, {sweep.HeadRegression, 100}, {sweep.HeadClassify, 200}} {
		s := settings(tc.head)
		s.BatchSize, s.TrainSize, s.DigitWeight, s.SumWeight = tc.batch, 1000, 0.7, 1.3
		if want := min(4, tc.batch/32); Shards(s) != want {
			t.Fatalf("batch %d: %d shards, want %d", tc.batch, Shards(s), want)
		}
		idx := make([]int, tc.batch)
		for k := range idx {
			idx[k] = 3 * k
		}
		split := TrainSplit(train, s.Seed)
		var losses [2]float64
		var grads [2][]float64
		for k, shards := range []int{0, 1} {
			tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float64, shards: shards})
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{Shards(s), 1}[k]; len(tr.shards) != want {
				t.Fatalf("%d shards, want %d", len(tr.shards), want)
			}
			losses[k] = forwardBackward(t, tr, split, idx)
			for _, n := range tr.learn {
				g, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				grads[k] = append(grads[k], floats(g.Data())...)
			}
		}
		if math.Abs(losses[0]-losses[1]) > 1e-13 {
			t.Errorf("%s batch %d: loss %.17g in %d shards, %.17g in one", tc.head, tc.batch, losses[0], Shards(s), losses[1])
		}
		for j, g := range grads[0] {
			if want := grads[1][j]; math.Abs(g-want) > 1e-13*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s batch %d: gradient entry %d is %.17g in %d shards, %.17g in one", tc.head, tc.batch, j, g, Shards(s), want)
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
