package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"sweep"
)

// resumeSweep is two runs of two epochs, long enough to be stopped in the
// middle of the second epoch.
const resumeSweep = `name = "k"
repeats = 2
[train]
epochs = 2
train_size = 20000
sum_hidden = 8
dropout = 0.2
`

// result is everything a finished sweep leaves that must not depend on
// how it was stopped: every epoch's metrics and each run's final
// checkpoint (weights, optimiser state, generators' positions).
func result(t *testing.T, path string) (metrics string, final map[string]string) {
	t.Helper()
	db := openTestStore(t, path)
	ctx := context.Background()
	eps, err := db.Epochs(ctx, sweep.RunFilter{Sweep: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range eps {
		fmt.Fprintf(&b, "%s/%d/%s %+v\n", e.RunID, e.Epoch, e.Split, e.Metrics)
	}
	final = map[string]string{}
	runs, err := db.Runs(ctx, sweep.RunFilter{Sweep: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		_, data, err := db.Checkpoint(ctx, r.RunID)
		if err != nil {
			t.Fatal(err)
		}
		final[r.RunID] = string(data)
	}
	return b.String(), final
}

// startRun starts 'sweep run -j 1' with log progress into out.
func startRun(t *testing.T, bin, db, file string, out *bytes.Buffer, extra ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"run", "-j", "1", "--db", db, "--progress", "log"}, extra...)
	cmd := exec.Command(bin, append(args, file)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestStoppedRunResumesBitIdentical stops 'sweep run' in the middle of a
// run's second epoch in each way a run can stop: SIGKILL (the same
// command run again at once takes the run over within 2 s, noticing the
// dead process by its pid and start time), Ctrl-C (the run is marked
// interrupted), and a hung process whose lease runs out (another process
// takes the run over, after finishing the other run first). Each time
// the run resumes after epoch 1 and the sweep ends with every epoch's
// metrics and every run's final weights and optimiser state bit-identical
// to the same sweep trained without a stop.
func TestStoppedRunResumesBitIdentical(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	f := writeFile(t, dir, "k.toml", resumeSweep)
	fresh := filepath.Join(dir, "fresh.db")
	if b, err := exec.Command(bin, "run", "-j", "1", "--db", fresh, "--progress", "none", f).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, b)
	}
	wantMetrics, wantFinal := result(t, fresh)

	for _, mode := range []string{"kill", "interrupt", "stall"} {
		t.Run(mode, func(t *testing.T) {
			db := filepath.Join(dir, mode+".db")
			var out bytes.Buffer
			cmd := startRun(t, bin, db, f, &out, "--lease", "6s") // longer than the 2 s allowed for a takeover
			waitFor(t, "the first epoch", 60*time.Second, func() bool { return epochsRecorded(t, db) >= 1 })
			first := runsOf(t, db, "k")[0]
			time.Sleep(secondsDuration(first.TrainSeconds / 2))
			switch mode {
			case "kill":
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
			case "interrupt":
				cmd.Process.Signal(os.Interrupt)
				if err := cmd.Wait(); err == nil {
					t.Fatalf("interrupted 'sweep run' exited 0\n%s", out.String())
				}
			case "stall":
				cmd.Process.Signal(syscall.SIGSTOP) // alive, but no heartbeat
			}
			wantStatus := map[string]sweep.Status{"kill": sweep.StatusRunning, "interrupt": sweep.StatusInterrupted, "stall": sweep.StatusRunning}[mode]
			r := runsOf(t, db, "k")[0]
			if r.Status != wantStatus || r.EpochsDone != 1 {
				t.Fatalf("stopped run is %s with %d epochs, want %s with 1\n%s", r.Status, r.EpochsDone, wantStatus, out.String())
			}

			var again bytes.Buffer
			began := time.Now()
			rerun := startRun(t, bin, db, f, &again)
			if mode == "kill" {
				label := regexp.MustCompile(`start +k/` + r.RunID[:6])
				waitFor(t, "the killed run to be taken over", 10*time.Second, func() bool { return label.MatchString(again.String()) })
				took := time.Since(began)
				if took > 2*time.Second {
					t.Errorf("took %v to take the killed run over, want at most 2 s", took)
				}
				t.Logf("the killed run was taken over %v after the rerun started", took.Round(time.Millisecond))
				if !strings.Contains(again.String(), "is gone") {
					t.Errorf("no takeover line in the log:\n%s", again.String())
				}
			}
			if err := rerun.Wait(); err != nil {
				t.Fatalf("rerun: %v\n%s", err, again.String())
			}
			if mode == "stall" {
				if !strings.Contains(again.String(), "held by") {
					t.Errorf("the rerun did not show the stalled holder:\n%s", again.String())
				}
				cmd.Process.Kill()
				cmd.Wait()
			}
			checkComplete(t, db, "k", 2, 2)
			if r := runsOf(t, db, "k")[0]; r.EpochsDone != 2 {
				t.Errorf("epochs_done %d", r.EpochsDone)
			}
			gotMetrics, gotFinal := result(t, db)
			if gotMetrics != wantMetrics {
				t.Errorf("metrics differ from the uninterrupted sweep's:\n%s\nwant\n%s", gotMetrics, wantMetrics)
			}
			for id, w := range wantFinal {
				if gotFinal[id] != w {
					t.Errorf("run %s: final checkpoint differs from the uninterrupted run's (%d vs %d bytes)", id, len(gotFinal[id]), len(w))
				}
			}
			t.Logf("%s: rerun took %v\n%s", mode, time.Since(began).Round(time.Millisecond), again.String())
		})
	}
}

// TestWaitsForLiveHolder: while another live process trains a run, 'sweep
// run --no-wait' exits at once with status 3, and 'sweep run' waits,
// showing the holder, and exits 0 once the run is done, without training
// it itself.
func TestWaitsForLiveHolder(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "w.toml", `name = "w"
[train]
epochs = 2
train_size = 20000
sum_hidden = 8
`)
	var holderOut bytes.Buffer
	holder := startRun(t, bin, db, f, &holderOut)
	waitFor(t, "the holder to start", 30*time.Second, func() bool { return strings.Contains(holderOut.String(), "start ") })

	began := time.Now()
	b, err := exec.Command(bin, "run", "--no-wait", "--db", db, "--progress", "log", f).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("--no-wait: %v, want exit status 3\n%s", err, b)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("--no-wait took %v", took)
	}
	if !strings.Contains(string(b), "held by other processes (--no-wait)") {
		t.Errorf("--no-wait did not say why:\n%s", b)
	}

	var waiterOut bytes.Buffer
	waiter := startRun(t, bin, db, f, &waiterOut)
	if err := waiter.Wait(); err != nil {
		t.Fatalf("waiting 'sweep run': %v\n%s", err, waiterOut.String())
	}
	if err := holder.Wait(); err != nil {
		t.Fatalf("holder: %v\n%s", err, holderOut.String())
	}
	w := waiterOut.String()
	if !regexp.MustCompile(`wait +w/[0-9a-f]{6} held by [^ ]+:\d+, lease \d+ s`).MatchString(w) {
		t.Errorf("the waiting process did not show the holder:\n%s", w)
	}
	if strings.Contains(w, "start ") {
		t.Errorf("the waiting process trained the run itself:\n%s", w)
	}
	if !strings.Contains(w, "finished: 1 done") {
		t.Errorf("the waiting process did not end with every run done:\n%s", w)
	}
	checkComplete(t, db, "w", 1, 2)
}

