//go:build load

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep"
	"sweep/store"
)

// TestServeLoad is issue #12's acceptance 2, run by hand (it takes about a
// minute and wants a quiet machine):
//
//	go test -tags load ./cmd/sweep -run TestServeLoad -v
//
// On a 500-run × 10-epoch database it measures, three times (without a
// server; with a 'sweep serve' process answering 50 clients that poll
// every 500 ms; and 50 clients that ask as fast as they can), the commit time of an epoch written through the store as
// 'sweep run' writes it (one every 100 ms, far more often than real
// training), while a real 'sweep run' process trains a tiny sweep into
// the same file (its wall time is reported too). With the server it
// reports each endpoint's p50/p99 latency: the 500-run sweep's pages (it
// does not change: they are served from the cache after the first
// computation) and those of the sweep being written (recomputed after
// each change, at most every 500 ms), and how soon after a commit a
// client polling the run's epochs saw it. The test process (clients and
// writer), the server and the trainer share the machine's cores.
func TestServeLoad(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "big.db")
	start := time.Now()
	syntheticDB(t, db, 500, 10)
	t.Logf("500 runs × 10 epochs written in %v", time.Since(start).Round(time.Millisecond))
	const phase = 12 * time.Second

	// base is the server's URL once it runs; fresh collects, with a
	// server, how long after a commit a client first saw the new epoch in
	// /api/runs/ID/epochs (polling it every 50 ms).
	var base string
	var fresh []time.Duration
	measure := func(name string, extra func(ctx context.Context)) (commits []time.Duration, trainWall time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), phase)
		defer cancel()
		var wg sync.WaitGroup
		if extra != nil {
			wg.Add(1)
			go func() { defer wg.Done(); extra(ctx) }()
		}
		// A real 'sweep run' trains a tiny sweep into the same file.
		toml := writeFile(t, dir, name+".toml", tinySweep("train-"+name, "[grid]\nhead = [\"regression\", \"classify\"]\nsum_weight = [0.5, 1, 2]\n"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			out, err := exec.Command(bin, "run", "--db", db, "--progress", "none", toml).CombinedOutput()
			trainWall = time.Since(s)
			if err != nil {
				t.Errorf("sweep run: %v\n%s", err, out)
			}
		}()
		var committed func(string, int, time.Time)
		if base != "" {
			type commit struct {
				id    string
				epoch int
				at    time.Time
			}
			ch := make(chan commit, 1)
			committed = func(id string, e int, at time.Time) {
				select {
				case ch <- commit{id, e, at}:
				default: // the watcher is busy with an earlier one
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					var c commit
					select {
					case c = <-ch:
					case <-ctx.Done():
						return
					}
					want := fmt.Sprintf(`"epoch": %d,`, c.epoch)
					for ctx.Err() == nil {
						resp, err := http.Get(base + "/api/runs/" + c.id + "/epochs")
						if err == nil {
							b, _ := io.ReadAll(resp.Body)
							resp.Body.Close()
							if strings.Contains(string(b), want) {
								fresh = append(fresh, time.Since(c.at))
								break
							}
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			}()
		}
		commits = writeEpochs(t, ctx, db, "live", committed)
		wg.Wait()
		return commits, trainWall
	}

	alone, trainAlone := measure("alone", nil)

	// The server, as a separate process, and 50 clients.
	srv := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no URL in %q", line)
	}
	base = m[1]
	ro, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ro.Runs(context.Background(), store.RunFilter{Sweep: "big"})
	ro.Close()
	if err != nil {
		t.Fatal(err)
	}
	id := runs[137].RunID
	endpoints := []string{
		"/api/sweeps",
		"/api/runs?sweep=big",
		"/api/runs/" + id + "/epochs",
		"/",
		"/sweeps/big?sort=test_r2&dir=desc",
		"/runs/" + id,
		"/compare?sweep=big",
		"/sweeps/big/overview",
		"/sweeps/live?sort=test_r2&dir=desc",
		"/api/runs?sweep=live",
		"/compare?sweep=live",
	}
	// One client alone, before the load: a cache miss, then a hit.
	for _, ep := range endpoints {
		var d [2]time.Duration
		for i := range d {
			s := time.Now()
			resp, err := http.Get(base + ep)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d[i] = time.Since(s)
		}
		t.Logf("alone: %-40s miss %8s  hit %8s", ep, quantile(d[:1], 100), quantile(d[1:], 100))
	}

	type result struct {
		lat      map[string][]time.Duration
		failures map[string]int
	}
	// clients returns a load of 50 clients that each GET the endpoints in
	// turn, waiting every between requests (0: as fast as they can).
	clients := func(every time.Duration, res *result) func(ctx context.Context) {
		res.lat, res.failures = map[string][]time.Duration{}, map[string]int{}
		return func(ctx context.Context) {
			var mu sync.Mutex
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var wg sync.WaitGroup
			for c := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Spread the first requests over the interval.
					time.Sleep(time.Duration(c) * every / 50)
					for i := c; ctx.Err() == nil; i++ {
						ep := endpoints[i%len(endpoints)]
						s := time.Now()
						resp, err := client.Get(base + ep)
						ok := err == nil
						if ok {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							ok = resp.StatusCode == 200
						}
						d := time.Since(s)
						mu.Lock()
						if ok {
							res.lat[ep] = append(res.lat[ep], d)
						} else if ctx.Err() == nil {
							res.failures[ep]++
						}
						mu.Unlock()
						if every > 0 {
							select {
							case <-ctx.Done():
							case <-time.After(every - d%every):
							}
						}
					}
				}()
			}
			wg.Wait()
		}
	}
	var polling, flat result
	cpu0 := cpuSeconds(t, srv.Process.Pid)
	polled, trainPolled := measure("polled", clients(500*time.Millisecond, &polling))
	cpu1 := cpuSeconds(t, srv.Process.Pid)
	freshPolled := fresh
	fresh = nil
	saturated, trainSaturated := measure("saturated", clients(0, &flat))
	cpu2 := cpuSeconds(t, srv.Process.Pid)
	freshSaturated := fresh
	t.Logf("new epoch visible in /api/runs/ID/epochs after its commit: polled %s; saturated %s", summary(freshPolled), summary(freshSaturated))
	t.Logf("server CPU: %.2f s in the %v polled phase, %.2f s in the saturated one", cpu1-cpu0, phase, cpu2-cpu1)

	t.Logf("epoch commit (RecordEpoch every 100 ms) without server:             %s; 'sweep run' of 36 tiny epochs: %v", summary(alone), trainAlone.Round(10*time.Millisecond))
	t.Logf("epoch commit, 'sweep serve' + 50 clients polling every 500 ms:      %s; 'sweep run' of 36 tiny epochs: %v", summary(polled), trainPolled.Round(10*time.Millisecond))
	t.Logf("epoch commit, 'sweep serve' + 50 clients as fast as they can:       %s; 'sweep run' of 36 tiny epochs: %v", summary(saturated), trainSaturated.Round(10*time.Millisecond))
	for _, r := range []struct {
		name string
		res  result
	}{{"50 clients polling every 500 ms", polling}, {"50 clients as fast as they can", flat}} {
		t.Logf("%s:", r.name)
		t.Logf("  %-38s %8s %8s %8s %8s", "endpoint", "requests", "p50", "p99", "max")
		total := 0
		for _, ep := range endpoints {
			ds := r.res.lat[ep]
			total += len(ds)
			slices.Sort(ds)
			t.Logf("  %-38s %8d %8s %8s %8s", ep, len(ds), quantile(ds, 50), quantile(ds, 99), quantile(ds, 100))
			if r.res.failures[ep] > 0 {
				t.Errorf("%s: %d failed requests", ep, r.res.failures[ep])
			}
		}
		t.Logf("  %d requests in %v: %.0f/s", total, phase, float64(total)/phase.Seconds())
	}
}

