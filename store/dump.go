package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sweep/store/schema"
	"time"

	"sweep"
)

// Compile-time check that *DB implements sweep.Importer.
var _ sweep.Importer = (*DB)(nil)

// runStateColumns are the columns of a run besides its id, sweep, config
// key and settings, in sweep.RunRecord's order.
const runStateColumns = `status, attempts, epochs_done, owner, host, version,
	lease_seconds, lease_expires, created_at, started_at, finished_at, error,
	trial, reused_from, hold_epoch`

const epochColumns = `run_id, epoch, split, nll, accuracy, mse, r2,
	sum_accuracy, sum_nll, sum_pred_std, samples, seconds, samples_per_sec, recorded_at`

// Dump returns every sweep, run, epoch and checkpoint as stored, in one
// snapshot (sweep.Importer): runs in rowid order, epochs by run, epoch,
// train before test, checkpoints by run.
func (db *DB) Dump(ctx context.Context) (sweep.Dump, error) {
	var d sweep.Dump
	err := db.read(ctx, func(tx *sql.Tx) error {
		d = sweep.Dump{}
		rows, err := tx.QueryContext(ctx, `
			SELECT name, description, file, source, hash, ref_label, ref_epoch,
				ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at
			FROM sweeps ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s sweep.SweepRecord
			var label, search, prune, created, updated sql.NullString
			var epoch sql.NullInt64
			var acc, r2 sql.NullFloat64
			if err := rows.Scan(&s.Name, &s.Description, &s.File, &s.Source, &s.Hash,
				&label, &epoch, &acc, &r2, &search, &prune, &created, &updated); err != nil {
				return err
			}
			if s.Search, s.Prune, err = schema.DecodeAdaptive(search.String, prune.String); err != nil {
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			if label.Valid {
				s.Reference = &sweep.Reference{Label: label.String, Epoch: int(epoch.Int64),
					DigitAccuracy: floatOrNaN(acc), SumR2: floatOrNaN(r2)}
			}
			if s.Created, err = parseTime(created); err == nil {
				s.Updated, err = parseTime(updated)
			}
			if err != nil {
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			d.Sweeps = append(d.Sweeps, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		rows, err = tx.QueryContext(ctx, `
			SELECT id, sweep, config_key, `+sweep.SettingColumns("", "seed")+`, `+runStateColumns+`
			FROM runs ORDER BY rowid`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r sweep.RunRecord
			var status string
			var owner, host, version, expires, created, started, finished, errText, reused sql.NullString
			var leaseSeconds sql.NullFloat64
			var hold sql.NullInt64
			dest, storeSettings := sweep.ScanSettings()
			if err := rows.Scan(append(append([]any{&r.Spec.ID, &r.Spec.Sweep, &r.ConfigKey}, dest...),
				&status, &r.Attempts, &r.EpochsDone, &owner, &host, &version,
				&leaseSeconds, &expires, &created, &started, &finished, &errText,
				&r.Spec.Trial, &reused, &hold)...); err != nil {
				return err
			}
			storeSettings(&r.Spec.Settings)
			r.Status = sweep.Status(status)
			r.Owner, r.Host, r.Version, r.Error = owner.String, host.String, version.String, errText.String
			r.ReusedFrom, r.HoldEpoch = reused.String, int(hold.Int64)
			r.LeaseSeconds = floatOrNaN(leaseSeconds)
			if r.LeaseExpires, err = parseTime(expires); err == nil {
				if r.Created, err = parseTime(created); err == nil {
					if r.Started, err = parseTime(started); err == nil {
						r.Finished, err = parseTime(finished)
					}
				}
			}
			if err != nil {
				return fmt.Errorf("run %s: %w", r.Spec.ID, err)
			}
			d.Runs = append(d.Runs, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		rows, err = tx.QueryContext(ctx, `
			SELECT `+prefixed("e.", epochColumns)+`
			FROM epochs e JOIN runs r ON r.id = e.run_id
			ORDER BY r.rowid, e.epoch, e.split = 'test'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e sweep.EpochRecord
			var samples sql.NullInt64
			var nll, acc, mse, r2, sacc, snll, spstd, secs, rate sql.NullFloat64
			var recorded sql.NullString
			if err := rows.Scan(&e.RunID, &e.Epoch, &e.Split, &nll, &acc, &mse, &r2, &sacc, &snll, &spstd,
				&samples, &secs, &rate, &recorded); err != nil {
				return err
			}
			e.Metrics = sweep.SplitMetrics{
				DigitNLL: floatOrNaN(nll), DigitAccuracy: floatOrNaN(acc), SumMSE: floatOrNaN(mse),
				SumR2: floatOrNaN(r2), SumAccuracy: floatOrNaN(sacc), SumNLL: floatOrNaN(snll),
				SumPredStd: floatOrNaN(spstd), Samples: int(samples.Int64),
			}
			e.Seconds, e.SamplesPerSec = floatOrNaN(secs), floatOrNaN(rate)
			if e.Recorded, err = parseTime(recorded); err != nil {
				return err
			}
			d.Epochs = append(d.Epochs, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		rows, err = tx.QueryContext(ctx, `
			SELECT c.run_id, c.epoch, c.data, c.recorded_at
			FROM checkpoints c JOIN runs r ON r.id = c.run_id
			ORDER BY r.rowid`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c sweep.CheckpointRecord
			var recorded sql.NullString
			if err := rows.Scan(&c.RunID, &c.Epoch, &c.Data, &recorded); err != nil {
				return err
			}
			if c.Recorded, err = parseTime(recorded); err != nil {
				return err
			}
			d.Checkpoints = append(d.Checkpoints, c)
		}
		return rows.Err()
	})
	if err != nil {
		return sweep.Dump{}, fmt.Errorf("store: dump %s: %w", db.path, err)
	}
	return d, nil
}

// prefixed puts prefix before each of the comma-separated columns.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Import inserts d's sweeps, runs, epochs and checkpoints as they are, in
// one transaction (sweep.Importer). A run is inserted when the database
// does not have it and replaced, with its epochs and checkpoint, when it
// is finished (done or pruned) in d and not here; otherwise it is left
// alone.
func (db *DB) Import(ctx context.Context, d sweep.Dump) (sweep.ImportStats, error) {
	var st sweep.ImportStats
	err := db.write(ctx, func(tx *sql.Tx) error {
		st = sweep.ImportStats{}
		for _, s := range d.Sweeps {
			var label, epoch, acc, r2 any
			if ref := s.Reference; ref != nil {
				label, epoch, acc, r2 = ref.Label, ref.Epoch, nullFloat(ref.DigitAccuracy), nullFloat(ref.SumR2)
			}
			search, prune, err := schema.EncodeAdaptive(s.Search, s.Prune)
			if err != nil {
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			res, err := tx.ExecContext(ctx, `
				INSERT INTO sweeps (name, description, file, source, hash, ref_label, ref_epoch,
					ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (name) DO NOTHING`,
				s.Name, s.Description, s.File, s.Source, s.Hash, label, epoch, acc, r2, search, prune,
				formatTime(s.Created), formatTime(s.Updated))
			if err != nil {
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			n, _ := res.RowsAffected()
			st.Sweeps += int(n)
		}

		ids := make([]string, len(d.Runs))
		for i, r := range d.Runs {
			ids[i] = r.Spec.ID
		}
		idsJSON, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		have := map[string]sweep.Status{}
		rows, err := tx.QueryContext(ctx, `SELECT id, status FROM runs WHERE id IN (SELECT value FROM json_each(?))`, string(idsJSON))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				rows.Close()
				return err
			}
			have[id] = sweep.Status(status)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		nSettings := len(sweep.SettingDefs())
		insert, err := tx.PrepareContext(ctx, `
			INSERT INTO runs (id, sweep, config_key, `+sweep.SettingColumns("", "seed")+`, `+runStateColumns+`)
			VALUES (`+strings.TrimSuffix(strings.Repeat("?, ", 3+nSettings+15), ", ")+`)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		var set []string
		for _, c := range strings.Split(runStateColumns, ",") {
			set = append(set, strings.TrimSpace(c)+" = ?")
		}
		replace, err := tx.PrepareContext(ctx, `UPDATE runs SET `+strings.Join(set, ", ")+` WHERE id = ?`)
		if err != nil {
			return err
		}
		defer replace.Close()
		take := map[string]bool{}
		for _, r := range d.Runs {
			state := []any{string(r.Status), r.Attempts, r.EpochsDone,
				nullString(r.Owner), nullString(r.Host), nullString(r.Version),
				nullFloat(r.LeaseSeconds), nullTime(r.LeaseExpires), formatTime(r.Created),
				nullTime(r.Started), nullTime(r.Finished), nullString(r.Error),
				r.Spec.Trial, nullString(r.ReusedFrom), nullInt(r.HoldEpoch)}
			old, ok := have[r.Spec.ID]
			switch {
			case !ok:
				args := append([]any{r.Spec.ID, r.Spec.Sweep, r.ConfigKey}, r.Spec.Settings.ColumnValues()...)
				if _, err := insert.ExecContext(ctx, append(args, state...)...); err != nil {
					return fmt.Errorf("run %s: %w", r.Spec.ID, err)
				}
				st.Runs++
			case r.Status.Finished() && !old.Finished():
				for _, q := range []string{`DELETE FROM epochs WHERE run_id = ?`, `DELETE FROM checkpoints WHERE run_id = ?`} {
					if _, err := tx.ExecContext(ctx, q, r.Spec.ID); err != nil {
						return fmt.Errorf("run %s: %w", r.Spec.ID, err)
					}
				}
				if _, err := replace.ExecContext(ctx, append(state, r.Spec.ID)...); err != nil {
					return fmt.Errorf("run %s: %w", r.Spec.ID, err)
				}
				st.Replaced++
			default:
				continue
			}
			take[r.Spec.ID] = true
		}
		ins, err := tx.PrepareContext(ctx, `
			INSERT OR REPLACE INTO epochs (`+epochColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, e := range d.Epochs {
			if !take[e.RunID] {
				continue
			}
			m := e.Metrics
			if _, err := ins.ExecContext(ctx, e.RunID, e.Epoch, e.Split,
				nullFloat(m.DigitNLL), nullFloat(m.DigitAccuracy), nullFloat(m.SumMSE), nullFloat(m.SumR2),
				nullFloat(m.SumAccuracy), nullFloat(m.SumNLL), nullFloat(m.SumPredStd),
				m.Samples, nullFloat(e.Seconds), nullFloat(e.SamplesPerSec), formatTime(e.Recorded)); err != nil {
				return fmt.Errorf("epoch %d %s of run %s: %w", e.Epoch, e.Split, e.RunID, err)
			}
			st.Epochs++
		}
		for _, c := range d.Checkpoints {
			if !take[c.RunID] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT OR REPLACE INTO checkpoints (run_id, epoch, data, recorded_at) VALUES (?, ?, ?, ?)`,
				c.RunID, c.Epoch, c.Data, formatTime(c.Recorded)); err != nil {
				return fmt.Errorf("checkpoint of run %s: %w", c.RunID, err)
			}
			st.Checkpoints++
		}
		return nil
	})
	if err != nil {
		return sweep.ImportStats{}, fmt.Errorf("store: import into %s: %w", db.path, err)
	}
	return st, nil
}

// nullInt stores 0 as NULL.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}
