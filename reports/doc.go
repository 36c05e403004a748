// Package reports turns sweep results into figures and one self-contained
// HTML page.
//
// The package works on plain data only: the caller reads each sweep from the
// store into a SweepData (sweep info, reference, runs, epoch metrics) and
// nothing here touches a database. It has three layers:
//
//   - Aggregation (aggregate.go), pure and tested on hand-made numbers:
//     VaryingSettings finds the settings that take more than one value in a
//     sweep (the seed never counts); GroupConfigs groups runs by
//     sweep.ConfigKey into Configs; Summarize gives n, mean, sample std,
//     min and max over repeats; ConfigCurve does so epoch by epoch; Rank and
//     BestWorst order configurations by a Metric; CompareSetting and Judge
//     weigh a difference against the spread over seeds; EffectValues and
//     PairGrid feed the effect plots and heat maps. Only runs with status
//     done (trained, or reused from an identical run) and at least one
//     epoch enter any aggregate of final metrics. A configuration with a
//     pruned run is pruned (Config says why, in one place): its runs are
//     drawn in learning curves but never ranked or averaged with final
//     metrics. For adaptive sweeps (adaptive.go): Trials and BestSoFar
//     feed the search figure, PruningSavings counts the epochs pruning
//     saved, StatusText words a run's status for tables.
//
//   - Figures (figures.go): LearningCurves (a Stopped curve ends with a
//     × for "pruned"), TrainTestLoss, EffectPlot, HeatMap,
//     AccuracyR2Scatter and SearchProgress take plain data (Curve, SplitCurves,
//     EffectGroup, HeatGrid, ScatterGroup) in display units and return a
//     gonum *plot.Plot, or ErrNoData when there is nothing to draw. SVG and
//     PNG render a plot with its legend outside the plot area, to the right,
//     so that many configurations never cover the data.
//
//   - The report (report.go, page.go, template.go): Write renders the HTML
//     page, WritePNGs every figure as a PNG file for slides.
//
// # The page
//
// The page opens with a table of contents and findings across sweeps (runs
// done and failed, the best configuration overall, and each sweep's
// headline). Then, for each sweep, in this order:
//
//   - a header: name, description, the sweep file's text in a collapsible
//     block, when it ran (first start – last finish), runs by status and
//     the total training time; for a tpe sweep, trials made of planned and
//     how many were pruned; with a pruning rule, "pruning saved N of M
//     epochs (P%)" against training every run to the end; how many runs
//     were reused from other sweeps;
//   - for a tpe sweep, its search progress: the objective (seed-mean of
//     the final test metric) against the trial number, pruned trials as ×,
//     and the best so far over the trials trained to the end;
//   - findings generated from the data (see below);
//   - a table of configurations: the varying settings as columns, then mean
//     ± std over seeds of the final test digit accuracy, sum R² and sum
//     accuracy, and n; sorted by the chosen metric with the best row
//     highlighted; pruned configurations follow, their metrics (after the
//     epoch they stopped at) in parentheses and never sorted among final
//     ones (a small inline script sorts by any column; without
//     scripts the page reads the same);
//   - learning curves of test digit accuracy, sum R² and sum accuracy per
//     configuration (mean over seeds, min–max band), at most MaxCurves of
//     them (the best, then pruned ones ending with ×; the caption says so), with the sweep's Reference
//     drawn as a star and a dashed line at its epoch;
//   - train vs. test digit NLL and sum MSE for the best and the worst
//     configuration;
//   - the effect of each varying setting: the final metric of every run per
//     value (jittered points, mean bars), split by head form when the head
//     varies too;
//   - heat maps of the mean final metric for each pair of varying settings,
//     every cell annotated;
//   - digit accuracy against sum R² for every run, coloured by head form;
//   - failed and interrupted runs with their error text.
//
// A sweep with nothing to show (only pending runs, runs with no epochs, a
// single configuration where a figure needs two) gets a short note instead
// of an empty figure.
//
// # Honesty of the findings
//
// Findings are sentences computed from the numbers, never written by hand.
// They state n and the spread over seeds next to every mean. A difference
// between two configurations (or between the best configurations having two
// values of a setting) is called a win only when it is larger than twice the
// pooled standard deviation over seeds AND the min–max ranges over seeds do
// not overlap (Judge). Otherwise the text says the difference is within the
// spread over seeds and not a win; when a side has a single run it says that
// no spread can be estimated and the ranking is not evidence of a win. A
// Reference's published figures are stated next to ours after the same
// epoch, with whether the reference lies above, below or within the range
// over seeds. Partial sweeps are labelled preliminary, and failed runs and
// non-finite (diverged) results are counted, not hidden.
//
// # Output
//
// The page is one file with no external references: inline CSS, one small
// inline script, figures as inline SVG from vgsvg (which escapes all text it
// draws) or, for scatter-type figures with more than 1,500 points, PNG data
// URIs. A Content-Security-Policy forbids any fetch. All text from sweep
// files or the database goes through html/template and is escaped.
package reports