// TestTwoProcessesOneSearch runs two 'sweep run' processes on one tpe
// sweep with pruning at once: the sweep ends with exactly trials
// configurations, each of its runs trained (to done or pruned) by exactly
// one process, and neither prints an error. A third sweep has a run with
// the same settings and seed as one of the first's, trained afterwards:
// it is reused, not trained.
func TestTwoProcessesOneSearch(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "s.toml", `name = "s"
repeats = 2
[train]
epochs = 2
batch_size = 32
train_size = 256
sum_hidden = 8
[tpe]
trials = 8
startup_trials = 3
objective = "test_r2"
lr = { log_uniform = [1e-4, 1e-2] }
sum_weight = { log_uniform = [0.03, 30.0] }
[prune]
method = "asha"
reduction_factor = 2
`)
	var outs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i] = startRun(t, bin, db, f, &outs[i])
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i].String())
		}
		// (A pruning reason names the configuration's standard error.)
		low := strings.ReplaceAll(strings.ToLower(outs[i].String()), "standard error", "")
		if strings.Contains(low, "error") || strings.Contains(low, "sweep:") || strings.Contains(low, "locked") {
			t.Errorf("process %d printed an error:\n%s", i, outs[i].String())
		}
	}
	runs := runsOf(t, db, "s")
	configs := map[string]int{}
	trials := map[int]bool{}
	for _, r := range runs {
		configs[sweep.ConfigKey(r.Settings)]++
		trials[r.Trial] = true
		if !r.Status.Finished() {
			t.Errorf("run %s is %s", r.RunID, r.Status)
		}
	}
	if len(configs) != 8 || len(trials) != 8 || len(runs) != 16 {
		t.Errorf("%d configurations, %d trial numbers, %d runs; want 8, 8, 16", len(configs), len(trials), len(runs))
	}
	ended := map[string]int{}
	for i := range outs {
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if f := strings.Fields(line); len(f) > 2 && (f[1] == "done" || f[1] == "pruned") {
				ended[f[2]]++
			}
		}
	}
	for _, r := range runs {
		if n := ended["s/"+r.RunID[:6]]; n != 1 {
			t.Errorf("run %s ended %d times in the logs, want once", r.RunID, n)
		}
	}
	t.Logf("process 0:\n%s\nprocess 1:\n%s", outs[0].String(), outs[1].String())

	// Reuse: a grid sweep with one of the search's done configurations.
	var done sweep.RunResult
	for _, r := range runs {
		if r.Status == sweep.StatusDone {
			done = r
			break
		}
	}
	g := writeFile(t, dir, "g.toml", fmt.Sprintf(`name = "g"
[train]
epochs = 2
batch_size = 32
train_size = 256
sum_hidden = 8
lr = %v
sum_weight = %v
seed = %d
`, done.Settings.LR, done.Settings.SumWeight, done.Settings.Seed))
	b, err := exec.Command(bin, "run", "--db", db, "--progress", "log", g).CombinedOutput()
	if err != nil {
		t.Fatalf("reuse: %v\n%s", err, b)
	}
	gr := runsOf(t, db, "g")
	if len(gr) != 1 || gr[0].ReusedFrom != done.RunID || gr[0].Status != sweep.StatusDone || gr[0].Final != done.Final {
		t.Errorf("run of g: %+v, want done, reused from %s with its metrics\n%s", gr[0], done.RunID, b)
	}
	if !strings.Contains(string(b), "reused g/") || strings.Contains(string(b), "start ") {
		t.Errorf("g's run was not reused:\n%s", b)
	}
	b, err = exec.Command(bin, "run", "--no-reuse", "--db", filepath.Join(dir, "other.db"), "--progress", "log", g).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "start ") {
		t.Errorf("--no-reuse into a new database: %v\n%s", err, b)
	}
}

