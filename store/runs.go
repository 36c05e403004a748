package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sweep/store/schema"
	"time"

	"sweep"
)

// SaveSweep records the sweep (its file, text, hash, description and
// reference) and adds each of its runs the database does not have yet as
// pending. Runs it has keep their state and results; runs an earlier version
// of the sweep had and this one has not are kept too. One transaction.
func (db *DB) SaveSweep(ctx context.Context, sw sweep.Sweep) error {
	if err := db.saveSweep(ctx, sw); err != nil {
		return fmt.Errorf("store: save sweep %q in %s: %w", sw.Name, db.path, err)
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
		refLabel, refEpoch, refAcc, refR2 = ref.Label, ref.Epoch, nullFloat(ref.DigitAccuracy), nullFloat(ref.SumR2)
	}
	search, prune, err := schema.EncodeAdaptive(sw.Search, sw.Prune)
	if err != nil {
		return err
	}
	now := formatTime(db.now())
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO sweeps (name, description, file, source, hash,
				ref_label, ref_epoch, ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
			refLabel, refEpoch, refAcc, refR2, search, prune, now, now)
		if err != nil {
			return err
		}
		return insertRuns(ctx, tx, sw.Name, sw.Runs, now)
	})
}

// insertRuns adds the runs the database does not have yet as pending.
func insertRuns(ctx context.Context, tx *sql.Tx, sweepName string, runs []sweep.RunSpec, now string) error {
	nSettings := len(sweep.SettingDefs())
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO runs (id, sweep, config_key, trial, `+sweep.SettingColumns("", "seed")+`, created_at)
		VALUES (?, ?, ?, ?, `+strings.Repeat("?, ", nSettings)+`?)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range runs {
		args := append([]any{r.ID, sweepName, sweep.ConfigKey(r.Settings), r.Trial}, r.Settings.ColumnValues()...)
		if _, err := stmt.ExecContext(ctx, append(args, now)...); err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
	}
	return nil
}

// claimable is the condition under which a run may be claimed; :now is
// the claim time. Pending runs and those whose status is retried
// (sweep.Status.Retried) are, unless held at a rung (hold_epoch); so is a
// running run whose lease has run out: it belongs to a process that died
// or hangs.
var claimable = `((status IN (` + schema.ClaimableStatuses() + `) AND hold_epoch IS NULL)
	OR (status = 'running' AND (lease_expires IS NULL OR lease_expires < :now)))`

