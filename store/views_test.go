package store

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"sweep"
)

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// viewSweep saves the sweep "v": configuration A with three done runs
// (final test digit accuracy 0.96, 0.98, 1.00; sum R² 0.5, 0.7, 0.9; sum
// accuracy 0.25 each) and one failed run, and configuration B with one
// done run. Epoch 1 of every run has other metrics, which must not count.
func viewSweep(t *testing.T, db *DB) (a, b sweep.Sweep) {
	t.Helper()
	ctx := context.Background()
	sa := baseSettings()
	sa.Seed = 7
	sb := baseSettings()
	sb.Head, sb.LR = sweep.HeadClassify, 0.05
	a = makeSweep("v", append(seeds(sa, 4)[1:], sa)...) // seeds 1, 2, 3, 7
	b = makeSweep("v", sb)
	all := a
	all.Runs = append(all.Runs, b.Runs...)
	if err := db.SaveSweep(ctx, all); err != nil {
		t.Fatal(err)
	}
	final := []struct{ acc, r2, sacc float64 }{{0.96, 0.5, 0.25}, {0.98, 0.7, 0.25}, {1.00, 0.9, 0.25}, {0.10, -3, 0.1}}
	for i, r := range a.Runs {
		status := sweep.StatusDone
		if i == 3 {
			status = sweep.StatusFailed
		}
		run, ok, err := db.Claim(ctx, []string{r.ID}, ownerA, time.Minute)
		if !ok || err != nil {
			t.Fatal(run, ok, err)
		}
		if err := db.RecordEpoch(ctx, r.ID, ownerA, metrics(1, 0.5, 0.1, 0.05)); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordEpoch(ctx, r.ID, ownerA, metrics(2, final[i].acc, final[i].r2, final[i].sacc)); err != nil {
			t.Fatal(err)
		}
		if err := db.Finish(ctx, r.ID, ownerA, status, ""); err != nil {
			t.Fatal(err)
		}
	}
	runOne(t, db, b.Runs[0].ID, ownerA, 2, sweep.StatusDone, 0.9, 0.8, 0.4)
	return a, b
}

func TestConfigResults(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", newClock())
	a, b := viewSweep(t, db)
	populate(t, db) // another sweep, to check the filter

	// The view itself, as a CLI user sees it.
	var runs int
	var accMean, accStd, r2Mean, r2Std, saMean, saStd sql.NullFloat64
	var firstSeed int64
	err := db.ro.QueryRow(`
		SELECT runs, first_seed, acc_mean, acc_std, r2_mean, r2_std, sum_acc_mean, sum_acc_std
		FROM config_results WHERE sweep = 'v' AND config_key = ?`, sweep.ConfigKey(a.Runs[0].Settings)).
		Scan(&runs, &firstSeed, &accMean, &accStd, &r2Mean, &r2Std, &saMean, &saStd)
	if err != nil {
		t.Fatal(err)
	}
	// mean(0.96, 0.98, 1.00) = 0.98; deviations ±0.02 and 0:
	// std = sqrt((0.0004 + 0 + 0.0004) / (3-1)) = 0.02.
	// mean(0.5, 0.7, 0.9) = 0.7; std = sqrt((0.04 + 0.04) / 2) = 0.2.
	// sum accuracy 0.25 three times: mean 0.25, std 0.
	for _, c := range []struct {
		name      string
		got       sql.NullFloat64
		want, tol float64
	}{
		{"acc_mean", accMean, 0.98, 1e-12}, {"acc_std", accStd, 0.02, 1e-9},
		{"r2_mean", r2Mean, 0.7, 1e-12}, {"r2_std", r2Std, 0.2, 1e-9},
		{"sum_acc_mean", saMean, 0.25, 1e-12}, {"sum_acc_std", saStd, 0, 0},
	} {
		if !c.got.Valid || !near(c.got.Float64, c.want, c.tol) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if runs != 3 || firstSeed != 1 {
		t.Errorf("runs = %d, first_seed = %d; want 3 (the failed run excluded) and 1", runs, firstSeed)
	}
	// B has one run: std is NULL.
	var bStd sql.NullFloat64
	var bRuns int
	if err := db.ro.QueryRow(`SELECT runs, acc_std FROM config_results WHERE config_key = ?`,
		sweep.ConfigKey(b.Runs[0].Settings)).Scan(&bRuns, &bStd); err != nil {
		t.Fatal(err)
	}
	if bRuns != 1 || bStd.Valid {
		t.Errorf("single run: runs %d, acc_std %v; want 1, NULL", bRuns, bStd)
	}

	// The same through Configs.
	cs, err := db.configs(ctx, "v")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d configs of v, want 2", len(cs))
	}
	// Ordered by settings: classify (B) before regression (A).
	cb, ca := cs[0], cs[1]
	wantA := a.Runs[0].Settings // seed 1, the first run saved
	if ca.Sweep != "v" || ca.Settings != wantA || ca.Runs != 3 ||
		!near(ca.AccMean, 0.98, 1e-12) || !near(ca.AccStd, 0.02, 1e-9) ||
		!near(ca.R2Mean, 0.7, 1e-12) || !near(ca.R2Std, 0.2, 1e-9) ||
		!near(ca.SumAccMean, 0.25, 1e-12) || ca.SumAccStd != 0 {
		t.Errorf("config A = %+v", ca)
	}
	if cb.Settings != b.Runs[0].Settings || cb.Runs != 1 || !near(cb.AccMean, 0.9, 1e-12) ||
		!math.IsNaN(cb.AccStd) || !math.IsNaN(cb.R2Std) || !math.IsNaN(cb.SumAccStd) {
		t.Errorf("config B = %+v", cb)
	}
	all, err := db.configs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// demo has 6 configurations; its regression lr 0.1 has no done run.
	if len(all) != 2+5 {
		t.Errorf("%d configs in all sweeps, want 7", len(all))
	}
}

