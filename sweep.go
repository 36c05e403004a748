// Package sweep holds the domain types shared by the sweep tool's packages:
// the settings of one training run and their registry (settings.go: every
// setting's key, type, default, range and meaning, from which files,
// flags, columns and tables derive), the metrics a run produces, the
// results people read back, the run statuses, and the Store and Reader
// interfaces that persist them.
//
// The packages around it each own one dependency: pipeline parses TOML
// sweep files into runs, model trains one run with gorgonia, store keeps
// runs and metrics in SQLite, reports turns results into figures and HTML,
// serve shows them live over HTTP, search holds the adaptive-search and
// early-stopping rules, and safetensors the tensor file format.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits of the data set.
const (
	TrainImages = 60000
	TestImages  = 10000
	SumClasses  = 19 // sums 0..18
)

// TestAddendSeed seeds the random addends of the test split. It is the same
// for every run so that all runs are scored on the same 10,000 test pairs.
const TestAddendSeed = 20261129

// Sweep is one sweep file, parsed and expanded.
type Sweep struct {
	Name        string
	Description string
	File        string     // path as given on the command line
	Source      string     // the file's text, kept with the results
	Hash        string     // hex SHA-256 of Source
	Reference   *Reference // published figures to compare with; nil if none
	Runs        []RunSpec

	// Search is the adaptive search of a [tpe] sweep, whose Runs are
	// then empty: its configurations are made while it runs. nil for
	// grid and random sweeps.
	Search *Search
	// Prune stops configurations early; nil trains every run to the end.
	Prune *Prune
}

// Reference is a published result a sweep sets out to reproduce, such as
// the original notebook's; reports draw it as reference lines.
type Reference struct {
	Label         string  `toml:"label"`          // e.g. "PyTorch notebook"
	Epoch         int     `toml:"epoch"`          // epoch the figures were reported after
	DigitAccuracy float64 `toml:"digit_accuracy"` // fraction in [0, 1]
	SumR2         float64 `toml:"sum_r2"`
}

// RunSpec is one run a sweep asks for.
type RunSpec struct {
	ID       string // RunID(Sweep, Settings)
	Sweep    string
	Settings Settings
	Trial    int // Trial is the 1-based number of the configuration in a tpe sweep, in the order the search made them; 0 in grid and random sweeps

	// Checkpoint, as Claim returns a run, is the checkpoint of an earlier
	// attempt's last recorded epoch (model.Trainer.Checkpoint) to resume
	// from, its epochs kept; nil to start at epoch 1.
	Checkpoint []byte
}

// Status is where a run is in its life.
type Status string

const (
	StatusPending     Status = "pending"     // saved from a sweep file, not started yet
	StatusRunning     Status = "running"     // a process trains it under a lease
	StatusDone        Status = "done"        // trained to the last epoch; never run again
	StatusFailed      Status = "failed"      // stopped by an error; tried again
	StatusInterrupted Status = "interrupted" // stopped by a signal; tried again
	StatusPruned      Status = "pruned"      // stopped early by the sweep's [prune] rule; finished, never run again
)

// Statuses lists every status, in the order tables and counts show them.
// Filters, counts, the report and the database's CHECK constraint all use
// this list (a store test compares the constraint with it).
func Statuses() []Status {
	return []Status{StatusDone, StatusRunning, StatusPending, StatusFailed, StatusInterrupted, StatusPruned}
}

// ZeroCounts returns a count of runs by status with every status present
// at zero, for counts that show the empty ones too.
func ZeroCounts() map[Status]int {
	m := make(map[Status]int, len(Statuses()))
	for _, s := range Statuses() {
		m[s] = 0
	}
	return m
}

// Retried reports whether a run in this status is trained again by the
// next `sweep run` of its sweep.
func (s Status) Retried() bool { return s == StatusFailed || s == StatusInterrupted }

// Ended reports whether a run in this status has stopped training, for good
// or until it is retried.
func (s Status) Ended() bool { return s.Finished() || s.Retried() }

// Finished reports whether a run in this status is complete for good:
// done, or pruned (stopped early on purpose, its epochs kept).
func (s Status) Finished() bool { return s == StatusDone || s == StatusPruned }

// SplitMetrics are one split's metrics after one epoch. For the train split
// they are averaged over the epoch's batches as they trained; for the test
// split they are computed on all 10,000 test pairs after the epoch.
type SplitMetrics struct {
	DigitNLL      float64 `json:"nll"`
	DigitAccuracy float64 `json:"accuracy"`     // fraction in [0, 1]
	SumMSE        float64 `json:"mse"`          // of the sum prediction (classify: of the arg-max class)
	SumR2         float64 `json:"r2"`           // 1 - SSE/SST over the split
	SumAccuracy   float64 `json:"sum_accuracy"` // fraction in [0, 1]
	SumNLL        float64 `json:"sum_nll"`      // classify head only; NaN for regression
	SumPredStd    float64 `json:"sum_pred_std"` // standard deviation of the sum prediction over the split (divisor n); near 0 when the head has collapsed to a constant
	Samples       int     `json:"samples"`
}

