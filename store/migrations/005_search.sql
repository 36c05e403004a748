-- 005_search: adaptive search, early stopping and reuse (issue #11).
--
-- trial: the 1-based number of the run's configuration in a tpe sweep, in
-- the order the search made them; 0 in grid and random sweeps.
ALTER TABLE runs ADD COLUMN trial INTEGER NOT NULL DEFAULT 0;
-- reused_from: the done run of another sweep, with the same settings and
-- seed, whose epochs (and weights) this run copied instead of training.
ALTER TABLE runs ADD COLUMN reused_from TEXT;
-- hold_epoch: a pending run that reached a rung of its sweep's [prune]
-- rule before its configuration's other seeds waits there (its checkpoint
-- kept) until they arrive and the configuration is judged as a whole;
-- NULL otherwise. Claims skip held runs.
ALTER TABLE runs ADD COLUMN hold_epoch INTEGER;

-- A sweep's [tpe] search and [prune] rule, as JSON (sweep.Search,
-- sweep.Prune); NULL for grid and random sweeps and without pruning.
ALTER TABLE sweeps ADD COLUMN search TEXT;
ALTER TABLE sweeps ADD COLUMN prune TEXT;

-- The runs' status gains 'pruned': stopped early by the sweep's [prune]
-- rule, finished for good with its epochs kept. SQLite cannot alter a
-- CHECK constraint, and rebuilding runs would cascade-delete its epochs
-- and checkpoints (foreign keys are on inside the migration's transaction),
-- so the constraint's text is edited in the schema, the procedure SQLite's
-- documentation gives for changes that leave the stored data valid
-- (https://sqlite.org/lang_altertable.html, "other kinds of table schema
-- changes"): allowing one more value invalidates no row. The migration
-- runner then bumps schema_version so every connection re-reads it.
-- This comes last: ALTER TABLE after it would patch the old text.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''failed'', ''interrupted'')', '''failed'', ''interrupted'', ''pruned'')')
WHERE type = 'table' AND name = 'runs';
PRAGMA writable_schema = OFF;
