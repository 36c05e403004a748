package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep"
)

// Environment of a child process of TestMultiProcess.
const (
	envChildDB    = "STORE_TEST_CHILD_DB"
	envChildName  = "STORE_TEST_CHILD_NAME"
	envChildStart = "STORE_TEST_CHILD_START" // unix nanoseconds to start at
)

func multiProcessSweep() sweep.Sweep { return makeSweep("mp", seeds(baseSettings(), 30)...) }

// TestMultiProcess starts two processes at the same moment on a database
// file that does not exist yet. Each opens it (racing to migrate), saves
// the same sweep (racing to insert the runs) and drains the runs. Every run
// must be trained exactly once and no process may see an error.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "sweep.db")
	start := time.Now().Add(500 * time.Millisecond).UnixNano()
	outs := make([]bytes.Buffer, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range outs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(),
			envChildDB+"="+path,
			envChildName+"="+fmt.Sprintf("child%d", i),
			envChildStart+"="+strconv.FormatInt(start, 10))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = cmd.Wait() })
	}
	wg.Wait()
	claims := map[string][]string{}
	for i, out := range outs {
		if errs[i] != nil {
			t.Errorf("child %d: %v\n%s", i, errs[i], out.String())
			continue
		}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "CLAIMED "); ok {
				claims[id] = append(claims[id], fmt.Sprintf("child%d", i))
			}
		}
	}
	want := multiProcessSweep()
	if len(claims) != len(want.Runs) {
		t.Errorf("%d runs claimed, want %d", len(claims), len(want.Runs))
	}
	for id, by := range claims {
		if len(by) != 1 {
			t.Errorf("run %s claimed by %v", id, by)
		}
	}
	db := openTest(t, path, nil)
	counts, err := db.Counts(context.Background(), ids(want))
	if err != nil {
		t.Fatal(err)
	}
	if counts[sweep.StatusDone] != len(want.Runs) {
		t.Errorf("counts = %v", counts)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM runs WHERE attempts = 1 AND epochs_done = 1`); n != len(want.Runs) {
		t.Errorf("%d runs attempted once with one epoch, want %d", n, len(want.Runs))
	}
	if got := queryString(t, db, `PRAGMA integrity_check`); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
}

// TestChildProcess is the body of TestMultiProcess's child processes; on
// its own it does nothing.
func TestChildProcess(t *testing.T) {
	path := os.Getenv(envChildDB)
	if path == "" {
		t.Skip("child of TestMultiProcess")
	}
	name := os.Getenv(envChildName)
	start, err := strconv.ParseInt(os.Getenv(envChildStart), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, start)))
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sw := multiProcessSweep()
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	owner := sweep.Owner{ID: name, Host: name, Version: "test"}
	for {
		run, ok, err := db.Claim(ctx, ids(sw), owner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		fmt.Printf("CLAIMED %s\n", run.ID)
		if err := db.RecordEpoch(ctx, run.ID, owner, metrics(1, 0.5, 0.5, 0.5)); err != nil {
			t.Fatal(err)
		}
		if err := db.Heartbeat(ctx, run.ID, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := db.Finish(ctx, run.ID, owner, sweep.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
	}
}
