package reports

import (
	"math"
	"strings"
	"testing"

	"sweep"
)

// headSweep is a sweep where only the head varies, with the given final R²
// per seed for each head; per-epoch test metrics end at those values.
func headSweep(reg, cls []float64) SweepData {
	sd := SweepData{Info: sweep.SweepInfo{Name: "heads"}}
	add := func(h sweep.Head, vals []float64, acc float64) {
		for i, v := range vals {
			r, es := run(settings(h, 1, 0.001), int64(i+1), sweep.StatusDone, acc+float64(i)*0.001, v, v/2, v)
			sd.Runs = append(sd.Runs, r)
			sd.Epochs = append(sd.Epochs, es...)
		}
	}
	add(sweep.HeadRegression, reg, 0.97)
	add(sweep.HeadClassify, cls, 0.98)
	return sd
}

func texts(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("[" + f.Kind + "] " + f.Text + "\n")
	}
	return b.String()
}

func TestFindingsClearWin(t *testing.T) {
	fs := Findings(headSweep([]float64{0.06, 0.07, 0.08}, []float64{0.90, 0.91, 0.92}), MetricR2)
	all := texts(fs)
	for _, want := range []string{
		"Best configuration by sum R²: head=classify, 0.910 ± 0.010 (n=3)",
		"head: classify beats regression on sum R² by 0.840",
		"0.910 ± 0.010 (n=3) vs. 0.070 ± 0.010 (n=3)",
		"a clear difference",
		"It is clearly ahead of the runner-up, head=regression",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "within the spread") || strings.Contains(all, "not a win") {
		t.Errorf("a clear win is worded as noise:\n%s", all)
	}
}

