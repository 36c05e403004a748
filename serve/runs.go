package serve

import (
	"cmp"
	"context"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sweep"
	"sweep/reports"
	"sweep/store"
)

// settingParam is the query parameter prefix of a setting filter:
// s.head=classify keeps the runs whose head is classify.
const settingParam = "s."

// runQuery is a runs table or /api/runs request: which runs, in what
// order, which page.
type runQuery struct {
	Sweep    string
	Status   sweep.Status
	Settings [][2]string // setting name and value, in SettingNames order
	Sort     string      // a column key; "" is the store's order
	Desc     bool
	Limit    int
	Offset   int
}

// Column keys besides the settings' names.
const (
	colID      = "id"
	colStatus  = "status"
	colSeed    = "seed"
	colEpochs  = "epochs"
	colSeconds = "train_seconds"
	colStarted = "started"
)

// metricColumns are the final test metrics shown per run.
var metricColumns = []reports.Metric{reports.MetricAccuracy, reports.MetricNLL, reports.MetricR2, reports.MetricSumAccuracy}

func validSortKey(k string) bool {
	switch k {
	case colID, colStatus, colSeed, colEpochs, colSeconds, colStarted:
		return true
	}
	for _, m := range reports.Metrics {
		if string(m) == k {
			return true
		}
	}
	return slices.Contains(reports.SettingNames(), k)
}