// Claim takes the first run, in the order the runs were saved, among ids
// that is pending, failed, interrupted, or running with an expired lease.
// It marks it running under owner until now+lease and returns it. An
// earlier attempt's checkpoint comes back in RunSpec.Checkpoint with the
// epochs up to it kept (training resumes after it); without one, every
// epoch of an earlier attempt is deleted (training restarts at epoch 1).
// ok is false when no run among ids is claimable. Done runs are never
// claimed. ids may be any number long.
func (db *DB) Claim(ctx context.Context, ids []string, owner sweep.Owner, lease time.Duration) (sweep.RunSpec, bool, error) {
	run, ok, err := db.claim(ctx, ids, owner, lease)
	if err != nil {
		return sweep.RunSpec{}, false, fmt.Errorf("store: claim run in %s: %w", db.path, err)
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
	// The ids travel as one JSON array parameter, so there is no limit
	// on how many there are.
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return run, false, err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		ok = false
		now := db.now()
		nowText := formatTime(now)
		var id string
		err := tx.QueryRowContext(ctx, `
			SELECT id FROM runs
			WHERE id IN (SELECT value FROM json_each(:ids)) AND `+claimable+`
			ORDER BY rowid
			LIMIT 1`,
			sql.Named("ids", string(idsJSON)), sql.Named("now", nowText)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE runs SET
				status = 'running',
				owner = :owner, host = :host, version = :version,
				attempts = attempts + 1,
				epochs_done = 0,
				lease_seconds = :lease,
				lease_expires = :expires,
				started_at = :now,
				finished_at = NULL,
				error = NULL
			WHERE id = :id AND `+claimable,
			sql.Named("owner", owner.ID), sql.Named("host", owner.Host), sql.Named("version", owner.Version),
			sql.Named("lease", lease.Seconds()), sql.Named("expires", formatTime(now.Add(lease))),
			sql.Named("now", nowText), sql.Named("id", id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			// Cannot happen while we hold the write lock.
			return fmt.Errorf("run %s: changed while claiming it", id)
		}
		run, err = scanRunSpec(tx.QueryRowContext(ctx, `
			SELECT id, sweep, `+sweep.SettingColumns("", "seed")+` FROM runs WHERE id = ?`, id))
		if err != nil {
			return err
		}
		// Resume from the last checkpoint, keeping the epochs up to it.
		resume := 0
		err = tx.QueryRowContext(ctx, `SELECT epoch, data FROM checkpoints WHERE run_id = ?`, id).Scan(&resume, &run.Checkpoint)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM epochs WHERE run_id = ? AND epoch > ?`, id, resume); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET epochs_done = ? WHERE id = ?`, resume, id); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return sweep.RunSpec{}, false, err
	}
	return run, ok, nil
}

func scanRunSpec(row *sql.Row) (sweep.RunSpec, error) {
	var r sweep.RunSpec
	dest, store := sweep.ScanSettings()
	err := row.Scan(append([]any{&r.ID, &r.Sweep}, dest...)...)
	store(&r.Settings)
	return r, err
}

// Heartbeat extends the lease of a run owner holds to now+lease, even if it
// had run out, as long as no one else has claimed the run since. Otherwise
// it returns sweep.ErrLeaseLost.
func (db *DB) Heartbeat(ctx context.Context, runID string, owner sweep.Owner, lease time.Duration) error {
	err := func() error {
		if lease <= 0 {
			return fmt.Errorf("lease %v: must be positive", lease)
		}
		return db.write(ctx, func(tx *sql.Tx) error {
			now := db.now()
			res, err := tx.ExecContext(ctx, `
				UPDATE runs SET lease_seconds = ?, lease_expires = ?
				WHERE id = ? AND owner = ? AND status = 'running'`,
				lease.Seconds(), formatTime(now.Add(lease)), runID, owner.ID)
			if err != nil {
				return err
			}
			return checkOwned(ctx, tx, res, runID)
		})
	}()
	if err != nil {
		return fmt.Errorf("store: heartbeat run %s in %s: %w", runID, db.path, err)
	}
	return nil
}

// checkOwned turns an UPDATE that matched no row into ErrNotFound when the
// run does not exist and into ErrLeaseLost when someone else has it.
func checkOwned(ctx context.Context, tx *sql.Tx, res sql.Result, runID string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	return notOwned(ctx, tx, runID)
}

// notOwned says why a run is not held: ErrNotFound, sweep.ErrPruned (its
// configuration was pruned while it trained) or sweep.ErrLeaseLost.
func notOwned(ctx context.Context, tx *sql.Tx, runID string) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, runID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
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
// epochs_done and renews its lease by the length last given, all in one
// transaction and only while owner holds the run; otherwise it writes
// nothing and returns sweep.ErrLeaseLost. Recording an epoch again replaces
// its rows. NaN metrics are stored as NULL.
func (db *DB) RecordEpoch(ctx context.Context, runID string, owner sweep.Owner, m sweep.EpochMetrics) error {
	err := func() error {
		if m.Epoch < 1 {
			return fmt.Errorf("epoch %d: must be >= 1", m.Epoch)
		}
		return db.write(ctx, func(tx *sql.Tx) error {
			now := db.now()
			var leaseSeconds float64
			err := tx.QueryRowContext(ctx, `
				SELECT lease_seconds FROM runs WHERE id = ? AND owner = ? AND status = 'running'`,
				runID, owner.ID).Scan(&leaseSeconds)
			if errors.Is(err, sql.ErrNoRows) {
				return notOwned(ctx, tx, runID)
			}
			if err != nil {
				return err
			}
			expires := now.Add(time.Duration(leaseSeconds * float64(time.Second)))
			if _, err := tx.ExecContext(ctx, `
				UPDATE runs SET epochs_done = max(epochs_done, ?), lease_expires = ?
				WHERE id = ?`,
				m.Epoch, formatTime(expires), runID); err != nil {
				return err
			}
			stmt, err := tx.PrepareContext(ctx, `
				INSERT OR REPLACE INTO epochs (run_id, epoch, split, nll, accuracy, mse, r2,
					sum_accuracy, sum_nll, sum_pred_std, samples, seconds, samples_per_sec, recorded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, row := range []struct {
				split   string
				m       sweep.SplitMetrics
				seconds float64
				rate    any
			}{
				{"train", m.Train, m.TrainSeconds, nullFloat(m.SamplesPerSec)},
				{"test", m.Test, m.EvalSeconds, nil},
			} {
				if _, err := stmt.ExecContext(ctx, runID, m.Epoch, row.split,
					nullFloat(row.m.DigitNLL), nullFloat(row.m.DigitAccuracy),
					nullFloat(row.m.SumMSE), nullFloat(row.m.SumR2),
					nullFloat(row.m.SumAccuracy), nullFloat(row.m.SumNLL), nullFloat(row.m.SumPredStd),
					row.m.Samples, nullFloat(row.seconds), row.rate, formatTime(now)); err != nil {
					return fmt.Errorf("%s row: %w", row.split, err)
				}
			}
			if m.Checkpoint != nil {
				if _, err := tx.ExecContext(ctx, `
					INSERT INTO checkpoints (run_id, epoch, data, recorded_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (run_id) DO UPDATE SET epoch = excluded.epoch, data = excluded.data,
						recorded_at = excluded.recorded_at`,
					runID, m.Epoch, m.Checkpoint, formatTime(now)); err != nil {
					return fmt.Errorf("checkpoint: %w", err)
				}
			}
			return nil
		})
	}()
	if err != nil {
		return fmt.Errorf("store: record epoch %d of run %s in %s: %w", m.Epoch, runID, db.path, err)
	}
	return nil
}