// TestConfigStdRange checks the view's square root (Newton's method in
// SQL) over many magnitudes: two runs with sum R² 0 and d have mean d/2
// (exact in floating point) and standard deviation d/√2.
func TestConfigStdRange(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	ds := []float64{1e-150, 1e-100, 1e-12, 3e-7, 1e-4, 0.02, 0.5, 1, 3, 1234.5, 1e9, 1e100, 1e150}
	var settings []sweep.Settings
	for i := range ds {
		s := baseSettings()
		s.SumHidden = i // one configuration per d
		settings = append(settings, seeds(s, 2)...)
	}
	sw := makeSweep("range", settings...)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		runOne(t, db, sw.Runs[2*i].ID, ownerA, 1, sweep.StatusDone, 0.5, 0, 0.5)
		runOne(t, db, sw.Runs[2*i+1].ID, ownerA, 1, sweep.StatusDone, 0.5, d, 0.5)
	}
	cs, err := db.configs(ctx, "range")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(ds) {
		t.Fatalf("%d configs, want %d", len(cs), len(ds))
	}
	for _, c := range cs {
		d := ds[c.Settings.SumHidden]
		want := d / math.Sqrt2
		if !(math.Abs(c.R2Std-want) <= 1e-12*want) {
			t.Errorf("d = %g: r2_std = %.17g, want %.17g", d, c.R2Std, want)
		}
		if c.AccStd != 0 {
			t.Errorf("d = %g: acc_std = %v, want 0", d, c.AccStd)
		}
	}
}

func TestRunResultsView(t *testing.T) {
	db := openTest(t, "", newClock())
	a, _ := viewSweep(t, db)
	// Every documented column exists.
	cols := `sweep, run_id, status, head, lr, digit_weight, sum_weight, sum_hidden, optimizer,
		momentum, batch_size, train_size, seed, epochs, epochs_done, test_accuracy, test_nll,
		test_mse, test_r2, test_sum_accuracy, test_sum_nll, train_seconds, config_key, error,
		host, version, started_at, finished_at`
	rows, err := db.ro.Query(`SELECT ` + cols + ` FROM run_results`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var status, host, started string
	var acc, r2, seconds float64
	var sumNLL sql.NullFloat64
	var epochsDone int
	err = db.ro.QueryRow(`
		SELECT status, epochs_done, test_accuracy, test_r2, test_sum_nll, train_seconds, host, started_at
		FROM run_results WHERE run_id = ?`, a.Runs[1].ID).
		Scan(&status, &epochsDone, &acc, &r2, &sumNLL, &seconds, &host, &started)
	if err != nil {
		t.Fatal(err)
	}
	// Last epoch's test metrics (epoch 1 had 0.5 and 0.1); train seconds
	// 11 + 12; sum_nll NULL for the regression head.
	if status != "done" || epochsDone != 2 || acc != 0.98 || r2 != 0.7 || sumNLL.Valid || seconds != 23 ||
		host != "hostA" || started != "2026-11-29T09:00:00.000Z" {
		t.Errorf("run_results row: %s %d %v %v %v %v %s %s", status, epochsDone, acc, r2, sumNLL, seconds, host, started)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM run_results WHERE sweep = 'v'`); n != 5 {
		t.Errorf("%d run_results rows, want one per run (5)", n)
	}
}

func TestEpochResultsView(t *testing.T) {
	db := openTest(t, "", newClock())
	a, _ := viewSweep(t, db)
	rows, err := db.ro.Query(`
		SELECT sweep, run_id, epoch, split, nll, accuracy, mse, r2, sum_accuracy, sum_nll, seconds
		FROM epoch_results WHERE run_id = ? ORDER BY epoch, split DESC`, a.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var sw, id, split string
		var epoch int
		var nll, acc, mse, r2, sacc, secs float64
		var snll sql.NullFloat64
		if err := rows.Scan(&sw, &id, &epoch, &split, &nll, &acc, &mse, &r2, &sacc, &snll, &secs); err != nil {
			t.Fatal(err)
		}
		if sw != "v" || id != a.Runs[0].ID || snll.Valid {
			t.Errorf("row %s %s %v", sw, id, snll)
		}
		got = append(got, strings.Join([]string{string(rune('0' + epoch)), split, fmtF(acc), fmtF(secs)}, " "))
	}
	// metrics(): train accuracy is test - 0.01; seconds 10+epoch and 2.
	want := []string{"1 train 0.49 11", "1 test 0.5 2", "2 train 0.95 12", "2 test 0.96 2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("epoch_results = %q, want %q", got, want)
	}
}

// fmtF formats v rounded to 6 decimals, shortest form.
func fmtF(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}
