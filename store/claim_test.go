package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"sweep"
)

func TestClaimOrder(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)
	sw := makeSweep("order", seeds(baseSettings(), 5)...)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	all := ids(sw)
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	for i, want := range sw.Runs {
		run, ok, err := db.Claim(ctx, reversed, ownerA, time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim %d: %v %v", i, ok, err)
		}
		if !reflect.DeepEqual(run, want) {
			t.Fatalf("claim %d = %+v, want %+v (file order)", i, run, want)
		}
	}
	if run, ok, err := db.Claim(ctx, all, ownerB, time.Minute); err != nil || ok {
		t.Fatalf("claim with all running: %+v %v %v", run, ok, err)
	}
	// The claim is recorded.
	r, err := db.Run(ctx, sw.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sweep.StatusRunning || r.Host != "hostA" || r.Version != "v1" || !r.Started.Equal(clk.Now()) || !r.Finished.IsZero() {
		t.Errorf("claimed run: %+v", r)
	}
	if got, want := queryString(t, db, `SELECT lease_expires FROM runs WHERE id = ?`, r.RunID),
		clk.Now().Add(time.Minute).Format(timeLayout); got != want {
		t.Errorf("lease_expires = %s, want %s", got, want)
	}
	if got := queryString(t, db, `SELECT owner FROM runs WHERE id = ?`, r.RunID); got != ownerA.ID {
		t.Errorf("owner = %s", got)
	}
	// Only ids asked for are claimed, and none of no ids.
	other := makeSweep("other", baseSettings())
	if err := db.SaveSweep(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.Claim(ctx, nil, ownerA, time.Minute); ok || err != nil {
		t.Errorf("claim of no ids: %v %v", ok, err)
	}
	if _, ok, err := db.Claim(ctx, []string{"unknown"}, ownerA, time.Minute); ok || err != nil {
		t.Errorf("claim of unknown id: %v %v", ok, err)
	}
	if _, _, err := db.Claim(ctx, ids(other), sweep.Owner{}, time.Minute); err == nil {
		t.Error("claim without owner id: no error")
	}
	if _, _, err := db.Claim(ctx, ids(other), ownerA, 0); err == nil {
		t.Error("claim with zero lease: no error")
	}
}

// TestClaimByStatus puts one run in each state and checks which are taken.
func TestClaimByStatus(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, db *DB, clk *clock, id string)
		claimable bool
	}{
		{"pending", func(*testing.T, *DB, *clock, string) {}, true},
		{"done", func(t *testing.T, db *DB, _ *clock, id string) {
			runOne(t, db, id, ownerA, 1, sweep.StatusDone, 0.9, 0.9, 0.9)
		}, false},
		{"done with expired lease time", func(t *testing.T, db *DB, clk *clock, id string) {
			runOne(t, db, id, ownerA, 1, sweep.StatusDone, 0.9, 0.9, 0.9)
			clk.Add(24 * time.Hour)
		}, false},
		{"failed", func(t *testing.T, db *DB, _ *clock, id string) {
			runOne(t, db, id, ownerA, 1, sweep.StatusFailed, 0.9, 0.9, 0.9)
		}, true},
		{"interrupted", func(t *testing.T, db *DB, _ *clock, id string) {
			runOne(t, db, id, ownerA, 1, sweep.StatusInterrupted, 0.9, 0.9, 0.9)
		}, true},
		{"running", func(t *testing.T, db *DB, clk *clock, id string) {
			if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
				t.Fatal(ok, err)
			}
			clk.Add(59 * time.Second)
		}, false},
		{"running, lease just expired", func(t *testing.T, db *DB, clk *clock, id string) {
			if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
				t.Fatal(ok, err)
			}
			clk.Add(time.Minute + time.Millisecond)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			db := openTest(t, "", clk)
			sw := makeSweep("s", baseSettings())
			if err := db.SaveSweep(ctx, sw); err != nil {
				t.Fatal(err)
			}
			id := sw.Runs[0].ID
			tc.setup(t, db, clk, id)
			_, ok, err := db.Claim(ctx, []string{id}, ownerB, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.claimable {
				t.Errorf("claimed = %v, want %v", ok, tc.claimable)
			}
		})
	}
}

