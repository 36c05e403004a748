package store

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"sweep"
)

// populate fills db with the sweep "demo" (two heads × two learning rates
// × three seeds done, one run failed, one interrupted, one pending, one
// running) and the sweep "small" (one pending run). It returns the demo
// sweep.
func populate(t *testing.T, db *DB) sweep.Sweep {
	t.Helper()
	ctx := context.Background()
	var settings []sweep.Settings
	for _, head := range []sweep.Head{sweep.HeadRegression, sweep.HeadClassify} {
		for _, lr := range []float64{0.001, 0.01, 0.1} {
			s := baseSettings()
			s.Head, s.LR, s.Epochs = head, lr, 2
			settings = append(settings, seeds(s, 3)...)
		}
	}
	demo := makeSweep("demo", settings...)
	demo.Reference = &sweep.Reference{Label: "notebook", Epoch: 2, DigitAccuracy: 0.98, SumR2: 0.9}
	if err := db.SaveSweep(ctx, demo); err != nil {
		t.Fatal(err)
	}
	for i, r := range demo.Runs {
		acc := 0.9 + 0.01*float64(i%6)
		r2 := 0.5 + 0.05*float64(i%5)
		switch {
		case r.Settings.LR == 0.1 && r.Settings.Head == sweep.HeadRegression:
			status := []sweep.Status{sweep.StatusFailed, sweep.StatusInterrupted, ""}[r.Settings.Seed]
			if status != "" {
				runOne(t, db, r.ID, ownerB, 1, status, acc, r2, 0.2)
			}
		case r.Settings.LR == 0.1 && r.Settings.Seed == 0:
			if _, ok, err := db.Claim(ctx, []string{r.ID}, ownerA, time.Hour); !ok || err != nil {
				t.Fatal(ok, err)
			}
		default:
			runOne(t, db, r.ID, ownerA, 2, sweep.StatusDone, acc, r2, 0.3)
		}
	}
	if err := db.SaveSweep(ctx, makeSweep("small", baseSettings())); err != nil {
		t.Fatal(err)
	}
	return demo
}

func TestSweeps(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)
	if got, err := db.Sweeps(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty database: %v %v", got, err)
	}
	start := clk.Now()
	populate(t, db)
	got, err := db.Sweeps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "demo" || got[1].Name != "small" {
		t.Fatalf("sweeps: %+v", got)
	}
	demo, small := got[0], got[1]
	// 18 runs: regression lr 0.1 → failed, interrupted, pending;
	// classify lr 0.1 → running, done, done; the other 12 done.
	wantDemo := map[sweep.Status]int{"pending": 1, "running": 1, "done": 14, "failed": 1, "interrupted": 1, "pruned": 0}
	if !mapsEqual(demo.Counts, wantDemo) {
		t.Errorf("demo counts = %v, want %v", demo.Counts, wantDemo)
	}
	wantSmall := map[sweep.Status]int{"pending": 1, "running": 0, "done": 0, "failed": 0, "interrupted": 0, "pruned": 0}
	if !mapsEqual(small.Counts, wantSmall) {
		t.Errorf("small counts = %v, want %v", small.Counts, wantSmall)
	}
	// Training seconds: done runs have 2 epochs (11 + 12 s), failed and
	// interrupted 1 (11 s).
	if want := 14*23.0 + 2*11; demo.Seconds != want {
		t.Errorf("demo seconds = %v, want %v", demo.Seconds, want)
	}
	if !demo.FirstStart.Equal(start) || !demo.LastFinish.Equal(start) {
		t.Errorf("demo first start %v, last finish %v, want %v", demo.FirstStart, demo.LastFinish, start)
	}
	if !small.FirstStart.IsZero() || !small.LastFinish.IsZero() || small.Seconds != 0 {
		t.Errorf("small: %+v", small)
	}
	one, err := db.Sweep(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if one.Name != "small" || one.Hash != "hash-small" || one.File != "configs/small.toml" || one.Source == "" || !mapsEqual(one.Counts, wantSmall) {
		t.Errorf("Sweep(small) = %+v", one)
	}
	if _, err := db.Sweep(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Sweep(missing): %v", err)
	}
}

