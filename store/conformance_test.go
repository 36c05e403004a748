package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"sweep"
	"sweep/store/storetest"
)

// backend opens a new SQLite database as a conformance-suite backend.
func backend(t *testing.T) storetest.Backend {
	db, err := Open(filepath.Join(t.TempDir(), "sweep.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return storetest.Backend{
		DB:     db,
		SetNow: func(now func() time.Time) { db.now = now },
		Query:  db.query,
	}
}

// query runs read-only SQL, returning values as nil, int64, float64 or
// string.
func (db *DB) query(ctx context.Context, q string) ([][]any, error) {
	rs, err := db.ro.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
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

// TestConformance runs the backend-agnostic store suite on SQLite.
func TestConformance(t *testing.T) { storetest.Run(t, backend) }

func openBench(loc string) (sweep.Store, error) { return Open(loc) }

// TestClaimBenchmark measures claims per second and claim latency on
// SQLite (SWEEP_CLAIM_BENCH=1; see storetest.ClaimBenchmark).
func TestClaimBenchmark(t *testing.T) {
	storetest.ClaimBenchmark(t, openBench, func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "bench.db")
	}, "TestClaimBenchChild")
}

// TestClaimBenchChild is a child process of TestClaimBenchmark.
func TestClaimBenchChild(t *testing.T) { storetest.ClaimBenchChild(t, openBench) }