// TestPruneJudgesSeedsTogether: with one worker, a run that reaches a rung
// before its configuration's other seed waits there (held) while the
// other seed catches up, so each configuration is judged on both seeds:
// it ends all done or all pruned, never mixed, and the runs that went on
// after waiting are bit-identical to the same runs trained without a
// [prune] table (which leaves run ids as they are).
func TestPruneJudgesSeedsTogether(t *testing.T) {
	bin := sweepBinary(t)
	dir := t.TempDir()
	sweepText := `name = "pj"
repeats = 2
[train]
epochs = 2
batch_size = 32
train_size = 512
sum_hidden = 8
[grid]
lr = [0.0001, 0.003, 0.001]
`
	plain := writeFile(t, dir, "plain.toml", sweepText)
	pruned := writeFile(t, dir, "pruned.toml", sweepText+`[prune]
method = "asha"
metric = "test_accuracy"
reduction_factor = 2
`)
	pdb, gdb := filepath.Join(dir, "pruned.db"), filepath.Join(dir, "plain.db")
	out, err := exec.Command(bin, "run", "-j", "1", "--db", pdb, "--progress", "log", pruned).CombinedOutput()
	if err != nil {
		t.Fatalf("pruned sweep: %v\n%s", err, out)
	}
	if b, err := exec.Command(bin, "run", "-j", "1", "--db", gdb, "--progress", "none", plain).CombinedOutput(); err != nil {
		t.Fatalf("plain sweep: %v\n%s", err, b)
	}
	if n := strings.Count(string(out), "hold   pj/"); n < 3 {
		t.Errorf("%d runs held at the rung, want at least 3 (one per configuration)\n%s", n, out)
	}
	byConfig := map[string][]sweep.Status{}
	pr := runsOf(t, pdb, "pj")
	for _, r := range pr {
		byConfig[sweep.ConfigKey(r.Settings)] = append(byConfig[sweep.ConfigKey(r.Settings)], r.Status)
	}
	nPruned := 0
	for k, ss := range byConfig {
		if len(ss) != 2 || ss[0] != ss[1] || !ss[0].Finished() {
			t.Errorf("configuration %s ended %v, want both seeds done or both pruned", k, ss)
		}
		if ss[0] == sweep.StatusPruned {
			nPruned++
		}
	}
	if nPruned == 0 || nPruned == len(byConfig) {
		t.Errorf("%d of %d configurations pruned; the test wants some of each\n%s", nPruned, len(byConfig), out)
	}
	plainEpochs := map[string]sweep.SplitMetrics{}
	eps, err := openTestStore(t, gdb).Epochs(context.Background(), sweep.RunFilter{Sweep: "pj"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		plainEpochs[fmt.Sprint(e.RunID, e.Epoch, e.Split)] = e.Metrics
	}
	eps, err = openTestStore(t, pdb).Epochs(context.Background(), sweep.RunFilter{Sweep: "pj"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		if want := plainEpochs[fmt.Sprint(e.RunID, e.Epoch, e.Split)]; e.Metrics != want {
			t.Errorf("run %s epoch %d %s: %+v after holding, %+v without pruning", e.RunID, e.Epoch, e.Split, e.Metrics, want)
		}
	}
	t.Logf("%s", out)
}
