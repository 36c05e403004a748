-- 001_init: sweeps, runs and epochs, in PostgreSQL's dialect. The same
-- tables, columns and meanings as the SQLite backend's (store/migrations),
-- with the settings columns of every SQLite migration up to 003 at once.
--
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.sssZ' in the "C" collation, as in
-- SQLite: fixed width, so comparing the text compares the times, and the
-- views show them exactly as SQLite's do. Metrics that are NaN (sum_nll of
-- the regression head) are NULL.

-- One row per sweep file, by name. Re-saving a sweep updates the row.
CREATE TABLE sweeps (
	name        text PRIMARY KEY,
	description text NOT NULL DEFAULT '',
	file        text NOT NULL DEFAULT '',   -- path as given on the command line
	source      text NOT NULL DEFAULT '',   -- the file's text at the last save
	hash        text NOT NULL DEFAULT '',   -- hex SHA-256 of source
	-- Published figures the sweep compares with; all NULL when it has none.
	ref_label          text,
	ref_epoch          bigint,
	ref_digit_accuracy double precision,
	ref_sum_r2         double precision,
	created_at  text COLLATE "C" NOT NULL,  -- first save
	updated_at  text COLLATE "C" NOT NULL   -- last save
);

-- One row per run. seq is the order runs were first saved in (file order;
-- SQLite's rowid): runs are claimed in it.
CREATE TABLE runs (
	seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id           text PRIMARY KEY,          -- sweep.RunID
	sweep        text NOT NULL REFERENCES sweeps (name) ON UPDATE CASCADE ON DELETE CASCADE,
	config_key   text NOT NULL,             -- sweep.ConfigKey

	-- Settings, one column each, in registry order (sweep.SettingDefs).
	head           text             NOT NULL,
	sum_hidden     bigint           NOT NULL,
	sum_input      text             NOT NULL DEFAULT 'log_probs',
	sum_loss       text             NOT NULL DEFAULT 'mse',
	conv1_channels bigint           NOT NULL DEFAULT 10,
	conv2_channels bigint           NOT NULL DEFAULT 20,
	fc_hidden      bigint           NOT NULL DEFAULT 50,
	dropout        double precision NOT NULL DEFAULT 0,
	digit_weight   double precision NOT NULL,
	sum_weight     double precision NOT NULL,
	optimizer      text             NOT NULL,
	lr             double precision NOT NULL,
	momentum       double precision NOT NULL,
	weight_decay   double precision NOT NULL DEFAULT 0,
	batch_size     bigint           NOT NULL,
	epochs         bigint           NOT NULL,
	train_size     bigint           NOT NULL, -- resolved: 60000 when the file says 0 (all)
	pairing        text             NOT NULL DEFAULT 'aligned',
	seed           bigint           NOT NULL,

	-- State.
	status        text NOT NULL DEFAULT 'pending'
	              CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
	attempts      bigint NOT NULL DEFAULT 0,  -- times claimed
	epochs_done   bigint NOT NULL DEFAULT 0,  -- epochs recorded in the current attempt
	owner         text,                       -- sweep.Owner.ID of the last claim
	host          text,
	version       text,
	lease_seconds double precision,           -- lease length of the last claim or heartbeat
	lease_expires text COLLATE "C",           -- running: another process may take the run over after this
	created_at    text COLLATE "C" NOT NULL,
	started_at    text COLLATE "C",           -- start of the current attempt
	finished_at   text COLLATE "C",           -- end of the current attempt
	error         text                        -- why it failed or was interrupted
);

CREATE INDEX runs_sweep ON runs (sweep);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_config ON runs (sweep, config_key);
-- Claim scans the runs that are not done in seq order.
CREATE INDEX runs_claim ON runs (seq) WHERE status <> 'done';

-- Metrics of one split after one epoch of one run's current attempt.
CREATE TABLE epochs (
	run_id          text   NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	epoch           bigint NOT NULL CHECK (epoch >= 1),
	split           text   NOT NULL CHECK (split IN ('train', 'test')),
	nll             double precision,       -- digit negative log-likelihood
	accuracy        double precision,       -- digit accuracy, fraction in [0, 1]
	mse             double precision,       -- sum prediction mean squared error
	r2              double precision,       -- sum prediction R²
	sum_accuracy    double precision,       -- sum accuracy, fraction in [0, 1]
	sum_nll         double precision,       -- classify head only; NULL for regression
	sum_pred_std    double precision,       -- std of the sum prediction over the split (divisor n)
	samples         bigint,
	seconds         double precision,       -- train: training pass; test: evaluation
	samples_per_sec double precision,       -- train rows only
	recorded_at     text COLLATE "C" NOT NULL,
	PRIMARY KEY (run_id, epoch, split)
);

-- SQLite's functions that the README's example queries use, so that the
-- same queries run unchanged in psql: round(double precision, integer)
-- (PostgreSQL rounds only numeric to a number of places), printf with one
-- '%.Nf' or '%d' conversion, and iif.
CREATE FUNCTION round(v double precision, places integer) RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN round(v::numeric, places)::double precision;

CREATE FUNCTION printf(fmt text, v double precision) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN CASE
		WHEN fmt ~ '%\.[0-9]+f' THEN regexp_replace(fmt, '%\.[0-9]+f',
			round(coalesce(v, 0)::numeric, substring(fmt FROM '%\.([0-9]+)f')::integer)::text)
		WHEN fmt ~ '%d' THEN replace(fmt, '%d', trunc(coalesce(v, 0))::bigint::text)
		ELSE fmt
	END;

CREATE FUNCTION iif(cond boolean, a anyelement, b anyelement) RETURNS anyelement
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT CASE WHEN cond THEN a ELSE b END $$;
