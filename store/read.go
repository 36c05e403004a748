package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sweep"
	"sweep/store/schema"
)

// Sweeps returns every recorded sweep by name, with run counts for every
// status (zeros included).
func (db *DB) Sweeps(ctx context.Context) ([]sweep.SweepInfo, error) {
	var out []sweep.SweepInfo
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = sweepInfos(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list sweeps in %s: %w", db.path, err)
	}
	return out, nil
}

// Sweep returns one sweep; the error wraps ErrNotFound if there is none by
// that name.
func (db *DB) Sweep(ctx context.Context, name string) (sweep.SweepInfo, error) {
	var out []sweep.SweepInfo
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = sweepInfos(ctx, tx, name)
		return err
	})
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return sweep.SweepInfo{}, fmt.Errorf("store: sweep %q in %s: %w", name, db.path, err)
	}
	return out[0], nil
}

// sweepInfos reads the sweep named name, or all sweeps if name is "".
func sweepInfos(ctx context.Context, tx *sql.Tx, name string) ([]sweep.SweepInfo, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT s.name, s.description, s.file, s.source, s.hash, s.updated_at, s.search, s.prune,
			(SELECT min(r.started_at) FROM runs r WHERE r.sweep = s.name),
			(SELECT max(r.finished_at) FROM runs r WHERE r.sweep = s.name),
			(SELECT total(e.seconds) FROM epochs e JOIN runs r ON r.id = e.run_id
				WHERE r.sweep = s.name AND e.split = 'train')
		FROM sweeps s
		WHERE :name = '' OR s.name = :name
		ORDER BY s.name`, sql.Named("name", name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sweep.SweepInfo
	index := map[string]int{}
	for rows.Next() {
		var si sweep.SweepInfo
		var updated, search, prune, first, last sql.NullString
		if err := rows.Scan(&si.Name, &si.Description, &si.File, &si.Source, &si.Hash,
			&updated, &search, &prune, &first, &last, &si.Seconds); err != nil {
			return nil, err
		}
		if si.Search, si.Prune, err = schema.DecodeAdaptive(search.String, prune.String); err != nil {
			return nil, fmt.Errorf("sweep %q: %w", si.Name, err)
		}
		if si.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		if si.FirstStart, err = parseTime(first); err != nil {
			return nil, err
		}
		if si.LastFinish, err = parseTime(last); err != nil {
			return nil, err
		}
		si.Counts = sweep.ZeroCounts()
		index[si.Name] = len(out)
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

	rows, err = tx.QueryContext(ctx, `
		SELECT sweep, status, count(*) FROM runs
		WHERE :name = '' OR sweep = :name
		GROUP BY sweep, status`, sql.Named("name", name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sw, status string
		var n int
		if err := rows.Scan(&sw, &status, &n); err != nil {
			return nil, err
		}
		if i, ok := index[sw]; ok {
			out[i].Counts[sweep.Status(status)] = n
		}
	}
	return out, rows.Err()
}

// SweepReference returns the published figures the sweep compares with,
// or nil if it has none; the error wraps ErrNotFound if there is no sweep
// by that name.
func (db *DB) SweepReference(ctx context.Context, name string) (*sweep.Reference, error) {
	var ref *sweep.Reference
	err := db.read(ctx, func(tx *sql.Tx) error {
		var label sql.NullString
		var epoch sql.NullInt64
		var acc, r2 sql.NullFloat64
		err := tx.QueryRowContext(ctx, `
			SELECT ref_label, ref_epoch, ref_digit_accuracy, ref_sum_r2
			FROM sweeps WHERE name = ?`, name).Scan(&label, &epoch, &acc, &r2)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if label.Valid {
			ref = &sweep.Reference{
				Label:         label.String,
				Epoch:         int(epoch.Int64),
				DigitAccuracy: floatOrNaN(acc),
				SumR2:         floatOrNaN(r2),
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reference of sweep %q in %s: %w", name, db.path, err)
	}
	return ref, nil
}

// RunFilter selects runs: sweep.RunFilter.
type RunFilter = sweep.RunFilter

// where returns a condition on run_results (or a view with its columns
// sweep, status and run_id) and its named arguments.
func where(f RunFilter) (string, []any, error) {
	var conds []string
	var args []any
	if f.Sweep != "" {
		conds = append(conds, "sweep = :sweep")
		args = append(args, sql.Named("sweep", f.Sweep))
	}
	if f.Status != "" {
		conds = append(conds, "status = :status")
		args = append(args, sql.Named("status", string(f.Status)))
	}
	if len(f.IDs) > 0 {
		ids, err := json.Marshal(f.IDs)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "run_id IN (SELECT value FROM json_each(:ids))")
		args = append(args, sql.Named("ids", string(ids)))
	}
	if len(conds) == 0 {
		return "1", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// runOrder orders run_results by sweep, then the settings in registry
// order, then the seed.
var runOrder = `sweep, ` + sweep.SettingColumns("", "seed") + `, run_id`

var runColumns = `sweep, run_id, status, ` + sweep.SettingColumns("", "seed") + `, epochs_done,
	test_epoch, test_nll, test_accuracy, test_mse, test_r2, test_sum_accuracy,
	test_sum_nll, test_sum_pred_std, test_samples, train_seconds, error, trial, reused_from,
	coalesce(hold_epoch, 0), host, version, started_at, finished_at`

// Runs returns the runs f selects, from the run_results view, ordered by
// sweep, then settings, then seed. Final metrics that are NULL are NaN,
// except that Final is all zero when the run has no recorded epoch.
func (db *DB) Runs(ctx context.Context, f RunFilter) ([]sweep.RunResult, error) {
	var out []sweep.RunResult
	err := db.read(ctx, func(tx *sql.Tx) error {
		where, args, err := where(f)
		if err != nil {
			return err
		}
		out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE `+where+` ORDER BY `+runOrder, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list runs in %s: %w", db.path, err)
	}
	return out, nil
}