// EpochMetrics is what one epoch of one run produced.
type EpochMetrics struct {
	Epoch         int `json:"epoch"` // 1-based
	Train         SplitMetrics
	Test          SplitMetrics
	TrainSeconds  float64 `json:"train_seconds"`   // wall time of the training pass
	EvalSeconds   float64 `json:"eval_seconds"`    // wall time of the test evaluation
	SamplesPerSec float64 `json:"samples_per_sec"` // training samples per second

	// Checkpoint is the run's state after the epoch in the model's
	// checkpoint format (model.Trainer.Checkpoint), when the trainer was
	// asked for one; nil otherwise.
	Checkpoint []byte `json:"-"`
}

// Store keeps sweeps, runs and their metrics: what the training processes
// write and what commands and reports read. Implementations must be safe
// for use by several goroutines and by several processes sharing the same
// database. cmd/sweep uses stores only through this interface.
type Store interface {
	Reader

	// SaveSweep records the sweep (its file text and hash) and adds any of
	// its runs that the store does not have yet as pending. Runs it has
	// keep their state and results.
	SaveSweep(ctx context.Context, sw Sweep) error

	// Claim takes one run among ids that is pending, failed, interrupted,
	// or running with a lease older than now: it marks it running under
	// owner with a lease of the given length and returns it. When an
	// earlier attempt left a checkpoint, the run resumes from it: the
	// epochs up to the checkpoint's stay, later ones are deleted, and
	// RunSpec.Checkpoint holds it; otherwise every epoch of an earlier
	// attempt is deleted. ok is false when none is left.
	Claim(ctx context.Context, ids []string, owner Owner, lease time.Duration) (run RunSpec, ok bool, err error)

	// Heartbeat extends the lease of a run owner holds. It returns
	// ErrLeaseLost when another owner has taken the run over.
	Heartbeat(ctx context.Context, runID string, owner Owner, lease time.Duration) error

	// RecordEpoch writes one epoch's metrics atomically, and with them
	// m.Checkpoint when it is not nil, replacing the run's earlier one.
	RecordEpoch(ctx context.Context, runID string, owner Owner, m EpochMetrics) error

	// Finish ends a run owner holds with status done, failed or
	// interrupted; errText says why for the latter two. A done run keeps
	// its last checkpoint (its trained weights). A run failed with an
	// error that begins "diverged" loses it: it restarts from scratch.
	Finish(ctx context.Context, runID string, owner Owner, status Status, errText string) error

	// Release ends the lease of a run that is still running under the
	// owner with ID ownerID, so that Claim may take it over at once; for
	// an owner known to be dead. ok is false, and nothing changes, when
	// the run is not running under that owner any more.
	Release(ctx context.Context, runID, ownerID string) (ok bool, err error)

	// DropCheckpoints deletes the checkpoints of the runs of sweepName
	// (every sweep if "") whose status is in statuses, and compacts the
	// database where the backend can. It returns how many it deleted and
	// their bytes. Running runs' checkpoints are never deleted.
	DropCheckpoints(ctx context.Context, sweepName string, statuses []Status) (n int, bytes int64, err error)

	// AddRuns is how an adaptive sweep grows: under a lock on the sweep
	// that no other process's AddRuns can hold at the same time, it reads
	// every run of sweepName (with the state and final metrics it has
	// now), calls plan with them, and saves the runs plan returns as
	// pending, in one transaction. It returns them.
	AddRuns(ctx context.Context, sweepName string, plan func(existing []RunResult) ([]RunSpec, error)) ([]RunSpec, error)

	// PruneConfig ends every run of the sweep's configuration (by
	// ConfigKey) that is not finished as pruned, with reason, keeping its
	// epochs and checkpoint; their owners learn it from ErrPruned at their
	// next heartbeat or epoch. It returns how many runs it pruned.
	PruneConfig(ctx context.Context, sweepName, configKey, reason string) (int, error)

	// Hold stops a run owner holds at a rung of its sweep's [prune] rule,
	// to wait for its configuration's other seeds: it becomes pending,
	// keeping its epochs and checkpoint, with hold_epoch = epoch and the
	// reason, and no claim takes it until Unhold. ErrLeaseLost or
	// ErrPruned when owner no longer holds it.
	Hold(ctx context.Context, runID string, owner Owner, epoch int, reason string) error

	// Unhold makes the held runs of the sweep's configuration claimable
	// again (they resume from their checkpoints): it was judged at the
	// rung and goes on. It returns how many it released.
	Unhold(ctx context.Context, sweepName, configKey string) (int, error)

	// Reuse finishes a run owner holds as done with the epochs (and
	// checkpoint) of a done run of another sweep with the same settings
	// and seed, recording that run's id (its source's, if it was itself
	// reused) in reused_from, which it returns. It returns "" and changes
	// nothing when there is no such run.
	Reuse(ctx context.Context, runID string, owner Owner) (from string, err error)
}

