package model

import (
	"runtime"
	"sync/atomic"
	"time"
)

// workers is a run's small, persistent team of goroutines for the fast
// ops. share(n, align, f) cuts [0, n) into parts and has the workers claim
// them one at a time until none is left: the calling goroutine is worker
// 0 and starts at once, helpers join as soon as they wake, so a helper
// that is slow to get a core (a busy machine) delays the op by one part
// at most. f learns which worker it runs on, to pick that worker's
// scratch.
//
// Determinism: the parts are whole shards of a training step (Trainer),
// or disjoint pieces of an op's OUTPUT (images of a convolution or a pool,
// column blocks of a filter gradient, rows of a product), and every output
// element is computed exactly as the one-thread code does: the same
// kernel, the same order of summation. Only who computes an element
// depends on the number of threads (and on timing), never its value, so a
// run is bit-identical with any number of threads (TestThreads). Nothing
// is reduced across workers: the trainer sums the shards' gradients in
// shard order after the job.
//
// Between jobs a helper spins for a short while (the next op of a step
// usually follows within microseconds) and then parks on a channel, so an
// idle run costs nothing. The helpers stop with close (or when the owner
// is garbage: see NewTrainer).
type workers struct {
	threads int          // workers, the caller included: helpers are threads-1
	limit   atomic.Int32 // how many of them take parts now (setLimit; 1 to threads)
	cur     atomic.Pointer[job]
	gen     atomic.Uint64 // bumped for each job
	stopped atomic.Bool
	helpers []*helper
}

// job is one share: parts parts of [0, n), claimed through next by
// workers below active.
type job struct {
	f                       func(w, lo, hi int)
	n, align, parts, active int
	next, done              atomic.Int32
	finished                chan struct{} // closed by whoever finishes the last part
}

type helper struct {
	parked atomic.Bool
	wake   chan struct{}
}

// spinFor is how long an idle helper watches for the next job before it
// parks, and waitFor how long the caller of share spins for the helpers'
// last parts before it sleeps. Waking a parked thread takes 30 µs to
// several hundred on a virtual machine, and the caller does not wait for
// it (it starts on the parts itself), but a helper that missed a step's
// shards leaves its core idle for that step. A training step's serial
// part between two jobs (the gradient sum, the metrics, the next batch)
// takes about 100 µs, so a helper spinning 1 ms catches every job of a
// training loop, and parks once the run stops sharing work.
const (
	spinFor = 1 * time.Millisecond
	waitFor = 200 * time.Microsecond
)

// partsPerWorker is how many parts share cuts per worker: enough to even
// out uneven progress, few enough that claiming stays cheap.
const partsPerWorker = 4

// newWorkers starts threads-1 helpers (threads < 1 counts as 1).
func newWorkers(threads int) *workers {
	p := &workers{threads: max(1, threads)}
	p.limit.Store(int32(p.threads))
	for w := 1; w < p.threads; w++ {
		h := &helper{wake: make(chan struct{}, 1)}
		p.helpers = append(p.helpers, h)
		go p.loop(w, h)
	}
	return p
}

// n is the number of workers, for sizing per-worker scratch; a nil
// *workers is one (the caller).
func (p *workers) n() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// active is how many workers take parts now.
func (p *workers) active() int {
	if p == nil {
		return 1
	}
	return int(p.limit.Load())
}

// setLimit lets only the first n workers (at least the caller, at most
// all) take parts of the jobs shared from now on; the others stay parked.
// Who takes a part never changes a result, so a run may change its limit
// between any two jobs.
func (p *workers) setLimit(n int) {
	if p != nil {
		p.limit.Store(int32(min(max(1, n), p.threads)))
	}
}

// share runs f over [0, n) in parts of whole blocks of align elements,
// the last part taking the remainder, and returns when all are done. No
// part that is not all of [0, n) is shorter than align, so no kernel sees
// a sliver it would treat differently from a whole block. With one worker
// (or none left) it is f(0, 0, n).
func (p *workers) share(n, align int, f func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	blocks := max(1, n/align)
	active := p.active()
	parts := min(blocks, partsPerWorker*active)
	if active == 1 || parts == 1 || p.stopped.Load() {
		f(0, 0, n)
		return
	}
	j := &job{f: f, n: n, align: align, parts: parts, active: active, finished: make(chan struct{})}
	p.cur.Store(j)
	p.gen.Add(1)
	for _, h := range p.helpers[:active-1] {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	j.work(0)
	// Parts still running on helpers: spin briefly, then sleep until the
	// last one finishes (spinning longer would take the core from a helper
	// that shares it, on a busy machine).
	start := time.Now()
	for i := 1; j.done.Load() != int32(parts); i++ {
		if i%64 == 0 && time.Since(start) > waitFor {
			<-j.finished
			break
		}
	}
	p.cur.Store(nil)
}

// work claims and runs parts of the job until none is left; a worker at
// or beyond the job's active count takes none.
func (j *job) work(w int) {
	if w >= j.active {
		return
	}
	blocks := max(1, j.n/j.align)
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.parts {
			return
		}
		lo := c * blocks / j.parts * j.align
		hi := (c + 1) * blocks / j.parts * j.align
		if c == j.parts-1 {
			hi = j.n
		}
		j.f(w, lo, hi)
		if j.done.Add(1) == int32(j.parts) {
			close(j.finished)
		}
	}
}

func (p *workers) loop(w int, h *helper) {
	var seen uint64 // gen at newWorkers: the first job may come before this goroutine runs
	for {
		// Spin, then park; a job bumps gen before it looks for parked helpers.
		start := time.Now()
		for i := 0; p.gen.Load() == seen; i++ {
			if i%64 != 63 {
				continue
			}
			runtime.Gosched()
			if time.Since(start) < spinFor && w < p.active() {
				continue // a helper beyond the limit parks at once
			}
			h.parked.Store(true)
			if p.gen.Load() != seen && h.parked.CompareAndSwap(true, false) {
				break // a job came in before anyone saw us parked
			}
			<-h.wake // parked (possibly a wake-up is already on its way)
			start = time.Now()
		}
		if p.stopped.Load() {
			return
		}
		seen = p.gen.Load()
		// A job that finished before this helper got here is nil or has
		// no parts left: work returns at once.
		if j := p.cur.Load(); j != nil {
			j.work(w)
		}
	}
}

// close stops the helpers. The workers stay usable, on the calling
// goroutine alone.
func (p *workers) close() {
	if p == nil || !p.stopped.CompareAndSwap(false, true) {
		return
	}
	p.gen.Add(1)
	for _, h := range p.helpers {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
}
