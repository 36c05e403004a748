package postgres

import (
	"context"
	"fmt"
	"strings"
	"sweep/store/schema"

	"github.com/jackc/pgx/v5"

	"sweep"
)

// runStateColumns are the columns of a run besides its id, sweep, config
// key and settings, in RunRecord's order.
const runStateColumns = `status, attempts, epochs_done, owner, host, version,
	lease_seconds, lease_expires, created_at, started_at, finished_at, error,
	trial, reused_from, hold_epoch`

// Dump returns every sweep, run, epoch and checkpoint as stored, in one
// snapshot (sweep.Importer).
func (db *DB) Dump(ctx context.Context) (sweep.Dump, error) {
	var d sweep.Dump
	err := db.read(ctx, func(tx pgx.Tx) error {
		d = sweep.Dump{}
		rows, err := tx.Query(ctx, `
			SELECT name, description, file, source, hash, ref_label, ref_epoch,
				ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at
			FROM sweeps ORDER BY name COLLATE "C"`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s sweep.SweepRecord
			var label, search, prune, created, updated *string
			var epoch *int64
			var acc, r2 *float64
			if err := rows.Scan(&s.Name, &s.Description, &s.File, &s.Source, &s.Hash,
				&label, &epoch, &acc, &r2, &search, &prune, &created, &updated); err != nil {
				rows.Close()
				return err
			}
			if s.Search, s.Prune, err = schema.DecodeAdaptive(str(search), str(prune)); err != nil {
				rows.Close()
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			if label != nil {
				s.Reference = &sweep.Reference{Label: *label, DigitAccuracy: floatOrNaN(acc), SumR2: floatOrNaN(r2)}
				if epoch != nil {
					s.Reference.Epoch = int(*epoch)
				}
			}
			if s.Created, err = parseTime(created); err == nil {
				s.Updated, err = parseTime(updated)
			}
			if err != nil {
				rows.Close()
				return err
			}
			d.Sweeps = append(d.Sweeps, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `
			SELECT id, sweep, config_key, `+sweep.SettingColumns("", "seed")+`, `+runStateColumns+`
			FROM runs ORDER BY seq`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r sweep.RunRecord
			var status string
			var attempts, epochsDone, trial int64
			var hold *int64
			var owner, host, version, expires, created, started, finished, errText, reused *string
			var leaseSeconds *float64
			dest, storeSettings := sweep.ScanSettings()
			if err := rows.Scan(append(append([]any{&r.Spec.ID, &r.Spec.Sweep, &r.ConfigKey}, dest...),
				&status, &attempts, &epochsDone, &owner, &host, &version,
				&leaseSeconds, &expires, &created, &started, &finished, &errText,
				&trial, &reused, &hold)...); err != nil {
				rows.Close()
				return err
			}
			storeSettings(&r.Spec.Settings)
			r.Status, r.Attempts, r.EpochsDone = sweep.Status(status), int(attempts), int(epochsDone)
			r.Owner, r.Host, r.Version, r.Error = str(owner), str(host), str(version), str(errText)
			r.Spec.Trial, r.ReusedFrom = int(trial), str(reused)
			if hold != nil {
				r.HoldEpoch = int(*hold)
			}
			r.LeaseSeconds = floatOrNaN(leaseSeconds)
			var terr error
			if r.LeaseExpires, terr = parseTime(expires); terr == nil {
				if r.Created, terr = parseTime(created); terr == nil {
					if r.Started, terr = parseTime(started); terr == nil {
						r.Finished, terr = parseTime(finished)
					}
				}
			}
			if terr != nil {
				rows.Close()
				return fmt.Errorf("run %s: %w", r.Spec.ID, terr)
			}
			d.Runs = append(d.Runs, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}

		rows, err = tx.Query(ctx, `
			SELECT `+epochColumns+`
			FROM epochs e JOIN runs r ON r.id = e.run_id
			ORDER BY r.seq, e.epoch, e.split = 'test'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e sweep.EpochRecord
			var epoch int64
			var samples *int64
			var nll, acc, mse, r2, sacc, snll, spstd, secs, rate *float64
			var recorded *string
			if err := rows.Scan(&e.RunID, &epoch, &e.Split, &nll, &acc, &mse, &r2, &sacc, &snll, &spstd,
				&samples, &secs, &rate, &recorded); err != nil {
				return err
			}
			e.Epoch = int(epoch)
			e.Metrics = sweep.SplitMetrics{
				DigitNLL: floatOrNaN(nll), DigitAccuracy: floatOrNaN(acc), SumMSE: floatOrNaN(mse),
				SumR2: floatOrNaN(r2), SumAccuracy: floatOrNaN(sacc), SumNLL: floatOrNaN(snll),
				SumPredStd: floatOrNaN(spstd),
			}
			if samples != nil {
				e.Metrics.Samples = int(*samples)
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

		rows, err = tx.Query(ctx, `
			SELECT c.run_id, c.epoch, c.data, c.recorded_at
			FROM checkpoints c JOIN runs r ON r.id = c.run_id
			ORDER BY r.seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c sweep.CheckpointRecord
			var epoch int64
			var recorded *string
			if err := rows.Scan(&c.RunID, &epoch, &c.Data, &recorded); err != nil {
				return err
			}
			c.Epoch = int(epoch)
			if c.Recorded, err = parseTime(recorded); err != nil {
				return err
			}
			d.Checkpoints = append(d.Checkpoints, c)
		}
		return rows.Err()
	})
	if err != nil {
		return sweep.Dump{}, fmt.Errorf("postgres: dump %s: %w", db.loc, err)
	}
	return d, nil
}

// Import inserts d's sweeps, runs, epochs and checkpoints as they are, in
// one transaction (sweep.Importer). A run is inserted when the database
// does not have it and replaced, with its epochs and checkpoint, when it
// is finished (done or pruned) in d and not here; otherwise it is left
// alone.
func (db *DB) Import(ctx context.Context, d sweep.Dump) (sweep.ImportStats, error) {
	var st sweep.ImportStats
	err := db.write(ctx, func(tx pgx.Tx) error {
		st = sweep.ImportStats{}
		b := &pgx.Batch{}
		for _, s := range d.Sweeps {
			var label, epoch, acc, r2 any
			if ref := s.Reference; ref != nil {
				label, epoch, acc, r2 = ref.Label, int64(ref.Epoch), nullFloat(ref.DigitAccuracy), nullFloat(ref.SumR2)
			}
			search, prune, err := schema.EncodeAdaptive(s.Search, s.Prune)
			if err != nil {
				return fmt.Errorf("sweep %q: %w", s.Name, err)
			}
			b.Queue(`
				INSERT INTO sweeps (name, description, file, source, hash, ref_label, ref_epoch,
					ref_digit_accuracy, ref_sum_r2, search, prune, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (name) DO NOTHING`,
				s.Name, s.Description, s.File, s.Source, s.Hash, label, epoch, acc, r2, search, prune,
				formatTime(s.Created), formatTime(s.Updated))
		}
		if b.Len() > 0 {
			br := tx.SendBatch(ctx, b)
			for i := range b.Len() {
				tag, err := br.Exec()
				if err != nil {
					br.Close()
					return fmt.Errorf("sweep %q: %w", d.Sweeps[i].Name, err)
				}
				st.Sweeps += int(tag.RowsAffected())
			}
			if err := br.Close(); err != nil {
				return err
			}
		}

		// The state of the runs we have, locked in id order.
		ids := make([]string, len(d.Runs))
		for i, r := range d.Runs {
			ids[i] = r.Spec.ID
		}
		have := map[string]sweep.Status{}
		rows, err := tx.Query(ctx, `SELECT id, status FROM runs WHERE id = ANY($1) ORDER BY id COLLATE "C" FOR UPDATE`, ids)
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

		nSettings := len(sweep.SettingDefs())
		insert := `
			INSERT INTO runs (id, sweep, config_key, ` + sweep.SettingColumns("", "seed") + `, ` + runStateColumns + `)
			VALUES (` + placeholders(1, 3+nSettings+15) + `)`
		var set []string
		for i, c := range strings.Split(runStateColumns, ",") {
			set = append(set, fmt.Sprintf("%s = $%d", strings.TrimSpace(c), 2+i))
		}
		replace := `UPDATE runs SET ` + strings.Join(set, ", ") + ` WHERE id = $1`
		take := map[string]bool{}
		b = &pgx.Batch{}
		var what []string
		for _, r := range d.Runs {
			state := []any{string(r.Status), int64(r.Attempts), int64(r.EpochsDone),
				nullString(r.Owner), nullString(r.Host), nullString(r.Version),
				nullFloat(r.LeaseSeconds), nullTime(r.LeaseExpires), formatTime(r.Created),
				nullTime(r.Started), nullTime(r.Finished), nullString(r.Error),
				int64(r.Spec.Trial), nullString(r.ReusedFrom), nullInt(r.HoldEpoch)}
			old, ok := have[r.Spec.ID]
			switch {
			case !ok:
				args := append([]any{r.Spec.ID, r.Spec.Sweep, r.ConfigKey}, r.Spec.Settings.ColumnValues()...)
				b.Queue(insert, append(args, state...)...)
				st.Runs++
			case r.Status.Finished() && !old.Finished():
				b.Queue(`DELETE FROM epochs WHERE run_id = $1`, r.Spec.ID)
				b.Queue(`DELETE FROM checkpoints WHERE run_id = $1`, r.Spec.ID)
				what = append(what, "run "+r.Spec.ID, "run "+r.Spec.ID)
				b.Queue(replace, append([]any{r.Spec.ID}, state...)...)
				st.Replaced++
			default:
				continue
			}
			take[r.Spec.ID] = true
			what = append(what, "run "+r.Spec.ID)
		}
		for _, e := range d.Epochs {
			if !take[e.RunID] {
				continue
			}
			m := e.Metrics
			b.Queue(upsertEpoch, e.RunID, int64(e.Epoch), e.Split,
				nullFloat(m.DigitNLL), nullFloat(m.DigitAccuracy), nullFloat(m.SumMSE), nullFloat(m.SumR2),
				nullFloat(m.SumAccuracy), nullFloat(m.SumNLL), nullFloat(m.SumPredStd),
				int64(m.Samples), nullFloat(e.Seconds), nullFloat(e.SamplesPerSec), formatTime(e.Recorded))
			what = append(what, fmt.Sprintf("epoch %d %s of run %s", e.Epoch, e.Split, e.RunID))
			st.Epochs++
		}
		for _, c := range d.Checkpoints {
			if !take[c.RunID] {
				continue
			}
			b.Queue(`
				INSERT INTO checkpoints (run_id, epoch, data, recorded_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (run_id) DO UPDATE SET epoch = excluded.epoch, data = excluded.data,
					recorded_at = excluded.recorded_at`,
				c.RunID, int64(c.Epoch), c.Data, formatTime(c.Recorded))
			what = append(what, "checkpoint of run "+c.RunID)
			st.Checkpoints++
		}
		return sendBatch(ctx, tx, b, func(i int) string { return what[i] })
	})
	if err != nil {
		return sweep.ImportStats{}, fmt.Errorf("postgres: import into %s: %w", db.loc, err)
	}
	return st, nil
}
