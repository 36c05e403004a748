package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"sweep"
)

// The claim benchmark (issue #9, acceptance 3): workers claim and finish
// every run of a sweep of pending runs, with no training, as fast as they
// can; each Claim's latency is measured. It runs with SWEEP_CLAIM_BENCH=1
// (it is a measurement, not a quick test): SWEEP_CLAIM_BENCH_RUNS sets the
// number of runs (default 10,000).

// Env variables of the benchmark and its child processes.
const (
	benchEnv      = "SWEEP_CLAIM_BENCH"
	benchRunsEnv  = "SWEEP_CLAIM_BENCH_RUNS"
	childDBEnv    = "SWEEP_CLAIM_BENCH_CHILD_DB"
	childOutEnv   = "SWEEP_CLAIM_BENCH_CHILD_OUT"
	childIDsEnv   = "SWEEP_CLAIM_BENCH_CHILD_IDS"
	childOwnerEnv = "SWEEP_CLAIM_BENCH_CHILD_OWNER"
)

// Opener opens the database at loc (a path or URL).
type Opener func(loc string) (sweep.Store, error)

// claimResult is what one worker did.
type claimResult struct {
	Claimed   []string        `json:"claimed"`
	Latencies []time.Duration `json:"latencies"`
	Errors    []string        `json:"errors"`
}

// claimAll claims and finishes runs among ids as owner until none is left.
func claimAll(ctx context.Context, db sweep.Store, ids []string, owner sweep.Owner) claimResult {
	var r claimResult
	for {
		t0 := time.Now()
		run, ok, err := db.Claim(ctx, ids, owner, time.Minute)
		r.Latencies = append(r.Latencies, time.Since(t0))
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
			return r
		}
		if !ok {
			return r
		}
		r.Claimed = append(r.Claimed, run.ID)
		if err := db.Finish(ctx, run.ID, owner, sweep.StatusDone, ""); err != nil {
			r.Errors = append(r.Errors, err.Error())
			return r
		}
	}
}

func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv(benchRunsEnv)); err == nil && n > 0 {
		return n
	}
	return 10000
}

// benchSweep is a sweep of n runs.
func benchSweep(n int) sweep.Sweep {
	return MakeSweep("bench", Seeds(BaseSettings(), n)...)
}

// ClaimBenchmark measures 16 goroutines of this process, then 4 child
// processes (the test binary run again with -test.run=^child$) with one
// claimer each, claiming and finishing the runs of a fresh database that
// newLoc returns. It fails on any claim error and on any run claimed twice
// or not at all, and logs claims per second and the p50 and p99 claim
// latency (the last Claim of each worker, which finds nothing, included).
func ClaimBenchmark(t *testing.T, open Opener, newLoc func(t *testing.T) string, child string) {
	if os.Getenv(benchEnv) != "1" {
		t.Skip("a measurement: run with " + benchEnv + "=1")
	}
	n := benchRuns()
	sw := benchSweep(n)
	ids := IDs(sw)
	prepare := func() string {
		loc := newLoc(t)
		db, err := open(loc)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.SaveSweep(context.Background(), sw); err != nil {
			t.Fatal(err)
		}
		return loc
	}

	// 16 goroutines.
	loc := prepare()
	db, err := open(loc)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]claimResult, 16)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := sweep.Owner{ID: fmt.Sprintf("bench:%d", w), Host: "bench"}
			results[w] = claimAll(context.Background(), db, ids, owner)
		}()
	}
	wg.Wait()
	report(t, "16 goroutines", results, time.Since(start), n)
	db.Close()

	// 4 processes.
	loc = prepare()
	idsFile := filepath.Join(t.TempDir(), "ids.json")
	b, _ := json.Marshal(ids)
	if err := os.WriteFile(idsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmds := make([]*exec.Cmd, 4)
	outs := make([]string, 4)
	for p := range cmds {
		outs[p] = filepath.Join(t.TempDir(), "out.json")
		cmds[p] = exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1")
		cmds[p].Env = append(os.Environ(), childDBEnv+"="+loc, childOutEnv+"="+outs[p],
			childIDsEnv+"="+idsFile, childOwnerEnv+"="+fmt.Sprintf("proc:%d", p))
	}
	start = time.Now()
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v", p, err)
		}
	}
	elapsed := time.Since(start)
	results = make([]claimResult, 4)
	for p := range results {
		b, err := os.ReadFile(outs[p])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &results[p]); err != nil {
			t.Fatal(err)
		}
	}
	report(t, "4 processes", results, elapsed, n)
}

// ClaimBenchChild is the child process of ClaimBenchmark; it skips unless
// started by it.
func ClaimBenchChild(t *testing.T, open Opener) {
	loc := os.Getenv(childDBEnv)
	if loc == "" {
		t.Skip("run by ClaimBenchmark")
	}
	b, err := os.ReadFile(os.Getenv(childIDsEnv))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		t.Fatal(err)
	}
	db, err := open(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner := sweep.Owner{ID: os.Getenv(childOwnerEnv), Host: "bench"}
	r := claimAll(context.Background(), db, ids, owner)
	out, _ := json.Marshal(r)
	if err := os.WriteFile(os.Getenv(childOutEnv), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func report(t *testing.T, what string, results []claimResult, elapsed time.Duration, n int) {
	t.Helper()
	seen := map[string]int{}
	var lat []time.Duration
	for w, r := range results {
		for i, l := range r.Latencies {
			if l > 5*time.Second {
				t.Logf("%s: worker %d: claim %d of %d took %v", what, w, i+1, len(r.Latencies), l.Round(time.Millisecond))
			}
		}
		for _, e := range r.Errors {
			t.Errorf("%s: worker %d: %s", what, w, e)
		}
		for _, id := range r.Claimed {
			seen[id]++
		}
		lat = append(lat, r.Latencies...)
	}
	twice := 0
	for id, k := range seen {
		if k > 1 {
			twice++
			t.Errorf("%s: run %s claimed %d times", what, id, k)
		}
	}
	if len(seen) != n {
		t.Errorf("%s: %d runs claimed, want %d", what, len(seen), n)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	t.Logf("%s: %d claims in %v: %.0f claims/s; claim latency p50 %v, p99 %v, max %v; %d claimed twice",
		what, len(seen), elapsed.Round(time.Millisecond), float64(len(seen))/elapsed.Seconds(),
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond), twice)
}
