package postgres

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"sweep"
	"sweep/postgres/pgtest"
	"sweep/store/storetest"
)

// TestMain stops the test server once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// openTest opens a new database on the test server.
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func backend(t *testing.T) storetest.Backend {
	db := openTest(t)
	return storetest.Backend{
		DB:     db,
		SetNow: func(now func() time.Time) { db.now = now },
		Query: func(ctx context.Context, q string) ([][]any, error) {
			_, rows, err := db.Query(ctx, q)
			return rows, err
		},
	}
}

// TestConformance runs the backend-agnostic store suite on PostgreSQL.
func TestConformance(t *testing.T) { storetest.Run(t, backend) }

func openBench(loc string) (sweep.Store, error) { return Open(context.Background(), loc) }

// TestClaimBenchmark measures claims per second and claim latency on
// PostgreSQL (SWEEP_CLAIM_BENCH=1; see storetest.ClaimBenchmark).
func TestClaimBenchmark(t *testing.T) {
	storetest.ClaimBenchmark(t, openBench, func(t *testing.T) string { return pgtest.URL(t) }, "TestClaimBenchChild")
	if log := pgtest.Log(); strings.Contains(log, "still waiting") || strings.Contains(log, "deadlock") {
		t.Logf("server log:\n%s", log)
	}
}

// TestClaimBenchChild is a child process of TestClaimBenchmark.
func TestClaimBenchChild(t *testing.T) { storetest.ClaimBenchChild(t, openBench) }