// Finish ends a run owner holds with status done, failed or interrupted
// and errText (stored as NULL when empty). If another owner has taken the
// run over it changes nothing and returns sweep.ErrLeaseLost.
func (db *DB) Finish(ctx context.Context, runID string, owner sweep.Owner, status sweep.Status, errText string) error {
	err := func() error {
		if !status.Ended() {
			return fmt.Errorf("status %q: want done, failed or interrupted", status)
		}
		return db.write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `
				UPDATE runs SET status = ?, error = ?, finished_at = ?, lease_expires = NULL
				WHERE id = ? AND owner = ? AND status = 'running'`,
				string(status), nullString(errText), formatTime(db.now()), runID, owner.ID)
			if err != nil {
				return err
			}
			if err := checkOwned(ctx, tx, res, runID); err != nil {
				return err
			}
			if status == sweep.StatusFailed && strings.HasPrefix(errText, "diverged") {
				// Its checkpoint would diverge again: restart from scratch.
				_, err = tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE run_id = ?`, runID)
			}
			return err
		})
	}()
	if err != nil {
		return fmt.Errorf("store: finish run %s as %s in %s: %w", runID, status, db.path, err)
	}
	return nil
}

// Release ends the lease of a run still running under ownerID (one known
// to be dead), so that the next Claim may take it over.
func (db *DB) Release(ctx context.Context, runID, ownerID string) (bool, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE runs SET lease_expires = NULL
			WHERE id = ? AND status = 'running' AND owner = ?`, runID, ownerID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: release run %s in %s: %w", runID, db.path, err)
	}
	return n == 1, nil
}

// DropCheckpoints deletes the checkpoints of the runs of sweepName (every
// sweep if "") in the given statuses, never of running runs, and then
// compacts the file (VACUUM, and a WAL checkpoint) so that it shrinks.
func (db *DB) DropCheckpoints(ctx context.Context, sweepName string, statuses []sweep.Status) (int, int64, error) {
	var n, bytes int64
	names := schema.NotRunning(statuses)
	statusJSON, err := json.Marshal(names)
	if err != nil {
		return 0, 0, err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		const which = `SELECT id FROM runs
			WHERE (:sweep = '' OR sweep = :sweep) AND status IN (SELECT value FROM json_each(:statuses))`
		args := []any{sql.Named("sweep", sweepName), sql.Named("statuses", string(statusJSON))}
		if err := tx.QueryRowContext(ctx, `
			SELECT count(*), coalesce(sum(length(data)), 0) FROM checkpoints
			WHERE run_id IN (`+which+`)`, args...).Scan(&n, &bytes); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE run_id IN (`+which+`)`, args...)
		return err
	})
	if err == nil && n > 0 {
		// VACUUM writes the compacted file through the WAL; the
		// checkpoint puts it in place, so the file shrinks now.
		if _, err = db.rw.ExecContext(ctx, `VACUUM`); err == nil {
			_, err = db.rw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: drop checkpoints in %s: %w", db.path, err)
	}
	return int(n), bytes, nil
}
