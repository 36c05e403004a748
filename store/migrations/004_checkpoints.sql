-- 004_checkpoints: each run's latest checkpoint (the model's state after
-- its last recorded epoch, in the model's safetensors checkpoint format),
-- written in the same transaction as that epoch's metrics. A claimed run
-- resumes from it; a done run keeps it as its trained weights.
CREATE TABLE checkpoints (
	run_id      TEXT    PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	epoch       INTEGER NOT NULL CHECK (epoch >= 1),
	data        BLOB    NOT NULL,
	recorded_at TEXT    NOT NULL
);
