-- views: the three views people query, re-created from this file after
-- the numbered migrations whenever any of them runs (a database at the
-- latest version already has them). Tables change only by numbered
-- migrations; a change here needs one too, even if it only says so, or
-- existing databases keep their old views.
--
-- This file is a Go text/template, as the PostgreSQL backend's:
-- {{"{{"}}settings "r."{{"}}"}} expands to every setting's column
-- (sweep.SettingColumns: registry order, the seed last) with the prefix,
-- and {{"{{"}}config "f."{{"}}"}} to every setting but the seed. A new
-- setting needs only its numbered migration here.

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
	(SELECT total(e.seconds) FROM epochs e WHERE e.run_id = r.id AND e.split = 'train') AS train_seconds,
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
-- none. *_std is the sample standard deviation (divisor n-1) of the final
-- test metric; NULL when fewer than two runs have the metric.
--
-- The square root is computed here with Newton's method in a recursive CTE,
-- not with sqrt(): the Go driver's SQLite is built without the math
-- functions, and Python's or an old CLI's may be too. Starting from
-- x0 = (1+v)/2 >= sqrt(v), the iterates decrease monotonically to sqrt(v),
-- so the smallest iterate is the root to within rounding.
CREATE VIEW config_results AS
WITH RECURSIVE
	done (seq, sweep, config_key, done, acc, r2, sum_acc) AS (
		SELECT r.rowid, r.sweep, r.config_key, r.status = 'done',
			CASE WHEN r.status = 'done' THEN t.accuracy END,
			CASE WHEN r.status = 'done' THEN t.r2 END,
			CASE WHEN r.status = 'done' THEN t.sum_accuracy END
		FROM runs r
		LEFT JOIN epochs t
			ON t.run_id = r.id AND t.split = 'test'
			AND t.epoch = (SELECT max(e.epoch) FROM epochs e WHERE e.run_id = r.id AND e.split = 'test')
		WHERE r.status IN ('done', 'pruned')
	),
	mean AS (
		SELECT
			sweep, config_key,
			min(seq) AS first_seq,
			sum(done) AS runs,
			count(*) - sum(done) AS pruned_runs,
			count(acc) AS acc_n, avg(acc) AS acc_mean,
			count(r2) AS r2_n, avg(r2) AS r2_mean,
			count(sum_acc) AS sum_acc_n, avg(sum_acc) AS sum_acc_mean
		FROM done
		GROUP BY sweep, config_key
	),
	var AS (
		SELECT
			m.sweep, m.config_key, m.first_seq, m.runs, m.pruned_runs,
			m.acc_mean, m.r2_mean, m.sum_acc_mean,
			CASE WHEN m.acc_n > 1
				THEN total((d.acc - m.acc_mean) * (d.acc - m.acc_mean)) / (m.acc_n - 1) END AS acc_var,
			CASE WHEN m.r2_n > 1
				THEN total((d.r2 - m.r2_mean) * (d.r2 - m.r2_mean)) / (m.r2_n - 1) END AS r2_var,
			CASE WHEN m.sum_acc_n > 1
				THEN total((d.sum_acc - m.sum_acc_mean) * (d.sum_acc - m.sum_acc_mean)) / (m.sum_acc_n - 1) END AS sum_acc_var
		FROM mean m
		JOIN done d ON d.sweep = m.sweep AND d.config_key = m.config_key
		GROUP BY m.sweep, m.config_key
	),
	newton (sweep, config_key, stat, v, x, i) AS (
		SELECT sweep, config_key, 'acc', acc_var, (1.0 + acc_var) / 2, 0 FROM var WHERE acc_var > 0
		UNION ALL
		SELECT sweep, config_key, 'r2', r2_var, (1.0 + r2_var) / 2, 0 FROM var WHERE r2_var > 0
		UNION ALL
		SELECT sweep, config_key, 'sum_acc', sum_acc_var, (1.0 + sum_acc_var) / 2, 0 FROM var WHERE sum_acc_var > 0
		UNION ALL
		SELECT sweep, config_key, stat, v, (x + v / x) / 2, i + 1
		FROM newton
		WHERE (x + v / x) / 2 < x AND i < 1200
	),
	root (sweep, config_key, stat, x) AS (
		SELECT sweep, config_key, stat, min(x) FROM newton GROUP BY sweep, config_key, stat
	)
SELECT
	v.sweep,
	v.config_key,
	{{config "f."}},
	f.seed AS first_seed,
	v.runs,
	v.pruned_runs,
	v.acc_mean,
	CASE WHEN v.acc_var > 0 THEN ra.x WHEN v.acc_var = 0 THEN 0.0 END AS acc_std,
	v.r2_mean,
	CASE WHEN v.r2_var > 0 THEN rr.x WHEN v.r2_var = 0 THEN 0.0 END AS r2_std,
	v.sum_acc_mean,
	CASE WHEN v.sum_acc_var > 0 THEN rs.x WHEN v.sum_acc_var = 0 THEN 0.0 END AS sum_acc_std
FROM var v
JOIN runs f ON f.rowid = v.first_seq
LEFT JOIN root ra ON ra.sweep = v.sweep AND ra.config_key = v.config_key AND ra.stat = 'acc'
LEFT JOIN root rr ON rr.sweep = v.sweep AND rr.config_key = v.config_key AND rr.stat = 'r2'
LEFT JOIN root rs ON rs.sweep = v.sweep AND rs.config_key = v.config_key AND rs.stat = 'sum_acc';
