package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"sweep"
)

// runSortKeys are the columns 'sweep runs --sort' accepts, with whether
// larger is better (sorted first).
var runSortKeys = map[string]struct {
	of           func(r sweep.RunResult) float64
	higherBetter bool
}{
	"test_accuracy":     {func(r sweep.RunResult) float64 { return r.Final.DigitAccuracy }, true},
	"test_r2":           {func(r sweep.RunResult) float64 { return r.Final.SumR2 }, true},
	"test_sum_accuracy": {func(r sweep.RunResult) float64 { return r.Final.SumAccuracy }, true},
	"test_nll":          {func(r sweep.RunResult) float64 { return r.Final.DigitNLL }, false},
	"test_mse":          {func(r sweep.RunResult) float64 { return r.Final.SumMSE }, false},
	"train_seconds":     {func(r sweep.RunResult) float64 { return r.TrainSeconds }, false},
}

func cmdRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs", "[flags]", `
Print a table of runs: status, the settings that differ between the runs
listed and the seed, epochs done and the final epoch's test metrics (digit
accuracy, sum R², sum accuracy). Runs without a finished epoch show '-';
'sweep show RUN' has every setting of one run.

Sort keys: test_accuracy, test_r2, test_sum_accuracy, test_nll, test_mse,
train_seconds (best first); without --sort runs are listed in sweep order.

Example:
  sweep runs --sweep heads --sort test_r2
  sweep runs --status failed
`)
	dbPath := fs.dbFlag()
	sweepName := fs.String("sweep", "", "only runs of this sweep")
	status := fs.String("status", "", "only runs in this status: pending, running, done, failed or interrupted")
	sortKey := fs.String("sort", "", "sort by this metric, best first")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	key, ok := runSortKeys[*sortKey]
	if *sortKey != "" && !ok {
		return usageError{fmt.Errorf("--sort %q: want one of %s", *sortKey, strings.Join(sortedKeys(runSortKeys), ", "))}
	}
	if err := checkStatus(*status); err != nil {
		return err
	}
	db, err := openExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.Runs(ctx, sweep.RunFilter{Sweep: *sweepName, Status: sweep.Status(*status)})
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(stdout, "no runs match")
		return nil
	}
	if *sortKey != "" {
		sort.SliceStable(runs, func(i, j int) bool {
			a, b := key.of(runs[i]), key.of(runs[j])
			if math.IsNaN(a) || runs[i].EpochsDone == 0 {
				return false
			}
			if math.IsNaN(b) || runs[j].EpochsDone == 0 {
				return true
			}
			if key.higherBetter {
				return a > b
			}
			return a < b
		})
	}
	var all []sweep.Settings
	for _, r := range runs {
		all = append(all, r.Settings)
	}
	cols := varyingSettings(all)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run_id\tsweep\tstatus\t"+settingsHeader(cols)+"epochs\ttest_acc\ttest_r2\ttest_sum_acc\ttrain_time\t")
	for _, r := range runs {
		s := r.Settings
		acc, r2, sacc := "-", "-", "-"
		if r.EpochsDone > 0 {
			acc, r2, sacc = pct(r.Final.DigitAccuracy), fmt.Sprintf("%.4f", r.Final.SumR2), pct(r.Final.SumAccuracy)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%d/%d\t%s\t%s\t%s\t%s\t\n", r.RunID, r.Sweep, r.Status,
			settingsCells(cols, s), r.EpochsDone, s.Epochs, acc, r2, sacc,
			shortDuration(secondsDuration(r.TrainSeconds)))
	}
	return tw.Flush()
}

func checkStatus(s string) error {
	var names []string
	for _, st := range sweep.Statuses() {
		if s == "" || sweep.Status(s) == st {
			return nil
		}
		names = append(names, string(st))
	}
	return usageError{fmt.Errorf("--status %q: want %s", s, strings.Join(names, ", "))}
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
