package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"sweep"
	"sweep/store/schema"
)

// Sweeps returns every recorded sweep by name, with run counts for every
// status (zeros included).
func (db *DB) Sweeps(ctx context.Context) ([]sweep.SweepInfo, error) {
	var out []sweep.SweepInfo
	err := db.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = sweepInfos(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list sweeps in %s: %w", db.loc, err)
	}
	return out, nil
}

func sweepInfos(ctx context.Context, tx pgx.Tx) ([]sweep.SweepInfo, error) {
	rows, err := tx.Query(ctx, `
		SELECT s.name, s.description, s.file, s.source, s.hash, s.updated_at, s.search, s.prune,
			(SELECT min(r.started_at) FROM runs r WHERE r.sweep = s.name),
			(SELECT max(r.finished_at) FROM runs r WHERE r.sweep = s.name),
			(SELECT coalesce(sum(e.seconds), 0.0) FROM epochs e JOIN runs r ON r.id = e.run_id
				WHERE r.sweep = s.name AND e.split = 'train')
		FROM sweeps s
		ORDER BY s.name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sweep.SweepInfo
	index := map[string]int{}
	for rows.Next() {
		var si sweep.SweepInfo
		var updated, search, prune, first, last *string
		if err := rows.Scan(&si.Name, &si.Description, &si.File, &si.Source, &si.Hash,
			&updated, &search, &prune, &first, &last, &si.Seconds); err != nil {
			return nil, err
		}
		if si.Search, si.Prune, err = schema.DecodeAdaptive(str(search), str(prune)); err != nil {
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
	rows, err = tx.Query(ctx, `SELECT sweep, status, count(*) FROM runs GROUP BY sweep, status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sw, status string
		var n int64
		if err := rows.Scan(&sw, &status, &n); err != nil {
			return nil, err
		}
		if i, ok := index[sw]; ok {
			out[i].Counts[sweep.Status(status)] = int(n)
		}
	}
	return out, rows.Err()
}

