package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"sweep"
)

// AddRuns reads the sweep's runs, asks plan for new ones and saves them in
// one transaction that first takes a transaction-level advisory lock keyed
// by the sweep's name: the plans of concurrent processes (on any machine)
// happen one after another, each seeing the runs the one before added.
func (db *DB) AddRuns(ctx context.Context, sweepName string, plan func([]sweep.RunResult) ([]sweep.RunSpec, error)) ([]sweep.RunSpec, error) {
	var added []sweep.RunSpec
	err := db.write(ctx, func(tx pgx.Tx) error {
		added = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('sweep/add-runs:' || $1, 0))`, sweepName); err != nil {
			return err
		}
		runs, err := queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE sweep = $1 ORDER BY trial, `+runOrder(""), sweepName)
		if err != nil {
			return err
		}
		if added, err = plan(runs); err != nil {
			return err
		}
		return insertRuns(ctx, tx, sweepName, added, formatTime(db.now()))
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: add runs to sweep %q in %s: %w", sweepName, db.loc, err)
	}
	return added, nil
}

// PruneConfig marks the configuration's unfinished runs pruned.
func (db *DB) PruneConfig(ctx context.Context, sweepName, configKey, reason string) (int, error) {
	var n int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE runs SET status = 'pruned', hold_epoch = NULL, error = $1, finished_at = $2, lease_expires = NULL
			WHERE sweep = $3 AND config_key = $4 AND status NOT IN ('done', 'pruned')`,
			nullString(reason), formatTime(db.now()), sweepName, configKey)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune configuration %s of sweep %q in %s: %w", configKey, sweepName, db.loc, err)
	}
	return int(n), nil
}

// Reuse copies a done twin's epochs and checkpoint into the run and
// finishes it as done.
func (db *DB) Reuse(ctx context.Context, runID string, owner sweep.Owner) (string, error) {
	var from string
	err := db.write(ctx, func(tx pgx.Tx) error {
		from = ""
		var src string
		var srcFrom *string
		err := tx.QueryRow(ctx, `
			SELECT s.id, s.reused_from FROM runs r JOIN runs s
				ON s.config_key = r.config_key AND s.seed = r.seed AND s.sweep <> r.sweep
			WHERE r.id = $1 AND r.owner = $2 AND r.status = 'running' AND s.status = 'done'
			ORDER BY s.reused_from IS NOT NULL, s.seq
			LIMIT 1`, runID, owner.ID).Scan(&src, &srcFrom)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		from = src
		if srcFrom != nil {
			from = *srcFrom
		}
		copied := strings.TrimPrefix(epochColumns, "run_id, ")
		for _, q := range []string{
			`DELETE FROM epochs WHERE run_id = $1 AND $2 <> ''`,
			`INSERT INTO epochs (` + epochColumns + `) SELECT $1, ` + copied + ` FROM epochs WHERE run_id = $2`,
			`DELETE FROM checkpoints WHERE run_id = $1 AND $2 <> ''`,
			`INSERT INTO checkpoints (run_id, epoch, data, recorded_at)
			SELECT $1, epoch, data, recorded_at FROM checkpoints WHERE run_id = $2`,
		} {
			// Every statement takes the run ($1) and its source ($2).
			if _, err := tx.Exec(ctx, q, runID, src); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE runs SET status = 'done', error = NULL, finished_at = $3, lease_expires = NULL,
				reused_from = $4,
				epochs_done = (SELECT epochs_done FROM runs WHERE id = $2)
			WHERE id = $1`, runID, src, formatTime(db.now()), from)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: reuse a twin of run %s in %s: %w", runID, db.loc, err)
	}
	return from, nil
}

// Hold parks a run at a rung until its configuration is judged.
func (db *DB) Hold(ctx context.Context, runID string, owner sweep.Owner, epoch int, reason string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE runs SET status = 'pending', hold_epoch = $1, error = $2, lease_expires = NULL
			WHERE id = $3 AND owner = $4 AND status = 'running'`,
			int64(epoch), nullString(reason), runID, owner.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return notOwned(ctx, tx, runID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: hold run %s at epoch %d in %s: %w", runID, epoch, db.loc, err)
	}
	return nil
}

// Unhold releases the configuration's held runs.
func (db *DB) Unhold(ctx context.Context, sweepName, configKey string) (int, error) {
	var n int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE runs SET hold_epoch = NULL, error = NULL
			WHERE sweep = $1 AND config_key = $2 AND hold_epoch IS NOT NULL`, sweepName, configKey)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: release held runs of configuration %s of sweep %q in %s: %w", configKey, sweepName, db.loc, err)
	}
	return int(n), nil
}