// parseRunQuery reads a runs request. sweepName, when not empty, comes
// from the path and wins over a sweep parameter.
func parseRunQuery(q url.Values, sweepName string) (runQuery, error) {
	rq := runQuery{Sweep: sweepName, Limit: DefaultRunPage}
	if rq.Sweep == "" {
		rq.Sweep = q.Get("sweep")
	}
	if st := q.Get("status"); st != "" {
		if !slices.Contains(sweep.Statuses(), sweep.Status(st)) {
			return rq, badRequest("status %q: want one of %s", st, joinStatuses())
		}
		rq.Status = sweep.Status(st)
	}
	names := reports.SettingNames()
	for key := range q {
		if name, ok := strings.CutPrefix(key, settingParam); ok && !slices.Contains(names, name) {
			return rq, badRequest("filter %q: no setting %q (settings: %s)", key, name, strings.Join(names, ", "))
		}
	}
	for _, name := range names {
		if v := q.Get(settingParam + name); v != "" {
			rq.Settings = append(rq.Settings, [2]string{name, v})
		}
	}
	if k := q.Get("sort"); k != "" {
		if !validSortKey(k) {
			return rq, badRequest("sort %q: not a column", k)
		}
		rq.Sort = k
	}
	switch d := q.Get("dir"); d {
	case "", "asc":
	case "desc":
		rq.Desc = true
	default:
		return rq, badRequest("dir %q: want asc or desc", d)
	}
	var err error
	if rq.Limit, err = intParam(q, "limit", DefaultRunPage, 1, MaxRunsPage); err != nil {
		return rq, err
	}
	if rq.Offset, err = intParam(q, "offset", 0, 0, math.MaxInt32); err != nil {
		return rq, err
	}
	return rq, nil
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s %q: want a whole number from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

func joinStatuses() string {
	var s []string
	for _, st := range sweep.Statuses() {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// values renders the query back into URL parameters, for links that keep
// the table's state.
func (rq runQuery) values() url.Values {
	v := url.Values{}
	if rq.Status != "" {
		v.Set("status", string(rq.Status))
	}
	for _, kv := range rq.Settings {
		v.Set(settingParam+kv[0], kv[1])
	}
	if rq.Sort != "" {
		v.Set("sort", rq.Sort)
		if rq.Desc {
			v.Set("dir", "desc")
		}
	}
	if rq.Limit != DefaultRunPage {
		v.Set("limit", strconv.Itoa(rq.Limit))
	}
	if rq.Offset > 0 {
		v.Set("offset", strconv.Itoa(rq.Offset))
	}
	return v
}

// selectRuns returns the sweep's runs (all of them, for the filters'
// choices) and the page of them the query selects, sorted, with the count
// before paging.
func (s *Server) selectRuns(ctx context.Context, rq runQuery) (all, page []sweep.RunResult, total int, err error) {
	all, err = s.src.Runs(ctx, store.RunFilter{Sweep: rq.Sweep})
	if err != nil {
		return nil, nil, 0, err
	}
	var sel []sweep.RunResult
	for _, r := range all {
		if rq.Status != "" && r.Status != rq.Status {
			continue
		}
		keep := true
		for _, kv := range rq.Settings {
			if reports.SettingValue(r.Settings, kv[0]) != kv[1] {
				keep = false
				break
			}
		}
		if keep {
			sel = append(sel, r)
		}
	}
	if rq.Sort != "" {
		slices.SortStableFunc(sel, func(a, b sweep.RunResult) int {
			c := compareKeys(sortKey(a, rq.Sort), sortKey(b, rq.Sort))
			if rq.Desc {
				c = -c
			}
			return c
		})
		// Missing values last whatever the direction.
		slices.SortStableFunc(sel, func(a, b sweep.RunResult) int {
			return cmp.Compare(b2i(sortKey(a, rq.Sort).missing), b2i(sortKey(b, rq.Sort).missing))
		})
	}
	total = len(sel)
	lo := min(rq.Offset, total)
	hi := min(lo+rq.Limit, total)
	return all, sel[lo:hi], total, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// key is a sortable cell: numeric when num is set.
type key struct {
	num     bool
	f       float64
	s       string
	missing bool
}

func compareKeys(a, b key) int {
	if a.num && b.num {
		return cmp.Compare(a.f, b.f)
	}
	return strings.Compare(a.s, b.s)
}

func numKey(v float64) key {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return key{num: true, missing: true}
	}
	return key{num: true, f: v}
}

func sortKey(r sweep.RunResult, k string) key {
	switch k {
	case colID:
		return key{s: r.RunID}
	case colStatus:
		return key{s: string(r.Status)}
	case colSeed:
		return numKey(float64(r.Settings.Seed))
	case colEpochs:
		return numKey(float64(r.EpochsDone))
	case colSeconds:
		return numKey(r.TrainSeconds)
	case colStarted:
		if r.Started.IsZero() {
			return key{missing: true}
		}
		return key{s: r.Started.UTC().Format(time.RFC3339Nano)}
	}
	for _, m := range reports.Metrics {
		if string(m) == k {
			return numKey(finalMetric(r, m))
		}
	}
	v := reports.SettingValue(r.Settings, k)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return numKey(f)
	}
	return key{s: v}
}

// finalMetric is the run's last test value of m, NaN before its first epoch.
func finalMetric(r sweep.RunResult, m reports.Metric) float64 {
	if r.EpochsDone == 0 {
		return math.NaN()
	}
	return m.Of(r.Final)
}

// progress is a sweep's state for the sweeps page and /api/sweeps.
type progress struct {
	Runs        int
	EpochsDone  int
	EpochsTotal int
	// Remaining counts the epochs of runs that a running 'sweep run' will
	// still train: pending, running and interrupted ones.
	Remaining   int
	SecPerEpoch float64 // measured training time per epoch; NaN before any
	ETA         float64 // seconds; NaN when nothing is running or no speed is known
	// Pruning is "pruning saved N of M epochs (P%)" for a sweep with a
	// pruning rule; "" otherwise.
	Pruning string
}

func sweepProgress(info sweep.SweepInfo, runs []sweep.RunResult) progress {
	p := progress{Runs: len(runs), SecPerEpoch: math.NaN(), ETA: math.NaN()}
	for _, r := range runs {
		done := min(r.EpochsDone, r.Settings.Epochs)
		// A pruned run is finished: the epochs it will never train are
		// not left to do, so a sweep with pruned runs can reach 100%.
		if r.Status == sweep.StatusPruned {
			p.EpochsTotal += done
		} else {
			p.EpochsTotal += r.Settings.Epochs
		}
		p.EpochsDone += done
		switch r.Status {
		case sweep.StatusPending, sweep.StatusRunning, sweep.StatusInterrupted:
			p.Remaining += r.Settings.Epochs - done
		}
	}
	if p.EpochsDone > 0 && info.Seconds > 0 {
		p.SecPerEpoch = info.Seconds / float64(p.EpochsDone)
	}
	if info.Prune != nil {
		p.Pruning = reports.PruningText(reports.PruningSavings(runs))
	}
	if running := info.Counts[sweep.StatusRunning]; running > 0 && !math.IsNaN(p.SecPerEpoch) {
		p.ETA = float64(p.Remaining) * p.SecPerEpoch / float64(running)
	}
	return p
}
