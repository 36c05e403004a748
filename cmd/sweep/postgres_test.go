package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sweep"
	"sweep/postgres/pgtest"
	"sweep/store/storetest"
)

// openDB opens any database for the rest of the test.
func openDB(t testing.TB, db string) database {
	t.Helper()
	s, err := openExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dumpOf(t testing.TB, db string) sweep.Dump {
	t.Helper()
	d, err := openDB(t, db).Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDBFromEnvironment: without --db, $SWEEP_DB names the database, and
// a postgres:// URL there selects PostgreSQL.
func TestDBFromEnvironment(t *testing.T) {
	url := pgtest.URL(t)
	db, err := openStore(context.Background(), url) // creates the schema
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("SWEEP_DB", url)
	out, errOut, code := sweepCmd(t, "ls")
	if code != 0 {
		t.Fatalf("sweep ls: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "no sweeps in postgres://postgres@/") {
		t.Errorf("sweep ls with $SWEEP_DB: %q", out)
	}
	// A reading command refuses a database without the schema, and
	// creates none.
	fresh := pgtest.URL(t)
	for range 2 {
		if _, errOut, code := sweepCmd(t, "ls", "--db", fresh); code != 2 || !strings.Contains(errOut, "no sweep schema") {
			t.Errorf("sweep ls on a database without the schema: exit %d: %s", code, errOut)
		}
	}
	// --help shows no URL from the environment: it may hold a password.
	t.Setenv("SWEEP_DB", "postgres://u:s3cr3t@db.example/sweep")
	for _, cmd := range []string{"run", "ls", "runs", "show", "export", "report"} {
		out, _, _ := sweepCmd(t, cmd, "--help")
		if strings.Contains(out, "s3cr3t") || !strings.Contains(out, "-db") {
			t.Errorf("sweep %s --help:\n%s", cmd, out)
		}
	}
	// Errors name the URL with the password masked.
	_, errOut, code = sweepCmd(t, "ls", "--db", "postgres://u:s3cr3t@/nodb?host="+t.TempDir()+"&connect_timeout=2")
	if code != 1 || strings.Contains(errOut, "s3cr3t") || !strings.Contains(errOut, "u:xxxxx@") {
		t.Errorf("sweep ls on a missing server: exit %d: %s", code, errOut)
	}
}

// TestCopyRoundTrip copies a SQLite database with runs in every state to
// PostgreSQL and on to a new SQLite file: every sweep, run and epoch comes
// back exactly, and copying again adds nothing.
func TestCopyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a.db"), filepath.Join(dir, "c.db")
	pg := pgtest.URL(t)
	src, err := openStore(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	clk := storetest.NewClock()
	storetest.Populate(t, storetest.Backend{DB: src}, clk)
	storetest.PopulateAdaptive(t, storetest.Backend{DB: src}, clk)
	src.Close()
	want := storetest.DumpString(dumpOf(t, a))

	copyOut := func(from, to string) string {
		t.Helper()
		out, errOut, code := sweepCmd(t, "copy", "--from", from, "--to", to)
		if code != 0 {
			t.Fatalf("copy %s → %s: exit %d: %s", from, to, code, errOut)
		}
		if strings.Contains(out, "@") && strings.Contains(out, "password") {
			t.Errorf("copy printed a password: %s", out)
		}
		return out
	}
	if out := copyOut(a, pg); !strings.Contains(out, "14 of 14 runs added, 0 replaced by finished runs, 56 epoch rows and 3 checkpoints written") {
		t.Errorf("first copy: %s", out)
	}
	if out := copyOut(pg, c); !strings.Contains(out, "14 of 14 runs added") {
		t.Errorf("second copy: %s", out)
	}
	for _, db := range []string{pg, c} {
		if got := storetest.DumpString(dumpOf(t, db)); got != want {
			t.Errorf("%s differs from the source:\n%s\nwant:\n%s", db, got, want)
		}
	}
	// Again, both ways: nothing is added or changed.
	for _, p := range [][2]string{{a, pg}, {pg, c}, {c, a}} {
		if out := copyOut(p[0], p[1]); !strings.Contains(out, "0 of 3 sweeps, 0 of 14 runs added, 0 replaced by finished runs, 0 epoch rows and 0 checkpoints written") {
			t.Errorf("repeated copy %s → %s: %s", p[0], p[1], out)
		}
	}
	for _, db := range []string{a, pg, c} {
		if got := storetest.DumpString(dumpOf(t, db)); got != want {
			t.Errorf("%s changed by a repeated copy", db)
		}
	}
	if _, errOut, code := sweepCmd(t, "copy", "--from", filepath.Join(dir, "missing.db"), "--to", c); code != 2 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("copy from a missing file: exit %d: %s", code, errOut)
	}
}

// bits is the metrics of an epoch row as bit patterns.
func bits(m sweep.SplitMetrics) string {
	var b strings.Builder
	for _, f := range []float64{m.DigitNLL, m.DigitAccuracy, m.SumMSE, m.SumR2, m.SumAccuracy, m.SumNLL, m.SumPredStd} {
		fmt.Fprintf(&b, "%016x ", math.Float64bits(f))
	}
	fmt.Fprintf(&b, "%d", m.Samples)
	return b.String()
}

// TestSameMetricsOnBothBackends trains one small sweep into SQLite and
// into PostgreSQL with the same build: every recorded metric is
// bit-identical (issue #9, acceptance 4: with SWEEP_ACCEPTANCE=1, the
// 64-run sweep of the multi-process tests).
func TestSameMetricsOnBothBackends(t *testing.T) {
	dir := t.TempDir()
	text, runs := tinySweep("b", "[grid]\nhead = [\"regression\", \"classify\"]\n"), 4
	if acceptance() {
		text, runs = manySweep("b", 64), 64
	}
	f := writeFile(t, dir, "b.toml", text)
	metrics := func(db string) map[string]string {
		if _, errOut, code := sweepCmd(t, "run", "-j", "2", "--db", db, "--progress", "none", f); code != 0 {
			t.Fatalf("run --db %s: %s", db, errOut)
		}
		eps, err := openDB(t, db).Epochs(context.Background(), sweep.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range eps {
			out[fmt.Sprintf("%s/%d/%s", e.RunID, e.Epoch, e.Split)] = bits(e.Metrics)
		}
		return out
	}
	pgURL := pgtest.URL(t)
	lite, pg := metrics(filepath.Join(dir, "b.db")), metrics(pgURL)
	if len(lite) != 2*runs || len(pg) != 2*runs {
		t.Fatalf("%d and %d epoch rows, want %d", len(lite), len(pg), 2*runs)
	}
	for k, m := range lite {
		if pg[k] != m {
			t.Errorf("%s differs:\nSQLite     %s\nPostgreSQL %s", k, m, pg[k])
		}
	}
	t.Logf("%d epoch rows bit-identical on SQLite and PostgreSQL", len(lite))

	// Every reading command works on both, and the exports hold the same
	// rows (columns may come in another order; the standard deviations may
	// differ in the last bits).
	exports := map[string][]map[string]any{}
	for _, db := range []string{filepath.Join(dir, "b.db"), pgURL} {
		id := func() string {
			rs, err := openDB(t, db).Runs(context.Background(), sweep.RunFilter{})
			if err != nil || len(rs) == 0 {
				t.Fatalf("runs: %v", err)
			}
			return rs[0].RunID[:8]
		}()
		for _, args := range [][]string{
			{"ls"}, {"runs", "--sort", "test_r2"}, {"show", id},
			{"report", "-o", filepath.Join(dir, "r.html")},
		} {
			out, errOut, code := sweepCmd(t, append(args, "--db", db)...)
			if code != 0 || out == "" {
				t.Errorf("sweep %s --db %s: exit %d: %s", strings.Join(args, " "), db, code, errOut)
			}
		}
		for _, view := range []string{"run_results", "epoch_results", "config_results"} {
			out, errOut, code := sweepCmd(t, "export", "--format", "json", "--view", view, "--db", db)
			if code != 0 {
				t.Fatalf("export %s --db %s: %s", view, db, errOut)
			}
			var rows []map[string]any
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatal(err)
			}
			exports[view] = append(exports[view], rows...)
			if view == "config_results" && len(rows) != 2 {
				t.Errorf("config_results on %s: %d rows, want 2", db, len(rows))
			}
		}
	}
	cfg := exports["config_results"]
	key := func(m map[string]any) string { return fmt.Sprint(m["config_key"]) }
	for _, a := range cfg[:2] {
		var b map[string]any
		for _, c := range cfg[2:] {
			if key(c) == key(a) {
				b = c
			}
		}
		if b == nil || len(a) != len(b) {
			t.Fatalf("config_results rows differ in columns:\n%v\n%v", a, b)
		}
		for k, v := range a {
			fa, okA := v.(float64)
			fb, okB := b[k].(float64)
			if okA && okB && math.Abs(fa-fb) <= 1e-12*math.Max(1, math.Abs(fa)) {
				continue
			}
			if fmt.Sprint(v) != fmt.Sprint(b[k]) {
				t.Errorf("config_results %s: %v on SQLite, %v on PostgreSQL", k, v, b[k])
			}
		}
	}
}

// acceptance says whether to run issue #9's full-size process tests
// (SWEEP_ACCEPTANCE=1): eight processes, 64 runs. Otherwise the same
// tests run smaller, to keep the suite quick.
func acceptance() bool { return os.Getenv("SWEEP_ACCEPTANCE") == "1" }

// manySweep is a sweep of n tiny runs (n a multiple of 2).
func manySweep(name string, n int) string {
	return fmt.Sprintf(`name = %q
description = "tiny runs for the multi-process tests"
repeats = %d
[train]
epochs = 1
batch_size = 32
train_size = 128
sum_hidden = 8
[grid]
head = ["regression", "classify"]
`, name, n/2)
}

// startRuns starts n 'sweep run' processes on one database.
func startRuns(t *testing.T, bin, db, file string, n int, extra ...string) ([]*exec.Cmd, []*lockedBuffer) {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*lockedBuffer, n)
	for i := range n {
		args := append([]string{"run", "-j", "1", "--db", db, "--progress", "log"}, extra...)
		cmds[i] = exec.Command(bin, append(args, file)...)
		outs[i] = &lockedBuffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	return cmds, outs
}

// trainedCounts counts the runs each output reports done ("label" →
// times).
func trainedCounts(outs []*lockedBuffer) map[string]int {
	trained := map[string]int{}
	for _, o := range outs {
		for _, line := range strings.Split(o.String(), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[1] == "done" {
				trained[f[2]]++
			}
		}
	}
	return trained
}

// inFlight reports whether a process's log shows a run started and not
// ended.
func inFlight(out string) bool { return len(inFlightRuns(out)) > 0 }

// inFlightRuns lists the labels (sweep/id prefix) of the runs a process's
// log shows started and not ended.
func inFlightRuns(out string) []string {
	open := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 {
			switch f[1] {
			case "start":
				open[f[2]] = true
			case "done", "failed", "interrupted":
				delete(open, f[2])
			}
		}
	}
	var labels []string
	for l := range open {
		labels = append(labels, l)
	}
	return labels
}

func printedError(out string) bool {
	low := strings.ToLower(out)
	return strings.Contains(low, "error") || strings.Contains(low, "sweep:") || strings.Contains(low, "deadlock") ||
		strings.Contains(low, "serializ")
}

// checkAllDone checks every run of the sweep is done with one epoch, each
// epoch row recorded once.
func checkAllDone(t *testing.T, db, name string, runs int) {
	t.Helper()
	s := openDB(t, db)
	ctx := context.Background()
	rs, err := s.Runs(ctx, sweep.RunFilter{Sweep: name})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != runs {
		t.Fatalf("%d runs, want %d", len(rs), runs)
	}
	for _, r := range rs {
		if r.Status != sweep.StatusDone || r.EpochsDone != 1 {
			t.Errorf("run %s: %s with %d epochs", r.RunID, r.Status, r.EpochsDone)
		}
	}
	d, err := s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range d.Epochs {
		seen[fmt.Sprintf("%s/%d/%s", e.RunID, e.Epoch, e.Split)]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("epoch row %s recorded %d times", k, n)
		}
	}
	if len(d.Epochs) != 2*runs {
		t.Errorf("%d epoch rows, want %d", len(d.Epochs), 2*runs)
	}
}

