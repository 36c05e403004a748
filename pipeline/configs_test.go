package pipeline

import (
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
// at least three times as fast as training. `make run` measured 464 s for
// 12.2 million on the 2-core machine (26,000 a second, build and module
// download included); 17 million is 11 minutes at that speed, leaving a
// quarter of the README's 15 minutes for a slower machine.
const shippedBudget = 17_000_000

// cost is a run's sample-equivalents: epochs × (training images + a third
// of the test images).
func cost(s sweep.Settings) int {
	return s.Epochs * (s.TrainImages() + sweep.TestImages/3)
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
	for _, sw := range sweeps {
		names = append(names, sw.Name)
		n := 0
		for _, r := range sw.Runs {
			n += cost(r.Settings)
		}
		total += n
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
	t.Logf("total %d sample-equivalents (budget %d)", total, shippedBudget)
	if total > shippedBudget {
		t.Errorf("shipped configs cost %d sample-equivalents, over the budget of %d", total, shippedBudget)
	}
	slices.Sort(names)
	if want := []string{"heads", "lr", "model", "notebook-bugs", "seed", "weights"}; !slices.Equal(names, want) {
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
