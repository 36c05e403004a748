package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"sweep"
)

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gc", "[flags]", `
Delete stored checkpoints to make the database small. Every recorded epoch
comes with a checkpoint of its run (weights, optimiser state and the
generators' positions: 296 KB per run with adam at the default settings,
197 KB with sgd); the database keeps one per run, the latest.

By default gc deletes those of finished runs (done and pruned): their
trained weights, which 'sweep export --weights' and 'sweep predict --run'
read, and nothing else needs. With --all it also deletes those of failed
and interrupted runs: they will then restart from epoch 1 instead of
resuming. Running runs always keep theirs. A SQLite file is then compacted
(VACUUM); PostgreSQL reuses the space for new rows.

'sweep run --checkpoints=false' records none in the first place.

Example:
  sweep gc
  sweep gc --sweep lr --all --db results.db
`)
	dbPath := fs.dbFlag()
	sweepName := fs.String("sweep", "", "only this sweep's runs (default: every sweep)")
	all := fs.Bool("all", false, "also the checkpoints of failed and interrupted runs (they restart from epoch 1)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	var statuses []sweep.Status
	for _, s := range sweep.Statuses() {
		if s.Finished() || (*all && s.Retried()) {
			statuses = append(statuses, s)
		}
	}
	db, err := openExistingStore(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	before := fileSize(db.Location())
	n, bytes, err := db.DropCheckpoints(ctx, *sweepName, statuses)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %d checkpoints (%s) of %s runs", n, megabytes(bytes), statusList(statuses))
	if after := fileSize(db.Location()); before > 0 && after > 0 {
		fmt.Fprintf(stdout, "; %s: %s → %s", db.Location(), megabytes(before), megabytes(after))
	}
	fmt.Fprintln(stdout)
	return nil
}

// fileSize is the size of a SQLite database file with its WAL, or 0 when
// loc is not a file (a PostgreSQL URL).
func fileSize(loc string) int64 {
	fi, err := os.Stat(loc)
	if err != nil {
		return 0
	}
	n := fi.Size()
	if wal, err := os.Stat(loc + "-wal"); err == nil {
		n += wal.Size()
	}
	return n
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func statusList(ss []sweep.Status) string {
	out := ""
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			out += " and "
		default:
			out += ", "
		}
		out += string(s)
	}
	return out
}
