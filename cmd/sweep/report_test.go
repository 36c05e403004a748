package main

import (
	"context"
	"io"

	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep"
)

// syntheticDB writes a database of runs × epochs with made-up but
// plausible metrics through the store, as 'sweep run' would.
func syntheticDB(t testing.TB, path string, runs, epochs int) {
	t.Helper()
	db := openTestStore(t, path)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	sw := sweep.Sweep{Name: "big", Description: "synthetic", File: "big.toml", Source: "name = \"big\"\n", Hash: "00"}
	heads := []sweep.Head{sweep.HeadRegression, sweep.HeadClassify}
	lrs := []float64{0.0003, 0.001, 0.003, 0.01, 0.03}
	weights := []float64{0.1, 0.3, 1, 3, 10}
	for i := 0; len(sw.Runs) < runs; i++ {
		s := sweep.Settings{Head: heads[i%2], SumHidden: 64, DigitWeight: 1, SumWeight: weights[(i/2)%5],
			Optimizer: sweep.OptimizerAdam, LR: lrs[(i/10)%5], BatchSize: 64, Epochs: epochs, TrainSize: 10000, Seed: int64(i / 50)}
		sw.Runs = append(sw.Runs, sweep.RunSpec{ID: sweep.RunID(sw.Name, s), Sweep: sw.Name, Settings: s})
	}
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	owner := sweep.Owner{ID: "synthetic", Host: "test", Version: "test"}
	ids := make([]string, len(sw.Runs))
	for i, r := range sw.Runs {
		ids[i] = r.ID
	}
	for range sw.Runs {
		run, ok, err := db.Claim(ctx, ids, owner, time.Hour)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		for e := 1; e <= epochs; e++ {
			f := 1 - 1/float64(e+1)
			m := func() sweep.SplitMetrics {
				return sweep.SplitMetrics{DigitNLL: 1 - f + 0.05*rng.Float64(), DigitAccuracy: 0.9 + 0.09*f*rng.Float64(),
					SumMSE: 2 * (1 - f), SumR2: f - 0.1*rng.Float64(), SumAccuracy: 0.5 + 0.4*f*rng.Float64(), SumNLL: 1 - f, Samples: 10000}
			}
			em := sweep.EpochMetrics{Epoch: e, Train: m(), Test: m(), TrainSeconds: 5, EvalSeconds: 1, SamplesPerSec: 2000}
			if err := db.RecordEpoch(ctx, run.ID, owner, em); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Finish(ctx, run.ID, owner, sweep.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportLargeDatabase is the report issue's size budget: 500 runs × 10
// epochs give a file under 10 MB. (The time budget, under 10 s, is
// BenchmarkReportLargeDatabase; the time here is only logged.)
func TestReportLargeDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 500-run database")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "big.db")
	syntheticDB(t, db, 500, 10)
	out := filepath.Join(dir, "report.html")
	start := time.Now()
	stdout, errOut, code := sweepCmd(t, "report", "--db", db, "-o", out)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, errOut)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("500 runs × 10 epochs: %.2f MB in %v", float64(fi.Size())/1e6, took)
	if fi.Size() >= 10<<20 {
		t.Errorf("report is %d bytes, want under 10 MB", fi.Size())
	}
	html, _ := os.ReadFile(out)
	if !strings.Contains(string(html), "big") || strings.Count(string(html), "<svg") < 5 {
		t.Errorf("report lacks the sweep or its figures")
	}
}

func BenchmarkReportLargeDatabase(b *testing.B) {
	dir := b.TempDir()
	db := filepath.Join(dir, "big.db")
	syntheticDB(b, db, 500, 10)
	out := filepath.Join(dir, "report.html")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := run([]string{"report", "--db", db, "-o", out}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFirstReleaseDatabase: a database written by the first release
// (store/testdata/release1.db) migrates on open and every reading command
// works on it, the report included.
func TestFirstReleaseDatabase(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "store", "testdata", "release1.db"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := writeFile(t, dir, "release1.db", string(raw))
	out := filepath.Join(dir, "report.html")
	if _, errOut, code := sweepCmd(t, "report", "--db", db, "-o", out); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "release1") || strings.Contains(string(page), "Could not draw") {
		t.Errorf("report of the first release's database: %v, %d bytes", err, len(page))
	}
	for _, args := range [][]string{{"ls"}, {"runs", "--sort", "test_r2"}, {"export", "--view", "config_results"}} {
		stdout, errOut, code := sweepCmd(t, append(args, "--db", db)...)
		if code != 0 || !strings.Contains(stdout, "release1") {
			t.Errorf("%v: exit %d: %s%s", args, code, stdout, errOut)
		}
	}
}
