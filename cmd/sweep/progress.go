package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"sweep"
)

// progress shows what 'sweep run' is doing: per active run its epoch,
// batch and ETA, and overall runs done out of total with an ETA. On a
// terminal it redraws a live block; otherwise (CI, a log file) it prints a
// line per event and a status line every logEvery.
type progress struct {
	mode string // "bar", "log" or "none"
	w    io.Writer

	mu          sync.Mutex
	began       time.Time
	total       int
	doneRuns    int     // runs done, before and during this process
	avgWork     float64 // training samples per run, averaged over the files' runs
	workDone    float64 // samples trained by runs that ended in this process
	active      map[string]*activeRun
	heldRuns    []sweep.Holder  // runs other processes hold, while waiting for them
	heldShown   map[string]bool // held runs already announced in log mode
	drawn       int             // lines of the live block now on screen
	lastLog     time.Time
	stopTicker  chan struct{}
	tickerEnded sync.WaitGroup
}

type activeRun struct {
	label        string
	epochs       int
	samplesPerEp int
	epoch, batch int
	batches      int
	started      time.Time
}

const logEvery = 30 * time.Second

func newProgress(mode string, w io.Writer) (*progress, error) {
	switch mode {
	case "auto":
		mode = "log"
		if isTerminal(w) {
			mode = "bar"
		}
	case "bar", "log", "none":
	default:
		return nil, fmt.Errorf("--progress %q: want auto, bar, log or none", mode)
	}
	return &progress{mode: mode, w: w, active: map[string]*activeRun{}}, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

func (p *progress) start(total, done int, work map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.began, p.lastLog = time.Now(), time.Now()
	p.total, p.doneRuns = total, done
	var sum float64
	for _, n := range work {
		sum += float64(n)
	}
	if len(work) > 0 {
		p.avgWork = sum / float64(len(work))
	}
	if p.mode == "none" {
		return
	}
	p.stopTicker = make(chan struct{})
	p.tickerEnded.Add(1)
	go func() {
		defer p.tickerEnded.Done()
		every := 500 * time.Millisecond
		if p.mode == "log" {
			every = time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stopTicker:
				return
			case <-t.C:
				p.tick()
			}
		}
	}()
}

func (p *progress) stop() {
	if p.stopTicker != nil {
		close(p.stopTicker)
		p.tickerEnded.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearBlock()
}

func (p *progress) started(run sweep.RunSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heldRuns = slices.DeleteFunc(p.heldRuns, func(h sweep.Holder) bool { return h.RunID == run.ID })
	p.active[run.ID] = &activeRun{
		label:        runLabel(run),
		epochs:       run.Settings.Epochs,
		samplesPerEp: run.Settings.TrainImages(),
		epoch:        1,
		started:      time.Now(),
	}
	p.event("start  %s", runLabel(run))
}

func (p *progress) batch(id string, epoch, batch, batches int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.active[id]; a != nil {
		a.epoch, a.batch, a.batches = epoch, batch, batches
	}
}

func (p *progress) epoch(run sweep.RunSpec, m sweep.EpochMetrics) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.event("epoch  %s  %d/%d  test digit acc %.2f%%  sum R² %.4f  sum acc %.2f%%  (%.0f samples/s)",
		runLabel(run), m.Epoch, run.Settings.Epochs, 100*m.Test.DigitAccuracy, m.Test.SumR2, 100*m.Test.SumAccuracy, m.SamplesPerSec)
}

func (p *progress) finished(run sweep.RunSpec, status sweep.Status, errText string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.active[run.ID]; a != nil {
		p.workDone += a.doneSamples()
		delete(p.active, run.ID)
	}
	if status.Finished() {
		p.doneRuns++
	}
	msg := fmt.Sprintf("%-6s %s", status, runLabel(run))
	if errText != "" {
		msg += ": " + errText
	}
	p.event("%s", msg)
}

// held shows the runs other live processes hold while this one waits for
// them: in the live block, and as a log line when a run is first seen held.
func (p *progress) held(hs []sweep.Holder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heldRuns = hs
	if p.heldShown == nil {
		p.heldShown = map[string]bool{}
	}
	for _, h := range hs {
		key := h.RunID + " " + h.Owner
		if !p.heldShown[key] {
			p.heldShown[key] = true
			p.event("wait   %s", holderText(h, time.Now()))
		}
	}
}

// note prints one event line.
func (p *progress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.event(format, args...)
}

// atRung says that a run stopped at a rung, to wait for its configuration's
// other seeds or, paused by ASHA, for a promotion.
func (p *progress) atRung(run sweep.RunSpec, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.active[run.ID]; a != nil {
		p.workDone += a.doneSamples()
		delete(p.active, run.ID)
	}
	p.event("hold   %s: %s", runLabel(run), reason)
}

// reused says that a run was finished from a done twin's epochs.
func (p *progress) reused(run sweep.RunSpec, from string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doneRuns++
	p.event("reused %s: the epochs of done run %s (same settings and seed)", runLabel(run), shortID(from))
}

