package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep"
	"sweep/postgres/pgtest"
	"sweep/store"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// TestMain removes the binary built for the process tests.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sweepBinary builds the sweep command once for tests that need real
// processes (several at once, or killed).
func sweepBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "sweep-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sweep")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("go build: %s", out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestTwoProcessesShareOneDatabase starts two 'sweep run' processes on one
// database at once: every run is trained exactly once and neither prints
// an error.
func TestTwoProcessesShareOneDatabase(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "two.toml", tinySweep("two", "[grid]\nhead = [\"regression\", \"classify\"]\nsum_weight = [0.5, 1, 2]\n"))
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "run", "-j", "1", "--db", db, "--progress", "log", f)
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			errs[i] = cmd.Run()
		}()
	}
	wg.Wait()
	for i := range 2 {
		out := outs[i].String()
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], out)
		}
		low := strings.ToLower(out)
		if strings.Contains(low, "error") || strings.Contains(low, "locked") || strings.Contains(low, "sweep:") {
			t.Errorf("process %d printed an error:\n%s", i, out)
		}
	}
	runs := runsOf(t, db, "two")
	if len(runs) != 12 {
		t.Fatalf("%d runs, want 12", len(runs))
	}
	trained := map[string]int{}
	var perProcess [2]int
	for i := range 2 {
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[1] == "done" {
				trained[f[2]]++
				perProcess[i]++
			}
		}
	}
	for _, r := range runs {
		if r.Status != sweep.StatusDone || r.EpochsDone != 1 {
			t.Errorf("run %s: %s with %d epochs", r.RunID, r.Status, r.EpochsDone)
		}
		label := "two/" + r.RunID[:6]
		if trained[label] != 1 {
			t.Errorf("run %s trained %d times", r.RunID, trained[label])
		}
	}
	if len(trained) != 12 {
		t.Errorf("%d distinct runs reported done, want 12", len(trained))
	}
	t.Logf("process 0 trained %d runs, process 1 %d", perProcess[0], perProcess[1])
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// epochsRecorded counts recorded epochs (test rows) in the database.
func epochsRecorded(t *testing.T, path string) int {
	// Polled many times a second: close each handle at once.
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eps, err := db.Epochs(context.Background(), sweep.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range eps {
		if e.Split == "test" {
			n++
		}
	}
	return n
}

// checkComplete checks that every run is done with each epoch recorded
// once for both splits and that the file passes SQLite's integrity check.
func checkComplete(t *testing.T, path, sweepName string, runs, epochs int) {
	t.Helper()
	db := openTestStore(t, path)
	ctx := context.Background()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	rs, err := db.Runs(ctx, sweep.RunFilter{Sweep: sweepName})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != runs {
		t.Fatalf("%d runs, want %d", len(rs), runs)
	}
	eps, err := db.Epochs(ctx, sweep.RunFilter{Sweep: sweepName})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		run, split string
		epoch      int
	}
	seen := map[key]int{}
	for _, e := range eps {
		seen[key{e.RunID, e.Split, e.Epoch}]++
		if e.Metrics.Samples == 0 {
			t.Errorf("run %s epoch %d %s: no samples (half-written?)", e.RunID, e.Epoch, e.Split)
		}
	}
	for _, r := range rs {
		if r.Status != sweep.StatusDone || r.EpochsDone != epochs {
			t.Errorf("run %s: %s, %d epochs", r.RunID, r.Status, r.EpochsDone)
		}
		for e := 1; e <= epochs; e++ {
			for _, split := range []string{"train", "test"} {
				if n := seen[key{r.RunID, split, e}]; n != 1 {
					t.Errorf("run %s epoch %d %s recorded %d times", r.RunID, e, split, n)
				}
			}
		}
	}
	if len(eps) != runs*epochs*2 {
		t.Errorf("%d epoch rows, want %d", len(eps), runs*epochs*2)
	}
}
