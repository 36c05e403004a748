package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaVersion is returned (wrapped) by OpenReadOnly when the file's
// schema is not the one this program knows.
var ErrSchemaVersion = errors.New("schema version mismatch")

// OpenReadOnly opens an existing database for reading only: SQLite opens
// the file with mode=ro and every connection is query-only, so nothing this
// DB does can change the file, and no migration runs. It is for readers
// such as 'sweep serve' that run beside any number of writing processes
// (WAL mode lets them read while others write).
//
// The file must exist and have exactly the schema version this program
// knows (SchemaVersion): an older file has not been migrated yet (any
// writing command, e.g. 'sweep run', migrates it) and a newer one was
// written by a newer program; either is an error wrapping ErrSchemaVersion.
// The write methods of the returned DB fail with SQLite's "attempt to
// write a readonly database".
func OpenReadOnly(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: open read-only: empty path")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(abs) + "?" + strings.Join([]string{
		"mode=ro",
		"_busy_timeout=" + strconv.Itoa(busyTimeout),
		"_txlock=deferred",
		"_query_only=true",
	}, "&")
	db := &DB{path: path, now: time.Now}
	if db.ro, err = openPool(uri, 4); err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	// The write pool is read-only too, so that a write method called by
	// mistake fails instead of dereferencing nil. It never connects unless
	// used.
	if db.rw, err = openPool(uri, 1); err != nil {
		db.ro.Close()
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if err := db.checkSchema(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	return db, nil
}

// checkSchema compares the file's user_version with SchemaVersion.
func (db *DB) checkSchema(ctx context.Context) error {
	var have int
	if err := db.ro.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	want := SchemaVersion()
	switch {
	case have == 0:
		return fmt.Errorf("%w: not a sweep database (user_version 0; want %d)", ErrSchemaVersion, want)
	case have < want:
		return fmt.Errorf("%w: schema version %d is older than this program's %d; run a writing command such as 'sweep run' once to migrate it", ErrSchemaVersion, have, want)
	case have > want:
		return fmt.Errorf("%w: schema version %d is newer than this program's %d; use a newer sweep", ErrSchemaVersion, have, want)
	}
	return nil
}

func openPool(dsn string, conns int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	return pool, nil
}
