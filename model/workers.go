package model

import (
	"runtime"
	"sync/atomic"
	"time"
)

// workers is a run's small, persistent team of goroutines for the fast
// ops: run(f) calls f(0) … f(threads-1) at once, f(0) on the calling
// goroutine, and returns when all have returned.
//
// Determinism: the ops give each worker a fixed, disjoint part of their
// OUTPUT (images of a convolution or a pool, column blocks of a filter
// gradient) and compute every output element exactly as the one-thread
// code does: the same kernel, the same order of summation. Only who
// computes an element depends on the number of threads, never its value,
// so a run is bit-identical with any number of threads (TestThreads).
// Nothing is reduced across workers.
//
// Between jobs a helper spins for a short while (the next op of the step
// usually follows within microseconds) and then parks on a channel, so an
// idle run costs nothing; a parked helper is woken by the next job. The
// helpers stop with close (or when the owner is garbage: see newWorkers).
type workers struct {
	threads int
	job     func(w int)
	gen     atomic.Uint64 // bumped for each job
	pending atomic.Int32  // helpers still running the current job
	stopped atomic.Bool
	helpers []*helper
}

type helper struct {
	parked atomic.Bool
	wake   chan struct{}
}

// spinFor is how long an idle helper watches for the next job before it
// parks: longer than the serial stretches inside a step (the loss, the
// small layers), far shorter than anything a person would notice.
const spinFor = 200 * time.Microsecond

// newWorkers starts threads-1 helpers (threads < 1 counts as 1).
func newWorkers(threads int) *workers {
	p := &workers{threads: max(1, threads)}
	for w := 1; w < p.threads; w++ {
		h := &helper{wake: make(chan struct{}, 1)}
		p.helpers = append(p.helpers, h)
		go p.loop(w, h)
	}
	return p
}

// n is the number of workers; a nil *workers is one (the caller).
func (p *workers) n() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// run calls f(w) for every worker w and waits for all of them.
func (p *workers) run(f func(w int)) {
	if p.n() == 1 || p.stopped.Load() {
		for w := 0; w < p.n(); w++ {
			f(w)
		}
		return
	}
	p.job = f
	p.pending.Store(int32(len(p.helpers)))
	p.gen.Add(1) // publishes job
	for _, h := range p.helpers {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	f(0)
	for i := 0; p.pending.Load() != 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	p.job = nil
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
			if time.Since(start) < spinFor {
				continue
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
		p.job(w)
		p.pending.Add(-1)
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

// span is worker w's share of [0, n) in blocks of align elements, the
// last worker's part taking the remainder: contiguous, in order, disjoint,
// together all of [0, n). Every part that is not empty is at least align
// long or all of [0, n), so no worker gets a sliver that a kernel would
// treat differently from a whole block.
func (p *workers) span(w, n, align int) (lo, hi int) {
	blocks := max(1, n/align)
	t := p.n()
	lo, hi = min(n, w*blocks/t*align), min(n, (w+1)*blocks/t*align)
	if w == t-1 {
		hi = n
	}
	return lo, hi
}
