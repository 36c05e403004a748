package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sweep"
)

// AddRuns reads the sweep's runs, asks plan for new ones and saves them,
// all in one BEGIN IMMEDIATE transaction: SQLite's write lock makes the
// plans of concurrent processes happen one after another, each seeing the
// runs the one before added.
func (db *DB) AddRuns(ctx context.Context, sweepName string, plan func([]sweep.RunResult) ([]sweep.RunSpec, error)) ([]sweep.RunSpec, error) {
	var added []sweep.RunSpec
	err := db.write(ctx, func(tx *sql.Tx) error {
		added = nil
		runs, err := queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE sweep = ? ORDER BY trial, `+runOrder, sweepName)
		if err != nil {
			return err
		}
		if added, err = plan(runs); err != nil {
			return err
		}
		return insertRuns(ctx, tx, sweepName, added, formatTime(db.now()))
	})
	if err != nil {
		return nil, fmt.Errorf("store: add runs to sweep %q in %s: %w", sweepName, db.path, err)
	}
	return added, nil
}

// PruneConfig marks the configuration's unfinished runs pruned.
func (db *DB) PruneConfig(ctx context.Context, sweepName, configKey, reason string) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE runs SET status = 'pruned', hold_epoch = NULL, error = ?, finished_at = ?, lease_expires = NULL
			WHERE sweep = ? AND config_key = ? AND status NOT IN ('done', 'pruned')`,
			nullString(reason), formatTime(db.now()), sweepName, configKey)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune configuration %s of sweep %q in %s: %w", configKey, sweepName, db.path, err)
	}
	return int(n), nil
}

// Reuse copies a done twin's epochs and checkpoint into the run and
// finishes it as done.
func (db *DB) Reuse(ctx context.Context, runID string, owner sweep.Owner) (string, error) {
	var from string
	err := db.write(ctx, func(tx *sql.Tx) error {
		from = ""
		var src string
		var srcFrom sql.NullString
		err := tx.QueryRowContext(ctx, `
			SELECT s.id, s.reused_from FROM runs r JOIN runs s
				ON s.config_key = r.config_key AND s.seed = r.seed AND s.sweep <> r.sweep
			WHERE r.id = ? AND r.owner = ? AND r.status = 'running' AND s.status = 'done'
			ORDER BY s.reused_from IS NOT NULL, s.rowid
			LIMIT 1`, runID, owner.ID).Scan(&src, &srcFrom)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		from = src
		if srcFrom.Valid {
			from = srcFrom.String
		}
		for _, q := range []string{
			`DELETE FROM epochs WHERE run_id = :run`,
			`INSERT INTO epochs (run_id, epoch, split, nll, accuracy, mse, r2, sum_accuracy, sum_nll,
				sum_pred_std, samples, seconds, samples_per_sec, recorded_at)
			SELECT :run, epoch, split, nll, accuracy, mse, r2, sum_accuracy, sum_nll,
				sum_pred_std, samples, seconds, samples_per_sec, recorded_at
			FROM epochs WHERE run_id = :src`,
			`DELETE FROM checkpoints WHERE run_id = :run`,
			`INSERT INTO checkpoints (run_id, epoch, data, recorded_at)
			SELECT :run, epoch, data, recorded_at FROM checkpoints WHERE run_id = :src`,
			`UPDATE runs SET status = 'done', error = NULL, finished_at = :now, lease_expires = NULL,
				reused_from = :from,
				epochs_done = (SELECT epochs_done FROM runs WHERE id = :src)
			WHERE id = :run`,
		} {
			if _, err := tx.ExecContext(ctx, q, sql.Named("run", runID), sql.Named("src", src),
				sql.Named("from", from), sql.Named("now", formatTime(db.now()))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: reuse a twin of run %s in %s: %w", runID, db.path, err)
	}
	return from, nil
}

// Hold parks a run at a rung until its configuration is judged.
func (db *DB) Hold(ctx context.Context, runID string, owner sweep.Owner, epoch int, reason string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE runs SET status = 'pending', hold_epoch = ?, error = ?, lease_expires = NULL
			WHERE id = ? AND owner = ? AND status = 'running'`,
			epoch, nullString(reason), runID, owner.ID)
		if err != nil {
			return err
		}
		return checkOwned(ctx, tx, res, runID)
	})
	if err != nil {
		return fmt.Errorf("store: hold run %s at epoch %d in %s: %w", runID, epoch, db.path, err)
	}
	return nil
}

// Unhold releases the configuration's held runs.
func (db *DB) Unhold(ctx context.Context, sweepName, configKey string) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE runs SET hold_epoch = NULL, error = NULL
			WHERE sweep = ? AND config_key = ? AND hold_epoch IS NOT NULL`, sweepName, configKey)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: release held runs of configuration %s of sweep %q in %s: %w", configKey, sweepName, db.path, err)
	}
	return int(n), nil
}
