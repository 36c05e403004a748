package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
	"sweep/mnist"
)

// Config is everything a training run needs besides its data.
//
// Zero values: Dtype zero means tensor.Float32; EvalBatch 0 means 100
// images per evaluation batch (the evaluation graph has no gradient ops;
// 100 images hold about 4 MB of activations, which stay in cache: batches
// of 250 to 1000 measured 10–20% slower); Threads 0 (or less) means 1.
// Settings has no defaults here: it must pass Settings.Validate.
//
// Threads is how many goroutines the run computes a step with. Results do
// not depend on it: they are bit-identical for any number of threads.
// Share, when not nil, is how many of those Threads the run uses right
// now: its caller may change it while the run trains (sweep run gives the
// cores of workers that ran out of runs to the runs still training), and
// the run follows it at its next step or evaluation.
type Config struct {
	Settings  sweep.Settings
	Dtype     tensor.Dtype
	EvalBatch int
	Threads   int
	Share     *ThreadShare

	// Resume, when not nil, is a checkpoint (Trainer.Checkpoint) of this
	// run to go on from: Train starts at the epoch after it.
	Resume []byte

	// Checkpoints asks Train for a checkpoint after every epoch, in
	// EpochMetrics.Checkpoint.
	Checkpoints bool

	// shards, when not 0, overrides Shards(Settings): tests compare a
	// batch in shards with the same batch in one piece.
	shards int

	// stockOps builds both heads from gorgonia's stock ops (Conv2d,
	// MaxPool2D, Rectify, Mul, BroadcastAdd) instead of the fast ones in
	// ops.go and ops_linear.go, and steps Adam with gorgonia's AdamSolver
	// rather than solver.go's: tests and BenchmarkStockTrainStep compare.
	stockOps bool
}

func (c Config) dtype() tensor.Dtype {
	if c.Dtype == (tensor.Dtype{}) {
		return tensor.Float32
	}
	return c.Dtype
}

func (c Config) evalBatch() int {
	if c.EvalBatch <= 0 {
		return 100
	}
	return c.EvalBatch
}

// ThreadShare is a number of threads that can change while runs use it
// (Config.Share); it is safe for concurrent use.
type ThreadShare struct{ n atomic.Int32 }

// NewThreadShare returns a share of n threads (at least 1).
func NewThreadShare(n int) *ThreadShare {
	s := &ThreadShare{}
	s.Set(n)
	return s
}

// Set changes the share to n threads (at least 1).
func (s *ThreadShare) Set(n int) { s.n.Store(int32(max(1, n))) }

// Threads is the share's current number of threads.
func (s *ThreadShare) Threads() int { return int(s.n.Load()) }

// Split is a data split with one addend digit per image.
type Split struct {
	*mnist.Set
	Addends []byte

	// Partner, when not nil, misaligns the pairs (sweep.PairingShuffled):
	// example i gets the addend and the sum target of example Partner[i],
	// while its image and digit label stay its own.
	Partner []int
}

// partner is the example whose addend and sum example i gets.
func (s Split) partner(i int) int {
	if s.Partner == nil {
		return i
	}
	return s.Partner[i]
}

// Addend is example i's addend.
func (s Split) Addend(i int) byte { return s.Addends[s.partner(i)] }

// Sum is example i's sum target: its digit plus its addend, or, with
// Partner, its partner's.
func (s Split) Sum(i int) byte {
	k := s.partner(i)
	return s.Labels[k] + s.Addends[k]
}

// pairingStream separates the shuffled pairing's generator from the other
// generators seeded by the run's seed.
const pairingStream = 0x9a1e0000 << 32

// shuffledPartners draws the epoch's misaligned pairing of the first n
// examples: a permutation from the run's seed and the epoch number, as a
// second, independently shuffled data loader would give.
func shuffledPartners(partners []int, seed int64, epoch int) {
	for i := range partners {
		partners[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(seed), pairingStream|uint64(epoch)))
	rng.Shuffle(len(partners), func(i, j int) { partners[i], partners[j] = partners[j], partners[i] })
}

