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
				if took := time.Since(began); took > 2*time.Second {
					t.Errorf("took %v to take the killed run over, want at most 2 s", took)
				}
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
