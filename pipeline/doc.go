// Package pipeline reads sweep files: TOML files that each describe one
// sweep, a set of MNIST training runs. It checks them, reporting every
// problem at once, and expands them into runs ([sweep.Sweep]).
//
// This comment is the manual of the file format; `sweep plan` and
// `sweep run --help` point here (go doc sweep/pipeline).
//
// # A sweep file
//
//	# What question the sweep answers.
//	name = "heads"
//	description = "regression vs 19-class sum head, with and without a hidden layer"
//	repeats = 2                  # seeds per configuration
//
//	[train]                      # one value for every run
//	optimizer = "adam"
//	lr = 0.001
//	epochs = 3
//	train_size = 10000
//	seed = 1                     # base seed
//
//	[grid]                       # lists: every combination runs
//	head = ["regression", "classify"]
//	sum_hidden = [0, 64]
//
//	[random]                     # optional random search
//	trials = 4
//	sum_weight = { log_uniform = [0.1, 10.0] }
//
//	[reference]                  # optional published figures
//	label = "PyTorch notebook"
//	epoch = 5
//	digit_accuracy = 0.92
//	sum_r2 = 0.065
//
// This file has 2 × 2 grid points × 4 trials × 2 repeats = 32 runs.
//
// # Top-level keys
//
// They come before the first table.
//
//	key          type     default   meaning
//	name         string   required  the sweep's name: unique among the files
//	                                 given together, 1–100 printable
//	                                 characters, no leading or trailing
//	                                 spaces; any other text is allowed
//	                                 (reports escape it). Runs are identified
//	                                 by it: renaming a sweep makes new runs.
//	description  string   ""        free text shown in reports
//	repeats      integer  1         runs per configuration (>= 1), with seeds
//	                                 seed, seed+1, …, seed+repeats-1
//
// # Settings
//
// Each run's training settings ([sweep.Settings]). Each setting may be given
// in at most one of the tables [train], [grid] and [random] (of [train] and
// [tpe] in a tpe sweep); a setting given nowhere takes its default.
//
//	key             type     default      range
//	head            string   "classify"   "regression" (one output, MSE) or
//	                                       "classify" (19 classes 0–18, NLL)
//	sum_hidden      integer  64           >= 0; hidden units of the sum head,
//	                                       0 = a single linear layer (the notebook)
//	sum_input       string   "log_probs"  what the sum head reads of the digit
//	                                       head: "log_probs" (the notebook) or
//	                                       "probs"
//	sum_loss        string   "mse"        regression only: "mse" or
//	                                       "broadcast_mse", the mean over all
//	                                       pairs of a batch (a notebook bug)
//	conv1_channels  integer  10           1 to 512; the trunk's first conv
//	conv2_channels  integer  20           1 to 512; the trunk's second conv
//	fc_hidden       integer  50           1 to 4096; the trunk's hidden layer
//	dropout         real     0            [0, 1); on the trunk's hidden layer
//	                                       while training (inverted), 0 = off
//	digit_weight    real     1            >= 0; weight of the digit loss
//	sum_weight      real     1            >= 0; weight of the sum loss; the two
//	                                       weights may not both be 0 in a run
//	optimizer       string   "adam"       "adam" or "sgd"
//	lr              real     0.001        > 0; learning rate
//	momentum        real     0            [0, 1); sgd only, see below
//	weight_decay    real     0            >= 0; L2 for sgd, decoupled
//	                                       (AdamW) for adam; 0 = off
//	batch_size      integer  64           1 to train_size
//	epochs          integer  3            >= 1
//	train_size      integer  60000        1 to 60000; the first N training images
//	                                       (fewer = quicker sweeps)
//	pairing         string   "aligned"    regression only: "aligned" or
//	                                       "shuffled", each training image with
//	                                       another's addend and sum (a notebook
//	                                       bug); test stays aligned
//	seed            integer  1            base seed; only in [train]
//
// The table is the order of grid loops and random draws. sum_input,
// sum_loss, the widths, dropout, weight_decay and pairing came after the
// first release: at their
// defaults they reproduce its model bit for bit and leave every run id as
// it was. `sweep train --help` prints the same list with each setting's
// meaning, from the registry in the root package ([sweep.SettingDefs]).
//
// Real-valued settings accept integers (lr = 1 is 1.0); integer settings
// reject reals (epochs = 3.0 is an error). Strings are case sensitive.
// Every run is scored on the same 10,000 test images.
//
// # [train]: one value for all runs
//
// Each key is a single value. Lists belong in [grid]. seed goes here and
// only here.
//
// # [grid]: every combination
//
// Each key is a non-empty list of distinct values, and the sweep runs every
// combination of them. The combinations are enumerated as nested loops in
// the fixed order of the settings table above (head outermost, train_size
// innermost), whatever the order of the keys in the file; each list's values
// are taken in the order written. A one-value list is allowed.
//
// # [random]: random search
//
//	[random]
//	trials = 8                                  # required, >= 1
//	lr = { log_uniform = [1e-4, 1e-1] }         # a <= b, both > 0
//	sum_weight = { uniform = [0.1, 10.0] }      # a <= b
//	batch_size = { int_uniform = [32, 256] }    # integers, a <= b, inclusive
//	head = { choice = ["regression", "classify"] }
//
// Each trial draws one value of every key listed. uniform and log_uniform
// are for the real-valued settings (lr, dropout, weight_decay, …),
// int_uniform for the integer ones (sum_hidden, fc_hidden, batch_size, …:
// the type column above), choice for any setting (a non-empty list of distinct
// values, each equally likely). Both bounds must be valid values of the
// setting (so momentum's upper bound is below 1). Drawn real numbers are
// rounded to 4 significant digits so that tables stay readable, and kept
// within the bounds.
//
// Draws are reproducible: they come from a PCG generator (math/rand/v2)
// seeded with the base seed and a hash of the sweep's name, drawing trial
// after trial and, within a trial, the keys in the order of the settings
// table. The same file gives the same runs on every machine; a different
// seed or name gives different draws; raising trials keeps the earlier
// trials and adds new ones.
//
// With both [grid] and [random], every trial is combined with every grid
// point: the runs are grid points × trials × repeats, and one trial's
// draws are the same at every grid point, so grid points are compared on
// equal terms.
//
// # [tpe]: adaptive search
//
//	name = "hunt"
//	repeats = 2                                 # seeds per configuration
//
//	[train]
//	epochs = 9
//	train_size = 20000
//	momentum = 0.9                              # for the sgd configurations
//
//	[tpe]
//	trials = 24                                 # required, >= 1
//	startup_trials = 8                          # >= 0; default 10
//	objective = "test_r2"                       # required
//	lr = { log_uniform = [1e-4, 1e-1] }
//	sum_weight = { log_uniform = [0.03, 30] }
//	optimizer = { choice = ["adam", "sgd"] }
//
//	[prune]
//	method = "asha"
//	min_epochs = 1
//
// This sweep makes 24 configurations × 2 repeats = 48 runs, one
// configuration at a time.
//
// A [tpe] sweep does not list its runs in advance: a tree-structured Parzen
// estimator (package search; Bergstra et al. 2011, Optuna's default
// sampler) suggests each configuration from the results recorded so far,
// until there are trials of them. Its keys:
//
//	key             type     default   meaning
//	trials          integer  required  configurations in all, >= 1
//	startup_trials  integer  10        random configurations (>= 0) before
//	                                    the model takes over
//	objective       string   required  what the search optimises: the final
//	                                    test metric "test_accuracy",
//	                                    "test_r2", "test_sum_accuracy"
//	                                    (higher is better), "test_nll" or
//	                                    "test_mse" (lower is better)
//	direction       string   implied   "maximize" or "minimize", overriding
//	                                    the objective's own direction
//
// and any setting with a distribution, written as in [random]: uniform,
// log_uniform, int_uniform or choice. Settings not searched are given in
// [train] or take their defaults; seed goes only in [train]. A [tpe]
// sweep may not also have [grid] or [random].
//
// A configuration's value is the mean over its repeats of the objective
// after the last recorded epoch (a pruned run's last epoch counts). While
// any of its runs has not finished (pending, running, failed or
// interrupted), the search counts it with the worst value seen so far, a
// "constant liar", so that workers suggesting while others train spread
// out instead of all trying the same promising point. Suggestions are made
// under the database's lock from what it holds, so several processes and
// machines share one search and the sweep ends with exactly trials
// configurations, none twice. They are reproducible: the generator is PCG
// seeded with the base seed and a hash of the sweep's name and the number
// of configurations made so far; the same seed and the same results give
// the same suggestions. Suggested real values are rounded and kept in
// bounds as [random] draws are, momentum is set to 0 for adam, and a
// suggestion that repeats a configuration the sweep has is drawn again.
//
// The checks that apply to a grid apply to the fixed settings and to the
// space's extremes (every choice and both bounds of each range, in every
// combination): a bound that cannot train with [train]'s values (both
// loss weights 0, batch_size above train_size, sum_loss = "broadcast_mse"
// with a choice of head that includes "classify"), and momentum when no
// configuration can use sgd, are errors. So is a space of only choices
// and integer ranges with fewer distinct configurations than trials, and
// trials × repeats above MaxRuns.
//
// # [prune]: early stopping
//
//	key               type     default      meaning
//	method            string   required     "asha" or "median"
//	metric            string   objective    the test metric compared, as
//	                                         [tpe]'s objective; required
//	                                         without [tpe]
//	direction         string   implied      "maximize" or "minimize"
//	min_epochs        integer  1            the first rung, >= 1
//	reduction_factor  integer  3            η, >= 2; asha only
//
// [prune] stops configurations that are clearly behind, in grid, random
// and tpe sweeps alike. Decisions are taken at rungs, epochs before the
// last: for asha (asynchronous successive halving) at min_epochs × ηᵏ
// (1, 3, 9, … by default), for median at every epoch from min_epochs on.
// min_epochs must come before the last epoch of some run, or nothing
// could ever be pruned: that is an error.
//
// The unit of a decision is a configuration with all its repeats. A run
// that reaches a rung before its configuration's other seeds waits there
// (status pending, held: its checkpoint kept, no process claims it) and
// the last to arrive decides for all; waiting and resuming change no
// result (training resumes bit-identically). A diverged seed counts as
// arrived with the worst value. The configuration's value at the rung is
// the mean m of its n seeds' metric, and its standard error is SE = s/√n,
// s the sample standard deviation (divisor n−1) of those values (0 with
// one seed). It is compared with the other configurations all of whose
// runs have reached that epoch, each by its seed-mean (runs that stopped
// earlier, pruned or failed, leave their configuration out). A
// configuration is behind the cut when m is worse than the cut by more
// than SE: one unlucky seed widens SE and keeps it, where a rule on single
// runs would stop it.
//
// asha (asynchronous successive halving): of the n configurations that
// have reached the rung so far, itself included, the best k = ⌊n/η⌋ go
// on; the cut is the k-th best seed-mean. A configuration behind the cut,
// or arriving while k is 0 (fewer than η have arrived), is paused, not
// stopped: its runs stay held at the rung, and each later arrival at the
// rung promotes the paused configurations that are then among the best k
// (they resume). When nothing else is left to train, the paused
// configurations among the best max(1, ⌊n/η⌋) of their rung are promoted,
// and the rest are pruned. So the first configurations to arrive are not
// let through for want of anything to compare them with.
//
// median: the cut is the median of the others' seed-means (with at least
// two others; fewer decide nothing); a configuration behind it is pruned
// at once.
//
// A stopped configuration's runs end with status pruned: finished like
// done, never retried, their epochs kept, with the reason recorded. A
// pruned sweep's configurations are claimed in an order shuffled with the
// sweep's seed (run ids do not depend on it), so that the first to reach a
// rung are not one corner of the grid.
//
// # Seeds and run order
//
// Runs are listed grid point by grid point (in the loop order above); for
// each grid point, trial by trial; for each configuration, repeat by repeat
// with seeds seed, seed+1, …, the seed each run trains with. A run's ID is [sweep.RunID] of the sweep name and all its settings, so
// re-running a file finds the runs it already has, and editing a file
// keeps the results of the runs it still asks for.
//
// # Momentum and adam
//
// momentum only affects sgd. In runs with optimizer "adam" it is set to 0,
// so that it does not change their identity, and runs that then become
// identical (a grid over momentum × optimizer, say) are run once: only the
// first is kept. Giving a non-zero momentum when no run uses sgd is an
// error, as it is surely a mistake.
//
// # [reference]: published figures
//
//	key             type     range
//	label           string   not empty, e.g. "PyTorch notebook"
//	epoch           integer  >= 1; the epoch the figures are from
//	digit_accuracy  real     [0, 1]
//	sum_r2          real     <= 1
//
// Optional; when present all four keys are required. Reports draw the
// figures as reference lines.
//
// # Checks
//
// Parse and Load check a file completely before anything runs and return
// every problem together as [Errors], one line each:
//
//	FILE:LINE: KEY: message
//
// with KEY the full dotted key (grid.lr, random.lr.log_uniform) and LINE
// the line of that key (of the [table] header for a table; where the value
// starts for a list written over several lines), left out only where there
// is none (a missing key, an unreadable file). They report TOML syntax
// errors (at the line of the offending character), unknown keys (with the
// closest known key: did you mean "lr"?), keys in the wrong table, wrong
// types, empty or repeated list values, values out of range, combinations
// that cannot train (both loss weights 0, batch_size above train_size,
// momentum without sgd), a setting given in two tables, a missing name,
// names used by two files, unreadable files, and files that would expand
// to more than MaxRuns (10,000) runs; for [tpe] and [prune], the checks
// their sections list. Every expanded run, and every extreme of a [tpe]
// space, is finally checked by [sweep.Settings.Validate].
package pipeline