// SweepReference returns the published figures the sweep compares with,
// or nil if it has none; the error wraps ErrNotFound if there is no sweep
// by that name.
func (db *DB) SweepReference(ctx context.Context, name string) (*sweep.Reference, error) {
	var ref *sweep.Reference
	err := db.read(ctx, func(tx pgx.Tx) error {
		var label *string
		var epoch *int64
		var acc, r2 *float64
		err := tx.QueryRow(ctx, `
			SELECT ref_label, ref_epoch, ref_digit_accuracy, ref_sum_r2
			FROM sweeps WHERE name = $1`, name).Scan(&label, &epoch, &acc, &r2)
		if errors.Is(err, pgx.ErrNoRows) {
			return sweep.ErrNotFound
		}
		if err != nil {
			return err
		}
		ref = nil
		if label != nil {
			ref = &sweep.Reference{Label: *label, DigitAccuracy: floatOrNaN(acc), SumR2: floatOrNaN(r2)}
			if epoch != nil {
				ref.Epoch = int(*epoch)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reference of sweep %q in %s: %w", name, db.loc, err)
	}
	return ref, nil
}

// where returns a condition on run_results (or a view with its columns
// sweep, status and run_id) with parameters numbered from $1.
func where(f sweep.RunFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Sweep != "" {
		args = append(args, f.Sweep)
		conds = append(conds, fmt.Sprintf("sweep = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	if len(f.IDs) > 0 {
		args = append(args, f.IDs)
		conds = append(conds, fmt.Sprintf("run_id = ANY($%d)", len(args)))
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// runOrder orders run_results by sweep, then the settings in registry
// order, then the seed, then the id; text in the "C" collation, so the
// order is SQLite's (byte order).
func runOrder(prefix string) string {
	var cols []string
	cols = append(cols, prefix+`sweep COLLATE "C"`)
	for _, d := range sweep.SettingDefs() {
		c := prefix + d.Key
		if d.Kind == sweep.KindEnum {
			c += ` COLLATE "C"`
		}
		cols = append(cols, c)
	}
	return strings.Join(append(cols, prefix+`run_id COLLATE "C"`), ", ")
}

var runColumns = `sweep, run_id, status, ` + sweep.SettingColumns("", "seed") + `, epochs_done,
	test_epoch, test_nll, test_accuracy, test_mse, test_r2, test_sum_accuracy,
	test_sum_nll, test_sum_pred_std, test_samples, train_seconds, error, trial, reused_from,
	coalesce(hold_epoch, 0), host, version, started_at, finished_at`

// Runs returns the runs f selects, from the run_results view, ordered by
// sweep, then settings, then seed.
func (db *DB) Runs(ctx context.Context, f sweep.RunFilter) ([]sweep.RunResult, error) {
	var out []sweep.RunResult
	err := db.read(ctx, func(tx pgx.Tx) error {
		w, args := where(f)
		var err error
		out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE `+w+` ORDER BY `+runOrder(""), args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list runs in %s: %w", db.loc, err)
	}
	return out, nil
}

// Run returns the run whose id is idOrPrefix or, failing that, the only
// run whose id starts with it. The error wraps ErrNotFound when none
// matches and ErrAmbiguous when several do.
func (db *DB) Run(ctx context.Context, idOrPrefix string) (sweep.RunResult, error) {
	var out []sweep.RunResult
	err := db.read(ctx, func(tx pgx.Tx) error {
		if idOrPrefix == "" {
			return sweep.ErrNotFound
		}
		var err error
		out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE run_id = $1`, idOrPrefix)
		if err != nil || len(out) == 1 {
			return err
		}
		escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(idOrPrefix)
		rows, err := tx.Query(ctx, `
			SELECT id FROM runs WHERE id LIKE $1 ESCAPE '\' ORDER BY id COLLATE "C" LIMIT 6`, escaped+"%")
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		switch len(ids) {
		case 0:
			return sweep.ErrNotFound
		case 1:
			out, err = queryRuns(ctx, tx, `SELECT `+runColumns+` FROM run_results WHERE run_id = $1`, ids[0])
			if err == nil && len(out) != 1 {
				err = sweep.ErrNotFound
			}
			return err
		default:
			list := strings.Join(ids[:min(len(ids), 5)], ", ")
			if len(ids) > 5 {
				list += ", …"
			}
			return fmt.Errorf("%w: matches %s", sweep.ErrAmbiguous, list)
		}
	})
	if err != nil {
		return sweep.RunResult{}, fmt.Errorf("postgres: run %q in %s: %w", idOrPrefix, db.loc, err)
	}
	return out[0], nil
}

func queryRuns(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]sweep.RunResult, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sweep.RunResult
	for rows.Next() {
		var r sweep.RunResult
		var status string
		var epochsDone int64
		var testEpoch, samples *int64
		var nll, acc, mse, r2, sacc, snll, spstd *float64
		var errText, reused, host, version, started, finished *string
		var trial, hold int64
		settings, storeSettings := sweep.ScanSettings()
		dest := append([]any{&r.Sweep, &r.RunID, &status}, settings...)
		if err := rows.Scan(append(dest, &epochsDone, &testEpoch, &nll, &acc, &mse, &r2, &sacc, &snll, &spstd,
			&samples, &r.TrainSeconds, &errText, &trial, &reused, &hold, &host, &version, &started, &finished)...); err != nil {
			return nil, err
		}
		r.Status = sweep.Status(status)
		r.EpochsDone = int(epochsDone)
		storeSettings(&r.Settings)
		if testEpoch != nil {
			r.Final = sweep.SplitMetrics{
				DigitNLL:      floatOrNaN(nll),
				DigitAccuracy: floatOrNaN(acc),
				SumMSE:        floatOrNaN(mse),
				SumR2:         floatOrNaN(r2),
				SumAccuracy:   floatOrNaN(sacc),
				SumNLL:        floatOrNaN(snll),
				SumPredStd:    floatOrNaN(spstd),
			}
			if samples != nil {
				r.Final.Samples = int(*samples)
			}
		}
		r.Error, r.ReusedFrom, r.Host, r.Version = str(errText), str(reused), str(host), str(version)
		r.Trial, r.HoldEpoch = int(trial), int(hold)
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

// Epochs returns the per-epoch metrics of the runs f selects, ordered by
// run (in the order of Runs), epoch, and split with train before test.
func (db *DB) Epochs(ctx context.Context, f sweep.RunFilter) ([]sweep.EpochResult, error) {
	var out []sweep.EpochResult
	err := db.read(ctx, func(tx pgx.Tx) error {
		w, args := where(f)
		rows, err := tx.Query(ctx, `
			SELECT e.sweep, e.run_id, e.epoch, e.split, e.nll, e.accuracy, e.mse, e.r2,
				e.sum_accuracy, e.sum_nll, e.sum_pred_std, e.samples, e.seconds
			FROM epoch_results e
			JOIN run_results r ON r.run_id = e.run_id
			WHERE e.run_id IN (SELECT run_id FROM run_results WHERE `+w+`)
			ORDER BY `+runOrder("r.")+`, e.epoch, e.split = 'test'`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e sweep.EpochResult
			var epoch int64
			var nll, acc, mse, r2, sacc, snll, spstd, secs *float64
			var samples *int64
			if err := rows.Scan(&e.Sweep, &e.RunID, &epoch, &e.Split, &nll, &acc, &mse, &r2,
				&sacc, &snll, &spstd, &samples, &secs); err != nil {
				return err
			}
			e.Epoch = int(epoch)
			e.Metrics = sweep.SplitMetrics{
				DigitNLL:      floatOrNaN(nll),
				DigitAccuracy: floatOrNaN(acc),
				SumMSE:        floatOrNaN(mse),
				SumR2:         floatOrNaN(r2),
				SumAccuracy:   floatOrNaN(sacc),
				SumNLL:        floatOrNaN(snll),
				SumPredStd:    floatOrNaN(spstd),
			}
			if samples != nil {
				e.Metrics.Samples = int(*samples)
			}
			e.Seconds = floatOrNaN(secs)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list epochs in %s: %w", db.loc, err)
	}
	return out, nil
}

// Counts returns how many of the runs ids are in each status, with every
// status present. Ids the database does not have are not counted.
func (db *DB) Counts(ctx context.Context, ids []string) (map[sweep.Status]int, error) {
	counts := sweep.ZeroCounts()
	if len(ids) == 0 {
		return counts, nil
	}
	err := db.read(ctx, func(tx pgx.Tx) error {
		counts = sweep.ZeroCounts()
		rows, err := tx.Query(ctx, `SELECT status, count(*) FROM runs WHERE id = ANY($1) GROUP BY status`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var status string
			var n int64
			if err := rows.Scan(&status, &n); err != nil {
				return err
			}
			counts[sweep.Status(status)] = int(n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: count runs in %s: %w", db.loc, err)
	}
	return counts, nil
}

// views are the user-facing views.
var views = []string{"run_results", "epoch_results", "config_results"}

// View returns every row of a user-facing view with its column names, in
// the view's column order. Values are nil (NULL), int64, float64 or
// string, as from the SQLite backend.
func (db *DB) View(ctx context.Context, name string) (cols []string, rows [][]any, err error) {
	known := false
	for _, v := range views {
		known = known || v == name
	}
	if !known {
		return nil, nil, fmt.Errorf("postgres: export %q: not a view (want one of %v)", name, views)
	}
	err = db.read(ctx, func(tx pgx.Tx) error {
		var err error
		cols, rows, err = query(ctx, tx, "SELECT * FROM "+name)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: export %s from %s: %w", name, db.loc, err)
	}
	return cols, rows, nil
}

// query runs any query and returns its columns and rows with values as
// nil, int64, float64, string or bool.
func query(ctx context.Context, tx pgx.Tx, q string, args ...any) (cols []string, out [][]any, err error) {
	rs, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	for _, f := range rs.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			return nil, nil, err
		}
		for i, v := range vals {
			vals[i] = plain(v)
		}
		out = append(out, vals)
	}
	return cols, out, rs.Err()
}

// plain turns a value pgx decoded into nil, int64, float64, string or bool.
func plain(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case *big.Int:
		return x.String()
	case time.Time:
		return formatTime(x)
	case []byte:
		return string(x)
	}
	return v
}

// Query runs a read-only query (for tests and tools) and returns its
// columns and rows as View does.
func (db *DB) Query(ctx context.Context, q string, args ...any) (cols []string, rows [][]any, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		var err error
		cols, rows, err = query(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: query %s: %w", db.loc, err)
	}
	return cols, rows, nil
}

// Checkpoint returns the run's latest checkpoint and its epoch; the error
// wraps sweep.ErrNotFound when it has none.
func (db *DB) Checkpoint(ctx context.Context, runID string) (epoch int, data []byte, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		var e int64
		err := tx.QueryRow(ctx, `SELECT epoch, data FROM checkpoints WHERE run_id = $1`, runID).Scan(&e, &data)
		if errors.Is(err, pgx.ErrNoRows) {
			return sweep.ErrNotFound
		}
		epoch = int(e)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: checkpoint of run %s in %s: %w", runID, db.loc, err)
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
	err := db.read(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `
			SELECT id, sweep, coalesce(owner, ''), coalesce(host, ''), lease_expires FROM runs
			WHERE status = 'running' AND id = ANY($1)
			ORDER BY id COLLATE "C"`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h sweep.Holder
			var expires *string
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
		return nil, fmt.Errorf("postgres: list holders in %s: %w", db.loc, err)
	}
	return out, nil
}
