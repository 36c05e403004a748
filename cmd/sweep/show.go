package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"sweep"
)

func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", "[flags] RUN_ID", `
Print one run: its settings, status, error if any, where and when it ran,
and its train and test metrics for every recorded epoch. A unique prefix of
the run id is enough (ids are in 'sweep runs').

Example:
  sweep show 3fa2c1
`)
	dbPath := fs.dbFlag()
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(1, 1); err != nil {
		return err
	}
	db, err := openExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.Run(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	s := r.Settings
	fmt.Fprintf(stdout, "run %s of sweep %s: %s, %d/%d epochs\n", r.RunID, r.Sweep, r.Status, r.EpochsDone, s.Epochs)
	if r.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", r.Error)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, d := range sweep.SettingDefs() {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Key, d.Text(s))
	}
	for _, kv := range [][2]string{
		{"host", r.Host}, {"version", r.Version}, {"started", timeText(r.Started)}, {"finished", timeText(r.Finished)},
		{"train time", shortDuration(secondsDuration(r.TrainSeconds))},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], kv[1])
	}
	tw.Flush()
	epochs, err := db.Epochs(ctx, sweep.RunFilter{IDs: []string{r.RunID}})
	if err != nil {
		return err
	}
	if len(epochs) == 0 {
		fmt.Fprintln(stdout, "\nno epoch recorded yet")
		return nil
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, epochHeader)
	for _, e := range epochs {
		epochRow(stdout, e.Epoch, e.Split, e.Metrics, e.Seconds, "")
	}
	return nil
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