func mapsEqual(a, b map[sweep.Status]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRunsFilterAndOrder(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", newClock())
	// Save in an order that is not the sorted one.
	mk := func(head sweep.Head, lr float64, seed int64) sweep.Settings {
		s := baseSettings()
		s.Head, s.LR, s.Seed = head, lr, seed
		return s
	}
	b := makeSweep("b", mk(sweep.HeadRegression, 0.1, 1), mk(sweep.HeadClassify, 0.1, 0), mk(sweep.HeadRegression, 0.01, 2), mk(sweep.HeadRegression, 0.1, 0))
	a := makeSweep("a", mk(sweep.HeadRegression, 0.5, 0))
	for _, sw := range []sweep.Sweep{b, a} {
		if err := db.SaveSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	runOne(t, db, b.Runs[3].ID, ownerA, 2, sweep.StatusDone, 0.9, 0.8, 0.7)
	runOne(t, db, b.Runs[1].ID, ownerA, 1, sweep.StatusFailed, 0.9, 0.8, 0.7)

	runs, err := db.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.RunID)
	}
	// a; then b: classify before regression, lr 0.01 before 0.1, seed 0 before 1.
	want := []string{a.Runs[0].ID, b.Runs[1].ID, b.Runs[2].ID, b.Runs[3].ID, b.Runs[0].ID}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		f    RunFilter
		want []string
	}{
		{"sweep", RunFilter{Sweep: "a"}, []string{a.Runs[0].ID}},
		{"status", RunFilter{Status: sweep.StatusDone}, []string{b.Runs[3].ID}},
		{"sweep and status", RunFilter{Sweep: "b", Status: sweep.StatusPending}, []string{b.Runs[2].ID, b.Runs[0].ID}},
		{"ids", RunFilter{IDs: []string{b.Runs[0].ID, a.Runs[0].ID, "nope"}}, []string{a.Runs[0].ID, b.Runs[0].ID}},
		{"ids and status", RunFilter{IDs: []string{b.Runs[0].ID, b.Runs[1].ID}, Status: sweep.StatusFailed}, []string{b.Runs[1].ID}},
		{"no match", RunFilter{Sweep: "c"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := db.Runs(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.RunID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// The pending run has zero Final metrics; the done one its last epoch's.
	r, err := db.Run(ctx, b.Runs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	want3 := metrics(2, 0.9, 0.8, 0.7).Test
	if r.Final.DigitAccuracy != want3.DigitAccuracy || r.Final.DigitNLL != want3.DigitNLL || r.Final.Samples != 10000 ||
		!math.IsNaN(r.Final.SumNLL) || r.EpochsDone != 2 || r.TrainSeconds != 23 || r.Settings != b.Runs[3].Settings || r.Sweep != "b" {
		t.Errorf("done run = %+v", r)
	}
	if r, _ := db.Run(ctx, b.Runs[0].ID); r.Final != (sweep.SplitMetrics{}) || r.Status != sweep.StatusPending || !r.Started.IsZero() {
		t.Errorf("pending run = %+v", r)
	}

	// Epochs follow the same run order, then epoch, then train before test.
	eps, err := db.Epochs(ctx, RunFilter{Sweep: "b"})
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, e := range eps {
		seq = append(seq, e.RunID[:4]+":"+string(rune('0'+e.Epoch))+":"+e.Split)
	}
	f, d := b.Runs[1].ID[:4], b.Runs[3].ID[:4]
	wantSeq := []string{f + ":1:train", f + ":1:test", d + ":1:train", d + ":1:test", d + ":2:train", d + ":2:test"}
	if !slices.Equal(seq, wantSeq) {
		t.Errorf("epochs = %v, want %v", seq, wantSeq)
	}
	if eps, err := db.Epochs(ctx, RunFilter{Status: sweep.StatusFailed}); err != nil || len(eps) != 2 {
		t.Errorf("epochs of failed runs: %d %v", len(eps), err)
	}
}

func TestRunPrefix(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	sw := sweep.Sweep{Name: "p"}
	for i, id := range []string{"abc123", "abc456", "abd789", "a_c000"} {
		s := baseSettings()
		s.Seed = int64(i)
		sw.Runs = append(sw.Runs, sweep.RunSpec{ID: id, Sweep: "p", Settings: s})
	}
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arg     string
		want    string
		wantErr error
	}{
		{"abc123", "abc123", nil},
		{"abc1", "abc123", nil},
		{"abd", "abd789", nil},
		{"a_", "a_c000", nil},
		{"abc", "", ErrAmbiguous},
		{"a", "", ErrAmbiguous},
		{"zzz", "", ErrNotFound},
		{"abc1234", "", ErrNotFound},
		{"ab%", "", ErrNotFound},
		{"a_c1", "", ErrNotFound},
		{"", "", ErrNotFound},
	} {
		r, err := db.Run(ctx, tc.arg)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Run(%q): err = %v, want %v", tc.arg, err, tc.wantErr)
			}
			continue
		}
		if err != nil || r.RunID != tc.want {
			t.Errorf("Run(%q) = %q, %v; want %q", tc.arg, r.RunID, err, tc.want)
		}
	}
	_, err := db.Run(ctx, "ab")
	if err == nil || !strings.Contains(err.Error(), "abc123") || !strings.Contains(err.Error(), "abd789") {
		t.Errorf("ambiguous error does not list the candidates: %v", err)
	}
}

func TestCounts(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	sw := makeSweep("c", seeds(baseSettings(), 4)...)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	runOne(t, db, sw.Runs[0].ID, ownerA, 1, sweep.StatusDone, 0.9, 0.9, 0.9)
	runOne(t, db, sw.Runs[1].ID, ownerA, 1, sweep.StatusFailed, 0.9, 0.9, 0.9)
	for _, tc := range []struct {
		ids  []string
		want map[sweep.Status]int
	}{
		{nil, map[sweep.Status]int{"pending": 0, "running": 0, "done": 0, "failed": 0, "interrupted": 0, "pruned": 0}},
		{ids(sw), map[sweep.Status]int{"pending": 2, "running": 0, "done": 1, "failed": 1, "interrupted": 0, "pruned": 0}},
		{[]string{sw.Runs[0].ID, sw.Runs[0].ID, "x"}, map[sweep.Status]int{"pending": 0, "running": 0, "done": 1, "failed": 0, "interrupted": 0, "pruned": 0}},
	} {
		got, err := db.Counts(ctx, tc.ids)
		if err != nil {
			t.Fatal(err)
		}
		if !mapsEqual(got, tc.want) {
			t.Errorf("Counts(%v) = %v, want %v", tc.ids, got, tc.want)
		}
	}
}

func TestViewExport(t *testing.T) {
	db := openTest(t, "", newClock())
	ctx := context.Background()
	populate(t, db)
	for _, name := range views {
		cols, rows, err := db.View(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cols) == 0 || len(rows) == 0 {
			t.Errorf("%s: %d columns, %d rows", name, len(cols), len(rows))
		}
		for _, r := range rows {
			if len(r) != len(cols) {
				t.Fatalf("%s: row of %d values for %d columns", name, len(r), len(cols))
			}
		}
	}
	if _, _, err := db.View(ctx, "runs; DROP TABLE runs"); err == nil {
		t.Fatal("View accepted a name that is not a view")
	}
}

func TestIntegrityCheckMethod(t *testing.T) {
	db := openTest(t, "", newClock())
	populate(t, db)
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}
