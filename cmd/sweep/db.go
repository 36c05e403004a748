package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"sweep"
	"sweep/store"
)

// openStore opens (creating it if needed) the database at path for
// `sweep run`. It and openExisting are the only places that name a
// backend: every command works on the sweep.Store they return.
func openStore(path string) (sweep.Store, error) {
	return store.Open(path)
}

// openExisting opens a database that must already exist: reading commands
// should not create an empty file where the user mistyped a path.
func openExisting(path string) (sweep.Reader, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageError{fmt.Errorf("database %s does not exist: run 'sweep run FILE.toml' first, or pass --db", path)}
		}
		return nil, err
	}
	return store.Open(path)
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
