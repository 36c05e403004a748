package store

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sweep"
)

// columns returns the column names of a table or view.
func columns(t *testing.T, db *DB, name string) []string {
	t.Helper()
	rows, err := db.ro.Query(`SELECT name FROM pragma_table_info(?)`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		t.Fatalf("%s has no columns: no such table or view", name)
	}
	return cols
}

// TestEverySettingHasColumns fails when a setting of the registry has no
// column in the runs table or in the views people query: a migration and
// views.sql must come with every new setting.
func TestEverySettingHasColumns(t *testing.T) {
	db := openTest(t, "", nil)
	for _, table := range []string{"runs", "run_results", "config_results"} {
		cols := columns(t, db, table)
		for _, d := range sweep.SettingDefs() {
			want := d.Key
			if d.PerRun && table == "config_results" {
				want = "first_seed"
			}
			if !slices.Contains(cols, want) {
				t.Errorf("%s has no column %s for setting %s: add a migration (and the column to migrations/views.sql)", table, want, d.Key)
			}
		}
	}
}

// TestStatusCheckMatchesStatuses compares the runs table's CHECK
// constraint with sweep.Statuses, the one list of run statuses.
func TestStatusCheckMatchesStatuses(t *testing.T) {
	db := openTest(t, "", nil)
	var ddl string
	if err := db.ro.QueryRow(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'runs'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`CHECK \(status IN \(([^)]*)\)\)`).FindStringSubmatch(ddl)
	if m == nil {
		t.Fatalf("no status CHECK in the runs table:\n%s", ddl)
	}
	var got []string
	for _, q := range strings.Split(m[1], ",") {
		got = append(got, strings.Trim(strings.TrimSpace(q), "'"))
	}
	var want []string
	for _, s := range sweep.Statuses() {
		want = append(want, string(s))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("CHECK allows %v, sweep.Statuses() is %v", got, want)
	}
}

// TestFirstReleaseDatabaseMigrates opens a database written by the first
// release (testdata/release1.db: 8 done runs of testdata/release1.toml,
// schema version 1) and checks that it migrates, that its runs read back
// with the later settings at their defaults and the ids they had, and that
// the views answer.
func TestFirstReleaseDatabaseMigrates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "release1.db")
	copyFile(t, "testdata/release1.db", path)
	db := openTest(t, path, nil)
	var version int
	if err := db.ro.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != SchemaVersion() {
		t.Fatalf("user_version %d (%v), want %d", version, err, SchemaVersion())
	}
	runs, err := db.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 8 {
		t.Fatalf("%d runs, want 8", len(runs))
	}
	for _, r := range runs {
		s := r.Settings
		if r.Status != sweep.StatusDone || r.EpochsDone != 2 || r.Final.Samples != sweep.TestImages {
			t.Errorf("run %s: %s, %d epochs, %d test samples; want done, 2, 10000", r.RunID, r.Status, r.EpochsDone, r.Final.Samples)
		}
		if got := sweep.RunID("release1", s); got != r.RunID {
			t.Errorf("run %s reads back as settings with id %s: %+v", r.RunID, got, s)
		}
		if s.SumInput != sweep.SumInputLogProbs || s.Conv1Channels != 10 || s.Conv2Channels != 20 ||
			s.FCHidden != 50 || s.Dropout != 0 || s.WeightDecay != 0 {
			t.Errorf("run %s: later settings are not the release's model: %+v", r.RunID, s)
		}
	}
	configs, err := db.configs(ctx, "release1")
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 4 {
		t.Fatalf("%d configurations, want 4", len(configs))
	}
	for _, c := range configs {
		if c.Runs != 2 || !(c.AccMean > 0) || math.IsNaN(c.R2Std) {
			t.Errorf("configuration %+v: want 2 runs with an accuracy and a spread", c)
		}
	}
	epochs, err := db.Epochs(ctx, RunFilter{Sweep: "release1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 8*2*2 {
		t.Errorf("%d epoch rows, want 32", len(epochs))
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
