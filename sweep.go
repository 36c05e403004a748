// Package sweep holds the domain types shared by the sweep tool's packages:
// the settings of one training run, the metrics it produces, the results
// people read back, and the Store interface that persists them.
//
// The packages around it each own one dependency: pipeline parses TOML sweep
// files into runs, model trains one run with gorgonia, store keeps runs and
// metrics in SQLite, and reports turns results into figures and HTML.
package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Head is the form of the sum head.
type Head string

const (
	// HeadRegression predicts the sum with one linear output trained with MSE.
	HeadRegression Head = "regression"
	// HeadClassify predicts the sum as one of 19 classes (0–18) trained with NLL.
	HeadClassify Head = "classify"
)

// Optimizer names the gradient-descent variant.
type Optimizer string

const (
	OptimizerAdam Optimizer = "adam"
	OptimizerSGD  Optimizer = "sgd" // with Settings.Momentum
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

// Settings are the resolved settings of one training run. Every field is an
// explicit input; nothing is read from globals.
//
// Zero values: Head "" is not valid (pipeline fills a default); SumHidden 0
// means the sum head is a single linear layer, as in the original notebook;
// DigitWeight or SumWeight 0 drops that loss term (not both); Momentum 0 is
// plain SGD; TrainSize 0 means all 60,000 training images; Seed 0 is a valid
// seed. BatchSize, Epochs and LR must be positive.
type Settings struct {
	Head        Head      `json:"head"`
	SumHidden   int       `json:"sum_hidden"`
	DigitWeight float64   `json:"digit_weight"`
	SumWeight   float64   `json:"sum_weight"`
	Optimizer   Optimizer `json:"optimizer"`
	LR          float64   `json:"lr"`
	Momentum    float64   `json:"momentum"`
	BatchSize   int       `json:"batch_size"`
	Epochs      int       `json:"epochs"`
	TrainSize   int       `json:"train_size"`
	Seed        int64     `json:"seed"`
}

// TrainImages returns how many training images the run uses.
func (s Settings) TrainImages() int {
	if s.TrainSize == 0 {
		return TrainImages
	}
	return s.TrainSize
}

// Validate reports the first setting that cannot be trained.
func (s Settings) Validate() error {
	switch {
	case s.Head != HeadRegression && s.Head != HeadClassify:
		return fmt.Errorf("head %q: want %q or %q", s.Head, HeadRegression, HeadClassify)
	case s.Optimizer != OptimizerAdam && s.Optimizer != OptimizerSGD:
		return fmt.Errorf("optimizer %q: want %q or %q", s.Optimizer, OptimizerAdam, OptimizerSGD)
	case !(s.LR > 0) || math.IsInf(s.LR, 0):
		return fmt.Errorf("lr %v: must be > 0", s.LR)
	case s.DigitWeight < 0 || math.IsNaN(s.DigitWeight) || math.IsInf(s.DigitWeight, 0):
		return fmt.Errorf("digit_weight %v: must be >= 0", s.DigitWeight)
	case s.SumWeight < 0 || math.IsNaN(s.SumWeight) || math.IsInf(s.SumWeight, 0):
		return fmt.Errorf("sum_weight %v: must be >= 0", s.SumWeight)
	case s.DigitWeight == 0 && s.SumWeight == 0:
		return fmt.Errorf("digit_weight and sum_weight are both 0: nothing to train")
	case s.Momentum < 0 || s.Momentum >= 1 || math.IsNaN(s.Momentum):
		return fmt.Errorf("momentum %v: must be in [0, 1)", s.Momentum)
	case s.SumHidden < 0:
		return fmt.Errorf("sum_hidden %d: must be >= 0", s.SumHidden)
	case s.BatchSize < 1:
		return fmt.Errorf("batch_size %d: must be >= 1", s.BatchSize)
	case s.Epochs < 1:
		return fmt.Errorf("epochs %d: must be >= 1", s.Epochs)
	case s.TrainSize < 0 || s.TrainSize > TrainImages:
		return fmt.Errorf("train_size %d: must be between 1 and %d", s.TrainSize, TrainImages)
	}
	return nil
}

// canonical is the settings in a fixed, versioned text form: the input of
// RunID. Floats use the shortest exact representation so 0.1 and 0.10
// hash alike.
func (s Settings) canonical() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return strings.Join([]string{
		"v1",
		"head=" + string(s.Head),
		"sum_hidden=" + strconv.Itoa(s.SumHidden),
		"digit_weight=" + f(s.DigitWeight),
		"sum_weight=" + f(s.SumWeight),
		"optimizer=" + string(s.Optimizer),
		"lr=" + f(s.LR),
		"momentum=" + f(s.Momentum),
		"batch_size=" + strconv.Itoa(s.BatchSize),
		"epochs=" + strconv.Itoa(s.Epochs),
		"train_size=" + strconv.Itoa(s.TrainImages()),
		"seed=" + strconv.FormatInt(s.Seed, 10),
	}, "\n")
}