// TestPostgresManyProcesses runs several 'sweep run' processes against
// one PostgreSQL database: every run is trained exactly once and no
// process prints an error (issue #9, acceptance 2: with
// SWEEP_ACCEPTANCE=1, eight processes and 64 runs).
func TestPostgresManyProcesses(t *testing.T) {
	procs, runs := 4, 16
	if acceptance() {
		procs, runs = 8, 64
	}
	bin := sweepBinary(t)
	db := pgtest.URL(t)
	f := writeFile(t, t.TempDir(), "many.toml", manySweep("many", runs))
	start := time.Now()
	cmds, outs := startRuns(t, bin, db, f, procs)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
		if printedError(outs[i].String()) {
			t.Errorf("process %d printed an error:\n%s", i, outs[i])
		}
	}
	elapsed := time.Since(start)
	trained := trainedCounts(outs)
	for label, n := range trained {
		if n != 1 {
			t.Errorf("run %s trained %d times", label, n)
		}
	}
	if len(trained) != runs {
		t.Errorf("%d distinct runs reported done, want %d", len(trained), runs)
	}
	checkAllDone(t, db, "many", runs)
	var per []string
	for _, o := range outs {
		per = append(per, fmt.Sprint(len(trainedCounts([]*lockedBuffer{o}))))
	}
	t.Logf("%d processes, %d runs in %v; runs per process: %s", procs, runs, elapsed.Round(time.Millisecond), strings.Join(per, " "))
}

