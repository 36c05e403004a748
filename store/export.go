package store

import (
	"context"
	"database/sql"
	"fmt"
)

// views are the user-facing views, in the order people meet them.
var views = []string{"run_results", "epoch_results", "config_results"}

// IsView reports whether name is one of the user-facing views.
func IsView(name string) bool {
	for _, v := range views {
		if v == name {
			return true
		}
	}
	return false
}

// View returns every row of a user-facing view with its column names, in
// the view's own column order, for export. Values are nil (NULL), int64,
// float64 or string.
func (db *DB) View(ctx context.Context, name string) (cols []string, rows [][]any, err error) {
	if !IsView(name) {
		return nil, nil, fmt.Errorf("store: export %q: not a view (want one of %v)", name, views)
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		// name is one of the constants above, never user text.
		rs, err := tx.QueryContext(ctx, "SELECT * FROM "+name)
		if err != nil {
			return err
		}
		defer rs.Close()
		if cols, err = rs.Columns(); err != nil {
			return err
		}
		for rs.Next() {
			row := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return err
			}
			for i, v := range row {
				if b, ok := v.([]byte); ok {
					row[i] = string(b)
				}
			}
			rows = append(rows, row)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: export %s from %s: %w", name, db.path, err)
	}
	return cols, rows, nil
}

// IntegrityCheck runs SQLite's integrity check and returns an error
// listing what it found unless the file is sound.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var problems []string
	err := db.read(ctx, func(tx *sql.Tx) error {
		rs, err := tx.QueryContext(ctx, "PRAGMA integrity_check")
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var s string
			if err := rs.Scan(&s); err != nil {
				return err
			}
			if s != "ok" {
				problems = append(problems, s)
			}
		}
		return rs.Err()
	})
	if err == nil && len(problems) > 0 {
		err = fmt.Errorf("%v", problems)
	}
	if err != nil {
		return fmt.Errorf("store: integrity check of %s: %w", db.path, err)
	}
	return nil
}
