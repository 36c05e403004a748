package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaVersion is returned (wrapped) by OpenReadOnly when the
// database's schema is not the one this program knows.
var ErrSchemaVersion = errors.New("schema version mismatch")

// ErrNoSchema is returned (wrapped, with ErrSchemaVersion) by OpenReadOnly
// when the database has no sweep tables at all.
var ErrNoSchema = errors.New("no sweep schema in the database: run 'sweep run FILE.toml' with this --db first")

// OpenReadOnly opens an existing sweep database for reading only: every
// session has default_transaction_read_only on, so the server refuses any
// write, and no migration runs. It is for readers such as 'sweep serve'
// and the reading commands. The database must have exactly the schema
// version this program knows; otherwise the error wraps ErrSchemaVersion
// (an older schema is brought up to date by any writing command, such as
// 'sweep run').
func OpenReadOnly(ctx context.Context, rawURL string) (*DB, error) {
	db := &DB{loc: Mask(rawURL), now: time.Now}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: cannot parse the URL", db.loc)
	}
	cfg.MaxConns = MaxConns
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "sweep"
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", db.loc, err)
	}
	if err := db.checkSchema(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s read-only: %w", db.loc, err)
	}
	return db, nil
}

// checkSchema compares the database's schema version with SchemaVersion.
func (db *DB) checkSchema(ctx context.Context) error {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	var have *int
	if exists {
		var v int
		if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
			return err
		}
		have = &v
	}
	switch {
	case have == nil:
		return fmt.Errorf("%w: %w", ErrSchemaVersion, ErrNoSchema)
	case *have < SchemaVersion():
		return fmt.Errorf("%w: schema version %d is older than this program's %d: any writing command (sweep run) migrates it", ErrSchemaVersion, *have, SchemaVersion())
	case *have > SchemaVersion():
		return fmt.Errorf("%w: schema version %d is newer than this program's %d", ErrSchemaVersion, *have, SchemaVersion())
	}
	return nil
}

// ChangeCounter tells cheaply whether the database changed, for a reader
// such as 'sweep serve' that polls it. Its Version is the server's current
// WAL insert position (pg_current_wal_insert_lsn), which moves whenever
// anything is written, every commit included, and reads no table. (The
// WAL write position, pg_current_wal_lsn, lags commits by up to
// wal_writer_delay under synchronous_commit=off.) It also moves on writes that change nothing
// shown (a lease renewal) and on writes to other databases of the same
// server, which costs a reader a needless refresh, never a missed one.
type ChangeCounter struct{ db *DB }

// ChangeCounter returns a counter on the database's pool.
func (db *DB) ChangeCounter(ctx context.Context) (*ChangeCounter, error) {
	c := &ChangeCounter{db: db}
	if _, err := c.Version(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Version returns the current WAL position as a number; compare it with
// the previous value.
func (c *ChangeCounter) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := c.db.pool.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: read the WAL position of %s: %w", c.db.loc, err)
	}
	return v, nil
}

// Close releases nothing: the counter uses the DB's pool.
func (c *ChangeCounter) Close() error { return nil }