// TestPostgresKilledProcesses kills two of the processes with SIGKILL in
// mid-run: the survivors take their runs over (at once, being on the same
// host; a process elsewhere would wait for the leases), and a further
// 'sweep run' finds every run done, with no epoch row duplicated (issue
// #9, acceptance 2).
func TestPostgresKilledProcesses(t *testing.T) {
	procs, runs := 4, 16
	if acceptance() {
		procs, runs = 8, 64
	}
	bin := sweepBinary(t)
	db := pgtest.URL(t)
	f := writeFile(t, t.TempDir(), "kill.toml", manySweep("kill", runs))
	cmds, outs := startRuns(t, bin, db, f, procs, "--lease", "2s")
	// Kill two processes while they train, once some runs are done. (Open
	// read-write: the processes may not have created the tables yet.)
	s, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitFor(t, "a quarter of the runs", 120*time.Second, func() bool {
		c, err := s.Sweeps(context.Background())
		return err == nil && len(c) == 1 && c[0].Counts[sweep.StatusDone] >= runs/4
	})
	// Kill two processes that are training a run right now.
	killed := map[int]bool{}
	var hit []string // the runs they were training, as their logs said
	waitFor(t, "two processes with a run in flight", 60*time.Second, func() bool {
		var busy []int
		for i, o := range outs {
			if inFlight(o.String()) {
				busy = append(busy, i)
			}
		}
		if len(busy) < 2 {
			return false
		}
		for _, i := range busy[:2] {
			if err := cmds[i].Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed[i] = true
			hit = append(hit, inFlightRuns(outs[i].String())...)
		}
		return true
	})
	for i, c := range cmds {
		err := c.Wait()
		if killed[i] {
			continue
		}
		if err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
		if printedError(outs[i].String()) {
			t.Errorf("process %d printed an error:\n%s", i, outs[i])
		}
	}
	// Each run the killed processes' logs showed in flight is still
	// running on a stale lease, or a survivor has taken it over (attempts
	// 2), unless the kill landed just after it finished (done at its first
	// attempt, its "done" line not yet printed); at least one was hit
	// mid-run.
	d, err := s.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stale, retaken, missed := 0, 0, 0
	for _, r := range d.Runs {
		if !slices.Contains(hit, "kill/"+r.Spec.ID[:6]) {
			continue
		}
		switch {
		case r.Status == sweep.StatusRunning:
			stale++
		case r.Attempts > 1:
			retaken++
		case r.Status == sweep.StatusDone:
			missed++
		default:
			t.Errorf("run %s, in flight when its process was killed, is %s after %d attempts", r.Spec.ID, r.Status, r.Attempts)
		}
	}
	t.Logf("after the survivors exit, of the %d runs in flight in the killed processes: %d left running, %d taken over by survivors, %d finished just before the kill",
		len(hit), stale, retaken, missed)
	if len(hit) != 2 || stale+retaken == 0 {
		t.Errorf("%d runs in flight when killed, %d of them left running or taken over: want 2 in flight and at least one hit mid-run", len(hit), stale+retaken)
	}
	time.Sleep(2100 * time.Millisecond) // let the 2 s leases expire
	out, err := exec.Command(bin, "run", "-j", "2", "--db", db, "--progress", "none", f).CombinedOutput()
	if err != nil || printedError(string(out)) {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	checkAllDone(t, db, "kill", runs)
}

// TestServeOnPostgres runs 'sweep serve' on a PostgreSQL database.
func TestServeOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if _, errOut, code := sweepCmd(t, "serve", "--db", url, "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(errOut, "no sweep schema") {
		t.Errorf("serve on a database without the schema: exit %d: %s", code, errOut)
	}
	db, err := openStore(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Populate(t, storetest.Backend{DB: db}, storetest.NewClock())
	db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- cmdServe(ctx, []string{"--db", url, "--addr", "127.0.0.1:0"}, &stdout, &stderr) }()
	var base string
	for start := time.Now(); base == "" && time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		if m := servingURL.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no URL printed: %q %q", stdout.String(), stderr.String())
	}
	resp, err := http.Get(base + "/api/runs?sweep=alpha&limit=5")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"total": 6`) {
		t.Errorf("GET /api/runs: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of its context's end")
	}
}
