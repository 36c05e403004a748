package reports

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"sweep"
)

// Synthetic sweeps for tests, benchmarks and screenshots. The model is made
// up but shaped like the real thing: digit accuracy climbs to ~99%, the
// classify head learns the sum, the regression head with a linear sum head
// stays near the notebook's R² unless its loss weight is raised.

func baseSettings() sweep.Settings {
	return sweep.Settings{
		Head: sweep.HeadRegression, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 64, Epochs: 5,
	}
}

// grid expands a base setting over named values, e.g.
// grid(base, "head", []string{"regression","classify"}, "sum_weight", ...).
func grid(base sweep.Settings, axes ...any) []sweep.Settings {
	out := []sweep.Settings{base}
	for i := 0; i+1 < len(axes); i += 2 {
		name := axes[i].(string)
		var next []sweep.Settings
		for _, s := range out {
			switch vals := axes[i+1].(type) {
			case []string:
				for _, v := range vals {
					t := s
					switch name {
					case "head":
						t.Head = sweep.Head(v)
					case "optimizer":
						t.Optimizer = sweep.Optimizer(v)
					}
					next = append(next, t)
				}
			case []float64:
				for _, v := range vals {
					t := s
					switch name {
					case "sum_weight":
						t.SumWeight = v
					case "digit_weight":
						t.DigitWeight = v
					case "lr":
						t.LR = v
					case "momentum":
						t.Momentum = v
					}
					next = append(next, t)
				}
			case []int:
				for _, v := range vals {
					t := s
					switch name {
					case "sum_hidden":
						t.SumHidden = v
					case "batch_size":
						t.BatchSize = v
					case "epochs":
						t.Epochs = v
					}
					next = append(next, t)
				}
			}
		}
		out = next
	}
	return out
}

// synthMetrics is the made-up model: metrics of a run after epoch e.
func synthMetrics(s sweep.Settings, e int, rng *rand.Rand, train bool) sweep.SplitMetrics {
	ep := float64(e)
	lrf := math.Min(1, s.LR/0.001)
	if s.LR > 0.005 {
		lrf = 0.6
	}
	acc := 0.995 - 0.09*math.Exp(-ep*lrf/1.3) - 0.004*math.Abs(math.Log10(s.SumWeight+1e-9)) + rng.NormFloat64()*0.002
	var r2, sumAcc float64
	switch s.Head {
	case sweep.HeadClassify:
		r2 = 0.97 - 0.5*math.Exp(-ep*lrf/1.5) + rng.NormFloat64()*0.006
		if s.SumWeight < 1 {
			r2 -= 0.15
		}
		sumAcc = 0.93 - 0.6*math.Exp(-ep*lrf/1.5) + rng.NormFloat64()*0.01
	default:
		r2 = 0.065 + 0.05*math.Log10(s.SumWeight+1) + 0.3*float64(min(s.SumHidden, 64))/64 + rng.NormFloat64()*0.02
		sumAcc = 0.09 + 0.1*r2 + rng.NormFloat64()*0.005
	}
	if train {
		acc -= 0.01
		r2 -= 0.01
	}
	acc = math.Min(acc, 0.999)
	sm := sweep.SplitMetrics{
		DigitAccuracy: acc,
		DigitNLL:      -math.Log(acc) * 1.4,
		SumR2:         r2,
		SumMSE:        (1 - r2) * 16.5,
		SumAccuracy:   sumAcc,
		SumNLL:        math.NaN(),
		Samples:       10000,
	}
	if s.Head == sweep.HeadClassify {
		sm.SumNLL = -math.Log(math.Max(sumAcc, 0.05))
	}
	if train {
		sm.Samples = 60000
	}
	return sm
}