// Reader is the reading half of a Store: what `sweep ls`, `runs`, `show`,
// `export` and `report` need.
type Reader interface {
	// Sweeps returns every recorded sweep by name, with run counts for
	// every status (zeros included).
	Sweeps(ctx context.Context) ([]SweepInfo, error)

	// SweepReference returns a sweep's reference figures, or nil if it has
	// none; the error wraps ErrNotFound if there is no such sweep.
	SweepReference(ctx context.Context, name string) (*Reference, error)

	// Runs returns the runs f selects, ordered by sweep, then settings in
	// registry order, then seed.
	Runs(ctx context.Context, f RunFilter) ([]RunResult, error)

	// Run returns the run whose id is idOrPrefix or the only run whose id
	// starts with it; the error wraps ErrNotFound or ErrAmbiguous.
	Run(ctx context.Context, idOrPrefix string) (RunResult, error)

	// Epochs returns the per-epoch metrics of the runs f selects, in the
	// order of Runs, then epoch, train before test.
	Epochs(ctx context.Context, f RunFilter) ([]EpochResult, error)

	// Checkpoint returns a run's latest checkpoint and the epoch it was
	// taken after: a done run's trained weights, or a running or stopped
	// run's last state. The error wraps ErrNotFound when the run has none.
	Checkpoint(ctx context.Context, runID string) (epoch int, data []byte, err error)

	// Counts returns how many of the runs ids are in each status, with
	// every status present.
	Counts(ctx context.Context, ids []string) (map[Status]int, error)

	// Holders lists the runs among ids that are running, with the
	// process holding each and when its lease ends, in id order.
	Holders(ctx context.Context, ids []string) ([]Holder, error)

	// View returns one of the views people query (run_results,
	// epoch_results, config_results) as column names and rows.
	View(ctx context.Context, name string) (cols []string, rows [][]any, err error)

	// Location says where the store is, for messages: a file path, or a
	// URL with any password masked.
	Location() string

	Close() error
}

// RunFilter selects runs. Its zero value selects all runs; each field that
// is set narrows the selection. An empty IDs selects all runs, not none.
type RunFilter struct {
	Sweep  string   // runs of this sweep
	Status Status   // runs in this status
	IDs    []string // runs with these ids
}

// ErrNotFound is returned (wrapped) when a sweep or run does not exist.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned (wrapped) by Reader.Run when a prefix matches
// several runs.
var ErrAmbiguous = errors.New("ambiguous run id prefix")

// Owner says which process trains a run, for leases and for the record.
type Owner struct {
	ID      string // unique per process, e.g. host:pid:random
	Host    string
	Version string // program version (VCS revision where known)
}

// Holder is a running run's claim: who trains it and until when its
// lease holds without a heartbeat.
type Holder struct {
	RunID   string
	Sweep   string
	Owner   string // Owner.ID of the process
	Host    string
	Expires time.Time // zero if the lease was released
}

// ErrLeaseLost is returned when a run's lease was taken over by another owner.
var ErrLeaseLost = fmt.Errorf("lease lost: another process took the run over")

// ErrPruned is returned to the owner of a run that was pruned while it
// trained (PruneConfig): it stops, its epochs are kept.
var ErrPruned = errors.New("pruned: the sweep's [prune] rule stopped the run's configuration")

// RunResult is one run as people read it back: settings, state and the
// final epoch's test metrics.
type RunResult struct {
	Sweep        string
	RunID        string
	Status       Status
	Settings     Settings
	EpochsDone   int
	Final        SplitMetrics // test split, last recorded epoch; zero when EpochsDone is 0
	TrainSeconds float64      // summed over recorded epochs
	Error        string
	Trial        int    // 1-based number of the configuration in a tpe sweep, in the order the search made them; 0 in grid and random sweeps
	ReusedFrom   string // id of the done run of another sweep whose epochs this run reused instead of training; "" if trained
	HoldEpoch    int    // a pending run held at this rung of its sweep's [prune] rule (Store.Hold); 0 if not held
	Host         string
	Version      string
	Started      time.Time // zero until claimed
	Finished     time.Time // zero until done, failed or interrupted
}

// EpochResult is one run's metrics for one epoch and split.
type EpochResult struct {
	Sweep   string
	RunID   string
	Epoch   int
	Split   string // "train" or "test"
	Metrics SplitMetrics
	Seconds float64 // train: training pass; test: evaluation pass
}

// SweepInfo summarises one recorded sweep.
type SweepInfo struct {
	Name        string
	Description string
	File        string
	Source      string
	Hash        string
	UpdatedAt   time.Time
	Counts      map[Status]int // runs by status
	Seconds     float64        // training time summed over all runs
	FirstStart  time.Time      // earliest run start; zero if none
	LastFinish  time.Time      // latest run end; zero if none
	Search      *Search        // the adaptive search of a tpe sweep; nil otherwise
	Prune       *Prune         // the early-stopping rule; nil if none
}
