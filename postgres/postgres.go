package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sweep"
	"sweep/store/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Compile-time checks.
var (
	_ sweep.Store    = (*DB)(nil)
	_ sweep.Importer = (*DB)(nil)
)

// timeLayout is how times are stored, as in the SQLite backend.
const timeLayout = "2006-01-02T15:04:05.000Z"

// MaxConns is the most connections one process opens. Claims, heartbeats
// and epochs are short transactions, so a few connections serve many
// goroutines; a small number keeps a cluster of processes within the
// server's max_connections (100 by default: 25 processes).
const MaxConns = 4

// migrationLock is the pg_advisory_xact_lock key migrations hold.
const migrationLock = 0x5357454550 // "SWEEP"

// DB is a sweep database on a PostgreSQL server.
type DB struct {
	loc  string // the URL with any password masked
	pool *pgxpool.Pool

	// now is the clock; tests replace it to expire leases without sleeping.
	// It must not be changed while the DB is in use.
	now func() time.Time
}

// IsURL reports whether s names a PostgreSQL database: a postgres:// or
// postgresql:// URL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Mask returns the URL with any password, in the user part or in a
// password parameter, replaced by xxxxx.
func Mask(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Do not echo what could not be parsed: it may hold a password.
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database at rawURL (postgres://user:pass@host/db)
// and brings its schema up to date. Several processes may open the same
// database at once, including one that has no schema yet.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	db := &DB{loc: Mask(rawURL), now: time.Now}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL; say only what is safe.
		return nil, fmt.Errorf("postgres: open %s: cannot parse the URL", db.loc)
	}
	cfg.MaxConns = MaxConns
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "sweep"
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", db.loc, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.loc, err)
	}
	return db, nil
}

// Location is the URL with any password masked (sweep.Reader).
func (db *DB) Location() string { return db.loc }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

const viewsFile = "migrations/views.sql"

// loadMigrations returns the embedded numbered migrations in order.
func loadMigrations() ([]schema.Migration, error) { return schema.Migrations(migrations, "migrations") }

// viewsSQL expands migrations/views.sql with the settings columns.
func viewsSQL() (string, error) { return schema.Views(migrations, viewsFile) }

// SchemaVersion is the version a fully migrated database has.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies the migrations the database has not had and re-creates
// the views, in one transaction that first takes an advisory lock, so
// processes opening a fresh database at once apply them exactly once.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	views, err := viewsSQL()
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("lock for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("read schema_version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("schema version %d is newer than this program's %d", have, len(ms))
		}
		for _, m := range ms[have:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: record version: %w", m.Name, err)
			}
		}
		if have < len(ms) {
			if _, err := tx.Exec(ctx, views); err != nil {
				return fmt.Errorf("%s: %w", path.Base(viewsFile), err)
			}
		}
		return nil
	})
}

// write runs fn in one read-committed transaction and commits it,
// retrying the whole transaction with jittered backoff on a serialization
// failure (40001) or deadlock (40P01), so fn must not have effects
// outside tx.
func (db *DB) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error {
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{}, fn)
	})
}

// read runs fn in one read-only repeatable-read transaction: a consistent
// snapshot that neither waits for nor blocks writers.
func (db *DB) read(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error {
		return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	})
}

const maxRetries = 20

func retry(ctx context.Context, fn func() error) error {
	wait := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt == maxRetries {
			return err
		}
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

// retryable reports a serialization failure or a deadlock: the server
// rolled the transaction back and it may simply be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// Value conversions between Go and the columns.

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

func parseTime(s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{timeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, *s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", *s)
}

// nullFloat stores NaN as NULL.
func nullFloat(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// floatOrNaN reads NULL as NaN.
func floatOrNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// SetClock replaces the clock the database reads for leases and the times
// it records; tests use it to expire leases without sleeping. Call it
// before the database is in use.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// nullInt stores 0 as NULL.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return int64(n)
}
