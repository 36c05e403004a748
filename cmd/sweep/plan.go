package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"sweep"
	"sweep/pipeline"
)

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plan", "[flags] FILE.toml...", `
Validate sweep files and print how many runs each expands to, then a table
of the runs, without training or touching a database. Every problem in
every file is reported (file:line: key: message) and the exit status is 2.

A sweep file declares a name, optional description and repeats, a [train]
table of settings shared by all runs, a [grid] table of lists whose every
combination runs, an optional [random] table for random search, and an
optional [reference] of published figures to compare with. The settings
are listed with their defaults and meaning by 'sweep train --help'; the
full manual: 'go doc sweep/pipeline'. The table shows every setting of the
first release and the later ones (dropout, widths, …) that some run sets.

Example:
  sweep plan configs/*.toml
  sweep plan -q configs/heads.toml     # counts only
`)
	quiet := fs.Bool("q", false, "print only the counts, not the table of runs")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(1, -1); err != nil {
		return err
	}
	sweeps, err := pipeline.Load(fs.Args())
	if err != nil {
		return usageError{err}
	}
	total, samples := 0, 0
	for _, sw := range sweeps {
		n := 0
		for _, r := range sw.Runs {
			n += r.Settings.Epochs * r.Settings.TrainImages()
		}
		runs, extra := len(sw.Runs), ""
		if s := sw.Search; s != nil {
			// A tpe sweep's configurations are made as it runs.
			runs = s.Trials * s.Repeats
			n = runs * s.Base.Epochs * s.Base.TrainImages()
			extra = fmt.Sprintf(" at most (tpe: %d configurations × %d repeats, made as it runs)", s.Trials, s.Repeats)
		}
		if sw.Prune != nil {
			extra += fmt.Sprintf("; %s pruning stops some early", sw.Prune.Method)
		}
		fmt.Fprintf(stdout, "%s: sweep %q, %d runs, %d training samples%s\n", sw.File, sw.Name, runs, n, extra)
		total += runs
		samples += n
	}
	fmt.Fprintf(stdout, "total: %d runs, %d training samples\n", total, samples)
	if *quiet {
		return nil
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	var all []sweep.Settings
	for _, sw := range sweeps {
		for _, r := range sw.Runs {
			all = append(all, r.Settings)
		}
	}
	cols := planSettings(all)
	fmt.Fprintln(tw, "sweep\trun_id\t"+settingsHeader(cols))
	for _, sw := range sweeps {
		for _, r := range sw.Runs {
			fmt.Fprintln(tw, sw.Name+"\t"+r.ID+"\t"+settingsCells(cols, r.Settings))
		}
	}
	return tw.Flush()
}
