package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"sweep"
	"sweep/mnist"
	"sweep/model"
	"sweep/pipeline"
	"sweep/search"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[flags] FILE.toml...", `
Expand the sweep files into runs and train every run that is not done yet,
logging each epoch's train and test metrics to the database: a SQLite
file, or PostgreSQL when --db (or $SWEEP_DB) is a postgres:// URL.

Running the same files again skips finished runs, retries failed and
interrupted ones and adds only new grid points, so an edited sweep file
keeps its old results. Every epoch is recorded with a checkpoint (the
weights and the optimiser's and generators' state), so a run that is
stopped in any way resumes after its last recorded epoch and ends
bit-identical to one that never stopped; a run that failed by diverging
starts again from epoch 1. Ctrl-C stops promptly and marks the runs in
flight interrupted.

Several 'sweep run' processes may share one database: each claims
different runs. A run whose process died is taken over at once if that
process ran on this host (its pid and start time tell), otherwise once
its lease (--lease) has expired. When only runs that other live processes
hold are left, 'sweep run' waits for them, showing who holds each, and
takes over any whose lease runs out: exit status 0 means every run is
finished. --no-wait leaves them to their holders and exits with status 3
(for cluster workers that should stop when there is nothing to claim).

A run whose settings and seed match a done run of another sweep in the
database is not trained: its epochs and weights are copied (reused_from
names the original; --no-reuse trains it). A [tpe] sweep makes its
configurations as it goes, each from the results recorded so far, under
the database's lock, so several processes share one search; a [prune]
rule stops configurations early (status pruned) when their seed-mean
falls behind by more than their seed noise.