// Run returns the run whose id is idOrPrefix or, failing that, the only
// run whose id starts with it, as git accepts commit prefixes. The error
// wraps ErrNotFound when none matches and ErrAmbiguous when several do.
func (db *DB) Run(ctx context.Context, idOrPrefix string) (sweep.RunResult, error) {
	var out []sweep.RunResult
	err := db.read(ctx, func(tx *sql.Tx) error {
		if idOrPrefix == "" {
			return ErrNotFound
		}
		var err error
		out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE run_id = ?`, idOrPrefix)
		if err != nil || len(out) == 1 {
			return err
		}
		// Prefix: ids are hex, but escape LIKE's wildcards all the same.
		escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(idOrPrefix)
		var ids []string
		rows, err := tx.QueryContext(ctx, `
			SELECT id FROM runs WHERE id LIKE ? ESCAPE '\' ORDER BY id LIMIT 6`, escaped+"%")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		switch len(ids) {
		case 0:
			return ErrNotFound
		case 1:
			out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE run_id = ?`, ids[0])
			if err == nil && len(out) != 1 {
				err = ErrNotFound
			}
			return err
		default:
			list := strings.Join(ids[:min(len(ids), 5)], ", ")
			if len(ids) > 5 {
				list += ", …"
			}
			return fmt.Errorf("%w: matches %s", ErrAmbiguous, list)
		}
	})
	if err != nil {
		return sweep.RunResult{}, fmt.Errorf("store: run %q in %s: %w", idOrPrefix, db.path, err)
	}
	return out[0], nil
}

func queryRuns(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]sweep.RunResult, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sweep.RunResult
	for rows.Next() {
		var r sweep.RunResult
		var status string
		var testEpoch sql.NullInt64
		var nll, acc, mse, r2, sacc, snll, spstd sql.NullFloat64
		var samples sql.NullInt64
		var errText, reused, host, version, started, finished sql.NullString
		settings, storeSettings := sweep.ScanSettings()
		dest := append([]any{&r.Sweep, &r.RunID, &status}, settings...)
		if err := rows.Scan(append(dest, &r.EpochsDone, &testEpoch, &nll, &acc, &mse, &r2, &sacc, &snll, &spstd,
			&samples, &r.TrainSeconds, &errText, &r.Trial, &reused, &r.HoldEpoch, &host, &version, &started, &finished)...); err != nil {
			return nil, err
		}
		r.Status = sweep.Status(status)
		storeSettings(&r.Settings)
		if testEpoch.Valid {
			r.Final = sweep.SplitMetrics{
				DigitNLL:      floatOrNaN(nll),
				DigitAccuracy: floatOrNaN(acc),
				SumMSE:        floatOrNaN(mse),
				SumR2:         floatOrNaN(r2),
				SumAccuracy:   floatOrNaN(sacc),
				SumNLL:        floatOrNaN(snll),
				SumPredStd:    floatOrNaN(spstd),
				Samples:       int(samples.Int64),
			}
		}
		r.Error, r.ReusedFrom, r.Host, r.Version = errText.String, reused.String, host.String, version.String
		if r.Started, err = parseTime(started); err != nil {
			return nil, err
		}
		if r.Finished, err = parseTime(finished); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Epochs returns the per-epoch metrics of the runs f selects, from the
// epoch_results view, ordered by run (in the order of Runs), epoch, and
// split with train before test. NULL metrics are NaN.
func (db *DB) Epochs(ctx context.Context, f RunFilter) ([]sweep.EpochResult, error) {
	var out []sweep.EpochResult
	err := db.read(ctx, func(tx *sql.Tx) error {
		where, args, err := where(f)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT e.sweep, e.run_id, e.epoch, e.split, e.nll, e.accuracy, e.mse, e.r2,
				e.sum_accuracy, e.sum_nll, e.sum_pred_std, e.samples, e.seconds
			FROM epoch_results e
			JOIN run_results r ON r.run_id = e.run_id
			WHERE e.run_id IN (SELECT run_id FROM run_results WHERE `+where+`)
			ORDER BY r.sweep, `+sweep.SettingColumns("r.", "seed")+`, r.run_id,
				e.epoch, e.split = 'test'`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e sweep.EpochResult
			var nll, acc, mse, r2, sacc, snll, spstd, secs sql.NullFloat64
			var samples sql.NullInt64
			if err := rows.Scan(&e.Sweep, &e.RunID, &e.Epoch, &e.Split, &nll, &acc, &mse, &r2,
				&sacc, &snll, &spstd, &samples, &secs); err != nil {
				return err
			}
			e.Metrics = sweep.SplitMetrics{
				DigitNLL:      floatOrNaN(nll),
				DigitAccuracy: floatOrNaN(acc),
				SumMSE:        floatOrNaN(mse),
				SumR2:         floatOrNaN(r2),
				SumAccuracy:   floatOrNaN(sacc),
				SumNLL:        floatOrNaN(snll),
				SumPredStd:    floatOrNaN(spstd),
				Samples:       int(samples.Int64),
			}
			e.Seconds = floatOrNaN(secs)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list epochs in %s: %w", db.path, err)
	}
	return out, nil
}

// Counts returns how many of the runs ids are in each status, with every
// status present (zeros included). Ids the database does not have are not
// counted.
func (db *DB) Counts(ctx context.Context, ids []string) (map[sweep.Status]int, error) {
	counts := sweep.ZeroCounts()
	if len(ids) == 0 {
		return counts, nil
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("store: count runs in %s: %w", db.path, err)
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		counts = sweep.ZeroCounts()
		rows, err := tx.QueryContext(ctx, `
			SELECT status, count(*) FROM runs
			WHERE id IN (SELECT value FROM json_each(?))
			GROUP BY status`, string(idsJSON))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var status string
			var n int
			if err := rows.Scan(&status, &n); err != nil {
				return err
			}
			counts[sweep.Status(status)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: count runs in %s: %w", db.path, err)
	}
	return counts, nil
}

// Checkpoint returns the run's latest checkpoint and its epoch; the error
// wraps ErrNotFound when it has none.
func (db *DB) Checkpoint(ctx context.Context, runID string) (epoch int, data []byte, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT epoch, data FROM checkpoints WHERE run_id = ?`, runID).Scan(&epoch, &data)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: checkpoint of run %s in %s: %w", runID, db.path, err)
	}
	return epoch, data, nil
}

// Holders lists the runs among ids that are running, with their owners and
// lease ends, in id order.
func (db *DB) Holders(ctx context.Context, ids []string) ([]sweep.Holder, error) {
	var out []sweep.Holder
	if len(ids) == 0 {
		return nil, nil
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("store: list holders in %s: %w", db.path, err)
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `
			SELECT id, sweep, coalesce(owner, ''), coalesce(host, ''), lease_expires FROM runs
			WHERE status = 'running' AND id IN (SELECT value FROM json_each(?))
			ORDER BY id`, string(idsJSON))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h sweep.Holder
			var expires sql.NullString
			if err := rows.Scan(&h.RunID, &h.Sweep, &h.Owner, &h.Host, &expires); err != nil {
				return err
			}
			if h.Expires, err = parseTime(expires); err != nil {
				return err
			}
			out = append(out, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list holders in %s: %w", db.path, err)
	}
	return out, nil
}