// TestReclaimClearsEpochs: a failed or interrupted run restarts from epoch 1.
func TestReclaimClearsEpochs(t *testing.T) {
	ctx := context.Background()
	for _, status := range []sweep.Status{sweep.StatusFailed, sweep.StatusInterrupted} {
		t.Run(string(status), func(t *testing.T) {
			clk := newClock()
			db := openTest(t, "", clk)
			sw := makeSweep("s", baseSettings())
			if err := db.SaveSweep(ctx, sw); err != nil {
				t.Fatal(err)
			}
			id := sw.Runs[0].ID
			runOne(t, db, id, ownerA, 2, status, 0.5, 0.5, 0.5)
			clk.Add(time.Hour)
			run, ok, err := db.Claim(ctx, []string{id}, ownerB, time.Minute)
			if err != nil || !ok || run.ID != id {
				t.Fatalf("reclaim: %+v %v %v", run, ok, err)
			}
			if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ?`, id); n != 0 {
				t.Errorf("%d epoch rows left from the earlier attempt", n)
			}
			r, err := db.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != sweep.StatusRunning || r.EpochsDone != 0 || r.Error != "" || !r.Finished.IsZero() ||
				r.Host != "hostB" || !r.Started.Equal(clk.Now()) || r.Final != (sweep.SplitMetrics{}) {
				t.Errorf("reclaimed run: %+v", r)
			}
			if n := queryInt(t, db, `SELECT attempts FROM runs WHERE id = ?`, id); n != 2 {
				t.Errorf("attempts = %d, want 2", n)
			}
			// The new attempt records from epoch 1.
			if err := db.RecordEpoch(ctx, id, ownerB, metrics(1, 0.7, 0.7, 0.7)); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordEpoch(ctx, id, ownerA, metrics(2, 0.7, 0.7, 0.7)); !errors.Is(err, sweep.ErrLeaseLost) {
				t.Errorf("old owner recorded: %v", err)
			}
		})
	}
}

func TestStaleLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)
	sw := makeSweep("s", baseSettings())
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := db.RecordEpoch(ctx, id, ownerA, metrics(1, 0.5, 0.5, 0.5)); err != nil {
		t.Fatal(err)
	}
	// A stalls past its lease; its heartbeat still works while nobody has
	// taken the run.
	clk.Add(2 * time.Minute)
	if err := db.Heartbeat(ctx, id, ownerA, time.Minute); err != nil {
		t.Fatalf("heartbeat after expiry, not taken over: %v", err)
	}
	if _, ok, _ := db.Claim(ctx, []string{id}, ownerB, time.Minute); ok {
		t.Fatal("B took a run whose lease was renewed")
	}
	clk.Add(61 * time.Second)
	run, ok, err := db.Claim(ctx, []string{id}, ownerB, time.Minute)
	if err != nil || !ok || run.ID != id {
		t.Fatalf("B takeover: %v %v", ok, err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ?`, id); n != 0 {
		t.Errorf("A's epoch rows survived the takeover: %d", n)
	}
	// A is told, and changes nothing.
	if err := db.Heartbeat(ctx, id, ownerA, time.Minute); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("A heartbeat: %v", err)
	}
	if err := db.RecordEpoch(ctx, id, ownerA, metrics(2, 0.5, 0.5, 0.5)); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("A record epoch: %v", err)
	}
	if err := db.Finish(ctx, id, ownerA, sweep.StatusDone, ""); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("A finish: %v", err)
	}
	r, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sweep.StatusRunning || r.EpochsDone != 0 || r.Host != "hostB" {
		t.Errorf("after A's attempts: %+v", r)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ?`, id); n != 0 {
		t.Errorf("A wrote %d epoch rows after losing the lease", n)
	}
	// B carries on.
	if err := db.Heartbeat(ctx, id, ownerB, time.Minute); err != nil {
		t.Error(err)
	}
	if err := db.RecordEpoch(ctx, id, ownerB, metrics(1, 0.5, 0.5, 0.5)); err != nil {
		t.Error(err)
	}
	if err := db.Finish(ctx, id, ownerB, sweep.StatusDone, ""); err != nil {
		t.Error(err)
	}
	// Once finished, even the owner's calls are refused.
	if err := db.Heartbeat(ctx, id, ownerB, time.Minute); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("heartbeat after finish: %v", err)
	}
}

func TestHeartbeatExtendsLease(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)
	sw := makeSweep("s", baseSettings())
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for range 5 {
		clk.Add(50 * time.Second)
		if err := db.Heartbeat(ctx, id, ownerA, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.Claim(ctx, []string{id}, ownerB, time.Minute); ok || err != nil {
			t.Fatalf("B claimed a run with a live lease: %v %v", ok, err)
		}
	}
	if got, want := queryString(t, db, `SELECT lease_expires FROM runs WHERE id = ?`, id),
		formatTime(clk.Now().Add(time.Minute)); got != want {
		t.Errorf("lease_expires = %s, want %s", got, want)
	}
	// RecordEpoch renews the lease by the length last given.
	if err := db.Heartbeat(ctx, id, ownerA, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.Add(9 * time.Minute)
	if err := db.RecordEpoch(ctx, id, ownerA, metrics(1, 0.5, 0.5, 0.5)); err != nil {
		t.Fatal(err)
	}
	if got, want := queryString(t, db, `SELECT lease_expires FROM runs WHERE id = ?`, id),
		formatTime(clk.Now().Add(10*time.Minute)); got != want {
		t.Errorf("lease_expires after RecordEpoch = %s, want %s", got, want)
	}
	if err := db.Heartbeat(ctx, "nope", ownerA, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Errorf("heartbeat of unknown run: %v", err)
	}
	if err := db.Heartbeat(ctx, id, ownerA, -time.Second); err == nil {
		t.Error("negative lease: no error")
	}
}

func TestFinish(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status  sweep.Status
		errText string
		wantErr bool
	}{
		{sweep.StatusDone, "", false},
		{sweep.StatusFailed, "loss is NaN", false},
		{sweep.StatusInterrupted, "signal: interrupt", false},
		{sweep.StatusPending, "", true},
		{sweep.StatusRunning, "", true},
		{"bogus", "", true},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			clk := newClock()
			db := openTest(t, "", clk)
			sw := makeSweep("s", baseSettings())
			if err := db.SaveSweep(ctx, sw); err != nil {
				t.Fatal(err)
			}
			id := sw.Runs[0].ID
			if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
				t.Fatal(ok, err)
			}
			clk.Add(time.Second)
			err := db.Finish(ctx, id, ownerA, tc.status, tc.errText)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			r, err := db.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr {
				if r.Status != sweep.StatusRunning {
					t.Errorf("status changed to %s", r.Status)
				}
				return
			}
			if r.Status != tc.status || r.Error != tc.errText || !r.Finished.Equal(clk.Now()) {
				t.Errorf("finished run: %+v", r)
			}
			if s := queryString(t, db, `SELECT lease_expires FROM runs WHERE id = ?`, id); s != "" {
				t.Errorf("lease_expires = %q after finish", s)
			}
		})
	}
}

func TestRecordEpoch(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := openTest(t, "", clk)
	sw := makeSweep("s", baseSettings())
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if err := db.RecordEpoch(ctx, id, ownerA, metrics(1, 0.5, 0.5, 0.5)); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("record on a pending run: %v", err)
	}
	if err := db.RecordEpoch(ctx, "nope", ownerA, metrics(1, 0.5, 0.5, 0.5)); !errors.Is(err, ErrNotFound) {
		t.Errorf("record on an unknown run: %v", err)
	}
	if _, ok, err := db.Claim(ctx, []string{id}, ownerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := db.RecordEpoch(ctx, id, ownerA, metrics(0, 0.5, 0.5, 0.5)); err == nil {
		t.Error("epoch 0: no error")
	}
	m := sweep.EpochMetrics{
		Epoch: 1,
		Train: sweep.SplitMetrics{DigitNLL: 0.3, DigitAccuracy: 0.91, SumMSE: 2.5, SumR2: 0.61, SumAccuracy: 0.31, SumNLL: 1.7, Samples: 1000},
		Test:  sweep.SplitMetrics{DigitNLL: 0.2, DigitAccuracy: 0.93, SumMSE: 2.25, SumR2: 0.65, SumAccuracy: 0.33, SumNLL: math.NaN(), SumPredStd: 3.5, Samples: 10000},
		// Train NaN in a metric too, to check each column.
		TrainSeconds: 12.5, EvalSeconds: 1.5, SamplesPerSec: 80,
	}
	m.Train.SumR2 = math.NaN()
	if err := db.RecordEpoch(ctx, id, ownerA, m); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ? AND epoch = 1`, id); n != 2 {
		t.Fatalf("%d rows for epoch 1, want train and test", n)
	}
	// NaN is NULL in the file.
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ? AND split = 'test' AND sum_nll IS NULL`, id); n != 1 {
		t.Error("test sum_nll NaN not stored as NULL")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ? AND split = 'train' AND r2 IS NULL AND sum_nll = 1.7`, id); n != 1 {
		t.Error("train r2 NaN not stored as NULL, or sum_nll lost")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE split = 'test' AND sum_pred_std = 3.5`); n != 1 {
		t.Error("test sum_pred_std not stored")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE split = 'train' AND samples_per_sec = 80 AND seconds = 12.5`); n != 1 {
		t.Error("train seconds or samples_per_sec wrong")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE split = 'test' AND samples_per_sec IS NULL AND seconds = 1.5`); n != 1 {
		t.Error("test seconds wrong")
	}
	// And NaN again when read back.
	eps, err := db.Epochs(ctx, RunFilter{IDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Split != "train" || eps[1].Split != "test" {
		t.Fatalf("epochs: %+v", eps)
	}
	if tr := eps[0]; !math.IsNaN(tr.Metrics.SumR2) || tr.Metrics.SumNLL != 1.7 || tr.Seconds != 12.5 || tr.Metrics.DigitAccuracy != 0.91 || tr.Metrics.Samples != 1000 {
		t.Errorf("train row: %+v", tr)
	}
	te := eps[1]
	if !math.IsNaN(te.Metrics.SumNLL) || te.Seconds != 1.5 || te.Sweep != "s" || te.RunID != id || te.Epoch != 1 {
		t.Errorf("test row: %+v", te)
	}
	te.Metrics.SumNLL = 0
	wantTest := m.Test
	wantTest.SumNLL = 0
	if te.Metrics != wantTest {
		t.Errorf("test metrics = %+v, want %+v", te.Metrics, wantTest)
	}
	r, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.EpochsDone != 1 || r.Final.DigitAccuracy != 0.93 || !math.IsNaN(r.Final.SumNLL) || r.TrainSeconds != 12.5 {
		t.Errorf("run after epoch 1: %+v", r)
	}
	// Recording the same epoch again replaces it.
	m.Test.DigitAccuracy = 0.95
	if err := db.RecordEpoch(ctx, id, ownerA, m); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Run(ctx, id); r.Final.DigitAccuracy != 0.95 || r.EpochsDone != 1 {
		t.Errorf("after re-recording epoch 1: %+v", r)
	}
	// Another owner writes nothing.
	if err := db.RecordEpoch(ctx, id, ownerB, metrics(2, 0.5, 0.5, 0.5)); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("record by non-owner: %v", err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM epochs WHERE run_id = ?`, id); n != 2 {
		t.Errorf("%d rows after a refused record, want 2", n)
	}
}

