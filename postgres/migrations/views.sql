-- views: the three views people query, re-created from this file after the
-- numbered migrations whenever any of them runs. The same names, columns
-- and meanings as the SQLite backend's store/migrations/views.sql.
--
-- This file is a Go text/template: {{"{{"}}settings "r."{{"}}"}} expands to every
-- setting's column (sweep.SettingDefs, registry order, the seed last) with
-- the prefix, and {{"{{"}}config "f."{{"}}"}} to every setting but the seed. Adding
-- a setting needs only a numbered migration for its column.

DROP VIEW IF EXISTS run_results;
DROP VIEW IF EXISTS epoch_results;
DROP VIEW IF EXISTS config_results;

-- One row per run: settings, state, and the test metrics of its last
-- recorded epoch (NULL when it has none).
CREATE VIEW run_results AS
SELECT
	r.sweep,
	r.id AS run_id,
	r.status,
	{{settings "r."}},
	r.epochs_done,
	t.epoch AS test_epoch,
	t.accuracy AS test_accuracy,
	t.nll AS test_nll,
	t.mse AS test_mse,
	t.r2 AS test_r2,
	t.sum_accuracy AS test_sum_accuracy,
	t.sum_nll AS test_sum_nll,
	t.sum_pred_std AS test_sum_pred_std,
	t.samples AS test_samples,
	(SELECT coalesce(sum(e.seconds), 0.0) FROM epochs e WHERE e.run_id = r.id AND e.split = 'train') AS train_seconds,
	r.config_key,
	r.trial,
	r.reused_from,
	r.hold_epoch,
	r.error,
	r.host,
	r.version,
	r.attempts,
	r.started_at,
	r.finished_at,
	r.lease_expires
FROM runs r
LEFT JOIN epochs t
	ON t.run_id = r.id AND t.split = 'test'
	AND t.epoch = (SELECT max(e.epoch) FROM epochs e WHERE e.run_id = r.id AND e.split = 'test');

-- One row per run, epoch and split.
CREATE VIEW epoch_results AS
SELECT
	r.sweep,
	e.run_id,
	e.epoch,
	e.split,
	e.nll,
	e.accuracy,
	e.mse,
	e.r2,
	e.sum_accuracy,
	e.sum_nll,
	e.sum_pred_std,
	e.seconds,
	e.samples,
	e.samples_per_sec
FROM epochs e
JOIN runs r ON r.id = e.run_id;

-- One row per sweep and configuration (settings but the seed) that has
-- finished runs. runs counts its 'done' runs and pruned_runs its 'pruned'
-- ones (stopped early: their last metrics are not final, so they enter no
-- mean); the means and *_std are over the done runs, NULL when it has
-- none. *_std is the sample standard
-- deviation (stddev_samp, divisor n-1) of the final test metric: NULL when
-- fewer than two runs have the metric. first_seed is the seed of the
-- configuration's first run.
CREATE VIEW config_results AS
WITH done AS (
	SELECT r.seq, r.sweep, r.config_key, r.status = 'done' AS done,
		CASE WHEN r.status = 'done' THEN t.accuracy END AS acc,
		CASE WHEN r.status = 'done' THEN t.r2 END AS r2,
		CASE WHEN r.status = 'done' THEN t.sum_accuracy END AS sum_acc
	FROM runs r
	LEFT JOIN epochs t
		ON t.run_id = r.id AND t.split = 'test'
		AND t.epoch = (SELECT max(e.epoch) FROM epochs e WHERE e.run_id = r.id AND e.split = 'test')
	WHERE r.status IN ('done', 'pruned')
), agg AS (
	SELECT
		sweep, config_key,
		min(seq) AS first_seq,
		count(*) FILTER (WHERE done) AS runs,
		count(*) FILTER (WHERE NOT done) AS pruned_runs,
		avg(acc) AS acc_mean, stddev_samp(acc) AS acc_std,
		avg(r2) AS r2_mean, stddev_samp(r2) AS r2_std,
		avg(sum_acc) AS sum_acc_mean, stddev_samp(sum_acc) AS sum_acc_std
	FROM done
	GROUP BY sweep, config_key
)
SELECT
	a.sweep,
	a.config_key,
	{{config "f."}},
	f.seed AS first_seed,
	a.runs,
	a.pruned_runs,
	a.acc_mean,
	a.acc_std,
	a.r2_mean,
	a.r2_std,
	a.sum_acc_mean,
	a.sum_acc_std
FROM agg a
JOIN runs f ON f.seq = a.first_seq;