// RunID is a run's identity: a hash of the sweep name and every resolved
// setting including the seed. The same point of the same sweep always gets
// the same ID, so re-running a sweep file finds the runs it already has.
func RunID(sweepName string, s Settings) string {
	h := sha256.Sum256([]byte("sweep=" + sweepName + "\n" + s.canonical()))
	return hex.EncodeToString(h[:6])
}

// ConfigKey identifies a configuration: the settings without the seed.
// Repeats of one configuration share it.
func ConfigKey(s Settings) string {
	s.Seed = 0
	h := sha256.Sum256([]byte(s.canonical()))
	return hex.EncodeToString(h[:6])
}

// Sweep is one sweep file, parsed and expanded.
type Sweep struct {
	Name        string
	Description string
	File        string     // path as given on the command line
	Source      string     // the file's text, kept with the results
	Hash        string     // hex SHA-256 of Source
	Reference   *Reference // published figures to compare with; nil if none
	Runs        []RunSpec
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
}

// Status is where a run is in its life.
type Status string

const (
	StatusPending     Status = "pending"
	StatusRunning     Status = "running"
	StatusDone        Status = "done"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

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
}

// Store keeps sweeps, runs and their metrics. Implementations must be safe
// for use by several goroutines and by several processes on the same file.
type Store interface {
	// SaveSweep records the sweep (its file text and hash) and adds any of
	// its runs that the store does not have yet as pending. Runs it has
	// keep their state and results.
	SaveSweep(ctx context.Context, sw Sweep) error

	// Claim takes one run among ids that is pending, failed, interrupted,
	// or running with a lease older than now: it marks it running under
	// owner with a lease of the given length, clears any partial epochs of
	// an earlier attempt, and returns it. ok is false when none is left.
	Claim(ctx context.Context, ids []string, owner Owner, lease time.Duration) (run RunSpec, ok bool, err error)

	// Heartbeat extends the lease of a run owner holds. It returns
	// ErrLeaseLost when another owner has taken the run over.
	Heartbeat(ctx context.Context, runID string, owner Owner, lease time.Duration) error

	// RecordEpoch writes one epoch's metrics atomically.
	RecordEpoch(ctx context.Context, runID string, owner Owner, m EpochMetrics) error

	// Finish ends a run owner holds with status done, failed or
	// interrupted; errText says why for the latter two.
	Finish(ctx context.Context, runID string, owner Owner, status Status, errText string) error

	Close() error
}

// Owner says which process trains a run, for leases and for the record.
type Owner struct {
	ID      string // unique per process, e.g. host:pid:random
	Host    string
	Version string // program version (VCS revision where known)
}

// ErrLeaseLost is returned when a run's lease was taken over by another owner.
var ErrLeaseLost = fmt.Errorf("lease lost: another process took the run over")

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

// ConfigResult aggregates the finished repeats of one configuration.
type ConfigResult struct {
	Sweep      string
	Settings   Settings // Seed is the first repeat's seed
	Runs       int
	AccMean    float64
	AccStd     float64
	R2Mean     float64
	R2Std      float64
	SumAccMean float64
	SumAccStd  float64
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
}
