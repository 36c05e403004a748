-- 003_search: adaptive search, early stopping and reuse (issue #11); the
-- same changes as the SQLite backend's 005_search.sql.
--
-- The runs' status gains 'pruned': stopped early by the sweep's [prune]
-- rule, finished for good with its epochs kept; claims skip it as they
-- skip 'done'.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
	CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted', 'pruned'));
DROP INDEX runs_claim;
CREATE INDEX runs_claim ON runs (seq) WHERE status NOT IN ('done', 'pruned');

-- trial: the 1-based number of the run's configuration in a tpe sweep, in
-- the order the search made them; 0 in grid and random sweeps.
ALTER TABLE runs ADD COLUMN trial bigint NOT NULL DEFAULT 0;
-- reused_from: the done run of another sweep, with the same settings and
-- seed, whose epochs (and weights) this run copied instead of training.
ALTER TABLE runs ADD COLUMN reused_from text;
-- hold_epoch: a pending run that reached a rung of its sweep's [prune]
-- rule before its configuration's other seeds waits there (its checkpoint
-- kept) until they arrive and the configuration is judged as a whole;
-- NULL otherwise. Claims skip held runs.
ALTER TABLE runs ADD COLUMN hold_epoch bigint;

-- A sweep's [tpe] search and [prune] rule, as JSON (sweep.Search,
-- sweep.Prune); NULL for grid and random sweeps and without pruning.
ALTER TABLE sweeps ADD COLUMN search text;
ALTER TABLE sweeps ADD COLUMN prune text;
