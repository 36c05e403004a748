package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sweep"
)

// TestGC: 'sweep gc' deletes the checkpoints of done runs (their weights)
// and shrinks the file; --all also those of interrupted runs; a missing
// database is a usage error.
func TestGC(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "g.toml", tinySweep("g", "[grid]\nhead = [\"regression\", \"classify\"]\n"))
	if out, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	s := openTestStore(t, db)
	ctx := context.Background()
	runs, err := s.Runs(ctx, sweep.RunFilter{Sweep: "g"})
	if err != nil || len(runs) != 4 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	// One run interrupted after an epoch, with its resume checkpoint.
	interrupted := runs[0].RunID
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE runs SET status = 'interrupted' WHERE id = ?`, interrupted); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, _ := os.Stat(db)

	out, errOut, code := sweepCmd(t, "gc", "--db", db)
	if code != 0 || !strings.Contains(out, "deleted 3 checkpoints") || !strings.Contains(out, "of done and pruned runs") {
		t.Fatalf("gc: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range runs {
		_, _, err := s.Checkpoint(ctx, r.RunID)
		if kept := r.RunID == interrupted; kept != (err == nil) || (!kept && !errors.Is(err, sweep.ErrNotFound)) {
			t.Errorf("run %s: checkpoint error %v after gc (interrupted: %v)", r.RunID, err, kept)
		}
	}
	if after, _ := os.Stat(db); after.Size() >= before.Size() {
		t.Errorf("file %d bytes after gc, %d before: not compacted", after.Size(), before.Size())
	}
	if out, _, code := sweepCmd(t, "gc", "--all", "--db", db); code != 0 || !strings.Contains(out, "deleted 1 checkpoints") {
		t.Errorf("gc --all: exit %d\n%s", code, out)
	}
	if _, errOut, code := sweepCmd(t, "gc", "--db", filepath.Join(dir, "missing.db")); code != 2 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("gc of a missing file: exit %d: %s", code, errOut)
	}
}
