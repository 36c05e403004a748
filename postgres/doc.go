// Package postgres keeps sweeps, runs and their metrics in a PostgreSQL
// database: the sweep.Store and sweep.Importer of a cluster, where many
// machines train runs of one sweep. It is the twin of package store (one
// SQLite file): the same tables, views, columns, meanings and run states,
// checked by the same conformance suite (store/storetest). cmd/sweep picks
// it when --db (or $SWEEP_DB) is a postgres:// or postgresql:// URL.
//
// # Connecting
//
// Open takes a libpq-style URL, for example
//
//	postgres://sweep:PASSWORD@db.example:5432/sweep?sslmode=require
//
// and any parameter pgx accepts (host=/path/to/socket-dir for a unix
// socket, sslmode, connect_timeout). The database must exist; Open creates
// the schema in it. Each process keeps a pool of at most MaxConns (4)
// connections: every method is one short transaction, so a few
// connections serve all of a process's goroutines, and a cluster of 25
// processes stays within the server's default max_connections (100).
// Every statement runs under the caller's context.
//
// OpenReadOnly opens a database for readers (the reading commands and
// 'sweep serve'): sessions with default_transaction_read_only on, no
// migration, and an error wrapping ErrNoSchema when the database has no
// sweep tables. Its ChangeCounter tells 'sweep serve' when to re-read.
//
// Passwords are never shown: Location, and every error this package
// returns, name the database by its URL with the password (in the user
// part or a password parameter) replaced by xxxxx.
//
// # Schema
//
// The schema lives in the embedded files migrations/NNN_name.sql and
// migrations/views.sql, in PostgreSQL's dialect. Open takes
// pg_advisory_xact_lock in a transaction, reads the schema_version table
// (one row per applied migration), applies the numbered files above it in
// order and, if it applied any, re-creates the views, all in that one
// transaction: processes opening a fresh database at once apply the
// migrations exactly once, the others wait for the lock and find them
// done. Change a table by adding the next numbered file, never by editing
// one that has shipped; a change to views.sql needs a numbered file too
// (it may hold only a comment) so that existing databases get it.
//
// The tables are those of the SQLite backend (see package store): sweeps,
// runs (with seq, a bigint identity, where SQLite has its rowid: the order
// runs were first saved in, which is claim order) and epochs. The settings
// columns come from the settings registry (sweep.SettingDefs): one column
// per setting, named by its key. Inserts, scans and orderings use the
// root package's sweep.SettingColumns, Settings.ColumnValues and
// sweep.ScanSettings, and views.sql is a text/template whose
// {{settings "r."}} and {{config "f."}} expand to the settings' columns, so
// nothing here lists the settings but the numbered migrations that create
// their columns; TestEverySettingHasColumns fails until a new setting has
// one. Settings are stored resolved (train_size 0 is stored as 60000).
//
// The views, run_results, epoch_results and config_results, have the
// SQLite backend's names, columns and meanings, so that the README's
// example queries return the same rows on both (a test checks it), and
// the same columns in the same order (the settings in registry order in
// both). config_results takes the standard deviations with
// stddev_samp (divisor n-1; NULL with fewer than two values); they agree
// with SQLite's Newton iteration to about 1e-15.
//
// Values: times are UTC text 'YYYY-MM-DDTHH:MM:SS.sssZ' in the "C"
// collation, as in SQLite: fixed width, so comparing the text compares the
// times (lease expiry is such a comparison), and the views show exactly
// the same text on both backends. Numbers are double precision and
// bigint. NaN metrics are stored as NULL and read back as NaN. For the
// README's queries to run unchanged in psql, the schema adds three of
// SQLite's functions: round(double precision, integer), printf(text,
// double precision) (one %.Nf or %d conversion) and iif(boolean, a, b).
//
// # Run states, leases and claims
//
// The rules are those of package store: Claim makes a pending, failed,
// interrupted or lease-expired running run running under an owner with a
// lease, bumps attempts and resumes it from its checkpoint (the epochs
// after it deleted) or, without one, deletes the epochs of an earlier
// attempt; RecordEpoch writes an epoch's checkpoint in its transaction;
// Heartbeat and RecordEpoch renew the lease; Heartbeat, RecordEpoch and
// Finish act only while the caller still owns the run and otherwise
// return sweep.ErrLeaseLost. Done runs are never claimed.
//
// Claim is one short read-committed transaction. It first reads, without
// locks, the first 64 claimable runs of the database in seq order (a
// partial index covers the runs that are not done) and keeps those among
// ids; then it takes the first of them no other claimer has locked:
//
//	WITH pick AS (
//		SELECT r.id FROM runs r
//		WHERE r.id IN (SELECT unnest($1::text[])) AND <claimable at $2>
//		ORDER BY r.seq LIMIT 1
//		FOR UPDATE OF r SKIP LOCKED
//	)
//	UPDATE runs SET status = 'running', owner = …, lease_expires = …
//	FROM pick WHERE runs.id = pick.id
//	RETURNING …
//
// followed by DELETE FROM epochs WHERE run_id = the run. Only when the 64
// held none that could be taken, and there were 64 (so there may be more),
// does the same statement run with all of ids. SKIP LOCKED lets concurrent
// claimers pass over a run another claimer is taking instead of queueing
// behind it, and the row lock makes two claims of one run impossible. The
// ids are joined as a set: matched with = ANY($1) under a generic plan,
// every run was tested against every id, and with 10,000 ids a claim took
// tens of seconds.
//
// Every transaction locks rows in one order: a run's row before its
// epochs' (Claim, RecordEpoch, Import lock the run first), sweeps before
// runs (SaveSweep), and runs in the sweep's order or by id (SaveSweep,
// Import). Should the server still report a serialization failure (40001)
// or a deadlock (40P01), the whole transaction is retried with jittered,
// doubling backoff, up to 20 times. Reads run in read-only repeatable-read
// transactions: one consistent snapshot that neither waits for nor blocks
// writers.
package postgres
