// Package store keeps sweeps, runs and their per-epoch metrics in one SQLite
// file (github.com/mattn/go-sqlite3). *DB implements sweep.Store for the
// processes that train, and has read methods for the CLI and the reports.
// People also query the file directly with the sqlite3 CLI or pandas; the
// views run_results, epoch_results and config_results are for them.
//
// # Schema
//
// The schema lives only in the embedded files migrations/NNN_name.sql and
// migrations/views.sql (a text/template that expands the settings
// columns). Open applies, in order, the numbered files whose
// number is above the file's PRAGMA user_version, sets user_version to the
// last one applied and, if it applied any, re-creates the views from
// views.sql, all in one transaction. Change a table by adding a file with
// the next number, never by editing one that has shipped; change a view
// in views.sql, together with a numbered file (which may hold only a
// comment) so that existing databases get the new view.
//
// The settings columns come from the settings registry
// (sweep.SettingColumns, Settings.ColumnValues, sweep.ScanSettings): one
// column per setting, named by its key, in registry order, in runs,
// run_results and config_results; no code here lists them (inserts, scans
// and orderings call those, and views.sql is a template that expands
// them). A new setting needs a numbered migration that adds its column
// with the default that reproduces the older runs;
// TestEverySettingHasColumns fails until it is there.
//
// Tables:
//
//   - sweeps: one row per sweep name: description, file, source (the file's
//     text), hash, created_at (first save), updated_at (last save) and the
//     sweep's sweep.Reference as the columns ref_label, ref_epoch,
//     ref_digit_accuracy and ref_sum_r2 (all NULL when the sweep has none;
//     read it back with SweepReference).
//   - runs: one row per run, keyed by id (sweep.RunID). Every setting is a
//     column beside config_key (sweep.ConfigKey). Settings are stored
//     resolved (sweep.Settings.Resolved): train_size 0 ("all") is stored,
//     and read back, as 60000, conv1_channels 0 as 10, and so on, with the
//     same run id and config key. Then the run's state: status, attempts, epochs_done,
//     owner, host, version, lease_seconds, lease_expires, created_at,
//     started_at, finished_at, error. The rowid is the order runs were first
//     saved in, which is file order.
//   - epochs: one row per run, epoch and split ('train' or 'test') of the
//     run's current attempt: nll, accuracy, mse, r2, sum_accuracy, sum_nll,
//     sum_pred_std, samples, seconds (train: the training pass, test: the
//     evaluation), samples_per_sec (train rows), recorded_at.
//   - checkpoints: one row per run with one: the epoch it was taken after,
//     data (the model's checkpoint, safetensors), recorded_at.
//
// Views:
//
//   - run_results: one row per run with its settings, state and the test
//     metrics of its last recorded epoch (test_accuracy, test_nll, test_mse,
//     test_r2, test_sum_accuracy, test_sum_nll; NULL when none), and
//     train_seconds summed over its train rows.
//   - epoch_results: epochs with the sweep name.
//   - config_results: one row per sweep and configuration (all settings but
//     the seed) over its done runs: runs, and the mean and standard deviation
//     of the final test digit accuracy (acc_), sum R² (r2_) and sum accuracy
//     (sum_acc_). first_seed is the seed of its first run.
//
// Values: times are UTC text 'YYYY-MM-DDTHH:MM:SS.sssZ', the form of
// SQLite's strftime('%Y-%m-%dT%H:%M:%fZ'); being fixed width, comparing the
// text compares the times. NaN metrics (sum_nll of the regression head) are
// stored as NULL, and the read methods turn NULL metrics back into NaN.
//
// The standard deviations in config_results are sample standard deviations
// (divisor n-1) computed in two passes (mean first, then squared deviations
// from it). With fewer than two values they are NULL (NaN in Go), as in
// pandas. SQLite as built by the Go driver has no sqrt() (it lacks
// SQLITE_ENABLE_MATH_FUNCTIONS unless built with a tag), while Debian's CLI
// has it; so that the view is the same everywhere, it takes the square root
// with Newton's method in a recursive CTE, which needs no functions at all.
//
// # Run states and leases
//
// A run is pending when saved. Claim makes it running under an owner
// (sweep.Owner) with a lease: lease_expires = now + lease. The owner renews
// the lease with Heartbeat (and each RecordEpoch renews it by the length
// last given) and ends the run with Finish as done, failed or interrupted.
// A run whose lease has run out is taken to belong to a process that died:
// any process may claim it again, like a pending, failed or interrupted
// one. Done runs are never claimed. Heartbeat, RecordEpoch and Finish only
// act while the caller is still the owner of the running run; otherwise
// they change nothing and return sweep.ErrLeaseLost, so a process that
// stalled past its lease learns that someone else has the run.
//
// RecordEpoch writes EpochMetrics.Checkpoint, when there is one, into
// checkpoints in the epoch's transaction, replacing the run's earlier one.
// Claim resumes a run from its checkpoint: in the transaction that takes
// the run it returns the checkpoint (RunSpec.Checkpoint), deletes the
// epochs after it and sets epochs_done to its epoch; without a checkpoint
// it deletes every epoch of the earlier attempt. Finish keeps a done run's
// checkpoint (its trained weights) and drops a run's that failed with an
// error beginning "diverged" (it would diverge again), so that it restarts
// from scratch. attempts counts the claims.
//
// # Concurrency
//
// Many goroutines and several processes use one file at once. The file is
// in WAL mode, so readers never wait for the writer and the writer never
// waits for readers. Every method runs in exactly one transaction. Writes
// use BEGIN IMMEDIATE (_txlock=immediate), taking the write lock before
// reading, so a transaction never has to upgrade a read lock to a write
// lock, the case in which SQLite reports SQLITE_BUSY at once instead of
// waiting. Each process writes through one connection, so its goroutines
// queue in database/sql; between processes SQLite's busy handler waits (up
// to 30 s), and should SQLITE_BUSY or SQLITE_LOCKED still come back the
// whole transaction is retried with jittered backoff. Reads use deferred
// transactions on a separate query-only pool: a consistent snapshot without
// taking the write lock.
//
// Claim picks and updates the run inside one immediate transaction, and
// its UPDATE repeats the claimable condition, so two claimers can never get
// the same run. The ids to choose from are passed as one JSON array
// (json_each), so their number is not limited by SQLite's limit on bound
// variables.
//
// Dump and Import (sweep.Importer, for `sweep copy`) read every sweep,
// run and epoch as stored in one read transaction and insert them in one
// write transaction: a run the file lacks is inserted, a run done in the
// dump replaces one that is not done here, and anything else is left
// alone, so a repeated import changes nothing. The PostgreSQL backend
// (package sweep/postgres) has the same tables, views and rules; both pass
// the conformance suite in store/storetest.
//
// Migrations run in one immediate transaction that reads user_version
// after taking the write lock, so processes opening a new file at the same
// moment apply them exactly once.
package store