// Recorder receives a run's progress. Batch is called after every training
// batch; Epoch after every epoch with its metrics, and an error it returns
// stops training. Either may be a no-op.
type Recorder interface {
	Batch(epoch, batch, batches int)
	Epoch(m sweep.EpochMetrics) error
}

// DivergedError reports a non-finite training loss.
type DivergedError struct {
	Epoch, Batch int
	Loss         float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("diverged at epoch %d, batch %d: loss is %v", e.Epoch, e.Batch, e.Loss)
}

// Train trains one run, from scratch or from the checkpoint in
// Config.Resume: up to Settings.Epochs passes over the first
// Settings.TrainImages() examples of train in an order shuffled from the
// seed and the epoch, each followed by an evaluation on all of test.
// Shuffling drops the last partial batch of each epoch (as PyTorch's
// drop_last does), so every step sees a full batch. With pairing
// "shuffled" the training examples' addends and sums are re-paired every
// epoch (Split.Partner); test stays aligned.
//
// Train returns ctx.Err() promptly when ctx is cancelled, a *DivergedError
// when the loss stops being finite, or the Recorder's error.
func Train(ctx context.Context, cfg Config, train, test Split, rec Recorder) error {
	s := cfg.Settings
	n := s.TrainImages()
	if n > train.Len() {
		return fmt.Errorf("model: train_size %d exceeds the %d training images", n, train.Len())
	}
	if s.BatchSize > n {
		return fmt.Errorf("model: batch_size %d exceeds train_size %d", s.BatchSize, n)
	}
	tr, err := NewTrainer(cfg)
	if err != nil {
		return err
	}
	defer tr.close()
	first := 1
	if cfg.Resume != nil {
		last, err := tr.Restore(cfg.Resume)
		if err != nil {
			return err
		}
		first = last + 1
	}
	batches := n / s.BatchSize
	perm := make([]int, n)
	if s.Pairing == sweep.PairingShuffled {
		train.Partner = make([]int, n)
	}
	for epoch := first; epoch <= s.Epochs; epoch++ {
		epochOrder(perm, s.Seed, epoch)
		tr.startEpoch(epoch)
		if train.Partner != nil {
			shuffledPartners(train.Partner, s.Seed, epoch)
		}
		acc := NewAccumulator(s.Head)
		start := time.Now()
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			loss, err := tr.TrainBatch(train, perm[b*s.BatchSize:(b+1)*s.BatchSize], acc)
			if err != nil {
				return fmt.Errorf("model: epoch %d, batch %d: %w", epoch, b+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return &DivergedError{Epoch: epoch, Batch: b + 1, Loss: loss}
			}
			if rec != nil {
				rec.Batch(epoch, b+1, batches)
			}
		}
		trainSecs := time.Since(start).Seconds()
		start = time.Now()
		testMetrics, err := tr.Evaluate(ctx, test)
		if err != nil {
			return err
		}
		m := sweep.EpochMetrics{
			Epoch:         epoch,
			Train:         acc.Metrics(),
			Test:          testMetrics,
			TrainSeconds:  trainSecs,
			EvalSeconds:   time.Since(start).Seconds(),
			SamplesPerSec: float64(batches*s.BatchSize) / trainSecs,
		}
		if cfg.Checkpoints {
			if m.Checkpoint, err = tr.Checkpoint(epoch); err != nil {
				return err
			}
		}
		if rec != nil {
			if err := rec.Epoch(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// epochOrder fills perm with the epoch's shuffled order, drawn from the
// run's seed and the epoch number alone, so an epoch's order does not
// depend on what ran before it.
func epochOrder(perm []int, seed int64, epoch int) {
	for i := range perm {
		perm[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)))
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
}

// startEpoch restarts the generators that depend on the epoch: dropout's
// masks come from the run's seed, the epoch number and the shard alone,
// like the shuffling order.
func (t *Trainer) startEpoch(epoch int) {
	for i, sh := range t.shards {
		if d := sh.net.trunk.drop; d != nil {
			d.reseed(t.cfg.Settings.Seed, epoch, i)
		}
	}
}

// Trainer owns a run's training graphs and a separate evaluation graph.
//
// A training step is computed in shards (Shards): the batch is cut into
// that many contiguous parts, each with its own graph, tape machine and
// buffers over the same weight tensors, and the shards' gradients are
// summed in shard order, weighted by their share of the batch. The
// shards are what the run's threads share out, so a step's result
// depends on the number of shards, which the settings alone fix, never
// on the number of threads. The evaluation graph has no gradient nodes
// and its own tape machine, so evaluating never touches training state;
// Evaluate copies the current weights across first.
type Trainer struct {
	cfg      Config
	shards   []*shard
	eval     *network
	evalVM   *tape
	solver   G.Solver
	learn    G.Nodes // shard 0's parameter nodes: the weights and the summed gradients
	evalLrn  G.Nodes
	valGrads []G.ValueGrad
	work     *workers // the run's threads: they run the shards, the solver and the evaluation graph's ops
	teams    []*workers
}

// shard is one part of every training step: examples [lo, hi) of the
// batch.
type shard struct {
	lo, hi int
	net    *network
	vm     *tape
	learn  G.Nodes
	work   *workers // threads for this shard's ops
	loss   float64
	err    error
}

// MinShard is the fewest examples a shard of a training step gets, and
// MaxShards the most shards a step is cut into: a step of batch_size
// examples has min(MaxShards, batch_size/MinShard) shards (at least 1),
// and one shard when the sum loss is broadcast_mse (its loss pairs every
// prediction with every target of the batch, across shards). Fewer,
// larger shards cost less per example; more shards let more cores share
// one run.
const (
	MinShard  = 32
	MaxShards = 4
)

// Shards is the number of shards a training step of s is computed in.
func Shards(s sweep.Settings) int {
	if s.SumLoss == sweep.SumLossBroadcastMSE {
		return 1
	}
	return max(1, min(MaxShards, s.BatchSize/MinShard))
}

// NewTrainer builds the graphs with weights initialised from the seed.
func NewTrainer(cfg Config) (*Trainer, error) {
	s := cfg.Settings.Resolved()
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	cfg.Settings = s
	dt := cfg.dtype()
	params, err := newParams(dt, s.Seed, append(trunkParams(s), sumHeadParams(s.Head, s.SumHidden)...))
	if err != nil {
		return nil, err
	}
	threads := max(1, cfg.Threads)
	n := Shards(s)
	if cfg.shards > 0 {
		n = cfg.shards
	}
	if cfg.stockOps {
		n = 1 // the model as gorgonia alone would run it, for comparison
	}
	t := &Trainer{cfg: cfg, work: newWorkers(threads)}
	t.teams = []*workers{t.work}
	for i := range n {
		sh := &shard{lo: i * s.BatchSize / n, hi: (i + 1) * s.BatchSize / n, work: t.work}
		if n > 1 {
			// Threads beyond one per shard help inside the shards' ops.
			sh.work = newWorkers(threads/n + b2i(i < threads%n))
			t.teams = append(t.teams, sh.work)
		}
		// Every shard binds the same weight tensors (params, not a clone).
		if sh.net, err = newNetwork(dt, s, sh.hi-sh.lo, params, true, cfg.stockOps, sh.work); err != nil {
			return nil, err
		}
		sh.learn = sh.net.learnables()
		if _, err := G.Grad(sh.net.loss, sh.learn...); err != nil {
			return nil, fmt.Errorf("model: gradients: %w", err)
		}
		// With gorgonia's stock ops the NaN watch stops the tape at the
		// first NaN: gorgonia's max-pool gradient indexes with -1 on NaN
		// input and panics in a goroutine of its own, which would take the
		// whole process (and every other run in it) down instead of failing
		// one diverged run. The fast ops need no watch (it scans every value
		// the tape computes, about 0.8 ms a step): their max-pool passes a
		// NaN on to the loss and their gradients never index with it.
		vmOpts := []G.VMOpt{G.BindDualValues(sh.learn...)}
		if cfg.stockOps {
			vmOpts = append(vmOpts, G.WithNaNWatch())
		}
		sh.vm = newTape(G.NewTapeMachine(sh.net.g, vmOpts...))
		t.shards = append(t.shards, sh)
	}
	if t.eval, err = newNetwork(dt, s, cfg.evalBatch(), params.Clone(), false, cfg.stockOps, t.work); err != nil {
		return nil, err
	}
	t.learn = t.shards[0].learn
	t.evalLrn = t.eval.learnables()
	t.evalVM = newTape(G.NewTapeMachine(t.eval.g))
	t.solver = newSolver(s, cfg.stockOps, t.work)
	t.valGrads = G.NodesToValueGrads(t.learn)
	// The helpers stop when the run ends (Train) or the Trainer is garbage.
	runtime.AddCleanup(t, closeTeams, t.teams)
	t.follow()
	return t, nil
}

// follow puts Config.Share's number of threads to work, when it changed:
// the first k of the run's workers take parts, and each shard's team gets
// its share of the threads beyond one per shard.
func (t *Trainer) follow() {
	if t.cfg.Share == nil {
		return
	}
	k := min(t.cfg.Share.Threads(), t.work.n())
	if k == t.work.active() {
		return
	}
	t.work.setLimit(k)
	if n := len(t.shards); n > 1 {
		for i, sh := range t.shards {
			sh.work.setLimit(k/n + b2i(i < k%n))
		}
	}
}

// close stops the trainer's helper goroutines.
func (t *Trainer) close() { closeTeams(t.teams) }

func closeTeams(teams []*workers) {
	for _, w := range teams {
		w.close()
	}
}

// TrainBatch takes one optimisation step on the examples idx of split,
// adds their outputs to acc (when not nil) and returns the batch's loss.
func (t *Trainer) TrainBatch(split Split, idx []int, acc *Accumulator) (float64, error) {
	t.follow()
	loss, err := t.forwardBackward(split, idx, acc)
	if err != nil || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, err // the caller reports where; don't poison the weights
	}
	if err := t.solver.Step(t.valGrads); err != nil {
		return loss, fmt.Errorf("solver step: %w", err)
	}
	return loss, nil
}

// forwardBackward runs every shard's forward and backward pass on its
// part of idx, leaves the batch's gradient in shard 0's parameter nodes
// (t.learn) and returns the batch's loss: the shards' losses summed in
// shard order, each weighted by its share of the batch. It adds the
// outputs to acc (when not nil and the loss is finite), in example order.
func (t *Trainer) forwardBackward(split Split, idx []int, acc *Accumulator) (float64, error) {
	if len(idx) != t.cfg.Settings.BatchSize {
		return math.NaN(), fmt.Errorf("batch of %d examples, want batch_size %d", len(idx), t.cfg.Settings.BatchSize)
	}
	t.work.share(len(t.shards), 1, func(_, lo, hi int) {
		for _, sh := range t.shards[lo:hi] {
			sh.loss, sh.err = sh.run(split, idx[sh.lo:sh.hi])
		}
	})
	loss := 0.0
	for _, sh := range t.shards {
		if sh.err != nil {
			return math.NaN(), sh.err
		}
		loss += sh.weight(len(idx)) * sh.loss
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, nil
	}
	if len(t.shards) > 1 {
		if err := t.sumGradients(len(idx)); err != nil {
			return math.NaN(), err
		}
	}
	if acc != nil {
		for _, sh := range t.shards {
			sh.net.accumulate(acc, split, idx[sh.lo:sh.hi], sh.hi-sh.lo)
		}
	}
	return loss, nil
}

// weight is the shard's share of a batch of n examples.
func (sh *shard) weight(n int) float64 { return float64(sh.hi-sh.lo) / float64(n) }

// run is the shard's forward and backward pass on its examples idx; it
// returns the shard's loss (the mean over its examples).
func (sh *shard) run(split Split, idx []int) (float64, error) {
	sh.net.fill(split, idx)
	defer sh.vm.Reset()
	if err := sh.vm.RunAll(); err != nil {
		if strings.Contains(err.Error(), "NaN found in value") { // from WithNaNWatch; gorgonia has no error type for it
			return math.NaN(), nil
		}
		return math.NaN(), fmt.Errorf("forward/backward: %w", err)
	}
	return scalar(sh.net.loss.Value()), nil
}

// sumGradients sets shard 0's gradients to the batch's: the sum over the
// shards, in shard order, of each shard's gradient times its share of
// the batch. The other shards' gradients are zeroed (the tape adds to a
// gradient until a solver step zeroes it, and the solver sees shard 0's
// only).
func (t *Trainer) sumGradients(batch int) error {
	for i, n := range t.learn {
		g0, err := n.Grad()
		if err != nil {
			return fmt.Errorf("model: gradient of %s: %w", n.Name(), err)
		}
		w0 := t.shards[0].weight(batch)
		for _, sh := range t.shards[1:] {
			g, err := sh.learn[i].Grad()
			if err != nil {
				return fmt.Errorf("model: gradient of %s: %w", n.Name(), err)
			}
			switch d := g0.Data().(type) {
			case []float32:
				addScaled(d, g.Data().([]float32), float32(w0), float32(sh.weight(batch)))
			case []float64:
				addScaled(d, g.Data().([]float64), w0, sh.weight(batch))
			default:
				return fmt.Errorf("model: gradient of %s is %T", n.Name(), d)
			}
			w0 = 1 // scaled once, by the first shard added
		}
	}
	return nil
}

// addScaled sets dst = a·dst + b·src and zeroes src. The conversions
// round each product, so no build fuses them into one FMA.
func addScaled[T float](dst, src []T, a, b T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = T(a*dst[i]) + T(b*src[i])
		src[i] = 0
	}
}

// syncEval copies the current weights into the evaluation graph.
func (t *Trainer) syncEval() error {
	for i, n := range t.learn {
		if err := copyInto(t.evalLrn[i].Value(), n.Value()); err != nil {
			return fmt.Errorf("model: copy weights for evaluation: %s: %w", n.Name(), err)
		}
	}
	return nil
}

// Evaluate computes the metrics of the current weights on all of split.
func (t *Trainer) Evaluate(ctx context.Context, split Split) (sweep.SplitMetrics, error) {
	t.follow()
	if err := t.syncEval(); err != nil {
		return sweep.SplitMetrics{}, err
	}
	net := t.eval
	acc := NewAccumulator(t.cfg.Settings.Head)
	idx := make([]int, 0, net.batch)
	for start := 0; start < split.Len(); start += net.batch {
		if err := ctx.Err(); err != nil {
			return sweep.SplitMetrics{}, err
		}
		idx = idx[:0]
		for i := start; i < start+net.batch && i < split.Len(); i++ {
			idx = append(idx, i)
		}
		net.fill(split, idx)
		err := t.evalVM.RunAll()
		t.evalVM.Reset()
		if err != nil {
			return sweep.SplitMetrics{}, fmt.Errorf("model: evaluate: %w", err)
		}
		net.accumulate(acc, split, idx, len(idx))
	}
	return acc.Metrics(), nil
}

// Weights returns the current values of every learnable tensor, trunk
// first, as float64.
func (t *Trainer) Weights() []float64 {
	var out []float64
	for _, n := range t.learn {
		out = append(out, floats(n.Value().Data())...)
	}
	return out
}

// scalar reads a scalar value of either float type.
func scalar(v G.Value) float64 {
	if v == nil {
		return math.NaN()
	}
	return floats(v.Data())[0]
}

func copyInto(dst, src G.Value) error {
	switch d := dst.Data().(type) {
	case []float32:
		s, ok := src.Data().([]float32)
		if !ok || len(s) != len(d) {
			return errors.New("shape or dtype mismatch")
		}
		copy(d, s)
	case []float64:
		s, ok := src.Data().([]float64)
		if !ok || len(s) != len(d) {
			return errors.New("shape or dtype mismatch")
		}
		copy(d, s)
	default:
		return fmt.Errorf("unexpected backing %T", dst.Data())
	}
	return nil
}

// TrainSplit pairs the training images with addends drawn from the run's
// seed, so different seeds see different pairs.
func TrainSplit(set *mnist.Set, seed int64) Split {
	return Split{Set: set, Addends: mnist.Addends(set.Len(), uint64(seed))}
}

// TestSplit pairs the test images with addends drawn from
// sweep.TestAddendSeed: every run is scored on the same pairs.
func TestSplit(set *mnist.Set) Split {
	return Split{Set: set, Addends: mnist.Addends(set.Len(), sweep.TestAddendSeed)}
}
