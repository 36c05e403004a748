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
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	train, _ := data(t)
	for _, head := range []sweep.Head{sweep.HeadRegression, sweep.HeadClassify} {
		s := settings(head)
		s.BatchSize, s.DigitWeight, s.SumWeight = 4, 0.7, 1.3
		tr, err := NewTrainer(Config{Settings: s, Dtype: tensor.Float64})
		if err != nil {
			t.Fatal(err)
		}
		split := TrainSplit(train, s.Seed)
		idx := []int{10, 20, 30, 40}
		lossAt := func() float64 {
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
			for _, j := range []int{0, len(w) / 3, len(w) - 1} {
				const h = 1e-5
				orig := w[j]
				w[j] = orig + h
				up := lossAt()
				w[j] = orig - h
				down := lossAt()
				w[j] = orig
				num := (up - down) / (2 * h)
				if diff := math.Abs(num - grads[i][j]); diff > 1e-5*math.Max(1, math.Abs(num)) {
					t.Errorf("%s: d loss / d %s[%d] = %.8g, finite difference %.8g", head, n.Name(), j, grads[i][j], num)
				}
			}
		}
	}
}