// TestClaimManyIDs passes more ids than SQLite allows bound variables.
func TestClaimManyIDs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, "", nil)
	sw := makeSweep("s", seeds(baseSettings(), 3)...)
	if err := db.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	var many []string
	for i := range 40000 {
		many = append(many, fmt.Sprintf("missing%05d", i))
	}
	many = append(many, sw.Runs[2].ID)
	run, ok, err := db.Claim(ctx, many, ownerA, time.Minute)
	if err != nil || !ok || run.ID != sw.Runs[2].ID {
		t.Fatalf("claim among 40001 ids: %+v %v %v", run.ID, ok, err)
	}
	counts, err := db.Counts(ctx, append(many, sw.Runs[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if counts[sweep.StatusRunning] != 1 || counts[sweep.StatusPending] != 1 || len(counts) != len(sweep.Statuses()) {
		t.Errorf("counts = %v", counts)
	}
	runs, err := db.Runs(ctx, RunFilter{IDs: many})
	if err != nil || len(runs) != 1 {
		t.Errorf("runs among 40001 ids: %d %v", len(runs), err)
	}
}

// TestClaimConcurrent: goroutines on two handles of one file drain 20 runs;
// each run is claimed exactly once and nobody sees an error.
func TestClaimConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sweep.db")
	db1 := openTest(t, path, nil)
	db2 := openTest(t, path, nil)
	sw := makeSweep("s", seeds(baseSettings(), 20)...)
	if err := db1.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	all := ids(sw)
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, db := range []*DB{db1, db2, db1, db2} {
		owner := sweep.Owner{ID: fmt.Sprintf("worker%d", i), Host: "h"}
		wg.Go(func() {
			for {
				run, ok, err := db.Claim(ctx, all, owner, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claims[run.ID]++
				mu.Unlock()
				if err := db.RecordEpoch(ctx, run.ID, owner, metrics(1, 0.5, 0.5, 0.5)); err != nil {
					errs <- err
					return
				}
				if err := db.Finish(ctx, run.ID, owner, sweep.StatusDone, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claims) != len(all) {
		t.Errorf("%d runs claimed, want %d", len(claims), len(all))
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("run %s claimed %d times", id, n)
		}
	}
	counts, err := db2.Counts(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if counts[sweep.StatusDone] != 20 {
		t.Errorf("counts = %v", counts)
	}
	if n := queryInt(t, db1, `SELECT count(*) FROM runs WHERE attempts != 1`); n != 0 {
		t.Errorf("%d runs attempted other than once", n)
	}
}