// writeEpochs records one epoch every 100 ms into a sweep of 40 runs × 10
// epochs (the runs left from an earlier call first) until ctx ends, through its own store handle, and returns
// each commit's duration. committed, if not nil, is told of each commit.
func writeEpochs(t *testing.T, ctx context.Context, path, name string, committed func(runID string, epoch int, at time.Time)) []time.Duration {
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sw := sweep.Sweep{Name: name, Description: "load test writer", File: name + ".toml", Source: "", Hash: "00"}
	for i := range 40 {
		s := sweep.Settings{Head: sweep.HeadClassify, SumHidden: 64, DigitWeight: 1, SumWeight: 1,
			Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 64, Epochs: 10, TrainSize: 1000, Seed: int64(i)}
		sw.Runs = append(sw.Runs, sweep.RunSpec{ID: sweep.RunID(name, s), Sweep: name, Settings: s})
	}
	bg := context.Background()
	if err := db.SaveSweep(bg, sw); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range sw.Runs {
		ids = append(ids, r.ID)
	}
	owner := sweep.Owner{ID: "load:" + name, Host: "load", Version: "test"}
	var commits []time.Duration
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		run, ok, err := db.Claim(bg, ids, owner, time.Hour)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		for e := 1; e <= 10 && ctx.Err() == nil; e++ {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
			m := sweep.SplitMetrics{DigitNLL: 0.3, DigitAccuracy: 0.95, SumMSE: 1, SumR2: 0.9, SumAccuracy: 0.8, SumNLL: 0.5, Samples: 1000}
			s := time.Now()
			if err := db.RecordEpoch(bg, run.ID, owner, sweep.EpochMetrics{Epoch: e, Train: m, Test: m, TrainSeconds: 1, EvalSeconds: 0.1, SamplesPerSec: 1000}); err != nil {
				t.Fatal(err)
			}
			commits = append(commits, time.Since(s))
			if committed != nil {
				committed(run.ID, e, time.Now())
			}
		}
		if err := db.Finish(bg, run.ID, owner, sweep.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	return commits
}

func summary(ds []time.Duration) string {
	slices.Sort(ds)
	return fmt.Sprintf("n=%d p50 %s p99 %s max %s", len(ds), quantile(ds, 50), quantile(ds, 99), quantile(ds, 100))
}

func quantile(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "–"
	}
	i := (len(ds)*p+99)/100 - 1
	i = max(0, min(i, len(ds)-1))
	d := ds[i]
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return d.Round(10 * time.Millisecond).String()
}

// cpuSeconds is the user+system CPU time of process pid so far, from
// /proc/PID/stat (in clock ticks of 1/100 s, Linux's USER_HZ).
func cpuSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var utime, stime float64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return (utime + stime) / 100
}
