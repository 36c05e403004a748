package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sweep/reports"
	"text/tabwriter"

	"sweep"
)

func cmdLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ls", "[flags]", `
List the sweeps recorded in the database with their runs counted by status
and the training time spent on them.

Example:
  sweep ls
  sweep ls --db results.db
`)
	dbPath := fs.dbFlag()
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	db, err := openExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	sweeps, err := db.Sweeps(ctx)
	if err != nil {
		return err
	}
	if len(sweeps) == 0 {
		fmt.Fprintf(stdout, "no sweeps in %s: run 'sweep run configs/*.toml' first\n", db.Location())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "SWEEP")
	for _, st := range sweep.Statuses() {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(string(st)))
	}
	fmt.Fprintln(tw, "\tTOTAL\tTRAIN TIME\tPRUNING SAVED\tFILE\tDESCRIPTION")
	for _, s := range sweeps {
		fmt.Fprint(tw, s.Name)
		total := 0
		for _, st := range sweep.Statuses() {
			fmt.Fprintf(tw, "\t%d", s.Counts[st])
			total += s.Counts[st]
		}
		// Epochs pruning saved against training every run to the end.
		saved := "-"
		if s.Prune != nil {
			runs, err := db.Runs(ctx, sweep.RunFilter{Sweep: s.Name})
			if err != nil {
				return err
			}
			n, full := reports.PruningSavings(runs)
			saved = fmt.Sprintf("%d of %d epochs", n, full)
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t%s\n", total,
			shortDuration(secondsDuration(s.Seconds)), saved, s.File, oneLine(s.Description, 60))
	}
	return tw.Flush()
}
