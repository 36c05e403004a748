package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sweep/store/storetest"
	"sync"
	"testing"
	"time"

	"sweep"
)

// The conformance suite's helpers (storetest), under the names these
// SQLite-specific tests use.
type clock = storetest.Clock

var (
	newClock     = storetest.NewClock
	ownerA       = storetest.OwnerA
	ownerB       = storetest.OwnerB
	baseSettings = storetest.BaseSettings
	makeSweep    = storetest.MakeSweep
	seeds        = storetest.Seeds
	ids          = storetest.IDs
	metrics      = storetest.Metrics
)

// openTest opens a database in a fresh temporary directory, on clk if not
// nil, and closes it when the test ends.
func openTest(t *testing.T, path string, clk *clock) *DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "sweep.db")
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if clk != nil {
		db.now = clk.Now
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// runOne claims the run with id for owner, records epochs with the given
// final test metrics and finishes it with status.
func runOne(t *testing.T, db *DB, id string, owner sweep.Owner, epochs int, status sweep.Status, acc, r2, sacc float64) {
	t.Helper()
	ctx := context.Background()
	run, ok, err := db.Claim(ctx, []string{id}, owner, time.Minute)
	if err != nil || !ok || run.ID != id {
		t.Fatalf("claim %s: got %v %v %v", id, run.ID, ok, err)
	}
	for e := 1; e <= epochs; e++ {
		if err := db.RecordEpoch(ctx, id, owner, metrics(e, acc, r2, sacc)); err != nil {
			t.Fatal(err)
		}
	}
	errText := ""
	if status != sweep.StatusDone {
		errText = "boom: " + string(status)
	}
	if err := db.Finish(ctx, id, owner, status, errText); err != nil {
		t.Fatal(err)
	}
}

// queryInt runs a query returning one integer.
func queryInt(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.ro.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func queryString(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.ro.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

func TestOpenMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.db")
	want := SchemaVersion()
	if want < 1 {
		t.Fatalf("SchemaVersion() = %d", want)
	}
	for i := range 3 { // fresh, then twice on the migrated file
		db, err := Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if db.Path() != path {
			t.Errorf("Path() = %q, want %q", db.Path(), path)
		}
		if got := queryInt(t, db, `PRAGMA user_version`); got != want {
			t.Errorf("open %d: user_version = %d, want %d", i, got, want)
		}
		if got := queryString(t, db, `PRAGMA journal_mode`); got != "wal" {
			t.Errorf("journal_mode = %q, want wal", got)
		}
		if got := queryInt(t, db, `PRAGMA foreign_keys`); got != 1 {
			t.Errorf("foreign_keys = %d, want 1", got)
		}
		for _, name := range []string{"sweeps", "runs", "epochs", "run_results", "epoch_results", "config_results"} {
			if n := queryInt(t, db, `SELECT count(*) FROM sqlite_schema WHERE name = ?`, name); n != 1 {
				t.Errorf("%s: %d schema entries", name, n)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.db")
	db := openTest(t, path, nil)
	if _, err := db.rw.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(path); err == nil {
		db2.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

func TestOpenConcurrentFresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.db")
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(path)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
	}
	if got := queryInt(t, dbs[0], `PRAGMA user_version`); got != SchemaVersion() {
		t.Errorf("user_version = %d", got)
	}
	if n := queryInt(t, dbs[0], `SELECT count(*) FROM sqlite_schema WHERE name = 'runs'`); n != 1 {
		t.Errorf("%d runs tables", n)
	}
}

func TestIntegrityCheck(t *testing.T) {
	db := openTest(t, "", newClock())
	populate(t, db)
	if got := queryString(t, db, `PRAGMA integrity_check`); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Errorf("%d foreign key violations", n)
	}
}

func TestSaveSweep(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)

	sw := makeSweep("s", seeds(baseSettings(), 3)...)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	// Saving again changes nothing.
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM runs`); n != 3 {
		t.Fatalf("%d runs after saving 3 twice", n)
	}
	runOne(t, db, sw.Runs[0].ID, ownerA, 3, sweep.StatusDone, 0.9, 0.8, 0.7)
	runOne(t, db, sw.Runs[1].ID, ownerA, 1, sweep.StatusFailed, 0.5, 0.4, 0.3)

	// Edit the sweep: new text, a reference, one run dropped and two added.
	clk.Add(time.Hour)
	edited := makeSweep("s", append(seeds(baseSettings(), 3)[1:], func() []sweep.Settings {
		s := baseSettings()
		s.LR = 0.01
		return seeds(s, 2)
	}()...)...)
	edited.Description, edited.Source, edited.Hash, edited.File = "edited", "new text", "newhash", "other.toml"
	edited.Reference = &sweep.Reference{Label: "notebook", Epoch: 10, DigitAccuracy: 0.99, SumR2: 0.95}
	if err := db.SaveSweep(ctx, edited); err != nil {
		t.Fatal(err)
	}

	runs, err := db.Runs(ctx, RunFilter{Sweep: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 5 {
		t.Fatalf("%d runs, want 5 (3 old + 2 new)", len(runs))
	}
	byID := map[string]sweep.RunResult{}
	for _, r := range runs {
		byID[r.RunID] = r
	}
	if r := byID[sw.Runs[0].ID]; r.Status != sweep.StatusDone || r.EpochsDone != 3 || r.Final.DigitAccuracy != 0.9 {
		t.Errorf("dropped done run changed: %+v", r)
	}
	if r := byID[sw.Runs[1].ID]; r.Status != sweep.StatusFailed || r.EpochsDone != 1 || r.Error == "" {
		t.Errorf("failed run changed: %+v", r)
	}
	for _, r := range edited.Runs[2:] {
		if got := byID[r.ID]; got.Status != sweep.StatusPending || got.Settings != r.Settings {
			t.Errorf("new run %s: %+v, want pending with %+v", r.ID, got, r.Settings)
		}
	}

	info, err := db.Sweep(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if info.Description != "edited" || info.Source != "new text" || info.Hash != "newhash" || info.File != "other.toml" {
		t.Errorf("sweep not updated: %+v", info)
	}
	if !info.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("UpdatedAt = %v, want %v", info.UpdatedAt, clk.Now())
	}
	ref, err := db.SweepReference(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if ref == nil || *ref != *edited.Reference {
		t.Errorf("reference = %+v, want %+v", ref, edited.Reference)
	}
	// Saving without a reference removes it.
	edited.Reference = nil
	if err := db.SaveSweep(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if ref, err := db.SweepReference(ctx, "s"); err != nil || ref != nil {
		t.Errorf("reference after removing it: %+v, %v", ref, err)
	}
	if _, err := db.SweepReference(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reference of missing sweep: %v", err)
	}
	// The finished run's epochs are still there.
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ?`, sw.Runs[0].ID); n != 6 {
		t.Errorf("done run has %d epoch rows, want 6", n)
	}
}

func TestSaveSweepStoresSettings(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	s := sweep.Settings{
		Head: sweep.HeadClassify, SumHidden: 32, DigitWeight: 0.25, SumWeight: 2,
		Optimizer: sweep.OptimizerSGD, LR: 0.1, Momentum: 0.9, BatchSize: 128,
		Epochs: 7, TrainSize: 0, Seed: -42,
		SumInput: sweep.SumInputProbs, Conv1Channels: 16, Conv2Channels: 32, FCHidden: 64,
		Dropout: 0.25, WeightDecay: 1e-4,
	}
	sw := makeSweep("cols", s)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	var head, opt, key, status string
	var hidden, batch, epochs, trainSize int
	var seed int64
	var dw, sumW, lr, mom float64
	err := db.ro.QueryRow(`SELECT head, sum_hidden, digit_weight, sum_weight, optimizer, lr, momentum,
		batch_size, epochs, train_size, seed, config_key, status FROM runs WHERE id = ?`, sw.Runs[0].ID).
		Scan(&head, &hidden, &dw, &sumW, &opt, &lr, &mom, &batch, &epochs, &trainSize, &seed, &key, &status)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{head, hidden, dw, sumW, opt, lr, mom, batch, epochs, trainSize, seed, key, status}
	want := []any{"classify", 32, 0.25, 2.0, "sgd", 0.1, 0.9, 128, 7, 60000, int64(-42), sweep.ConfigKey(s), "pending"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
	var sumInput string
	var conv1, conv2, fc int
	var dropout, decay float64
	err = db.ro.QueryRow(`SELECT sum_input, conv1_channels, conv2_channels, fc_hidden, dropout, weight_decay
		FROM runs WHERE id = ?`, sw.Runs[0].ID).Scan(&sumInput, &conv1, &conv2, &fc, &dropout, &decay)
	if err != nil {
		t.Fatal(err)
	}
	got = []any{sumInput, conv1, conv2, fc, dropout, decay}
	want = []any{"probs", 16, 32, 64, 0.25, 1e-4}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("later settings' columns = %v, want %v", got, want)
	}
	// Claim rebuilds the settings; train_size 0 comes back resolved, which
	// is the same run.
	run, ok, err := db.Claim(ctx, ids(sw), ownerA, time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	resolved := s.Resolved()
	if run.Settings != resolved || run.Sweep != "cols" || run.ID != sw.Runs[0].ID {
		t.Errorf("claimed %+v, want %+v", run, resolved)
	}
	if sweep.RunID("cols", run.Settings) != run.ID || sweep.ConfigKey(run.Settings) != sweep.ConfigKey(s) {
		t.Error("rebuilt settings hash differently")
	}
}

func TestSaveSweepInvalid(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	for _, tc := range []struct {
		name string
		sw   sweep.Sweep
	}{
		{"no name", sweep.Sweep{}},
		{"run without id", sweep.Sweep{Name: "x", Runs: []sweep.RunSpec{{Settings: baseSettings()}}}},
		{"run of another sweep", sweep.Sweep{Name: "x", Runs: []sweep.RunSpec{{ID: "r", Sweep: "y", Settings: baseSettings()}}}},
	} {
		if err := db.SaveSweep(ctx, tc.sw); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sweeps`); n != 0 {
		t.Errorf("%d sweeps saved from invalid input", n)
	}
}