// reaped says that a dead local process's run was released.
func (p *progress) reaped(h sweep.Holder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.event("takeover %s/%s: its process %s is gone", h.Sweep, shortID(h.RunID), ownerName(h.Owner))
}

// holderText is "sweep/id held by host:pid, lease 48 s".
func holderText(h sweep.Holder, now time.Time) string {
	lease := "lease released"
	if !h.Expires.IsZero() {
		lease = fmt.Sprintf("lease %d s", max(0, int(h.Expires.Sub(now).Seconds()+0.5)))
	}
	return fmt.Sprintf("%s/%s held by %s, %s", h.Sweep, shortID(h.RunID), ownerName(h.Owner), lease)
}

// ownerName is an owner ID's host:pid.
func ownerName(id string) string {
	parts := strings.Split(id, ":")
	if len(parts) >= 3 {
		return strings.Join(parts[:2], ":")
	}
	return id
}

func shortID(id string) string { return id[:min(6, len(id))] }

func (a *activeRun) fraction() float64 {
	if a.batches == 0 {
		return 0
	}
	return (float64(a.epoch-1) + float64(a.batch)/float64(a.batches)) / float64(a.epochs)
}

func (a *activeRun) doneSamples() float64 {
	return a.fraction() * float64(a.epochs*a.samplesPerEp)
}

// event prints one line above the live block, or as a log line.
func (p *progress) event(format string, args ...any) {
	switch p.mode {
	case "none":
		return
	case "bar":
		p.clearBlock()
		fmt.Fprintf(p.w, format+"\n", args...)
		p.drawBlock()
	default:
		fmt.Fprintf(p.w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}

func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "bar":
		p.clearBlock()
		p.drawBlock()
	case "log":
		if time.Since(p.lastLog) < logEvery {
			return
		}
		p.lastLog = time.Now()
		for _, line := range p.lines() {
			fmt.Fprintf(p.w, "%s %s\n", time.Now().Format("15:04:05"), strings.TrimSpace(line))
		}
	}
}

// lines renders the status: an overall line, then one per active run.
func (p *progress) lines() []string {
	inFlight := 0.0
	for _, a := range p.active {
		inFlight += a.doneSamples()
	}
	eta := "ETA unknown"
	if trained := p.workDone + inFlight; trained > 0 {
		rate := trained / time.Since(p.began).Seconds()
		remaining := float64(p.total-p.doneRuns)*p.avgWork - inFlight
		eta = "ETA " + shortDuration(time.Duration(remaining/rate*float64(time.Second)))
	}
	out := []string{fmt.Sprintf("%s %d/%d runs done · %s", bar(float64(p.doneRuns)/float64(max(p.total, 1)), 24), p.doneRuns, p.total, eta)}
	ids := make([]string, 0, len(p.active))
	for id := range p.active {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := p.active[id]
		runETA := "…"
		if f := a.fraction(); f > 0 {
			el := time.Since(a.started)
			runETA = shortDuration(time.Duration(float64(el) * (1 - f) / f))
		}
		where := fmt.Sprintf("batch %d/%d", a.batch, a.batches)
		if a.batches > 0 && a.batch == a.batches {
			where = "evaluating on the test set"
		}
		out = append(out, fmt.Sprintf("  %s  epoch %d/%d  %s  ETA %s", a.label, a.epoch, a.epochs, where, runETA))
	}
	for _, h := range p.heldRuns {
		out = append(out, "  "+holderText(h, time.Now()))
	}
	return out
}

func (p *progress) drawBlock() {
	lines := p.lines()
	for _, l := range lines {
		fmt.Fprintf(p.w, "\x1b[2K%s\n", l)
	}
	p.drawn = len(lines)
}

func (p *progress) clearBlock() {
	if p.mode != "bar" || p.drawn == 0 {
		return
	}
	fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
	p.drawn = 0
}

func bar(frac float64, width int) string {
	n := int(frac*float64(width) + 0.5)
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// runLabel names a run compactly: sweep/id, its main settings and the
// later ones it sets.
func runLabel(r sweep.RunSpec) string {
	s := r.Settings
	opt := fmt.Sprintf("%s lr=%g", s.Optimizer, s.LR)
	if s.Optimizer == sweep.OptimizerSGD && s.Momentum != 0 {
		opt += fmt.Sprintf(" m=%g", s.Momentum)
	}
	// The later settings (sweep.Setting.Later) show when they are not at
	// their defaults.
	for _, d := range sweep.SettingDefs() {
		if d.Later && !d.IsDefault(d.Value(s)) {
			opt += " " + d.Key + "=" + d.Text(s)
		}
	}
	return fmt.Sprintf("%s/%s %s h=%d w=%g/%g %s seed=%d", r.Sweep, r.ID[:min(6, len(r.ID))], s.Head, s.SumHidden, s.DigitWeight, s.SumWeight, opt, s.Seed)
}