func TestFindingsWinInsideNoise(t *testing.T) {
	// classify 0.60 ± 0.10 vs regression 0.5733 ± 0.09: ranges overlap.
	fs := Findings(headSweep([]float64{0.48, 0.58, 0.66}, []float64{0.50, 0.60, 0.70}), MetricR2)
	all := texts(fs)
	for _, want := range []string{
		"head: classify is ahead of regression on sum R² by 0.027",
		"within the spread over seeds",
		"the min–max ranges over seeds overlap",
		"not a win",
		"so the top spot is not settled",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	for _, bad := range []string{"beats", "clear", "clearly"} {
		if strings.Contains(all, bad) {
			t.Errorf("findings claim a win inside the noise (%q):\n%s", bad, all)
		}
	}
}

func TestFindingsSingleRun(t *testing.T) {
	fs := Findings(headSweep([]float64{0.07}, []float64{0.91}), MetricR2)
	all := texts(fs)
	for _, want := range []string{
		"0.910 (n=1)",
		"no spread over seeds can be estimated",
		"not evidence of a win",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "beats") || strings.Contains(all, "clear") || strings.Contains(all, "±") {
		t.Errorf("n=1 findings claim a win or a spread:\n%s", all)
	}
}

func TestFindingsReference(t *testing.T) {
	sd := headSweep([]float64{0.06, 0.07, 0.08}, []float64{0.90, 0.91, 0.92})
	// The runs recorded 2 epochs; the reference is after epoch 2.
	sd.Reference = &sweep.Reference{Label: "PyTorch notebook", Epoch: 2, DigitAccuracy: 0.92, SumR2: 0.065}
	all := texts(Findings(sd, MetricR2))
	for _, want := range []string{
		"PyTorch notebook reported 92.0% digit accuracy and sum R² 0.065 after 2 epochs",
		"After the same 2 epochs here, head=classify (n=3) reaches 98.1% ± 0.1 pp (above the reference in all 3 seeds) and R² 0.910 ± 0.010 (above the reference in all 3 seeds)",
		// regression 0.06–0.08 straddles 0.065.
		"head=regression (n=3) reaches 97.1% ± 0.1 pp (above the reference in all 3 seeds) and R² 0.070 ± 0.010 (the reference lies within the range over seeds)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	sd.Reference.Epoch = 5
	all = texts(Findings(sd, MetricR2))
	if !strings.Contains(all, "no finished run of this sweep has test metrics after epoch 5") {
		t.Errorf("reference past the last epoch not handled:\n%s", all)
	}
}

func TestFindingsPartialAndEmpty(t *testing.T) {
	sd := SweepData{Info: sweep.SweepInfo{Name: "empty"}}
	for i := range 3 {
		r, _ := run(settings(sweep.HeadRegression, 1, 0.001), int64(i), sweep.StatusPending, 0, 0)
		sd.Runs = append(sd.Runs, r)
	}
	all := texts(Findings(sd, MetricR2))
	if !strings.Contains(all, "No finished runs yet (3 pending)") {
		t.Errorf("pending-only sweep:\n%s", all)
	}
	if all := texts(Findings(SweepData{}, MetricR2)); !strings.Contains(all, "No runs recorded yet") {
		t.Errorf("empty sweep:\n%s", all)
	}

	sd = headSweep([]float64{0.06, 0.07}, []float64{0.9, 0.91})
	r, _ := run(settings(sweep.HeadClassify, 1, 0.001), 9, sweep.StatusFailed, 0, 0, 0.1)
	r.Error = "boom"
	sd.Runs = append(sd.Runs, r)
	all = texts(Findings(sd, MetricR2))
	for _, want := range []string{"4 of 5 runs finished (1 failed)", "preliminary", "1 run failed"} {
		if !strings.Contains(all, want) {
			t.Errorf("partial sweep lacks %q:\n%s", want, all)
		}
	}
}

func TestFindingsLowerIsBetter(t *testing.T) {
	// Ranked by MSE = (1 − R²)·16.5: classify (R² 0.91) has the lower MSE.
	all := texts(Findings(headSweep([]float64{0.06, 0.07, 0.08}, []float64{0.90, 0.91, 0.92}), MetricMSE))
	if !strings.Contains(all, "Best configuration by sum MSE: head=classify") || !strings.Contains(all, "head: classify beats regression on sum MSE") {
		t.Errorf("MSE ranking:\n%s", all)
	}
}

// TestFindingsReferenceFit: three hand-made configurations (sum_weight 1,
// 2 and 3 of the regression head, three seeds each, one epoch) against a
// reference of 92% and R² 0.065. The first spans the reference in both
// metrics; the second matches the accuracy but its R² (0.5 ± 0.01) is far
// above; the third misses both (99% and R² 0.9).
func TestFindingsReferenceFit(t *testing.T) {
	sd := SweepData{Info: sweep.SweepInfo{Name: "t"}}
	add := func(sumWeight float64, accs, r2s []float64) {
		for i := range accs {
			r, es := run(settings(sweep.HeadRegression, sumWeight, 0.01), int64(i+1), sweep.StatusDone, accs[i], r2s[i], r2s[i])
			sd.Runs = append(sd.Runs, r)
			sd.Epochs = append(sd.Epochs, es...)
		}
	}
	add(1, []float64{0.91, 0.92, 0.93}, []float64{0.03, 0.06, 0.12})
	add(2, []float64{0.915, 0.92, 0.925}, []float64{0.49, 0.50, 0.51})
	add(3, []float64{0.99, 0.99, 0.99}, []float64{0.90, 0.90, 0.90})
	sd.Reference = &sweep.Reference{Label: "PyTorch notebook", Epoch: 1, DigitAccuracy: 0.92, SumR2: 0.065}
	all := texts(Findings(sd, MetricR2))
	want := "Which configurations fit PyTorch notebook's 92.0% digit accuracy and sum R² 0.065 after 1 epoch, " +
		"within their spread over seeds (min–max, or mean ± 2 std where wider): sum_weight=1 (accuracy 92.0% ± 1.0 pp, R² 0.070 ± 0.046). " +
		"Clearly not: sum_weight=3 (accuracy 99.0% ± 0.0 pp, R² 0.900 ± 0.000): accuracy above and R² above the reference; " +
		"sum_weight=2 (accuracy 92.0% ± 0.5 pp, R² 0.500 ± 0.010): R² above the reference, whose accuracy it does span."
	if !strings.Contains(all, want) {
		t.Errorf("findings lack\n%s\n%s", want, all)
	}
	lo, hi, ok := SeedSpread(Summarize([]float64{0.5, 0.5, 0.8}))
	// mean 0.6, std √0.03 ≈ 0.1732: mean ± 2 std is wider than min–max.
	if !ok || !near(lo, 0.6-2*math.Sqrt(0.03)) || !near(hi, 0.6+2*math.Sqrt(0.03)) {
		t.Errorf("SeedSpread = %v, %v, %v", lo, hi, ok)
	}
	if _, _, ok := SeedSpread(Summarize([]float64{0.5})); ok {
		t.Error("a single run has a spread")
	}
}
