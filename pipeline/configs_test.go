package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sweep"
)

// Budget of `make run` (all shipped configs) in sample-equivalents: training
// samples plus test images at a third of their count, since evaluating is
// at least three times as fast as training, each run trained once however
// many sweeps have it, and tpe sweeps counted as if no trial were pruned.
// `make run` measured 547 s for 16.5 million on the 2-core machine (30,000
// a second, build and module download included); 20 million is 11 minutes
// at that speed, leaving a quarter of the README's 15 minutes for a slower
// machine.
const shippedBudget = 20_000_000

// cost is a run's sample-equivalents: epochs × (training images + a third
// of the test images), scaled by the trunk's multiply-adds against the
// default trunk's (a wider trunk costs more per sample).
func cost(s sweep.Settings) int {
	return int(float64(s.Epochs*(s.TrainImages()+sweep.TestImages/3))*trunkFactor(s) + 0.5)
}

// trunkFactor is the trunk's multiply-adds per image relative to the
// default widths': conv1 (5×5 over 28×28 → 24×24), conv2 (5×5 over
// c1×12×12 → 8×8) and the hidden layer (c2×4×4 inputs). The heads are
// small beside them.
func trunkFactor(s sweep.Settings) float64 {
	macs := func(c1, c2, fc int) float64 {
		return float64(c1*24*24*25 + c1*c2*8*8*25 + c2*16*fc)
	}
	r := s.Resolved()
	return macs(r.Conv1Channels, r.Conv2Channels, r.FCHidden) / macs(sweep.DefaultConv1Channels, sweep.DefaultConv2Channels, sweep.DefaultFCHidden)
}

// sweepCost is what `make run` trains of a sweep: runs identical to a run
// of an earlier file (same settings and seed: seen) are reused, not
// trained; a tpe sweep counts its trials × repeats runs at the widest
// trunk its space allows, trained to the last epoch (pruning only saves).
func sweepCost(sw sweep.Sweep, seen map[string]bool) int {
	n := 0
	for _, r := range sw.Runs {
		key := fmt.Sprint(sweep.ConfigKey(r.Settings), r.Settings.Seed)
		if !seen[key] {
			n += cost(r.Settings)
		}
		seen[key] = true
	}
	if s := sw.Search; s != nil {
		widest := s.Base
		for _, p := range s.Params {
			if def, _ := sweep.LookupSetting(p.Key); p.Dist == "int_uniform" && strings.HasSuffix(p.Key, "_channels") || p.Key == "fc_hidden" {
				def.Set(&widest, int64(p.Hi))
			}
		}
		n += s.Trials * s.Repeats * cost(widest)
	}
	return n
}

func TestShippedConfigs(t *testing.T) {
	paths, err := filepath.Glob("../configs/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no ../configs/*.toml")
	}
	sweeps, err := Load(paths)
	if err != nil {
		t.Fatalf("shipped configs have problems:\n%v", err)
	}
	var names []string
	total := 0
	stated := regexp.MustCompile(`≈ ([0-9,]+) sample-equivalents`)
	seen := map[string]bool{}
	for _, sw := range sweeps {
		names = append(names, sw.Name)
		n := sweepCost(sw, map[string]bool{}) // the file on its own, as its comment counts
		total += sweepCost(sw, seen)
		t.Logf("%-14s %3d runs %9d sample-equivalents", filepath.Base(sw.File), len(sw.Runs), n)

		// The arithmetic at the top of each file matches the file.
		m := stated.FindStringSubmatch(sw.Source)
		if m == nil {
			t.Errorf("%s: no \"≈ N sample-equivalents\" comment", sw.File)
			continue
		}
		want, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		if d := n - want; d < -want/100 || d > want/100 {
			t.Errorf("%s: comment says %d sample-equivalents, the file has %d", sw.File, want, n)
		}
	}
	t.Logf("total %d sample-equivalents with identical runs trained once (budget %d)", total, shippedBudget)
	if total > shippedBudget {
		t.Errorf("shipped configs cost %d sample-equivalents, over the budget of %d", total, shippedBudget)
	}
	slices.Sort(names)
	if want := []string{"best", "heads", "lr", "model", "notebook-bugs", "seed", "weights"}; !slices.Equal(names, want) {
		t.Errorf("shipped sweeps %v, want %v", names, want)
	}
}

// TestSeedConfig checks that seed.toml is the notebook, faithfully.
func TestSeedConfig(t *testing.T) {
	src, err := os.ReadFile("../configs/seed.toml")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := Parse("../configs/seed.toml", src)
	if err != nil {
		t.Fatal(err)
	}
	notebook := sweep.Settings{Head: sweep.HeadRegression, SumHidden: 0, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerSGD, LR: 0.01, Momentum: 0.5, BatchSize: 64, Epochs: 5, TrainSize: 60000}.Resolved()
	if sw.Name != "seed" || len(sw.Runs) != 3 {
		t.Fatalf("name %q, %d runs", sw.Name, len(sw.Runs))
	}
	for i, r := range sw.Runs {
		notebook.Seed = int64(1 + i)
		if r.Settings != notebook {
			t.Errorf("run %d: %+v, want %+v", i, r.Settings, notebook)
		}
	}
	ref := sweep.Reference{Label: "PyTorch notebook", Epoch: 5, DigitAccuracy: 0.92, SumR2: 0.065}
	if sw.Reference == nil || *sw.Reference != ref {
		t.Errorf("reference %+v, want %+v", sw.Reference, ref)
	}
}
