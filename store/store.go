package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"sweep"
	"sweep/store/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound and ErrAmbiguous are the root package's, under the names
// this package's callers know.
var (
	ErrNotFound  = sweep.ErrNotFound
	ErrAmbiguous = sweep.ErrAmbiguous
)

// Compile-time check that *DB implements sweep.Store.
var _ sweep.Store = (*DB)(nil)

// timeLayout is how times are stored: UTC, fixed width, so that comparing
// the text compares the times. It is what SQLite's
// strftime('%Y-%m-%dT%H:%M:%fZ') produces.
const timeLayout = "2006-01-02T15:04:05.000Z"

// busyTimeout is how long SQLite itself waits for a lock (milliseconds).
const busyTimeout = 30000

// DB is a sweep database: one SQLite file shared by goroutines and processes.
type DB struct {
	path string
	rw   *sql.DB // writes: one connection, every transaction BEGIN IMMEDIATE
	ro   *sql.DB // reads: deferred transactions on a query-only pool

	// now is the clock; tests replace it to expire leases without sleeping.
	// It must not be changed while the DB is in use.
	now func() time.Time
}

// Open opens the database at path, creating the file if needed, and brings
// its schema up to date. Several processes may open the same file at once,
// including a file that does not exist yet.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// A file: URI so that the path may contain '?' or '#'; mattn's own
	// options follow the '?' and are not passed on as URI parameters.
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(abs)

	db := &DB{path: path, now: time.Now}
	db.rw, err = sql.Open("sqlite3", uri+"?"+strings.Join([]string{
		"_journal_mode=WAL",
		"_synchronous=NORMAL",
		"_foreign_keys=on",
		"_busy_timeout=" + strconv.Itoa(busyTimeout),
		"_txlock=immediate",
	}, "&"))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One writing connection per process: goroutines queue in database/sql
	// instead of polling SQLite's lock; processes wait in the busy handler.
	db.rw.SetMaxOpenConns(1)
	db.rw.SetMaxIdleConns(1)
	db.rw.SetConnMaxLifetime(0)

	if err := db.migrate(context.Background()); err != nil {
		db.rw.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	db.ro, err = sql.Open("sqlite3", uri+"?"+strings.Join([]string{
		"_foreign_keys=on",
		"_busy_timeout=" + strconv.Itoa(busyTimeout),
		"_txlock=deferred",
		"_query_only=true",
	}, "&"))
	if err != nil {
		db.rw.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.ro.SetMaxOpenConns(4)
	db.ro.SetMaxIdleConns(2)
	return db, nil
}

// Path returns the path the database was opened with.
func (db *DB) Path() string { return db.path }

// Location is the file's path (sweep.Reader).
func (db *DB) Location() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	err := db.ro.Close()
	if err2 := db.rw.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// viewsFile re-creates the views after the numbered migrations.
const viewsFile = "migrations/views.sql"

// loadMigrations returns the embedded numbered migrations in order.
func loadMigrations() ([]schema.Migration, error) { return schema.Migrations(migrations, "migrations") }

// viewsSQL expands migrations/views.sql with the settings columns.
func viewsSQL() (string, error) { return schema.Views(migrations, viewsFile) }

// SchemaVersion is the user_version a fully migrated database has.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate runs the migrations the file has not had yet and then re-creates
// the views (migrations/views.sql), all in one immediate transaction that
// re-reads user_version once it holds the write lock: two processes
// opening a fresh file at once apply them only once.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	views, err := viewsSQL()
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		var have int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
			return fmt.Errorf("read user_version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("schema version %d is newer than this program's %d", have, len(ms))
		}
		for _, m := range ms[have:] {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			// PRAGMA takes no parameters; the version is an int we made.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.Version)); err != nil {
				return fmt.Errorf("migration %s: set user_version: %w", m.Name, err)
			}
		}
		if have < len(ms) {
			// A migration may edit the schema's text (005_search does):
			// a new schema_version makes every connection re-read it.
			var sv int
			if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&sv); err != nil {
				return fmt.Errorf("read schema_version: %w", err)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA schema_version = %d`, sv+1)); err != nil {
				return fmt.Errorf("set schema_version: %w", err)
			}
			if _, err := tx.ExecContext(ctx, views); err != nil {
				return fmt.Errorf("%s: %w", path.Base(viewsFile), err)
			}
		}
		return nil
	})
}

// write runs fn in one BEGIN IMMEDIATE transaction and commits it. Should
// SQLite still report the file busy or locked (the busy handler is not
// called in some cases), the whole transaction is retried with backoff, so
// fn must not have effects outside tx.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return retry(ctx, func() error { return inTx(ctx, db.rw, fn) })
}

// read runs fn in one deferred, read-only transaction: a consistent
// snapshot that neither waits for nor blocks writers (WAL).
func (db *DB) read(ctx context.Context, fn func(*sql.Tx) error) error {
	return retry(ctx, func() error { return inTx(ctx, db.ro, fn) })
}

func inTx(ctx context.Context, pool *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// maxRetries bounds retry; with SQLite's own busy timeout in each attempt
// it is far beyond any lock a healthy writer holds.
const maxRetries = 20

func retry(ctx context.Context, fn func() error) error {
	wait := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !isBusy(err) || attempt == maxRetries {
			return err
		}
		// Jitter so that processes that collided do not collide again.
		d := wait/2 + rand.N(wait)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		if wait < time.Second {
			wait *= 2
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked" or "database
// table is locked", in any extended form.
func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// Value conversions between Go and the columns.

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a stored time; NULL is the zero time. Besides our own
// layout it accepts RFC 3339 and SQLite's 'YYYY-MM-DD HH:MM:SS' in case
// someone edited a row by hand.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{timeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s.String); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s.String)
}

// nullFloat stores NaN as NULL.
func nullFloat(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// floatOrNaN reads NULL as NaN.
func floatOrNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SetClock replaces the clock the database reads for leases and the times
// it records; tests use it to expire leases without sleeping. Call it
// before the database is in use.
func (db *DB) SetClock(now func() time.Time) { db.now = now }
