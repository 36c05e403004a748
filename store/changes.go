package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// ChangeCounter tells cheaply whether the database changed: a new sweep or
// run, a status change, an epoch recorded. It holds one connection of its
// own and asks SQLite for PRAGMA data_version, which changes whenever
// another connection (in this process or any other) commits a write. It
// reads no table and costs a few microseconds, so a server can poll it
// often and re-read only when it moves.
//
// The value means nothing by itself: compare it with the previous one. It
// also moves on commits that change nothing shown (a lease renewal), which
// costs a reader one needless refresh.
type ChangeCounter struct {
	path string
	mu   sync.Mutex
	conn *sql.Conn
}

// ChangeCounter returns a counter on a connection of its own. Close it
// before the DB.
func (db *DB) ChangeCounter(ctx context.Context) (*ChangeCounter, error) {
	conn, err := db.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: change counter on %s: %w", db.path, err)
	}
	c := &ChangeCounter{path: db.path, conn: conn}
	if _, err := c.Version(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Version returns the current data version. It differs from the value of
// an earlier call if and only if some other connection committed a write
// in between.
func (c *ChangeCounter) Version(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var v int64
	if err := c.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read data_version of %s: %w", c.path, err)
	}
	return v, nil
}

// Close releases the counter's connection.
func (c *ChangeCounter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("store: close change counter of %s: %w", c.path, err)
	}
	return nil
}
