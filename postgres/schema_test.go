package postgres

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep"
	"sweep/postgres/pgtest"
	"sweep/store"
	"sweep/store/storetest"
)

// TestEverySettingHasColumns checks that each setting of the registry is a
// column of runs, run_results and config_results (the seed is first_seed
// there): a new setting needs a numbered migration here too.
func TestEverySettingHasColumns(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, rel := range []string{"runs", "run_results", "config_results"} {
		_, rows, err := db.Query(ctx, `SELECT column_name::text FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, rel)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, r := range rows {
			have[r[0].(string)] = true
		}
		for _, d := range sweep.SettingDefs() {
			col := d.Key
			if d.PerRun && rel == "config_results" {
				col = "first_seed"
			}
			if !have[col] {
				t.Errorf("%s has no column %s", rel, col)
			}
		}
	}
	_, rows, err := db.Query(ctx, `SELECT max(version) FROM schema_version`)
	if err != nil || rows[0][0] != int64(SchemaVersion()) && rows[0][0] != SchemaVersion() {
		t.Errorf("schema_version: %v %v, want %d", rows, err, SchemaVersion())
	}
}

// TestOpenConcurrentFresh opens one database that has no schema yet from
// several goroutines at once: the advisory lock lets exactly one apply
// the migrations.
func TestOpenConcurrentFresh(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, rows, err := db.Query(context.Background(), `SELECT count(*) FROM schema_version`)
	if err != nil || rows[0][0] != int64(SchemaVersion()) {
		t.Errorf("schema_version rows: %v %v, want %d (each migration once)", rows, err, SchemaVersion())
	}
}

// TestPasswordMasked checks that neither Location nor an error shows a
// password given in the URL.
func TestPasswordMasked(t *testing.T) {
	for _, u := range []string{
		"postgres://sweep:s3cr3t-pw@db.example:5432/sweep",
		"postgresql://sweep@db.example/sweep?password=s3cr3t-pw&sslmode=disable",
	} {
		if m := Mask(u); strings.Contains(m, "s3cr3t") || !strings.Contains(m, "xxxxx") {
			t.Errorf("Mask(%q) = %q", u, m)
		}
	}
	// A server that is not there: the error names the masked URL only.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dir := t.TempDir()
	_, err := Open(ctx, "postgres://sweep:s3cr3t-pw@/sweep?host="+dir+"&connect_timeout=2")
	if err == nil {
		t.Fatal("open of a missing server succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "postgres: open postgres://sweep:xxxxx@") {
		t.Errorf("error does not say what failed: %v", err)
	}
	t.Logf("error: %v", err)
}

// TestREADMEQueriesSameOnBothBackends fills a SQLite and a PostgreSQL
// database with the same runs and checks that every example query of the
// README returns rows, the same on both.
func TestREADMEQueriesSameOnBothBackends(t *testing.T) {
	ctx := context.Background()
	pg := backend(t)
	clk := storetest.NewClock()
	pg.SetNow(clk.Now)
	storetest.Populate(t, pg, clk)

	path := filepath.Join(t.TempDir(), "sweep.db")
	lite, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	liteClock := storetest.NewClock()
	lite.SetClock(liteClock.Now)
	storetest.Populate(t, storetest.Backend{DB: lite}, liteClock)
	ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	for i, q := range storetest.READMEQueries(t, "../README.md") {
		want, err := sqliteRows(ro, q)
		if err != nil {
			t.Fatalf("query %d on SQLite: %v\n%s", i+1, err, q)
		}
		_, got, err := pgRows(ctx, pg, q)
		if err != nil {
			t.Errorf("query %d on PostgreSQL: %v\n%s", i+1, err, q)
			continue
		}
		if len(want) == 0 {
			t.Errorf("query %d returned no rows:\n%s", i+1, q)
		}
		if g, w := storetest.FormatRows(got), storetest.FormatRows(want); g != w {
			t.Errorf("query %d differs:\nPostgreSQL:\n%s\nSQLite:\n%s\n%s", i+1, g, w, q)
		}
	}
}

func pgRows(ctx context.Context, b storetest.Backend, q string) ([]string, [][]any, error) {
	rows, err := b.Query(ctx, q)
	return nil, rows, err
}

func sqliteRows(db *sql.DB, q string) ([][]any, error) {
	rs, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]any
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				row[i] = string(b)
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// TestOpenNewerSchema refuses a database migrated by a newer program.
func TestOpenNewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(context.Background(), `INSERT INTO schema_version (version, name) VALUES (999, '999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), url)
	if err == nil || !strings.Contains(err.Error(), "schema version 999 is newer than this program's") {
		t.Errorf("open of a newer schema: %v", err)
	}
}

// TestReadOnly: OpenReadOnly refuses a database without the schema, then
// reads and cannot write; its change counter moves after a write.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	if _, err := OpenReadOnly(ctx, url); !errors.Is(err, ErrNoSchema) || !errors.Is(err, ErrSchemaVersion) {
		t.Fatalf("read-only open without a schema: %v", err)
	}
	rw, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	ro, err := OpenReadOnly(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c, err := ro.ChangeCounter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sw := storetest.MakeSweep("ro", storetest.Seeds(storetest.BaseSettings(), 2)...)
	if err := ro.SaveSweep(ctx, sw); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("save through the read-only handle: %v", err)
	}
	if err := rw.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if v2, err := c.Version(ctx); err != nil || v2 == v1 {
		t.Errorf("version after a write: %d %v, was %d", v2, err, v1)
	}
	if infos, err := ro.Sweeps(ctx); err != nil || len(infos) != 1 {
		t.Errorf("read-only Sweeps: %v %v", infos, err)
	}
}

// TestViewsHaveTheSameColumns: the three views have the same columns in
// the same order on both backends, so SELECT * and `sweep export` agree.
func TestViewsHaveTheSameColumns(t *testing.T) {
	ctx := context.Background()
	pg := openTest(t)
	lite, err := store.Open(filepath.Join(t.TempDir(), "sweep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	for _, view := range []string{"run_results", "epoch_results", "config_results"} {
		a, _, err := lite.View(ctx, view)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := pg.View(ctx, view)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) < 10 || strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: SQLite has columns\n%v\nPostgreSQL\n%v", view, a, b)
		}
	}
}
