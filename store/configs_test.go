package store

import (
	"context"
	"database/sql"
	"fmt"

	"sweep"
)

// configResult is one row of config_results: the finished repeats of one
// configuration. The tests read the view through it; people query it
// with SQL, and the reports aggregate runs themselves.
type configResult struct {
	Sweep      string
	Settings   sweep.Settings // Seed is the first repeat's seed
	Runs       int
	AccMean    float64
	AccStd     float64
	R2Mean     float64
	R2Std      float64
	SumAccMean float64
	SumAccStd  float64
}

// configs reads the config_results view for one sweep, or for all sweeps
// if sweepName is "": per configuration, the mean and sample standard
// deviation of the final test metrics over its done runs. Settings.Seed is
// the seed of the configuration's first run. A NULL std (fewer than two
// runs) or mean is NaN.
func (db *DB) configs(ctx context.Context, sweepName string) ([]configResult, error) {
	var out []configResult
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT sweep, `+sweep.SettingColumns("", "first_seed")+`, runs,
				acc_mean, acc_std, r2_mean, r2_std, sum_acc_mean, sum_acc_std
			FROM config_results
			WHERE :sweep = '' OR sweep = :sweep
			ORDER BY sweep, `+sweep.SettingColumns("", "")+`, config_key`,
			sql.Named("sweep", sweepName))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c configResult
			var v [6]sql.NullFloat64
			settings, storeSettings := sweep.ScanSettings()
			dest := append([]any{&c.Sweep}, settings...)
			if err := rows.Scan(append(dest, &c.Runs,
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5])...); err != nil {
				return err
			}
			storeSettings(&c.Settings)
			c.AccMean, c.AccStd = floatOrNaN(v[0]), floatOrNaN(v[1])
			c.R2Mean, c.R2Std = floatOrNaN(v[2]), floatOrNaN(v[3])
			c.SumAccMean, c.SumAccStd = floatOrNaN(v[4]), floatOrNaN(v[5])
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list configs of sweep %q in %s: %w", sweepName, db.path, err)
	}
	return out, nil
}
