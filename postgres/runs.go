package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sweep/store/schema"
	"time"

	"github.com/jackc/pgx/v5"

	"sweep"
)

// SaveSweep records the sweep and adds each of its runs the database does
// not have yet as pending, in the sweep's order. Runs it has keep their
// state and results. One transaction.
func (db *DB) SaveSweep(ctx context.Context, sw sweep.Sweep) error {
	if err := db.saveSweep(ctx, sw); err != nil {
		return fmt.Errorf("postgres: save sweep %q in %s: %w", sw.Name, db.loc, err)
	}
	return nil
}

func (db *DB) saveSweep(ctx context.Context, sw sweep.Sweep) error {
	if sw.Name == "" {
		return errors.New("sweep has no name")
	}
	for i, r := range sw.Runs {
		if r.ID == "" {
			return fmt.Errorf("run %d has no id", i)
		}
		if r.Sweep != "" && r.Sweep != sw.Name {
			return fmt.Errorf("run %s belongs to sweep %q", r.ID, r.Sweep)
		}
	}
	var refLabel, refEpoch, refAcc, refR2 any
	if ref := sw.Reference; ref != nil {
		refLabel, refEpoch, refAcc, refR2 = ref.Label, int64(ref.Epoch), nullFloat(ref.DigitAccuracy), nullFloat(ref.SumR2)
	}
	search, prune, err := schema.EncodeAdaptive(sw.Search, sw.Prune)
	if err != nil {
		return err
	}
	now := formatTime(db.now())
	return db.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO sweeps (name, description, file, source, hash,
				ref_label, ref_epoch, ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
			ON CONFLICT (name) DO UPDATE SET
				description = excluded.description,
				file = excluded.file,
				source = excluded.source,
				hash = excluded.hash,
				ref_label = excluded.ref_label,
				ref_epoch = excluded.ref_epoch,
				ref_digit_accuracy = excluded.ref_digit_accuracy,
				ref_sum_r2 = excluded.ref_sum_r2,
				search = excluded.search,
				prune = excluded.prune,
				updated_at = excluded.updated_at`,
			sw.Name, sw.Description, sw.File, sw.Source, sw.Hash,
			refLabel, refEpoch, refAcc, refR2, search, prune, now)
		if err != nil {
			return err
		}
		return insertRuns(ctx, tx, sw.Name, sw.Runs, now)
	})
}

// insertRuns adds the runs the database does not have yet as pending. They
// go in one batch (one round trip), in the given order, which every
// process saving the same sweep shares: concurrent saves wait for each
// other's rows in the same order, never in a cycle.
func insertRuns(ctx context.Context, tx pgx.Tx, sweepName string, runs []sweep.RunSpec, now string) error {
	insertRun := `
		INSERT INTO runs (id, sweep, config_key, trial, ` + sweep.SettingColumns("", "seed") + `, created_at)
		VALUES ($1, $2, $3, $4, ` + placeholders(5, len(sweep.SettingDefs())+1) + `)
		ON CONFLICT (id) DO NOTHING`
	b := &pgx.Batch{}
	for _, r := range runs {
		args := append([]any{r.ID, sweepName, sweep.ConfigKey(r.Settings), int64(r.Trial)}, r.Settings.ColumnValues()...)
		b.Queue(insertRun, append(args, now)...)
	}
	return sendBatch(ctx, tx, b, func(i int) string { return "run " + runs[i].ID })
}

// sendBatch sends b and checks each statement's result; what names the
// i-th statement in errors.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, what func(i int) string) error {
	if b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	for i := range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", what(i), err)
		}
	}
	return br.Close()
}

// claimableAt is the condition under which a run may be claimed; now is
// the parameter holding the claim time. Pending runs and those whose
// status is retried are, unless held at a rung (hold_epoch); so is a
// running run whose lease has run out. "status NOT IN ('done', 'pruned')"
// lets the planner use the partial index runs_claim.
func claimableAt(now string) string {
	return `status NOT IN ('done', 'pruned') AND ((status IN (` + schema.ClaimableStatuses() + `) AND hold_epoch IS NULL)
	OR (status = 'running' AND (lease_expires IS NULL OR lease_expires < ` + now + `)))`
}

// Claim takes the first run, in the order the runs were saved, among ids
// that is claimable and not locked by another claimer: SELECT … FOR UPDATE
// SKIP LOCKED, so concurrent claimers take different runs without waiting
// for each other. In the same short transaction it marks the run running
// under owner until now+lease and resumes it from its checkpoint (the
// epochs after it deleted) or deletes the epochs of any earlier attempt
// (rows are locked in one order: the run, then its epochs).
func (db *DB) Claim(ctx context.Context, ids []string, owner sweep.Owner, lease time.Duration) (sweep.RunSpec, bool, error) {
	run, ok, err := db.claim(ctx, ids, owner, lease)
	if err != nil {
		return sweep.RunSpec{}, false, fmt.Errorf("postgres: claim run in %s: %w", db.loc, err)
	}
	return run, ok, nil
}

func (db *DB) claim(ctx context.Context, ids []string, owner sweep.Owner, lease time.Duration) (run sweep.RunSpec, ok bool, err error) {
	if owner.ID == "" {
		return run, false, errors.New("owner has no id")
	}
	if lease <= 0 {
		return run, false, fmt.Errorf("lease %v: must be positive", lease)
	}
	if len(ids) == 0 {
		return run, false, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	err = db.write(ctx, func(tx pgx.Tx) error {
		ok = false
		now := db.now()
		nowText := formatTime(now)
		// Fast path: the first claimWindow claimable runs of the whole
		// database, read without locks through the partial index; those
		// among ids are the candidates. Only when that finds none that
		// can be taken do all of ids go to the server: matching thousands
		// of ids costs the server milliseconds per claim.
		rows, err := tx.Query(ctx, `SELECT id FROM runs WHERE `+claimableAt("$1")+` ORDER BY seq LIMIT `+strconv.Itoa(claimWindow), nowText)
		if err != nil {
			return err
		}
		window, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		var cands []string
		for _, id := range window {
			if want[id] {
				cands = append(cands, id)
			}
		}
		if len(cands) > 0 {
			if run, ok, err = db.take(ctx, tx, cands, owner, lease, now); err != nil || ok {
				return err
			}
		}
		if len(window) < claimWindow {
			// The window held every claimable run of the database, and
			// other claimers have taken those among ids since.
			return nil
		}
		run, ok, err = db.take(ctx, tx, ids, owner, lease, now)
		return err
	})
	if err != nil {
		return sweep.RunSpec{}, false, err
	}
	return run, ok, nil
}

// claimWindow is how many claimable runs Claim's fast path reads.
const claimWindow = 64

// take claims the first claimable run among ids that no other claimer
// has locked. The ids are joined as a set (IN (SELECT unnest(…))), not
// matched with = ANY($1): with thousands of ids and a generic plan, ANY
// tested every id against every run and one claim took tens of seconds.
func (db *DB) take(ctx context.Context, tx pgx.Tx, ids []string, owner sweep.Owner, lease time.Duration, now time.Time) (sweep.RunSpec, bool, error) {
	dest, storeSettings := sweep.ScanSettings()
	var r sweep.RunSpec
	err := tx.QueryRow(ctx, `
		WITH pick AS (
			SELECT r.id FROM runs r
			WHERE r.id IN (SELECT unnest($1::text[])) AND `+claimableAt("$2")+`
			ORDER BY r.seq
			LIMIT 1
			FOR UPDATE OF r SKIP LOCKED
		)
		UPDATE runs SET
			status = 'running',
			owner = $3, host = $4, version = $5,
			attempts = attempts + 1,
			epochs_done = 0,
			lease_seconds = $6,
			lease_expires = $7,
			started_at = $2,
			finished_at = NULL,
			error = NULL
		FROM pick
		WHERE runs.id = pick.id
		RETURNING runs.id, runs.sweep, `+sweep.SettingColumns("runs.", "seed"),
		ids, formatTime(now), owner.ID, owner.Host, owner.Version,
		lease.Seconds(), formatTime(now.Add(lease))).Scan(append([]any{&r.ID, &r.Sweep}, dest...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sweep.RunSpec{}, false, nil
	}
	if err != nil {
		return sweep.RunSpec{}, false, err
	}
	storeSettings(&r.Settings)
	// Resume from the last checkpoint, keeping the epochs up to it.
	var resume int64
	err = tx.QueryRow(ctx, `SELECT epoch, data FROM checkpoints WHERE run_id = $1`, r.ID).Scan(&resume, &r.Checkpoint)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return sweep.RunSpec{}, false, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM epochs WHERE run_id = $1 AND epoch > $2`, r.ID, resume); err != nil {
		return sweep.RunSpec{}, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE runs SET epochs_done = $1 WHERE id = $2`, resume, r.ID); err != nil {
		return sweep.RunSpec{}, false, err
	}
	return r, true, nil
}

// Heartbeat extends the lease of a run owner holds to now+lease, even if it
// had run out, as long as no one else has claimed the run since. Otherwise
// it returns sweep.ErrLeaseLost.
func (db *DB) Heartbeat(ctx context.Context, runID string, owner sweep.Owner, lease time.Duration) error {
	err := func() error {
		if lease <= 0 {
			return fmt.Errorf("lease %v: must be positive", lease)
		}
		return db.write(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `
				UPDATE runs SET lease_seconds = $1, lease_expires = $2
				WHERE id = $3 AND owner = $4 AND status = 'running'`,
				lease.Seconds(), formatTime(db.now().Add(lease)), runID, owner.ID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return nil
			}
			return notOwned(ctx, tx, runID)
		})
	}()
	if err != nil {
		return fmt.Errorf("postgres: heartbeat run %s in %s: %w", runID, db.loc, err)
	}
	return nil
}

// notOwned says why a run is not held: ErrNotFound, sweep.ErrPruned (its
// configuration was pruned while it trained) or sweep.ErrLeaseLost.
func notOwned(ctx context.Context, tx pgx.Tx, runID string) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, runID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return sweep.ErrNotFound
	}
	if err != nil {
		return err
	}
	if sweep.Status(status) == sweep.StatusPruned {
		return sweep.ErrPruned
	}
	return sweep.ErrLeaseLost
}

// RecordEpoch writes one epoch's train and test rows, raises the run's
// epochs_done and renews its lease by the length last given, in one
// transaction and only while owner holds the run (its row is locked
// first, then the epochs'); otherwise it writes nothing and returns
// sweep.ErrLeaseLost. Recording an epoch again replaces its rows.
func (db *DB) RecordEpoch(ctx context.Context, runID string, owner sweep.Owner, m sweep.EpochMetrics) error {
	err := func() error {
		if m.Epoch < 1 {
			return fmt.Errorf("epoch %d: must be >= 1", m.Epoch)
		}
		return db.write(ctx, func(tx pgx.Tx) error {
			now := db.now()
			var leaseSeconds *float64
			err := tx.QueryRow(ctx, `
				SELECT lease_seconds FROM runs WHERE id = $1 AND owner = $2 AND status = 'running'
				FOR UPDATE`, runID, owner.ID).Scan(&leaseSeconds)
			if errors.Is(err, pgx.ErrNoRows) {
				return notOwned(ctx, tx, runID)
			}
			if err != nil {
				return err
			}
			var ls float64
			if leaseSeconds != nil {
				ls = *leaseSeconds
			}
			expires := now.Add(time.Duration(ls * float64(time.Second)))
			b := &pgx.Batch{}
			b.Queue(`UPDATE runs SET epochs_done = greatest(epochs_done, $1), lease_expires = $2 WHERE id = $3`,
				int64(m.Epoch), formatTime(expires), runID)
			for _, row := range []struct {
				split   string
				m       sweep.SplitMetrics
				seconds float64
				rate    any
			}{
				{"train", m.Train, m.TrainSeconds, nullFloat(m.SamplesPerSec)},
				{"test", m.Test, m.EvalSeconds, nil},
			} {
				b.Queue(upsertEpoch, runID, int64(m.Epoch), row.split,
					nullFloat(row.m.DigitNLL), nullFloat(row.m.DigitAccuracy),
					nullFloat(row.m.SumMSE), nullFloat(row.m.SumR2),
					nullFloat(row.m.SumAccuracy), nullFloat(row.m.SumNLL), nullFloat(row.m.SumPredStd),
					int64(row.m.Samples), nullFloat(row.seconds), row.rate, formatTime(now))
			}
			if m.Checkpoint != nil {
				b.Queue(`INSERT INTO checkpoints (run_id, epoch, data, recorded_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (run_id) DO UPDATE SET epoch = excluded.epoch, data = excluded.data,
						recorded_at = excluded.recorded_at`,
					runID, int64(m.Epoch), m.Checkpoint, formatTime(now))
			}
			return sendBatch(ctx, tx, b, func(i int) string {
				return []string{"update run", "train row", "test row", "checkpoint"}[i]
			})
		})
	}()
	if err != nil {
		return fmt.Errorf("postgres: record epoch %d of run %s in %s: %w", m.Epoch, runID, db.loc, err)
	}
	return nil
}

const epochColumns = `run_id, epoch, split, nll, accuracy, mse, r2,
	sum_accuracy, sum_nll, sum_pred_std, samples, seconds, samples_per_sec, recorded_at`

var upsertEpoch = `
	INSERT INTO epochs (` + epochColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (run_id, epoch, split) DO UPDATE SET
		nll = excluded.nll, accuracy = excluded.accuracy, mse = excluded.mse, r2 = excluded.r2,
		sum_accuracy = excluded.sum_accuracy, sum_nll = excluded.sum_nll,
		sum_pred_std = excluded.sum_pred_std, samples = excluded.samples,
		seconds = excluded.seconds, samples_per_sec = excluded.samples_per_sec,
		recorded_at = excluded.recorded_at`

// Finish ends a run owner holds with status done, failed or interrupted
// and errText (NULL when empty). If another owner has taken the run over
// it changes nothing and returns sweep.ErrLeaseLost.
func (db *DB) Finish(ctx context.Context, runID string, owner sweep.Owner, status sweep.Status, errText string) error {
	err := func() error {
		if !status.Ended() {
			return fmt.Errorf("status %q: want done, failed or interrupted", status)
		}
		return db.write(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `
				UPDATE runs SET status = $1, error = $2, finished_at = $3, lease_expires = NULL
				WHERE id = $4 AND owner = $5 AND status = 'running'`,
				string(status), nullString(errText), formatTime(db.now()), runID, owner.ID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return notOwned(ctx, tx, runID)
			}
			if status == sweep.StatusFailed && strings.HasPrefix(errText, "diverged") {
				// Its checkpoint would diverge again: restart from scratch.
				_, err = tx.Exec(ctx, `DELETE FROM checkpoints WHERE run_id = $1`, runID)
			}
			return err
		})
	}()
	if err != nil {
		return fmt.Errorf("postgres: finish run %s as %s in %s: %w", runID, status, db.loc, err)
	}
	return nil
}

// Release ends the lease of a run still running under ownerID (one known
// to be dead), so that the next Claim may take it over.
func (db *DB) Release(ctx context.Context, runID, ownerID string) (bool, error) {
	var n int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE runs SET lease_expires = NULL
			WHERE id = $1 AND status = 'running' AND owner = $2`, runID, ownerID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: release run %s in %s: %w", runID, db.loc, err)
	}
	return n == 1, nil
}

// DropCheckpoints deletes the checkpoints of the runs of sweepName (every
// sweep if "") in the given statuses, never of running runs. The space
// returns to PostgreSQL's free space map (autovacuum), not to the disk.
func (db *DB) DropCheckpoints(ctx context.Context, sweepName string, statuses []sweep.Status) (int, int64, error) {
	var n, bytes int64
	names := schema.NotRunning(statuses)
	err := db.write(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			WITH gone AS (
				DELETE FROM checkpoints c USING runs r
				WHERE c.run_id = r.id AND ($1 = '' OR r.sweep = $1) AND r.status = ANY($2)
				RETURNING octet_length(c.data) AS size
			)
			SELECT count(*), coalesce(sum(size), 0) FROM gone`, sweepName, names).Scan(&n, &bytes)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: drop checkpoints in %s: %w", db.loc, err)
	}
	return int(n), bytes, nil
}
