package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sweep"
	"sweep/store"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// sweepCmd runs the program in-process and returns its output and exit code.
func sweepCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = exitCode(run(args, &out, &errb), &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinySweep is a sweep of quick runs: few images, one or two epochs.
func tinySweep(name string, extra string) string {
	return `name = "` + name + `"
description = "tiny runs for tests"
repeats = 2
[train]
epochs = 1
batch_size = 32
train_size = 128
sum_hidden = 8
` + extra
}

func TestHelp(t *testing.T) {
	out, _, code := sweepCmd(t, "--help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Fatalf("sweep --help: exit %d\n%s", code, out)
	}
	for _, c := range commands() {
		out, errOut, code := sweepCmd(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "Example:") || !strings.Contains(out, "Usage: sweep "+c.name) {
			t.Errorf("sweep %s --help: exit %d, stdout:\n%s\nstderr:\n%s", c.name, code, out, errOut)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"run"},
		{"run", "--no-such-flag", "x.toml"},
		{"runs", "--sort", "speed", "--db", "nope.db"},
		{"show"},
	} {
		_, errOut, code := sweepCmd(t, args...)
		if code != 2 || !strings.Contains(errOut, "sweep:") {
			t.Errorf("sweep %q: exit %d, stderr %q; want exit 2 with a message", args, code, errOut)
		}
	}
}

// TestUnknownKeyLeavesDatabaseAlone is acceptance point 4 of the sweeps
// issue: exit 2, a message naming the file and the key, database unchanged.
func TestUnknownKeyLeavesDatabaseAlone(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	good := writeFile(t, dir, "good.toml", tinySweep("good", "[grid]\nhead = [\"classify\"]\n"))
	bad := writeFile(t, dir, "bad.toml", tinySweep("bad", "[grid]\nlerning_rate = [0.1]\n"))

	// No database yet: none may be created.
	_, errOut, code := sweepCmd(t, "run", "--db", db, good, bad)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, bad+":10: grid.lerning_rate") {
		t.Errorf("stderr does not name file, line and key:\n%s", errOut)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("a database was created by an invalid run: %v", err)
	}

	// An existing database keeps every byte.
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(db)
	if _, _, code := sweepCmd(t, "run", "--db", db, bad); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	after, _ := os.ReadFile(db)
	if !bytes.Equal(before, after) {
		t.Error("the database changed after an invalid run")
	}
}

func TestPlanGolden(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "plan.toml", tinySweep("plan", "[grid]\nhead = [\"regression\", \"classify\"]\nsum_weight = [0.5, 2]\n"))
	out, errOut, code := sweepCmd(t, "plan", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
	golden := filepath.Join("testdata", "plan.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("sweep plan output differs from %s (run with -update to accept):\n%s", golden, out)
	}
}

// TestRunIdempotentAndEdited trains a tiny sweep, runs it again (nothing to
// do), then edits the file and expects only the new grid point to train,
// with the old results kept.
func TestRunIdempotentAndEdited(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "s.toml", tinySweep("s", "[grid]\nhead = [\"classify\"]\n"))
	if _, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	first := runsOf(t, db, "s")
	if len(first) != 2 {
		t.Fatalf("%d runs, want 2", len(first))
	}
	out, _, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f)
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	writeFile(t, dir, "s.toml", tinySweep("s", "[grid]\nhead = [\"classify\", \"regression\"]\n"))
	out, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f)
	if code != 0 || !strings.Contains(out, "this process: 2 done") {
		t.Fatalf("edited run: exit %d\n%s\n%s", code, out, errOut)
	}
	after := runsOf(t, db, "s")
	if len(after) != 4 {
		t.Fatalf("%d runs after the edit, want 4", len(after))
	}
	for _, r := range first {
		for _, a := range after {
			if a.RunID == r.RunID && (a.Finished != r.Finished || a.Final != r.Final) {
				t.Errorf("run %s was retrained or changed by the edit", r.RunID)
			}
		}
	}
}

func TestFailedRunRecordedAndOthersGoOn(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	// lr 1e4 with SGD on the regression head diverges at once.
	f := writeFile(t, dir, "f.toml", `name = "f"
[train]
epochs = 1
batch_size = 32
train_size = 128
head = "regression"
optimizer = "sgd"
[grid]
lr = [10000, 0.01]
`)
	out, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", "-j", "1", f)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a run failed)\n%s\n%s", code, out, errOut)
	}
	var failed, done int
	for _, r := range runsOf(t, db, "f") {
		switch r.Status {
		case sweep.StatusFailed:
			failed++
			if !strings.Contains(r.Error, "diverged at epoch 1, batch") {
				t.Errorf("failed run's error: %q", r.Error)
			}
		case sweep.StatusDone:
			done++
		}
	}
	if failed != 1 || done != 1 {
		t.Errorf("%d failed and %d done, want 1 and 1", failed, done)
	}
	// The next run retries the failed one (and fails again), once.
	out, _, code = sweepCmd(t, "run", "--db", db, "--progress", "none", f)
	if code != 1 || !strings.Contains(out, "this process: 0 done, 0 reused, 0 pruned, 1 failed") {
		t.Errorf("retry: exit %d\n%s", code, out)
	}
}

func TestReadCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "r.toml", tinySweep("r", "[grid]\nhead = [\"regression\", \"classify\"]\n"))
	if _, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	out, _, code := sweepCmd(t, "ls", "--db", db)
	if code != 0 || !strings.Contains(out, "r ") || !strings.Contains(out, "tiny runs for tests") {
		t.Errorf("ls: exit %d\n%s", code, out)
	}
	out, _, code = sweepCmd(t, "runs", "--db", db, "--sort", "test_accuracy")
	if code != 0 || strings.Count(out, " done ") != 4 {
		t.Errorf("runs: exit %d\n%s", code, out)
	}
	id := runsOf(t, db, "r")[0].RunID
	out, _, code = sweepCmd(t, "show", "--db", db, id[:6])
	if code != 0 || !strings.Contains(out, "run "+id) || !strings.Contains(out, "test") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	for _, view := range []string{"run_results", "epoch_results", "config_results"} {
		out, _, code = sweepCmd(t, "export", "--db", db, "--view", view)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) < 2 || !strings.HasPrefix(lines[0], "sweep,") {
			t.Errorf("export %s: exit %d\n%s", view, code, out)
		}
	}
	csvFile := filepath.Join(dir, "runs.csv")
	if _, errOut, code := sweepCmd(t, "export", "--db", db, "-o", csvFile); code != 0 || !strings.Contains(errOut, "4 rows of run_results") {
		t.Errorf("export -o: exit %d, %s", code, errOut)
	}
	if b, err := os.ReadFile(csvFile); err != nil || strings.Count(string(b), "\n") != 5 {
		t.Errorf("export -o wrote %q, %v; want a header and 4 rows", b, err)
	}
	out, _, code = sweepCmd(t, "export", "--db", db, "--format", "json", "--view", "epoch_results")
	if code != 0 || !strings.Contains(out, `"split": "test"`) {
		t.Errorf("export json: exit %d\n%.400s", code, out)
	}
	if _, errOut, code := sweepCmd(t, "ls", "--db", filepath.Join(dir, "missing.db")); code != 2 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("ls on a missing database: exit %d, %s", code, errOut)
	}
}

func runsOf(t *testing.T, path, sweepName string) []sweep.RunResult {
	t.Helper()
	db := openTestStore(t, path)
	runs, err := db.Runs(context.Background(), sweep.RunFilter{Sweep: sweepName})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestParallelRunsDeterministic trains the same sweep with -j 2 and -j 1:
// every run's recorded metrics must be bit-identical, so parallel runs in
// one process do not disturb each other.
func TestParallelRunsDeterministic(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "d.toml", tinySweep("d", "[grid]\nhead = [\"regression\", \"classify\"]\n"))
	metrics := func(jobs string) map[string]sweep.SplitMetrics {
		db := filepath.Join(dir, "j"+jobs+".db")
		if _, errOut, code := sweepCmd(t, "run", "-j", jobs, "--db", db, "--progress", "none", f); code != 0 {
			t.Fatalf("-j %s: %s", jobs, errOut)
		}
		s := openTestStore(t, db)
		eps, err := s.Epochs(context.Background(), sweep.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]sweep.SplitMetrics{}
		for _, e := range eps {
			out[e.RunID+"/"+e.Split] = e.Metrics
		}
		return out
	}
	a, b := metrics("2"), metrics("1")
	if len(a) != 8 || len(b) != 8 {
		t.Fatalf("%d and %d epoch rows, want 8", len(a), len(b))
	}
	for k, m := range a {
		n := b[k]
		if m.DigitNLL != n.DigitNLL || m.DigitAccuracy != n.DigitAccuracy || m.SumMSE != n.SumMSE ||
			m.SumR2 != n.SumR2 || m.SumAccuracy != n.SumAccuracy || m.Samples != n.Samples {
			t.Errorf("%s differs between -j 2 and -j 1:\n%+v\n%+v", k, m, n)
		}
	}
}

// openTestStore opens the database at path for the rest of the test.
func openTestStore(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDocListsCommands: the package doc, the manual, lists every command.
func TestDocListsCommands(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(string(doc), "//\t"+fmt.Sprintf("%-8s %s", c.name, c.summary)) {
			t.Errorf("doc.go does not list %q with its summary %q", c.name, c.summary)
		}
	}
}

// TestRunThreadsFollowRunsLeft: by default 'sweep run' trains no more runs
// at once than are left, and shares the cores among those; an explicit -j
// or --threads is kept.
func TestRunThreadsFollowRunsLeft(t *testing.T) {
	dir := t.TempDir()
	one := writeFile(t, dir, "one.toml", strings.Replace(tinySweep("one", ""), "repeats = 2", "repeats = 1", 1))
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "training 1 at a time, " + threadsText(cpus) + " each, more when fewer train\n"},
		{[]string{"-j", "3", "--threads", "2"}, "training 3 at a time, 2 threads each\n"},
		{[]string{"--threads", "1"}, "training 1 at a time, 1 thread each\n"},
	} {
		args := append([]string{"run", "--progress", "none", "--db", filepath.Join(t.TempDir(), "sweep.db")}, tc.args...)
		out, errOut, code := sweepCmd(t, append(args, one)...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("sweep %q: exit %d, want %q in stdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
}

// TestCoresShared: the cores go to the runs training, n/k each and the
// first n mod k one more, at least one; a run that stops gives its cores
// back to the others.
func TestCoresShared(t *testing.T) {
	c := &cores{n: 4}
	threads := func(want ...int) {
		t.Helper()
		var got []int
		for _, s := range c.shares {
			got = append(got, s.Threads())
		}
		if !slices.Equal(got, want) {
			t.Errorf("shares %v, want %v", got, want)
		}
	}
	a := c.add()
	threads(4)
	b := c.add()
	threads(2, 2)
	c.add()
	threads(2, 1, 1)
	for range 3 {
		c.add()
	}
	threads(1, 1, 1, 1, 1, 1) // more runs than cores: one thread each
	c.remove(a)
	c.remove(b)
	threads(1, 1, 1, 1)
	for len(c.shares) > 1 {
		c.remove(c.shares[0])
	}
	threads(4)
}
