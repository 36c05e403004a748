package main

import (
	"context"
	"fmt"
	"io"
)

func cmdCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("copy", "--from DB --to DB", `
Copy every sweep, run, epoch and checkpoint from one database to another,
each a SQLite file or a postgres:// URL: to move results (and trained
weights) between a laptop and a cluster's PostgreSQL, or to merge
databases. Sweeps keep their search and pruning rules; runs keep their
state (status, attempts, owner, times, errors, trial, reuse, hold) and
their epochs exactly.

Copying is idempotent by run id: a run the target lacks is added; a run
that is finished (done or pruned) in the source and not in the target
replaces the target's; a run the target has finished keeps its results. Copying again adds nothing.
The target is written in one transaction and created if needed; the
source must exist.

Example:
  sweep copy --from sweep.db --to postgres://sweep@db.example/sweep
  sweep copy --from "$SWEEP_DB" --to results.db
`)
	from := fs.String("from", "", "database to copy from (SQLite file or postgres:// URL)")
	to := fs.String("to", "", "database to copy into, created if needed (SQLite file or postgres:// URL)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{fmt.Errorf("copy needs --from and --to (usage: %s)", fs.usageLine)}
	}
	if *from == *to {
		return usageError{fmt.Errorf("--from and --to are the same database")}
	}
	src, err := openExisting(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	d, err := src.Dump(ctx)
	if err != nil {
		return err
	}
	dst, err := openStore(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	st, err := dst.Import(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %s to %s: %d of %d sweeps, %d of %d runs added, %d replaced by finished runs, %d epoch rows and %d checkpoints written\n",
		src.Location(), dst.Location(), st.Sweeps, len(d.Sweeps), st.Runs, len(d.Runs), st.Replaced, st.Epochs, st.Checkpoints)
	return nil
}
