package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"sweep"
	"sweep/postgres"
	"sweep/serve"
	"sweep/store"
)

// dbEnv names the database when --db is not given.
const dbEnv = "SWEEP_DB"

const dbHelp = "database: a SQLite file, or a postgres:// or postgresql:// URL for PostgreSQL (default $" + dbEnv + ", else sweep.db)"

// defaultDB is $SWEEP_DB, or sweep.db when it is unset or empty.
func defaultDB() string {
	if s := os.Getenv(dbEnv); s != "" {
		return s
	}
	return "sweep.db"
}

// database is what every backend offers.
type database interface {
	sweep.Store
	sweep.Importer
}

// openStore opens (creating it if needed) the database named by db for
// `sweep run` and `sweep copy --to`: a postgres:// or postgresql:// URL is
// a PostgreSQL database, anything else a SQLite file. It and openExisting
// are the only places that name a backend: every command works on the
// interfaces they return.
func openStore(ctx context.Context, db string) (database, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	return store.Open(db)
}

// openExisting opens a database that must already exist: reading commands
// should not create an empty file where the user mistyped a path, nor
// tables in a PostgreSQL database that has none (it is opened read-only).
func openExisting(ctx context.Context, db string) (database, error) {
	if postgres.IsURL(db) {
		s, err := postgres.OpenReadOnly(ctx, db)
		if errors.Is(err, postgres.ErrNoSchema) {
			return nil, usageError{err}
		}
		return s, err
	}
	if err := fileExists(db); err != nil {
		return nil, err
	}
	return store.Open(db)
}

// openExistingStore opens a database that must already exist for writing
// (a SQLite file must exist; PostgreSQL is opened as by openStore).
func openExistingStore(ctx context.Context, db string) (database, error) {
	if !postgres.IsURL(db) {
		if err := fileExists(db); err != nil {
			return nil, err
		}
	}
	return openStore(ctx, db)
}

// fileExists says, as a usage error, that a SQLite file is missing.
func fileExists(db string) error {
	if _, err := os.Stat(db); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return usageError{fmt.Errorf("database %s does not exist: run 'sweep run FILE.toml' first, or pass --db", db)}
		}
		return err
	}
	return nil
}

// servable is what 'sweep serve' reads.
type servable interface {
	serve.Source
	Location() string
	Close() error
}

// openServe opens an existing database read-only for 'sweep serve', with
// its change counter; closeAll closes both.
func openServe(ctx context.Context, db string) (src servable, changes serve.Changes, closeAll func(), err error) {
	if postgres.IsURL(db) {
		pg, err := postgres.OpenReadOnly(ctx, db)
		if errors.Is(err, postgres.ErrNoSchema) {
			return nil, nil, nil, usageError{err}
		}
		if err != nil {
			return nil, nil, nil, err
		}
		c, err := pg.ChangeCounter(ctx)
		if err != nil {
			pg.Close()
			return nil, nil, nil, err
		}
		return pg, c, func() { c.Close(); pg.Close() }, nil
	}
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, usageError{fmt.Errorf("database %s does not exist: run 'sweep run FILE.toml' first, or pass --db", db)}
	}
	lite, err := store.OpenReadOnly(db)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := lite.ChangeCounter(ctx)
	if err != nil {
		lite.Close()
		return nil, nil, nil, err
	}
	return lite, c, func() { c.Close(); lite.Close() }, nil
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// oneLine shortens text to its first line and at most n runes.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
