package sweep

import (
	"context"
	"time"
)

// Importer is what `sweep copy` needs of a database besides Store: every
// sweep, run, epoch and checkpoint exactly as stored, and a way to insert
// them as they are. Both backends (store for SQLite, postgres for PostgreSQL)
// implement it.
type Importer interface {
	// Dump returns everything the database holds, in one consistent
	// snapshot: sweeps by name, runs in the order they were first saved,
	// epochs by run (in that order), epoch, train before test.
	Dump(ctx context.Context) (Dump, error)

	// Import inserts d's sweeps and runs, in d's order, with their state,
	// epochs and checkpoints, in one transaction, and says what it
	// changed. It is idempotent by run id: a run the database does not
	// have is inserted; a run it has is left alone unless it is finished
	// (done or pruned) in d and not here, in which case its state, epochs
	// and checkpoint are replaced by d's; a run finished here keeps its
	// results. A sweep the database does not have
	// is inserted; one it has keeps its row.
	Import(ctx context.Context, d Dump) (ImportStats, error)
}

// Dump is a database's contents, as stored.
type Dump struct {
	Sweeps      []SweepRecord
	Runs        []RunRecord
	Epochs      []EpochRecord
	Checkpoints []CheckpointRecord // in the runs' order
}

// CheckpointRecord is one row of the checkpoints table: a run's latest
// checkpoint (its trained weights when it is done).
type CheckpointRecord struct {
	RunID    string
	Epoch    int
	Data     []byte
	Recorded time.Time
}

// SweepRecord is one row of the sweeps table.
type SweepRecord struct {
	Name, Description, File, Source, Hash string
	Reference                             *Reference // nil if none
	Search                                *Search    // a tpe sweep's search; nil if none
	Prune                                 *Prune     // nil if none
	Created, Updated                      time.Time
}

// RunRecord is one run with its whole state (Spec.Trial included). Times
// are zero, strings empty and HoldEpoch 0 when NULL; LeaseSeconds is NaN
// when NULL.
type RunRecord struct {
	Spec         RunSpec
	ConfigKey    string
	Status       Status
	Attempts     int
	EpochsDone   int
	Owner        string
	Host         string
	Version      string
	LeaseSeconds float64
	LeaseExpires time.Time
	Created      time.Time
	Started      time.Time
	Finished     time.Time
	Error        string
	ReusedFrom   string
	HoldEpoch    int
}

// EpochRecord is one row of the epochs table. NaN metrics, seconds and
// rates stand for NULL.
type EpochRecord struct {
	RunID         string
	Epoch         int
	Split         string // "train" or "test"
	Metrics       SplitMetrics
	Seconds       float64
	SamplesPerSec float64 // NaN on test rows
	Recorded      time.Time
}

// ImportStats says what Import changed.
type ImportStats struct {
	Sweeps   int // sweeps inserted
	Runs     int // runs inserted
	Replaced int // runs not finished here replaced by a finished run of the dump
	Epochs   int // epoch rows written

	Checkpoints int // checkpoints written
}