All files are validated before anything is written; an invalid file exits
with status 2 and leaves the database as it was. The file format is
described in 'go doc sweep/pipeline' and configs/*.toml.

Example:
  sweep run configs/*.toml
  sweep run -j 1 --db results.db configs/heads.toml
  sweep run -j 1 --threads $SLURM_CPUS_PER_TASK configs/lr.toml
`)
	dbPath := fs.dbFlag()
	jobs := fs.Int("j", defaultJobs(), "runs to train at once in this process (by default one per core, but no more than the runs left to train)")
	threads := fs.Int("threads", 0, "threads per run (0: the cores shared among the runs training, at least 1 each, rebalanced as runs start and finish); results do not depend on it")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files (default: $"+mnist.EnvDir+" or the Go module cache)")
	lease := fs.Duration("lease", time.Minute, "how long a run stays claimed without a heartbeat before another process may take it over")
	noWait := fs.Bool("no-wait", false, "do not wait for runs other live processes hold: exit with status 3 if any are left")
	noReuse := fs.Bool("no-reuse", false, "train runs even when a done run of another sweep has the same settings and seed (by default its epochs are reused)")
	checkpoints := fs.Bool("checkpoints", true, "record a checkpoint with every epoch (resume point, and the final weights for 'sweep export --weights'); false: a stopped run restarts at epoch 1 and the database stays small")
	progressMode := fs.String("progress", "auto", "progress display: auto (a live block on a terminal, log lines otherwise), bar, log or none")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(1, -1); err != nil {
		return err
	}
	if *jobs < 1 {
		return usageError{fmt.Errorf("-j %d: want at least 1", *jobs)}
	}
	if *threads < 0 {
		return usageError{fmt.Errorf("--threads %d: want at least 1 (or 0 for the default)", *threads)}
	}
	jobsSet, threadsSet := false, *threads > 0
	fs.Visit(func(f *flag.Flag) { jobsSet = jobsSet || f.Name == "j" })
	if *lease < 2*time.Second {
		return usageError{fmt.Errorf("--lease %v: want at least 2s", *lease)}
	}
	sweeps, err := pipeline.Load(fs.Args())
	if err != nil {
		return usageError{err}
	}
	prog, err := newProgress(*progressMode, stderr)
	if err != nil {
		return usageError{err}
	}

	db, err := openStore(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var ids []string
	work := map[string]int{} // run id → training samples, for the ETA
	total := 0               // runs when every tpe sweep has all its trials
	bySweep := map[string]*sweep.Sweep{}
	for i, sw := range sweeps {
		if err := db.SaveSweep(ctx, sw); err != nil {
			return err
		}
		bySweep[sw.Name] = &sweeps[i]
		runs := sw.Runs
		if sw.Search != nil {
			// A tpe sweep's runs are those its search has made so far.
			made, err := db.Runs(ctx, sweep.RunFilter{Sweep: sw.Name})
			if err != nil {
				return err
			}
			runs = nil
			for _, m := range made {
				runs = append(runs, sweep.RunSpec{ID: m.RunID, Sweep: sw.Name, Settings: m.Settings})
			}
			total += sw.Search.Trials * sw.Search.Repeats
		} else {
			total += len(runs)
		}
		for _, r := range runs {
			ids = append(ids, r.ID)
			work[r.ID] = r.Settings.Epochs * r.Settings.TrainImages()
		}
	}
	counts, err := db.Counts(ctx, ids)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d sweeps, %d runs: %s; database %s\n", len(sweeps), total, countsText(counts), db.Location())
	if finished(counts) == total {
		fmt.Fprintln(stdout, "nothing to do: every run is finished")
		return nil
	}

	if left := total - finished(counts); !jobsSet && left < *jobs {
		// Fewer runs than cores: each run gets more threads instead.
		*jobs = max(1, left)
	}
	if *threads == 0 {
		*threads = max(1, runtime.NumCPU() / *jobs)
	}
	if threadsSet {
		fmt.Fprintf(stdout, "training %d at a time, %s each\n", *jobs, threadsText(*threads))
	} else {
		fmt.Fprintf(stdout, "training %d at a time, %s each, more when fewer train\n", *jobs, threadsText(*threads))
	}

	train, test, err := loadData(*dataDir)
	if err != nil {
		return err
	}
	r := &runner{
		db:       db,
		owner:    newOwner(),
		lease:    *lease,
		ids:      ids,
		tried:    map[string]bool{},
		train:    train,
		test:     model.TestSplit(test),
		progress: prog,
		threads:  *threads,
		lending:  !threadsSet,
		cores:    &cores{n: runtime.NumCPU()},
		noWait:   *noWait,
		ckpt:     *checkpoints,
		reuse:    !*noReuse,
		sweeps:   bySweep,
	}
	r.reapDead(ctx, r.holdersElsewhere(ctx))
	prog.start(total, finished(counts), work)
	var wg sync.WaitGroup
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
	prog.stop()

	if counts, err = db.Counts(context.Background(), r.allIDs()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "finished: %s (this process: %d done, %d reused, %d pruned, %d failed, %d interrupted); database %s\n",
		countsText(counts), r.done, r.reused, r.pruned, r.failed, r.interrupted, db.Location())
	if r.err != nil {
		return r.err
	}
	if ctx.Err() != nil {
		return runsFailedError{"interrupted: run 'sweep run' with the same files to resume"}
	}
	if n := counts[sweep.StatusRunning]; n > 0 && *noWait {
		return runsHeldError{fmt.Sprintf("%d runs are still held by other processes (--no-wait): see 'sweep runs --status running'", n)}
	}
	bad := 0
	for s, n := range counts {
		if s.Retried() {
			bad += n
		}
	}
	if bad > 0 {
		return runsFailedError{fmt.Sprintf("%d runs failed or were interrupted: see 'sweep runs --status failed' and run again to retry", bad)}
	}
	if n := counts[sweep.StatusPending]; n > 0 {
		return runsFailedError{fmt.Sprintf("%d runs wait at a rung for seeds of their configuration that did not get there: run again", n)}
	}
	return nil
}

// finished counts the runs that are finished for good: done or pruned.
func finished(counts map[sweep.Status]int) int {
	n := 0
	for s, c := range counts {
		if s.Finished() {
			n += c
		}
	}
	return n
}

// threadsText is "1 thread" or "N threads".
func threadsText(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// cores shares a process's cores among the runs it trains: each gets
// n/k of them while k train (the first n mod k one more), so when a worker
// finds nothing left to claim, its core goes to the runs still training.
// A run follows its share at its next step (model.Config.Share); its
// results do not depend on it.
type cores struct {
	n      int
	mu     sync.Mutex
	shares []*model.ThreadShare
}

// add makes a share for a run that starts training and rebalances.
func (c *cores) add() *model.ThreadShare {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := model.NewThreadShare(1)
	c.shares = append(c.shares, s)
	c.rebalance()
	return s
}

// remove drops a run's share when it stops training and rebalances.
func (c *cores) remove(s *model.ThreadShare) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shares = slices.DeleteFunc(c.shares, func(x *model.ThreadShare) bool { return x == s })
	c.rebalance()
}

func (c *cores) rebalance() {
	k := len(c.shares)
	for i, s := range c.shares {
		n := c.n / k
		if i < c.n%k {
			n++
		}
		s.Set(n)
	}
}

// defaultJobs is one run per core: runs side by side use the cores better
// than one run on several (a run on 2 threads is about 1.9× one thread).
func defaultJobs() int { return max(1, runtime.NumCPU()) }

// runner trains claimed runs until none is left.
type runner struct {
	db       sweep.Store
	owner    sweep.Owner
	lease    time.Duration
	ids      []string
	train    *mnist.Set
	test     model.Split
	progress *progress
	threads  int  // per run
	lending  bool // --threads not given: the runs training share the cores (cores)
	cores    *cores
	noWait   bool
	ckpt     bool // record checkpoints
	reuse    bool // finish runs from a done twin's epochs
	sweeps   map[string]*sweep.Sweep

	mu                        sync.Mutex
	tried                     map[string]bool // runs claimed by this process
	heldElsewhere             map[string]bool // runs other processes held at the last look
	busy, idle                int             // workers working; of them, waiting for something to claim
	done, failed, interrupted int
	reused, pruned            int
	err                       error // a store error that stops this process
}

func (r *runner) work(ctx context.Context) {
	r.mu.Lock()
	r.busy++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.busy--
		r.mu.Unlock()
	}()
	for ctx.Err() == nil {
		run, ok, err := r.db.Claim(ctx, r.untried(), r.owner, r.lease)
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err)
			}
			return
		}
		if !ok {
			if r.grow(ctx) || r.waitForHeld(ctx) {
				continue
			}
			return
		}
		r.markTried(run.ID)
		if r.reuse {
			from, err := r.db.Reuse(ctx, run.ID, r.owner)
			if err != nil {
				r.fail(err)
				return
			}
			if from != "" {
				r.progress.reused(run, from)
				r.mu.Lock()
				r.reused++
				r.mu.Unlock()
				continue
			}
		}
		status, errText := r.trainOne(ctx, run)
		if status == sweep.StatusPending {
			// Held at a rung (recorded by Hold): another run goes on.
			r.markUntried(run.ID)
			r.progress.atRung(run, errText)
			continue
		}
		// Record the outcome even when ctx is cancelled. A pruned run's
		// was recorded when its configuration was pruned.
		if err := r.db.Finish(context.Background(), run.ID, r.owner, status, errText); err != nil &&
			!errors.Is(err, sweep.ErrLeaseLost) && !errors.Is(err, sweep.ErrPruned) {
			r.fail(err)
			return
		}
		r.progress.finished(run, status, errText)
		r.mu.Lock()
		switch status {
		case sweep.StatusDone:
			r.done++
		case sweep.StatusPruned:
			r.pruned++
		case sweep.StatusFailed:
			r.failed++
		default:
			r.interrupted++
		}
		r.mu.Unlock()
	}
}

// untried lists the runs this process has not claimed yet, and those
// another process holds: a run that failed here is claimable again, but
// retrying it belongs to the next 'sweep run', not to a loop in this one;
// one held elsewhere is claimed only when its holder is gone.
func (r *runner) untried() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.ids))
	for _, id := range r.ids {
		if !r.tried[id] || r.heldElsewhere[id] {
			out = append(out, id)
		}
	}
	return out
}

// allIDs is every run id of the sweeps, including those tpe searches made.
func (r *runner) allIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// sweepNames lists the names of this process's sweeps that match, sorted,
// so that every process visits them in the same order.
func (r *runner) sweepNames(match func(*sweep.Sweep) bool) []string {
	var names []string
	for name, sw := range r.sweeps {
		if match(sw) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// grow asks each tpe sweep that has fewer configurations than its trials
// for the next one (search.Next over what the database holds, under the
// database's lock) and adds its runs to this process's; it reports whether
// any were made.
func (r *runner) grow(ctx context.Context) bool {
	for _, name := range r.sweepNames(func(sw *sweep.Sweep) bool { return sw.Search != nil }) {
		sw := r.sweeps[name]
		var seen []string
		added, err := r.db.AddRuns(ctx, name, func(existing []sweep.RunResult) ([]sweep.RunSpec, error) {
			seen = seen[:0]
			for _, e := range existing {
				seen = append(seen, e.RunID)
			}
			return search.Next(name, sw.Search, existing)
		})
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err)
			}
			return false
		}
		for _, a := range added {
			seen = append(seen, a.ID)
		}
		// Runs other processes' searches made are this process's too: to
		// claim should their holders die, to wait for, to count.
		if r.addIDs(seen) > 0 {
			return true
		}
	}
	return false
}

// addIDs adds the ids this process does not know yet and says how many.
func (r *runner) addIDs(ids []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range ids {
		if !slices.Contains(r.ids, id) {
			r.ids = append(r.ids, id)
			n++
		}
	}
	return n
}

// waitPoll is how often a waiting 'sweep run' looks at the runs others
// hold.
const waitPoll = time.Second

// waitForHeld is called when nothing is claimable. If other processes
// hold runs of these sweeps, it takes over those of dead local processes
// and otherwise, unless --no-wait, waits a moment showing who holds what;
// it returns true to try claiming again, false when there is nothing left
// to wait for.
func (r *runner) waitForHeld(ctx context.Context) bool {
	held := r.holdersElsewhere(ctx)
	if ctx.Err() != nil {
		return false
	}
	if len(held) == 0 {
		// Another worker of this process may still release runs held at
		// a rung, or make a tpe sweep's next configuration: wait while
		// one is training.
		r.mu.Lock()
		training := r.busy - r.idle - 1
		r.mu.Unlock()
		if training <= 0 {
			return r.finishPruning(ctx)
		}
		return r.pause(ctx)
	}
	if r.reapDead(ctx, held) > 0 {
		return true
	}
	if r.noWait {
		return false
	}
	r.progress.held(held)
	return r.pause(ctx)
}

// pause waits waitPoll as an idle worker; false if ctx ends first.
func (r *runner) pause(ctx context.Context) bool {
	r.mu.Lock()
	r.idle++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.idle--
		r.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return false
	case <-time.After(waitPoll):
		return true
	}
}

// holdersElsewhere lists the runs of these sweeps that other processes
// hold now, and remembers them as claimable should their holders go.
func (r *runner) holdersElsewhere(ctx context.Context) []sweep.Holder {
	hs, err := r.db.Holders(ctx, r.ids)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(err)
		}
		return nil
	}
	var out []sweep.Holder
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heldElsewhere = map[string]bool{}
	for _, h := range hs {
		if h.Owner != r.owner.ID {
			out = append(out, h)
			r.heldElsewhere[h.RunID] = true
		}
	}
	return out
}

// reapDead releases those of held whose processes were on this host and no
// longer exist, so that they are claimed at once instead of after their
// lease; it returns how many it released.
func (r *runner) reapDead(ctx context.Context, held []sweep.Holder) int {
	n := 0
	for _, h := range held {
		if !ownerGone(h.Owner, r.owner.Host) {
			continue
		}
		ok, err := r.db.Release(ctx, h.RunID, h.Owner)
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err)
			}
			return n
		}
		if ok {
			r.progress.reaped(h)
			n++
		}
	}
	return n
}

// markUntried lets this process claim the run again: one held at a rung
// is resumed once its configuration is judged.
func (r *runner) markUntried(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tried, id)
}

func (r *runner) markTried(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tried[id] = true
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// trainOne trains a claimed run, keeping its lease alive, and says how it
// ended.
func (r *runner) trainOne(ctx context.Context, run sweep.RunSpec) (sweep.Status, string) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopBeat := r.heartbeat(runCtx, run.ID, cancel)
	defer stopBeat()

	rec := &runRecorder{r: r, run: run, ctx: runCtx}
	r.progress.started(run)
	cfg := model.Config{Settings: run.Settings, Threads: r.threads, Resume: run.Checkpoint, Checkpoints: r.ckpt}
	if r.lending {
		cfg.Threads, cfg.Share = r.cores.n, r.cores.add()
		defer r.cores.remove(cfg.Share)
	}
	err := model.Train(runCtx, cfg, model.TrainSplit(r.train, run.Settings.Seed), r.test, rec)
	cause := context.Cause(runCtx) // set when the heartbeat gave up
	var held heldError
	switch {
	case err == nil:
		return sweep.StatusDone, ""
	case ctx.Err() != nil:
		return sweep.StatusInterrupted, "interrupted by signal"
	case errors.As(err, &held):
		return sweep.StatusPending, held.reason
	case errors.Is(err, sweep.ErrPruned) || errors.Is(cause, sweep.ErrPruned):
		res, _ := r.db.Run(context.Background(), run.ID)
		return sweep.StatusPruned, res.Error
	case errors.Is(cause, sweep.ErrLeaseLost):
		return sweep.StatusInterrupted, "lease lost to another process"
	case cause != nil:
		return sweep.StatusFailed, "heartbeat: " + cause.Error()
	default:
		return sweep.StatusFailed, err.Error()
	}
}

// heartbeat extends the run's lease every third of its length until the
// returned function is called. Losing the lease cancels the run.
func (r *runner) heartbeat(ctx context.Context, id string, cancel context.CancelCauseFunc) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.db.Heartbeat(context.Background(), id, r.owner, r.lease); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// runRecorder writes each epoch to the store and feeds the progress display.
type runRecorder struct {
	r   *runner
	run sweep.RunSpec
	ctx context.Context
}

func (rr *runRecorder) Batch(epoch, batch, batches int) {
	rr.r.progress.batch(rr.run.ID, epoch, batch, batches)
}

func (rr *runRecorder) Epoch(m sweep.EpochMetrics) error {
	if err := rr.r.db.RecordEpoch(context.Background(), rr.run.ID, rr.r.owner, m); err != nil {
		return fmt.Errorf("record epoch %d: %w", m.Epoch, err)
	}
	rr.r.progress.epoch(rr.run, m)
	return rr.prune(m.Epoch)
}

// prune applies the sweep's [prune] rule after the run recorded epoch, a
// rung (search.Judge, over what the database holds). Until its
// configuration's other seeds get there the run waits (held, training
// stops with a heldError); the last to arrive judges for all: they go on
// (released), pause (ASHA: held, to be promoted as more configurations
// arrive) or stop (median: pruned, sweep.ErrPruned). Then the
// configurations paused at this rung that the new arrival lets through
// are released.
func (rr *runRecorder) prune(epoch int) error {
	sw := rr.r.sweeps[rr.run.Sweep]
	if sw == nil || sw.Prune == nil || !search.RuleOf(sw.Prune).IsRung(epoch, rr.run.Settings.Epochs) {
		return nil
	}
	ctx := context.Background()
	f := sweep.RunFilter{Sweep: sw.Name}
	runs, err := rr.r.db.Runs(ctx, f)
	if err != nil {
		return err
	}
	epochs, err := rr.r.db.Epochs(ctx, f)
	if err != nil {
		return err
	}
	key := sweep.ConfigKey(rr.run.Settings)
	verdict, reason := search.Judge(sw.Prune, key, epoch, runs, epochs)
	for _, p := range search.Promotable(sw.Prune, epoch, runs, epochs, false) {
		if _, err := rr.r.db.Unhold(ctx, sw.Name, p); err != nil {
			return err
		}
		rr.r.progress.note("promote %s configuration %s at epoch %d: now among the best of its rung", sw.Name, p, epoch)
	}
	switch verdict {
	case search.Wait:
		reason = fmt.Sprintf("held at epoch %d until the configuration's other seeds reach it", epoch)
		fallthrough
	case search.Pause:
		if err := rr.r.db.Hold(ctx, rr.run.ID, rr.r.owner, epoch, reason); err != nil {
			return err
		}
		return heldError{reason}
	case search.Stop:
		if _, err := rr.r.db.PruneConfig(ctx, sw.Name, key, reason); err != nil {
			return err
		}
		return sweep.ErrPruned
	}
	_, err = rr.r.db.Unhold(ctx, sw.Name, key)
	return err
}

// finishPruning is called when this process has nothing left to do. For
// each sweep with a [prune] rule in which no run is training or waiting
// to be claimed any more, it promotes, rung by rung, the paused
// configurations that are among the best of their rung now that no more
// will arrive (search.Promotable, final) and reports true so they resume;
// if none is, it prunes every paused configuration and reports false.
func (r *runner) finishPruning(ctx context.Context) bool {
	for _, name := range r.sweepNames(func(sw *sweep.Sweep) bool { return sw.Prune != nil }) {
		sw := r.sweeps[name]
		f := sweep.RunFilter{Sweep: name}
		runs, err := r.db.Runs(ctx, f)
		if err != nil {
			r.fail(err)
			return false
		}
		rungs := map[int]bool{}
		busy := false
		for _, run := range runs {
			switch {
			case run.HoldEpoch > 0:
				rungs[run.HoldEpoch] = true
			case run.Status == sweep.StatusRunning, run.Status == sweep.StatusPending, run.Status == sweep.StatusInterrupted:
				busy = true
			}
		}
		if busy || len(rungs) == 0 {
			continue
		}
		epochs, err := r.db.Epochs(ctx, f)
		if err != nil {
			r.fail(err)
			return false
		}
		promoted := false
		for _, e := range slices.Sorted(maps.Keys(rungs)) {
			for _, key := range search.Promotable(sw.Prune, e, runs, epochs, true) {
				if _, err := r.db.Unhold(ctx, name, key); err != nil {
					r.fail(err)
					return false
				}
				promoted = true
				r.progress.note("promote %s configuration %s: among the best of its rung, which no more configurations will reach", name, key)
			}
		}
		if promoted {
			return true
		}
		// Prune every configuration all of whose runs are paused.
		paused := map[string]int{}
		for _, run := range runs {
			if run.HoldEpoch > 0 {
				paused[sweep.ConfigKey(run.Settings)] = run.HoldEpoch
			}
		}
		// (A diverged seed does not keep its configuration from it.)
		for _, run := range runs {
			if run.HoldEpoch == 0 && !run.Status.Finished() && run.Status != sweep.StatusFailed {
				delete(paused, sweep.ConfigKey(run.Settings))
			}
		}
		for key, e := range paused {
			reason := fmt.Sprintf("paused at epoch %d and never promoted: not among the best of the configurations that reached it", e)
			if _, err := r.db.PruneConfig(ctx, name, key, reason); err != nil {
				r.fail(err)
				return false
			}
			r.progress.note("pruned %s configuration %s: %s", name, key, reason)
		}
	}
	return false
}

// heldError stops training a run held at a rung (sweep.Store.Hold), with
// the reason recorded.
type heldError struct{ reason string }

func (e heldError) Error() string { return "held at a rung: " + e.reason }

// programVersion is the VCS revision the binary was built from, where the
// build recorded it.
func programVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev == "" {
		return bi.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + modified
}

// countsText is "3 done, 1 failed, 2 pending" with zero counts left out.
func countsText(c map[sweep.Status]int) string {
	out := ""
	for _, s := range sweep.Statuses() {
		if c[s] == 0 {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", c[s], s)
	}
	if out == "" {
		return "no runs"
	}
	return out
}