// synthSweep builds a sweep of every setting × seed, all done, unless
// status says otherwise for a run index.
func synthSweep(name string, settings []sweep.Settings, seeds int, status func(i int) sweep.Status) SweepData {
	start := time.Date(2025, 11, 29, 9, 0, 0, 0, time.UTC)
	sd := SweepData{Info: sweep.SweepInfo{
		Name:        name,
		Description: "Synthetic sweep " + name + ".",
		File:        "configs/" + name + ".toml",
		Source:      "name = \"" + name + "\"\n[grid]\nhead = [\"regression\", \"classify\"]\n",
		Hash:        "0123456789abcdef0123456789abcdef",
		UpdatedAt:   start,
		Counts:      map[sweep.Status]int{},
	}}
	i := 0
	t := start
	for _, s := range settings {
		for seed := range seeds {
			s.Seed = int64(seed + 1)
			st := sweep.StatusDone
			if status != nil {
				st = status(i)
			}
			rng := rand.New(rand.NewPCG(uint64(i)+1, 7))
			id := sweep.RunID(name, s)
			r := sweep.RunResult{Sweep: name, RunID: id, Status: st, Settings: s, Host: "host-a"}
			epochs := s.Epochs
			switch st {
			case sweep.StatusPending:
				epochs = 0
			case sweep.StatusFailed:
				epochs = s.Epochs / 2
				r.Error = fmt.Sprintf("training diverged at epoch %d: loss is NaN", epochs+1)
			case sweep.StatusRunning, sweep.StatusInterrupted, sweep.StatusPruned:
				epochs = s.Epochs / 2
			}
			for e := 1; e <= epochs; e++ {
				tr := synthMetrics(s, e, rng, true)
				te := synthMetrics(s, e, rng, false)
				sd.Epochs = append(sd.Epochs,
					sweep.EpochResult{Sweep: name, RunID: id, Epoch: e, Split: "train", Metrics: tr, Seconds: 30},
					sweep.EpochResult{Sweep: name, RunID: id, Epoch: e, Split: "test", Metrics: te, Seconds: 2})
				r.Final = te
				r.TrainSeconds += 30
			}
			r.EpochsDone = epochs
			if epochs > 0 {
				r.Started = t
				t = t.Add(time.Duration(epochs*32) * time.Second)
				r.Finished = t
				if sd.Info.FirstStart.IsZero() {
					sd.Info.FirstStart = r.Started
				}
				sd.Info.LastFinish = r.Finished
			}
			sd.Info.Seconds += r.TrainSeconds
			sd.Info.Counts[st]++
			sd.Runs = append(sd.Runs, r)
			i++
		}
	}
	return sd
}

// demoSweeps is the hand-made report of the HTML and browser tests: two
// sweeps with varied settings, a reference, a failed run.
func demoSweeps() []SweepData {
	a := synthSweep("head-vs-weight",
		grid(baseSettings(), "head", []string{"regression", "classify"}, "sum_weight", []float64{0.1, 1, 10}),
		3, func(i int) sweep.Status {
			if i == 4 {
				return sweep.StatusFailed
			}
			return sweep.StatusDone
		})
	a.Info.Description = "Does the sum head's form or its loss weight explain the notebook's R² of 0.065?"
	a.Reference = &sweep.Reference{Label: "PyTorch notebook", Epoch: 5, DigitAccuracy: 0.92, SumR2: 0.065}

	b := synthSweep("reproduce-notebook",
		grid(baseSettings(), "sum_hidden", []int{0, 64}, "lr", []float64{0.001, 0.01}),
		2, func(i int) sweep.Status {
			if i == 7 {
				return sweep.StatusPending
			}
			return sweep.StatusDone
		})
	b.Reference = &sweep.Reference{Label: "PyTorch notebook", Epoch: 5, DigitAccuracy: 0.92, SumR2: 0.065}
	return []SweepData{a, b}
}

// adaptiveSweeps are two sweeps of issue #11's kinds. "hunt" is a tpe
// sweep with ASHA pruning: 8 trials (one per lr × sum_weight), 2 seeds
// each, of which trials 3, 5, 6 and 8 were pruned after 2 of 5 epochs, and
// two done runs reused from another sweep. "halving" is a grid sweep with
// median pruning and no search: sum_weight 0.1 pruned.
func adaptiveSweeps() []SweepData {
	prunedTrials := map[int]bool{3: true, 5: true, 6: true, 8: true}
	hunt := synthSweep("hunt", grid(baseSettings(), "lr", []float64{0.0003, 0.001, 0.003, 0.01}, "sum_weight", []float64{1, 10}), 2,
		func(i int) sweep.Status {
			if prunedTrials[i/2+1] {
				return sweep.StatusPruned
			}
			return sweep.StatusDone
		})
	for i := range hunt.Runs {
		hunt.Runs[i].Trial = i/2 + 1
	}
	hunt.Runs[0].ReusedFrom = "3f2a9c1b7d6e5f4a3b2c1d0e"
	hunt.Runs[1].ReusedFrom = "9a8b7c6d5e4f3a2b1c0d9e8f"
	r2, _ := sweep.LookupMetric("test_r2")
	hunt.Info.Search = &sweep.Search{Method: "tpe", Trials: 24, StartupTrials: 4, Objective: r2, Repeats: 2}
	hunt.Info.Prune = &sweep.Prune{Method: "asha", Metric: r2, MinEpochs: 1, ReductionFactor: 3}

	halving := synthSweep("halving", grid(baseSettings(), "sum_weight", []float64{0.1, 1, 10}), 2,
		func(i int) sweep.Status {
			if i < 2 {
				return sweep.StatusPruned
			}
			return sweep.StatusDone
		})
	acc, _ := sweep.LookupMetric("test_accuracy")
	halving.Info.Prune = &sweep.Prune{Method: "median", Metric: acc, MinEpochs: 2}
	return []SweepData{hunt, halving}
}
