// Package storetest is the conformance suite every sweep database backend
// passes: the behaviour of sweep.Store and sweep.Importer that cmd/sweep
// relies on, checked through the interfaces and, where the meaning is in
// the database itself (NULLs, the views), with raw SQL.
//
// A backend's tests call Run with a function that opens a new, empty
// database and returns it as a Backend. store (SQLite) and postgres
// (PostgreSQL) both do.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep"
)

// DB is what a backend offers: the store and the importer.
type DB interface {
	sweep.Store
	sweep.Importer
}

// Backend is one open, empty database and the hooks the suite needs.
type Backend struct {
	DB DB
	// SetNow replaces the database's clock (used for leases and the times
	// it records). Called before the database is used concurrently.
	SetNow func(func() time.Time)
	// Query runs read-only SQL without parameters and returns the rows
	// with values as nil, int64, float64 or string.
	Query func(ctx context.Context, q string) ([][]any, error)
}

// Clock is a settable clock for SetNow.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Owners for tests.
var (
	OwnerA = sweep.Owner{ID: "hostA:1:aaaa", Host: "hostA", Version: "v1"}
	OwnerB = sweep.Owner{ID: "hostB:2:bbbb", Host: "hostB", Version: "v2"}
)

// BaseSettings are valid, resolved settings.
func BaseSettings() sweep.Settings {
	return sweep.Settings{
		Head: sweep.HeadRegression, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 64, Epochs: 3,
		TrainSize: 1000,
	}.Resolved()
}

// MakeSweep returns a sweep named name with one run per settings.
func MakeSweep(name string, settings ...sweep.Settings) sweep.Sweep {
	sw := sweep.Sweep{
		Name:        name,
		Description: "test sweep " + name,
		File:        "configs/" + name + ".toml",
		Source:      "name = '" + name + "'\n",
		Hash:        "hash-" + name,
	}
	for _, s := range settings {
		sw.Runs = append(sw.Runs, sweep.RunSpec{ID: sweep.RunID(name, s), Sweep: name, Settings: s})
	}
	return sw
}

// Seeds returns base with seeds 0..n-1.
func Seeds(base sweep.Settings, n int) []sweep.Settings {
	out := make([]sweep.Settings, n)
	for i := range out {
		out[i] = base
		out[i].Seed = int64(i)
	}
	return out
}

// IDs returns the sweep's run ids in order.
func IDs(sw sweep.Sweep) []string {
	out := make([]string, len(sw.Runs))
	for i, r := range sw.Runs {
		out[i] = r.ID
	}
	return out
}

// Metrics returns plausible metrics for one epoch; sum_nll is NaN (the
// regression head's).
func Metrics(epoch int, testAcc, testR2, testSumAcc float64) sweep.EpochMetrics {
	return sweep.EpochMetrics{
		Epoch: epoch,
		Train: sweep.SplitMetrics{
			DigitNLL: 0.5 / float64(epoch), DigitAccuracy: testAcc - 0.01, SumMSE: 1.5,
			SumR2: testR2 - 0.01, SumAccuracy: testSumAcc - 0.01, SumNLL: math.NaN(), SumPredStd: 2.5, Samples: 1000,
		},
		Test: sweep.SplitMetrics{
			DigitNLL: 0.4 / float64(epoch), DigitAccuracy: testAcc, SumMSE: 1.25,
			SumR2: testR2, SumAccuracy: testSumAcc, SumNLL: math.NaN(), SumPredStd: 2.75, Samples: 10000,
		},
		TrainSeconds:  10 + float64(epoch),
		EvalSeconds:   2,
		SamplesPerSec: 100,
	}
}

// RunOne claims the run id for owner, records epochs with the given final
// test metrics and finishes it with status.
func RunOne(t testing.TB, db sweep.Store, id string, owner sweep.Owner, epochs int, status sweep.Status, acc, r2, sacc float64) {
	t.Helper()
	ctx := context.Background()
	run, ok, err := db.Claim(ctx, []string{id}, owner, time.Minute)
	if err != nil || !ok || run.ID != id {
		t.Fatalf("claim %s: got %q %v %v", id, run.ID, ok, err)
	}
	for e := 1; e <= epochs; e++ {
		if err := db.RecordEpoch(ctx, id, owner, Metrics(e, acc, r2, sacc)); err != nil {
			t.Fatal(err)
		}
	}
	errText := ""
	if status != sweep.StatusDone {
		errText = "boom: " + string(status)
	}
	if err := db.Finish(ctx, id, owner, status, errText); err != nil {
		t.Fatal(err)
	}
}

// Populate fills a database with two sweeps in every status, the clock
// moving one minute per run so that times differ. It returns the sweeps.
// Two databases populated from the same clock start hold the same rows.
func Populate(t testing.TB, b Backend, clk *Clock) (a, c sweep.Sweep) {
	t.Helper()
	ctx := context.Background()
	base := BaseSettings()
	cls := base
	cls.Head, cls.LR = sweep.HeadClassify, 0.01
	a = MakeSweep("alpha", append(Seeds(base, 3), Seeds(cls, 3)...)...)
	a.Reference = &sweep.Reference{Label: "notebook", Epoch: 3, DigitAccuracy: 0.97, SumR2: 0.8}
	c = MakeSweep("beta", Seeds(base, 4)...)
	for _, sw := range []sweep.Sweep{a, c} {
		if err := b.DB.SaveSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	results := []struct {
		status       sweep.Status
		acc, r2, sac float64
	}{
		{sweep.StatusDone, 0.91, 0.71, 0.41},
		{sweep.StatusDone, 0.93, 0.77, 0.47},
		{sweep.StatusDone, 0.96, 0.72, 0.43},
		{sweep.StatusDone, 0.81, 0.61, 0.31},
		{sweep.StatusFailed, 0.5, 0.1, 0.1},
		{sweep.StatusDone, 0.85, 0.66, 0.33},
	}
	for i, r := range results {
		clk.Add(time.Minute)
		RunOne(t, b.DB, a.Runs[i].ID, OwnerA, 3, r.status, r.acc, r.r2, r.sac)
	}
	clk.Add(time.Minute)
	RunOne(t, b.DB, c.Runs[0].ID, OwnerB, 2, sweep.StatusDone, 0.9, 0.7, 0.4)
	clk.Add(time.Minute)
	RunOne(t, b.DB, c.Runs[1].ID, OwnerB, 1, sweep.StatusInterrupted, 0.8, 0.6, 0.3)
	clk.Add(time.Minute)
	// One running with an epoch, one pending.
	if _, ok, err := b.DB.Claim(ctx, []string{c.Runs[2].ID}, OwnerA, time.Hour); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := b.DB.RecordEpoch(ctx, c.Runs[2].ID, OwnerA, Metrics(1, 0.7, 0.5, 0.2)); err != nil {
		t.Fatal(err)
	}
	return a, c
}

// READMEQueries returns the ```sql blocks of the README's database
// section (readme is the path of README.md).
// PopulateAdaptive adds, after Populate, a tpe sweep "gamma" with a
// pruning rule and two trials of two seeds: trial 1's seed 0 reused from
// alpha's identical done run, its seed 1 held at epoch 1; trial 2's two
// runs pruned after epoch 1. Each trained run has a checkpoint.
func PopulateAdaptive(t testing.TB, b Backend, clk *Clock) sweep.Sweep {
	t.Helper()
	ctx := context.Background()
	r2, _ := sweep.LookupMetric("test_r2")
	other := BaseSettings()
	other.LR = 0.02
	g := MakeSweep("gamma", append(Seeds(BaseSettings(), 2), Seeds(other, 2)...)...)
	for i := range g.Runs {
		g.Runs[i].Trial = 1 + i/2
	}
	g.Search = &sweep.Search{Method: "tpe", Trials: 4, StartupTrials: 2, Objective: r2, Repeats: 2, Base: BaseSettings(),
		Params: []sweep.SearchParam{{Key: "lr", Dist: "log_uniform", Lo: 1e-4, Hi: 0.1}}}
	g.Prune = &sweep.Prune{Method: "asha", Metric: r2, MinEpochs: 1, ReductionFactor: 3}
	if err := b.DB.SaveSweep(ctx, g); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	train := func(id string) {
		t.Helper()
		if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, time.Hour); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", id, ok, err)
		}
		m := Metrics(1, 0.8, 0.5, 0.3)
		m.Checkpoint = []byte("state of " + id)
		if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := b.DB.Claim(ctx, []string{g.Runs[0].ID}, OwnerA, time.Hour); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if from, err := b.DB.Reuse(ctx, g.Runs[0].ID, OwnerA); err != nil || from == "" {
		t.Fatalf("reuse: %q %v", from, err)
	}
	train(g.Runs[1].ID)
	if err := b.DB.Hold(ctx, g.Runs[1].ID, OwnerA, 1, "held at epoch 1"); err != nil {
		t.Fatal(err)
	}
	train(g.Runs[2].ID)
	train(g.Runs[3].ID)
	if _, err := b.DB.PruneConfig(ctx, "gamma", sweep.ConfigKey(other), "asha cut"); err != nil {
		t.Fatal(err)
	}
	return g
}

func READMEQueries(t testing.TB, readme string) []string {
	t.Helper()
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN database section (owned by store/) -->", "<!-- END database section -->"
	_, after, ok := strings.Cut(string(text), begin)
	if !ok {
		t.Fatalf("README.md has no %q", begin)
	}
	section, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("README.md has no %q", end)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) < 3 {
		t.Fatalf("README database section has %d sql blocks, want at least 3", len(out))
	}
	return out
}

// FormatRows writes rows as text, one line per row, numbers with 12
// significant digits (the backends' arithmetic may differ in the last
// bits of a standard deviation), for comparing backends.
func FormatRows(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			switch x := v.(type) {
			case nil:
				b.WriteString("NULL")
			case float64:
				if x == math.Trunc(x) && math.Abs(x) < 1e15 {
					fmt.Fprintf(&b, "%d", int64(x))
				} else {
					fmt.Fprintf(&b, "%.12g", x)
				}
			case int64:
				fmt.Fprintf(&b, "%d", x)
			default:
				fmt.Fprintf(&b, "%v", x)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Run runs the conformance suite; open returns a new, empty database.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend, *Clock)
	}{
		{"SaveSweepIdempotent", testSaveSweep},
		{"ClaimOrder", testClaimOrder},
		{"ClaimByStatus", testClaimByStatus},
		{"LeaseLost", testLeaseLost},
		{"Heartbeat", testHeartbeat},
		{"RecordEpoch", testRecordEpoch},
		{"Finish", testFinish},
		{"ResumeFromCheckpoint", testResumeFromCheckpoint},
		{"HoldersAndRelease", testHoldersRelease},
		{"DropCheckpoints", testDropCheckpoints},
		{"AddRunsSerialised", testAddRuns},
		{"PruneConfig", testPruneConfig},
		{"Reuse", testReuse},
		{"HoldAndUnhold", testHold},
		{"RunsFilterAndOrder", testRunsFilterOrder},
		{"RunPrefix", testRunPrefix},
		{"Epochs", testEpochs},
		{"Counts", testCounts},
		{"Views", testViews},
		{"ClaimConcurrent", testClaimConcurrent},
		{"DumpImport", testDumpImport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			clk := NewClock()
			b.SetNow(clk.Now)
			tc.fn(t, b, clk)
		})
	}
}

func queryInt(t *testing.T, b Backend, q string) int64 {
	t.Helper()
	rows, err := b.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: %d rows, want 1", q, len(rows))
	}
	n, ok := rows[0][0].(int64)
	if !ok {
		t.Fatalf("%s: got %T %v, want an integer", q, rows[0][0], rows[0][0])
	}
	return n
}

func testSaveSweep(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("s", Seeds(BaseSettings(), 3)...)
	sw.Reference = &sweep.Reference{Label: "paper", Epoch: 5, DigitAccuracy: 0.98, SumR2: 0.9}
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	RunOne(t, b.DB, sw.Runs[0].ID, OwnerA, 1, sweep.StatusDone, 0.9, 0.8, 0.5)
	// Saving again, with one more run and a new description, keeps the
	// done run and adds the new one as pending.
	clk.Add(time.Hour)
	sw2 := MakeSweep("s", Seeds(BaseSettings(), 4)...)
	sw2.Description = "edited"
	for range 2 {
		if err := b.DB.SaveSweep(ctx, sw2); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := b.DB.Sweeps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "s" || infos[0].Description != "edited" {
		t.Fatalf("sweeps: %+v", infos)
	}
	want := map[sweep.Status]int{sweep.StatusDone: 1, sweep.StatusPending: 3, sweep.StatusRunning: 0, sweep.StatusFailed: 0, sweep.StatusInterrupted: 0, sweep.StatusPruned: 0}
	if fmt.Sprint(infos[0].Counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", infos[0].Counts, want)
	}
	if !infos[0].UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated %v, want %v", infos[0].UpdatedAt, clk.Now())
	}
	if infos[0].Seconds != 11 {
		t.Errorf("seconds %v, want 11", infos[0].Seconds)
	}
	r, err := b.DB.Run(ctx, sw.Runs[0].ID)
	if err != nil || r.Status != sweep.StatusDone || r.Final.DigitAccuracy != 0.9 {
		t.Errorf("run kept: %+v %v", r, err)
	}
	// sw2 has no reference: the row takes the new save's (none).
	if ref, err := b.DB.SweepReference(ctx, "s"); err != nil || ref != nil {
		t.Errorf("reference after re-save without one: %v %v", ref, err)
	}
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if ref, err := b.DB.SweepReference(ctx, "s"); err != nil || ref == nil || *ref != *sw.Reference {
		t.Errorf("reference: %v %v, want %v", ref, err, sw.Reference)
	}
	if _, err := b.DB.SweepReference(ctx, "nope"); !errors.Is(err, sweep.ErrNotFound) {
		t.Errorf("reference of a missing sweep: %v, want ErrNotFound", err)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM runs"); n != 4 {
		t.Errorf("%d rows in runs, want 4", n)
	}
	// Settings are stored resolved, one column each.
	s := BaseSettings()
	s.TrainSize = 0
	s.Seed = 99
	sw3 := MakeSweep("r", s)
	if err := b.DB.SaveSweep(ctx, sw3); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, b, "SELECT train_size FROM runs WHERE sweep = 'r'"); n != sweep.TrainImages {
		t.Errorf("train_size stored as %d, want %d", n, sweep.TrainImages)
	}
	bad := MakeSweep("", BaseSettings())
	if err := b.DB.SaveSweep(ctx, bad); err == nil {
		t.Error("saving a sweep without a name succeeded")
	}
}

func testClaimOrder(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("o", Seeds(BaseSettings(), 5)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	ids := IDs(sw)
	// Among a subset, in save order.
	r, ok, err := b.DB.Claim(ctx, []string{ids[3], ids[1]}, OwnerA, time.Minute)
	if err != nil || !ok || r.ID != ids[1] {
		t.Fatalf("claim: %q %v %v, want %s", r.ID, ok, err, ids[1])
	}
	if r.Sweep != "o" || r.Settings != sw.Runs[1].Settings {
		t.Errorf("claimed spec %+v, want %+v", r, sw.Runs[1])
	}
	var got []string
	for {
		r, ok, err := b.DB.Claim(ctx, ids, OwnerA, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, r.ID)
	}
	want := []string{ids[0], ids[2], ids[3], ids[4]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("claim order %v, want %v", got, want)
	}
	if _, ok, err := b.DB.Claim(ctx, nil, OwnerA, time.Minute); ok || err != nil {
		t.Errorf("claim among no ids: %v %v", ok, err)
	}
	if _, _, err := b.DB.Claim(ctx, ids, sweep.Owner{}, time.Minute); err == nil {
		t.Error("claim without an owner id succeeded")
	}
}

func testClaimByStatus(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("st", Seeds(BaseSettings(), 5)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	ids := IDs(sw)
	RunOne(t, b.DB, ids[0], OwnerA, 1, sweep.StatusDone, 0.9, 0.8, 0.5)
	RunOne(t, b.DB, ids[1], OwnerA, 1, sweep.StatusFailed, 0.9, 0.8, 0.5)
	RunOne(t, b.DB, ids[2], OwnerA, 1, sweep.StatusInterrupted, 0.9, 0.8, 0.5)
	if _, ok, err := b.DB.Claim(ctx, []string{ids[3]}, OwnerA, 10*time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := b.DB.RecordEpoch(ctx, ids[3], OwnerA, Metrics(1, 0.5, 0.5, 0.5)); err != nil {
		t.Fatal(err)
	}
	try := func(id string) bool {
		t.Helper()
		_, ok, err := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if try(ids[0]) {
		t.Error("a done run was claimed")
	}
	if try(ids[3]) {
		t.Error("a running run with a live lease was claimed")
	}
	if !try(ids[1]) || !try(ids[2]) || !try(ids[4]) {
		t.Error("a failed, interrupted or pending run was not claimable")
	}
	// The lease (renewed by RecordEpoch) runs out: the run is taken over,
	// its earlier attempt's epochs deleted and attempts counted.
	clk.Add(11 * time.Second)
	if !try(ids[3]) {
		t.Fatal("a running run with an expired lease was not claimed")
	}
	r, err := b.DB.Run(ctx, ids[3])
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sweep.StatusRunning || r.EpochsDone != 0 || r.Host != OwnerB.Host {
		t.Errorf("taken-over run: %s, %d epochs, host %s", r.Status, r.EpochsDone, r.Host)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE run_id = '"+ids[3]+"'"); n != 0 {
		t.Errorf("%d epoch rows of the earlier attempt left", n)
	}
	if n := queryInt(t, b, "SELECT attempts FROM runs WHERE id = '"+ids[3]+"'"); n != 2 {
		t.Errorf("attempts %d, want 2", n)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE run_id = '"+ids[1]+"'"); n != 0 {
		t.Errorf("reclaiming a failed run left %d epoch rows", n)
	}
}

func testLeaseLost(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("ll", Seeds(BaseSettings(), 1)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, 5*time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clk.Add(6 * time.Second)
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute); !ok || err != nil {
		t.Fatal("take over:", ok, err)
	}
	if err := b.DB.Heartbeat(ctx, id, OwnerA, time.Minute); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("heartbeat by the old owner: %v, want ErrLeaseLost", err)
	}
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, Metrics(1, 0.5, 0.5, 0.5)); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("record by the old owner: %v, want ErrLeaseLost", err)
	}
	if err := b.DB.Finish(ctx, id, OwnerA, sweep.StatusDone, ""); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("finish by the old owner: %v, want ErrLeaseLost", err)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs"); n != 0 {
		t.Errorf("the old owner wrote %d epoch rows", n)
	}
	if err := b.DB.Heartbeat(ctx, "nosuchrun", OwnerA, time.Minute); !errors.Is(err, sweep.ErrNotFound) {
		t.Errorf("heartbeat of a missing run: %v, want ErrNotFound", err)
	}
	if err := b.DB.Finish(ctx, id, OwnerB, sweep.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := b.DB.Heartbeat(ctx, id, OwnerB, time.Minute); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("heartbeat of a finished run: %v, want ErrLeaseLost", err)
	}
}

func testHeartbeat(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("hb", Seeds(BaseSettings(), 1)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, 10*time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clk.Add(8 * time.Second)
	if err := b.DB.Heartbeat(ctx, id, OwnerA, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Add(9 * time.Second) // 17 s after the claim, 9 s after the heartbeat
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute); ok || err != nil {
		t.Fatalf("claimed under a renewed lease: %v %v", ok, err)
	}
	clk.Add(2 * time.Second)
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute); !ok || err != nil {
		t.Fatalf("not claimable after the renewed lease ran out: %v %v", ok, err)
	}
	if err := b.DB.Heartbeat(ctx, id, OwnerA, 0); err == nil {
		t.Error("a zero lease was accepted")
	}
}

func testRecordEpoch(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	cls := BaseSettings()
	cls.Head = sweep.HeadClassify
	sw := MakeSweep("re", cls)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	m := Metrics(1, 0.9, 0.8, 0.6)
	m.Test.SumNLL = 0.123456789
	m.Train.DigitNLL = 1.0 / 3
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
		t.Fatal(err)
	}
	// NaN is stored as NULL: only the train row's sum_nll.
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE sum_nll IS NULL"); n != 1 {
		t.Errorf("%d NULL sum_nll, want 1 (the train row's NaN)", n)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE samples_per_sec IS NULL"); n != 1 {
		t.Errorf("%d NULL samples_per_sec, want 1 (the test row)", n)
	}
	eps, err := b.DB.Epochs(ctx, sweep.RunFilter{IDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Split != "train" || eps[1].Split != "test" {
		t.Fatalf("epochs %+v", eps)
	}
	if !math.IsNaN(eps[0].Metrics.SumNLL) {
		t.Errorf("train sum_nll %v, want NaN", eps[0].Metrics.SumNLL)
	}
	want := m.Train
	want.SumNLL = 0
	got := eps[0].Metrics
	got.SumNLL = 0
	if got != want || eps[0].Seconds != m.TrainSeconds {
		t.Errorf("train row %+v %v, want %+v %v", got, eps[0].Seconds, want, m.TrainSeconds)
	}
	if eps[1].Metrics != m.Test || eps[1].Seconds != m.EvalSeconds {
		t.Errorf("test row %+v, want %+v", eps[1].Metrics, m.Test)
	}
	// Recording the same epoch again replaces its rows; epochs_done is
	// the highest epoch.
	m.Test.DigitAccuracy = 0.95
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
		t.Fatal(err)
	}
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, Metrics(2, 0.97, 0.85, 0.7)); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs"); n != 4 {
		t.Errorf("%d epoch rows, want 4", n)
	}
	r, err := b.DB.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.EpochsDone != 2 || r.Final.DigitAccuracy != 0.97 || r.TrainSeconds != 11+12 {
		t.Errorf("run after two epochs: %d epochs, final acc %v, train seconds %v", r.EpochsDone, r.Final.DigitAccuracy, r.TrainSeconds)
	}
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, Metrics(0, 0, 0, 0)); err == nil {
		t.Error("epoch 0 was accepted")
	}
}

func testFinish(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("f", Seeds(BaseSettings(), 2)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	RunOne(t, b.DB, sw.Runs[0].ID, OwnerA, 1, sweep.StatusDone, 0.9, 0.8, 0.5)
	clk.Add(time.Minute)
	RunOne(t, b.DB, sw.Runs[1].ID, OwnerA, 1, sweep.StatusFailed, 0.9, 0.8, 0.5)
	r0, _ := b.DB.Run(ctx, sw.Runs[0].ID)
	r1, _ := b.DB.Run(ctx, sw.Runs[1].ID)
	if r0.Status != sweep.StatusDone || r0.Error != "" || !r0.Finished.Equal(clk.Now().Add(-time.Minute)) {
		t.Errorf("done run: %s %q finished %v", r0.Status, r0.Error, r0.Finished)
	}
	if r1.Status != sweep.StatusFailed || r1.Error != "boom: failed" || r1.Host != "hostA" || r1.Version != "v1" {
		t.Errorf("failed run: %+v", r1)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM runs WHERE lease_expires IS NOT NULL"); n != 0 {
		t.Errorf("%d finished runs keep a lease", n)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM runs WHERE error IS NULL"); n != 1 {
		t.Errorf("%d runs with a NULL error, want 1 (the done one)", n)
	}
	if _, ok, err := b.DB.Claim(ctx, IDs(sw), OwnerB, time.Minute); !ok || err != nil {
		t.Fatal("the failed run is claimable again:", ok, err)
	}
	if err := b.DB.Finish(ctx, sw.Runs[1].ID, OwnerB, sweep.StatusRunning, ""); err == nil {
		t.Error("finishing as running was accepted")
	}
}

// testResumeFromCheckpoint: epochs recorded with checkpoints; the lease
// runs out; the next claim returns the last checkpoint and keeps the
// epochs up to it, with epochs_done at it. An epoch recorded without a
// checkpoint (none here after epoch 2) is dropped on resume. A run failed
// by diverging loses its checkpoint and restarts from scratch; a done run
// keeps its checkpoint.
func testResumeFromCheckpoint(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("ck", Seeds(BaseSettings(), 2)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for e, ck := range [][]byte{[]byte("after epoch 1"), []byte("after epoch 2\x00\xff"), nil} {
		m := Metrics(e+1, 0.9, 0.8, 0.5)
		m.Checkpoint = ck
		if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(2 * time.Minute) // OwnerA's lease runs out
	run, ok, err := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if string(run.Checkpoint) != "after epoch 2\x00\xff" {
		t.Errorf("resumed with checkpoint %q, want the one after epoch 2", run.Checkpoint)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE run_id = '"+id+"'"); n != 4 {
		t.Errorf("%d epoch rows kept, want 4 (epochs 1 and 2, train and test)", n)
	}
	if r, _ := b.DB.Run(ctx, id); r.EpochsDone != 2 {
		t.Errorf("epochs_done %d, want 2", r.EpochsDone)
	}
	// Diverged: no checkpoint, no epochs on the next claim.
	if err := b.DB.Finish(ctx, id, OwnerB, sweep.StatusFailed, "diverged at epoch 3, batch 7: loss is NaN"); err != nil {
		t.Fatal(err)
	}
	run, ok, err = b.DB.Claim(ctx, []string{id}, OwnerA, time.Minute)
	if !ok || err != nil || run.Checkpoint != nil {
		t.Fatalf("after diverging: claimed %v (%v) with checkpoint %q, want a fresh start", ok, err, run.Checkpoint)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE run_id = '"+id+"'"); n != 0 {
		t.Errorf("%d epoch rows after a fresh start, want 0", n)
	}
	// A done run keeps its last checkpoint: its trained weights.
	m := Metrics(1, 0.9, 0.8, 0.5)
	m.Checkpoint = []byte("final")
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
		t.Fatal(err)
	}
	if err := b.DB.Finish(ctx, id, OwnerA, sweep.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if e, data, err := b.DB.Checkpoint(ctx, id); err != nil || e != 1 || string(data) != "final" {
		t.Errorf("the done run's checkpoint: epoch %d, %q, %v; want 1, \"final\"", e, data, err)
	}
	if _, _, err := b.DB.Checkpoint(ctx, sw.Runs[1].ID); !errors.Is(err, sweep.ErrNotFound) {
		t.Errorf("a run without a checkpoint: %v, want ErrNotFound", err)
	}
}

// testHoldersRelease: Holders lists running runs with owner and lease end;
// Release lets a dead owner's run be claimed before its lease ends, and
// only while that owner still holds it.
func testHoldersRelease(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("held", Seeds(BaseSettings(), 3)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	ids := IDs(sw)
	for _, o := range []sweep.Owner{OwnerA, OwnerB} {
		if _, ok, err := b.DB.Claim(ctx, ids, o, time.Minute); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	hs, err := b.DB.Holders(ctx, append(ids, "unknown"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ids[0]: OwnerA.ID, ids[1]: OwnerB.ID}
	if len(hs) != 2 {
		t.Fatalf("holders %+v, want runs 0 and 1", hs)
	}
	for _, h := range hs {
		if want[h.RunID] == "" || h.Owner != want[h.RunID] || h.Sweep != "held" || !h.Expires.Equal(clk.Now().Add(time.Minute)) {
			t.Errorf("holder %+v: want owner %q, sweep held, lease until %v", h, want[h.RunID], clk.Now().Add(time.Minute))
		}
	}
	if hs[0].RunID > hs[1].RunID {
		t.Errorf("holders not in id order: %s, %s", hs[0].RunID, hs[1].RunID)
	}
	if hs, err := b.DB.Holders(ctx, nil); err != nil || len(hs) != 0 {
		t.Errorf("holders of no ids: %v %v", hs, err)
	}
	// The third run goes to OwnerA; nothing is claimable now.
	if _, ok, _ := b.DB.Claim(ctx, ids, OwnerA, time.Minute); !ok {
		t.Fatal("third run not claimed")
	}
	if _, ok, _ := b.DB.Claim(ctx, ids, OwnerA, time.Minute); ok {
		t.Fatal("claimed a run under a live lease")
	}
	// Releasing under the wrong owner changes nothing.
	if ok, err := b.DB.Release(ctx, ids[1], OwnerA.ID); ok || err != nil {
		t.Errorf("release of B's run as A: %v %v, want false", ok, err)
	}
	if ok, err := b.DB.Release(ctx, ids[1], OwnerB.ID); !ok || err != nil {
		t.Fatalf("release of B's run: %v %v", ok, err)
	}
	run, ok, err := b.DB.Claim(ctx, ids, OwnerA, time.Minute)
	if !ok || err != nil || run.ID != ids[1] {
		t.Fatalf("after release, claimed %q %v %v; want run 1 at once", run.ID, ok, err)
	}
	if ok, _ := b.DB.Release(ctx, ids[1], OwnerB.ID); ok {
		t.Error("released B's old claim after A took the run over")
	}
	if err := b.DB.Finish(ctx, ids[2], OwnerA, sweep.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.DB.Release(ctx, ids[2], OwnerA.ID); ok {
		t.Error("released a done run")
	}
}

// testDropCheckpoints: checkpoints of the chosen statuses go, with their
// bytes counted; running runs keep theirs whatever is asked.
func testDropCheckpoints(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	x := MakeSweep("x", Seeds(BaseSettings(), 3)...)
	y := MakeSweep("y", Seeds(BaseSettings(), 1)...)
	for _, sw := range []sweep.Sweep{x, y} {
		if err := b.DB.SaveSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	record := func(id string, size int, status sweep.Status) {
		t.Helper()
		if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, time.Minute); !ok || err != nil {
			t.Fatal(ok, err)
		}
		m := Metrics(1, 0.9, 0.8, 0.5)
		m.Checkpoint = make([]byte, size)
		if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
			t.Fatal(err)
		}
		if status != sweep.StatusRunning {
			if err := b.DB.Finish(ctx, id, OwnerA, status, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(x.Runs[0].ID, 100, sweep.StatusDone)
	record(x.Runs[1].ID, 30, sweep.StatusInterrupted)
	record(x.Runs[2].ID, 7, sweep.StatusRunning)
	record(y.Runs[0].ID, 1000, sweep.StatusDone)
	n, bytes, err := b.DB.DropCheckpoints(ctx, "x", []sweep.Status{sweep.StatusDone, sweep.StatusRunning})
	if err != nil || n != 1 || bytes != 100 {
		t.Errorf("drop x's done: %d checkpoints, %d bytes, %v; want 1, 100", n, bytes, err)
	}
	n, bytes, err = b.DB.DropCheckpoints(ctx, "", []sweep.Status{sweep.StatusDone, sweep.StatusInterrupted, sweep.StatusRunning})
	if err != nil || n != 2 || bytes != 1030 {
		t.Errorf("drop all done and interrupted: %d checkpoints, %d bytes, %v; want 2, 1030", n, bytes, err)
	}
	if e, data, err := b.DB.Checkpoint(ctx, x.Runs[2].ID); err != nil || e != 1 || len(data) != 7 {
		t.Errorf("the running run's checkpoint: %d %d %v; want it kept", e, len(data), err)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM checkpoints"); n != 1 {
		t.Errorf("%d checkpoints left, want 1", n)
	}
}

// testAddRuns: four goroutines grow one sweep to exactly 12 runs, each
// plan adding the next run numbered after those it sees; if two plans
// ever saw the same state they would add the same trial twice (or a
// thirteenth run).
func testAddRuns(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("grow")
	sw.Search = &sweep.Search{Method: "tpe", Trials: 12, Objective: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, Repeats: 1, Base: BaseSettings(),
		Params: []sweep.SearchParam{{Key: "lr", Dist: "log_uniform", Lo: 1e-4, Hi: 1e-1}}}
	sw.Prune = &sweep.Prune{Method: "asha", Metric: sweep.Metric{Name: "test_r2", HigherIsBetter: true}, MinEpochs: 1, ReductionFactor: 3}
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	plan := func(existing []sweep.RunResult) ([]sweep.RunSpec, error) {
		if len(existing) >= 12 {
			return nil, nil
		}
		for i, r := range existing {
			if r.Trial != i+1 {
				return nil, fmt.Errorf("run %d has trial %d: not in trial order", i, r.Trial)
			}
		}
		s := BaseSettings()
		s.LR = 0.001 * float64(len(existing)+1)
		return []sweep.RunSpec{{ID: sweep.RunID("grow", s), Sweep: "grow", Settings: s, Trial: len(existing) + 1}}, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				added, err := b.DB.AddRuns(ctx, "grow", plan)
				if err != nil {
					errs <- err
					return
				}
				if len(added) == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, err := b.DB.Runs(ctx, sweep.RunFilter{Sweep: "grow"})
	if err != nil {
		t.Fatal(err)
	}
	trials := map[int]bool{}
	for _, r := range runs {
		trials[r.Trial] = true
		if r.Status != sweep.StatusPending {
			t.Errorf("added run %s is %s, want pending", r.RunID, r.Status)
		}
	}
	if len(runs) != 12 || len(trials) != 12 {
		t.Errorf("%d runs with %d distinct trials, want 12 and 12", len(runs), len(trials))
	}
	// The sweep's search and prune rule read back as saved.
	infos, err := b.DB.Sweeps(ctx)
	if err != nil || len(infos) != 1 {
		t.Fatal(infos, err)
	}
	if fmt.Sprint(*infos[0].Search) != fmt.Sprint(*sw.Search) || fmt.Sprint(*infos[0].Prune) != fmt.Sprint(*sw.Prune) {
		t.Errorf("read back %+v %+v, want %+v %+v", *infos[0].Search, *infos[0].Prune, *sw.Search, *sw.Prune)
	}
}

// testPruneConfig: pruning a configuration ends its unfinished runs as
// pruned with the reason, keeps done runs and other configurations, and
// the owner of a pruned run learns it as ErrPruned.
func testPruneConfig(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	other := BaseSettings()
	other.LR = 0.01
	sw := MakeSweep("p", append(Seeds(BaseSettings(), 3), other)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	RunOne(t, b.DB, sw.Runs[0].ID, OwnerA, 3, sweep.StatusDone, 0.9, 0.8, 0.5)
	if _, ok, err := b.DB.Claim(ctx, []string{sw.Runs[1].ID}, OwnerB, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := b.DB.RecordEpoch(ctx, sw.Runs[1].ID, OwnerB, Metrics(1, 0.5, 0.1, 0.1)); err != nil {
		t.Fatal(err)
	}
	n, err := b.DB.PruneConfig(ctx, "p", sweep.ConfigKey(BaseSettings()), "asha cut 0.8")
	if err != nil || n != 2 {
		t.Fatalf("pruned %d runs (%v), want 2: the running and the pending one", n, err)
	}
	if err := b.DB.RecordEpoch(ctx, sw.Runs[1].ID, OwnerB, Metrics(2, 0.5, 0.1, 0.1)); !errors.Is(err, sweep.ErrPruned) {
		t.Errorf("RecordEpoch of a pruned run: %v, want ErrPruned", err)
	}
	if err := b.DB.Heartbeat(ctx, sw.Runs[1].ID, OwnerB, time.Minute); !errors.Is(err, sweep.ErrPruned) {
		t.Errorf("Heartbeat of a pruned run: %v, want ErrPruned", err)
	}
	want := []sweep.Status{sweep.StatusDone, sweep.StatusPruned, sweep.StatusPruned, sweep.StatusPending}
	for i, id := range IDs(sw) {
		r, err := b.DB.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want[i] {
			t.Errorf("run %d: %s, want %s", i, r.Status, want[i])
		}
		if r.Status == sweep.StatusPruned && r.Error != "asha cut 0.8" {
			t.Errorf("run %d: reason %q", i, r.Error)
		}
	}
	if r, _ := b.DB.Run(ctx, sw.Runs[1].ID); r.EpochsDone != 1 {
		t.Errorf("the pruned run kept %d epochs, want 1", r.EpochsDone)
	}
	// Pruned runs are never claimed again.
	if run, ok, _ := b.DB.Claim(ctx, IDs(sw), OwnerA, time.Minute); !ok || run.ID != sw.Runs[3].ID {
		t.Errorf("claimed %q %v, want only the other configuration's run", run.ID, ok)
	}
	if _, ok, _ := b.DB.Claim(ctx, IDs(sw), OwnerA, time.Minute); ok {
		t.Error("claimed a pruned run")
	}
	if c := queryInt(t, b, "SELECT pruned_runs FROM config_results WHERE sweep = 'p' AND runs = 1"); c != 2 {
		t.Errorf("config_results.pruned_runs = %d, want 2", c)
	}
}

// testReuse: a run whose settings and seed match a done run of another
// sweep is finished from that run's epochs and checkpoint, naming the
// original even when the twin was itself reused; without a twin nothing
// changes.
func testReuse(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	a := MakeSweep("a", Seeds(BaseSettings(), 2)...)
	x := MakeSweep("x", Seeds(BaseSettings(), 1)...)
	y := MakeSweep("y", Seeds(BaseSettings(), 1)...)
	for _, sw := range []sweep.Sweep{a, x, y} {
		if err := b.DB.SaveSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	src := a.Runs[0].ID // seed 0
	if _, ok, err := b.DB.Claim(ctx, []string{src}, OwnerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for e := 1; e <= 3; e++ {
		m := Metrics(e, 0.9, 0.8, 0.5)
		m.Checkpoint = []byte(fmt.Sprint("weights after ", e))
		if err := b.DB.RecordEpoch(ctx, src, OwnerA, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.DB.Finish(ctx, src, OwnerA, sweep.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	// a's seed-1 run has no twin.
	if _, ok, _ := b.DB.Claim(ctx, []string{a.Runs[1].ID}, OwnerB, time.Minute); !ok {
		t.Fatal("claim")
	}
	if from, err := b.DB.Reuse(ctx, a.Runs[1].ID, OwnerB); from != "" || err != nil {
		t.Errorf("reuse without a twin: %q %v", from, err)
	}
	for _, id := range []string{x.Runs[0].ID, y.Runs[0].ID} {
		if _, ok, _ := b.DB.Claim(ctx, []string{id}, OwnerB, time.Minute); !ok {
			t.Fatal("claim", id)
		}
		if from, err := b.DB.Reuse(ctx, id, OwnerB); from != src || err != nil {
			t.Errorf("reuse of %s: %q %v, want %s", id, from, err, src)
		}
		r, _ := b.DB.Run(ctx, id)
		if r.Status != sweep.StatusDone || r.EpochsDone != 3 || r.ReusedFrom != src || r.Final.SumR2 != 0.8 {
			t.Errorf("reused run: %s, %d epochs, from %q, R² %v", r.Status, r.EpochsDone, r.ReusedFrom, r.Final.SumR2)
		}
		if e, data, err := b.DB.Checkpoint(ctx, id); err != nil || e != 3 || string(data) != "weights after 3" {
			t.Errorf("reused checkpoint: %d %q %v", e, data, err)
		}
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs WHERE run_id = '"+y.Runs[0].ID+"'"); n != 6 {
		t.Errorf("%d epoch rows copied, want 6", n)
	}
	if n := queryInt(t, b, "SELECT count(*) FROM run_results WHERE reused_from = '"+src+"'"); n != 2 {
		t.Errorf("run_results shows %d reused runs, want 2", n)
	}
}

// testHold: a held run is pending with its epochs, checkpoint and
// hold_epoch, and no claim takes it until its configuration is released;
// then it resumes from its checkpoint. Only its owner can hold it.
func testHold(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("h", Seeds(BaseSettings(), 2)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[0].ID
	if _, ok, err := b.DB.Claim(ctx, []string{id}, OwnerA, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	m := Metrics(1, 0.9, 0.8, 0.5)
	m.Checkpoint = []byte("after 1")
	if err := b.DB.RecordEpoch(ctx, id, OwnerA, m); err != nil {
		t.Fatal(err)
	}
	if err := b.DB.Hold(ctx, id, OwnerB, 1, "not mine"); !errors.Is(err, sweep.ErrLeaseLost) {
		t.Errorf("hold by another owner: %v, want ErrLeaseLost", err)
	}
	if err := b.DB.Hold(ctx, id, OwnerA, 1, "waiting for seed 1"); err != nil {
		t.Fatal(err)
	}
	r, _ := b.DB.Run(ctx, id)
	if r.Status != sweep.StatusPending || r.HoldEpoch != 1 || r.EpochsDone != 1 || r.Error != "waiting for seed 1" {
		t.Errorf("held run: %s, hold %d, %d epochs, %q", r.Status, r.HoldEpoch, r.EpochsDone, r.Error)
	}
	run, ok, _ := b.DB.Claim(ctx, IDs(sw), OwnerB, time.Minute)
	if !ok || run.ID != sw.Runs[1].ID {
		t.Fatalf("claimed %q %v, want the other run, not the held one", run.ID, ok)
	}
	if _, ok, _ := b.DB.Claim(ctx, IDs(sw), OwnerB, time.Minute); ok {
		t.Fatal("claimed the held run")
	}
	if n, err := b.DB.Unhold(ctx, "h", sweep.ConfigKey(BaseSettings())); n != 1 || err != nil {
		t.Fatalf("unhold: %d %v, want 1", n, err)
	}
	run, ok, _ = b.DB.Claim(ctx, IDs(sw), OwnerB, time.Minute)
	if !ok || run.ID != id || string(run.Checkpoint) != "after 1" {
		t.Fatalf("after unhold claimed %q %v with checkpoint %q, want the run resuming after epoch 1", run.ID, ok, run.Checkpoint)
	}
	if r, _ := b.DB.Run(ctx, id); r.HoldEpoch != 0 || r.EpochsDone != 1 {
		t.Errorf("resumed run: hold %d, %d epochs", r.HoldEpoch, r.EpochsDone)
	}
	// Pruning a held configuration ends its held runs and clears the hold.
	if err := b.DB.Hold(ctx, id, OwnerB, 1, "paused"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.DB.PruneConfig(ctx, "h", sweep.ConfigKey(BaseSettings()), "never promoted"); n != 2 || err != nil {
		t.Errorf("prune: %d %v, want 2", n, err)
	}
	if r, _ := b.DB.Run(ctx, id); r.Status != sweep.StatusPruned || r.HoldEpoch != 0 {
		t.Errorf("pruned held run: %s, hold %d", r.Status, r.HoldEpoch)
	}
}

func testRunsFilterOrder(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	a, c := Populate(t, b, clk)
	all, err := b.DB.Runs(ctx, sweep.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 {
		t.Fatalf("%d runs, want 10", len(all))
	}
	// alpha's classify runs (sorted first: "classify" < "regression"),
	// then its regression runs, by seed; then beta.
	var got []string
	for _, r := range all {
		got = append(got, fmt.Sprintf("%s/%s/%d", r.Sweep, r.Settings.Head, r.Settings.Seed))
	}
	want := "[alpha/classify/0 alpha/classify/1 alpha/classify/2 alpha/regression/0 alpha/regression/1 alpha/regression/2 beta/regression/0 beta/regression/1 beta/regression/2 beta/regression/3]"
	if fmt.Sprint(got) != want {
		t.Errorf("order %v\nwant  %s", got, want)
	}
	for _, f := range []struct {
		f sweep.RunFilter
		n int
	}{
		{sweep.RunFilter{Sweep: "beta"}, 4},
		{sweep.RunFilter{Status: sweep.StatusDone}, 6},
		{sweep.RunFilter{Sweep: "alpha", Status: sweep.StatusFailed}, 1},
		{sweep.RunFilter{IDs: []string{a.Runs[0].ID, c.Runs[3].ID}}, 2},
		{sweep.RunFilter{Sweep: "nope"}, 0},
	} {
		rs, err := b.DB.Runs(ctx, f.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != f.n {
			t.Errorf("%+v: %d runs, want %d", f.f, len(rs), f.n)
		}
	}
	r, err := b.DB.Run(ctx, a.Runs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.EpochsDone != 3 || r.Final.DigitAccuracy != 0.93 || r.Final.Samples != 10000 || !math.IsNaN(r.Final.SumNLL) ||
		r.TrainSeconds != 11+12+13 || r.Started.IsZero() || r.Settings != a.Runs[1].Settings {
		t.Errorf("run %+v", r)
	}
	p, err := b.DB.Run(ctx, c.Runs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != sweep.StatusPending || p.EpochsDone != 0 || p.Final != (sweep.SplitMetrics{}) || !p.Started.IsZero() {
		t.Errorf("pending run %+v", p)
	}
}

func testRunPrefix(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("p", Seeds(BaseSettings(), 40)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	id := sw.Runs[7].ID
	for _, q := range []string{id, id[:8]} {
		r, err := b.DB.Run(ctx, q)
		if err != nil || r.RunID != id {
			t.Errorf("Run(%q): %q %v", q, r.RunID, err)
		}
	}
	// 40 hex ids share some one-digit prefix.
	byFirst := map[byte]int{}
	for _, r := range sw.Runs {
		byFirst[r.ID[0]]++
	}
	for c, n := range byFirst {
		if n > 1 {
			if _, err := b.DB.Run(ctx, string(c)); !errors.Is(err, sweep.ErrAmbiguous) {
				t.Errorf("Run(%q) with %d matches: %v, want ErrAmbiguous", string(c), n, err)
			}
			break
		}
	}
	for _, q := range []string{"", "zz", "%", "_"} {
		if _, err := b.DB.Run(ctx, q); !errors.Is(err, sweep.ErrNotFound) {
			t.Errorf("Run(%q): %v, want ErrNotFound", q, err)
		}
	}
}

func testEpochs(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	a, _ := Populate(t, b, clk)
	eps, err := b.DB.Epochs(ctx, sweep.RunFilter{Sweep: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 6*3*2 {
		t.Fatalf("%d epoch rows, want 36", len(eps))
	}
	runs, _ := b.DB.Runs(ctx, sweep.RunFilter{Sweep: "alpha"})
	i := 0
	for _, r := range runs {
		for e := 1; e <= 3; e++ {
			for _, split := range []string{"train", "test"} {
				got := eps[i]
				if got.RunID != r.RunID || got.Epoch != e || got.Split != split || got.Sweep != "alpha" {
					t.Fatalf("row %d: %s %d %s, want %s %d %s", i, got.RunID, got.Epoch, got.Split, r.RunID, e, split)
				}
				i++
			}
		}
	}
	one, err := b.DB.Epochs(ctx, sweep.RunFilter{IDs: []string{a.Runs[0].ID}})
	if err != nil || len(one) != 6 {
		t.Errorf("epochs of one run: %d %v", len(one), err)
	}
	if one[5].Metrics.DigitAccuracy != 0.91 || one[5].Seconds != 2 || one[4].Seconds != 13 {
		t.Errorf("last epoch rows %+v %+v", one[4], one[5])
	}
}

func testCounts(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	a, c := Populate(t, b, clk)
	counts, err := b.DB.Counts(ctx, append(IDs(a), append(IDs(c), "unknown")...))
	if err != nil {
		t.Fatal(err)
	}
	want := map[sweep.Status]int{sweep.StatusDone: 6, sweep.StatusRunning: 1, sweep.StatusPending: 1, sweep.StatusFailed: 1, sweep.StatusInterrupted: 1, sweep.StatusPruned: 0}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	counts, err = b.DB.Counts(ctx, nil)
	if err != nil || len(counts) != len(sweep.Statuses()) || counts[sweep.StatusDone] != 0 {
		t.Errorf("counts of none: %v %v", counts, err)
	}
	infos, err := b.DB.Sweeps(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("sweeps: %v %v", infos, err)
	}
	if infos[0].Name != "alpha" || infos[0].Counts[sweep.StatusDone] != 5 || infos[0].Counts[sweep.StatusFailed] != 1 {
		t.Errorf("alpha: %+v", infos[0].Counts)
	}
	if infos[1].FirstStart.IsZero() || infos[1].LastFinish.Before(infos[1].FirstStart) {
		t.Errorf("beta times: %v %v", infos[1].FirstStart, infos[1].LastFinish)
	}
}

// sampleStd is the sample standard deviation (divisor n-1).
func sampleStd(xs ...float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func testViews(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	Populate(t, b, clk)
	for _, v := range []struct {
		name string
		rows int
	}{{"run_results", 10}, {"epoch_results", 6*3*2 + 2*2 + 1*2 + 1*2}, {"config_results", 3}} {
		cols, rows, err := b.DB.View(ctx, v.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != v.rows {
			t.Errorf("%s: %d rows, want %d", v.name, len(rows), v.rows)
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[c] = true
		}
		for _, d := range sweep.SettingDefs() {
			key := d.Key
			if d.PerRun && v.name == "config_results" {
				key = "first_seed"
			}
			if v.name != "epoch_results" && !have[key] {
				t.Errorf("%s has no column %s", v.name, key)
			}
		}
	}
	if _, _, err := b.DB.View(ctx, "runs"); err == nil {
		t.Error("View(runs) succeeded: only the views may be read")
	}
	rows, err := b.Query(ctx, `SELECT sweep, head, first_seed, runs, acc_mean, acc_std, r2_mean, r2_std, sum_acc_mean, sum_acc_std
		FROM config_results ORDER BY sweep, head`)
	if err != nil {
		t.Fatal(err)
	}
	// alpha regression: seeds 0-2 done; alpha classify: seeds 0 and 2
	// done (1 failed); beta: seed 0 done.
	accM, accS := sampleStd(0.91, 0.93, 0.96)
	r2M, r2S := sampleStd(0.71, 0.77, 0.72)
	saM, saS := sampleStd(0.41, 0.47, 0.43)
	caM, caS := sampleStd(0.81, 0.85)
	cr2M, cr2S := sampleStd(0.61, 0.66)
	csaM, csaS := sampleStd(0.31, 0.33)
	want := [][]any{
		{"alpha", "classify", int64(0), int64(2), caM, caS, cr2M, cr2S, csaM, csaS},
		{"alpha", "regression", int64(0), int64(3), accM, accS, r2M, r2S, saM, saS},
		{"beta", "regression", int64(0), int64(1), 0.9, nil, 0.7, nil, 0.4, nil},
	}
	if len(rows) != len(want) {
		t.Fatalf("config_results: %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		for j := range want[i] {
			g, w := rows[i][j], want[i][j]
			if wf, ok := w.(float64); ok {
				gf, ok := g.(float64)
				if !ok || math.Abs(gf-wf) > 1e-12 {
					t.Errorf("config_results row %d column %d: %v, want %v", i, j, g, w)
				}
			} else if g != w {
				t.Errorf("config_results row %d column %d: %#v, want %#v", i, j, g, w)
			}
		}
	}
	rows, err = b.Query(ctx, `SELECT count(*) FROM run_results WHERE test_epoch IS NULL`)
	if err != nil || rows[0][0] != int64(1) {
		t.Errorf("run_results without a test epoch: %v %v, want 1 (the pending run)", rows, err)
	}
	rows, err = b.Query(ctx, `SELECT status, test_accuracy, train_seconds, started_at FROM run_results WHERE status = 'running'`)
	if err != nil || len(rows) != 1 || rows[0][1] != 0.7 || rows[0][2] != 11.0 {
		t.Errorf("running run in run_results: %v %v", rows, err)
	}
	if s, _ := rows[0][3].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
		t.Errorf("started_at %q: want UTC text YYYY-MM-DDTHH:MM:SS.sssZ", s)
	}
}

func testClaimConcurrent(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	sw := MakeSweep("cc", Seeds(BaseSettings(), 60)...)
	if err := b.DB.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	ids := IDs(sw)
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := sweep.Owner{ID: fmt.Sprintf("w%d", w), Host: "h"}
			for {
				r, ok, err := b.DB.Claim(ctx, ids, owner, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claimed[r.ID]++
				mu.Unlock()
				if err := b.DB.RecordEpoch(ctx, r.ID, owner, Metrics(1, 0.9, 0.8, 0.5)); err != nil {
					errs <- err
					return
				}
				if err := b.DB.Finish(ctx, r.ID, owner, sweep.StatusDone, ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimed) != len(ids) {
		t.Errorf("%d runs claimed, want %d", len(claimed), len(ids))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("run %s claimed %d times", id, n)
		}
	}
	if n := queryInt(t, b, "SELECT count(*) FROM epochs"); n != int64(2*len(ids)) {
		t.Errorf("%d epoch rows, want %d", n, 2*len(ids))
	}
}

// DumpString writes a dump as text, floats by their bits, for exact
// comparison (NaN included).
func DumpString(d sweep.Dump) string {
	var b strings.Builder
	f := func(x float64) string { return fmt.Sprintf("%016x", math.Float64bits(x)) }
	m := func(s sweep.SplitMetrics) string {
		return strings.Join([]string{f(s.DigitNLL), f(s.DigitAccuracy), f(s.SumMSE), f(s.SumR2),
			f(s.SumAccuracy), f(s.SumNLL), f(s.SumPredStd), fmt.Sprint(s.Samples)}, " ")
	}
	tm := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for _, s := range d.Sweeps {
		ref := "nil"
		if s.Reference != nil {
			ref = fmt.Sprintf("%s %d %s %s", s.Reference.Label, s.Reference.Epoch, f(s.Reference.DigitAccuracy), f(s.Reference.SumR2))
		}
		fmt.Fprintf(&b, "sweep %q %q %q %q %q %s %s %s", s.Name, s.Description, s.File, s.Source, s.Hash, ref, tm(s.Created), tm(s.Updated))
		if s.Search != nil {
			fmt.Fprintf(&b, " search %+v", *s.Search)
		}
		if s.Prune != nil {
			fmt.Fprintf(&b, " prune %+v", *s.Prune)
		}
		fmt.Fprintln(&b)
	}
	runs := append([]sweep.RunRecord(nil), d.Runs...)
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Spec.ID < runs[j].Spec.ID })
	for _, r := range runs {
		fmt.Fprintf(&b, "run %s %s %s %+v %s %d %d %q %q %q %s %s %s %s %s %q trial %d reused %q hold %d\n", r.Spec.ID, r.Spec.Sweep, r.ConfigKey,
			r.Spec.Settings, r.Status, r.Attempts, r.EpochsDone, r.Owner, r.Host, r.Version, f(r.LeaseSeconds),
			tm(r.LeaseExpires), tm(r.Created), tm(r.Started), tm(r.Finished), r.Error, r.Spec.Trial, r.ReusedFrom, r.HoldEpoch)
	}
	eps := append([]sweep.EpochRecord(nil), d.Epochs...)
	sort.SliceStable(eps, func(i, j int) bool {
		if eps[i].RunID != eps[j].RunID {
			return eps[i].RunID < eps[j].RunID
		}
		if eps[i].Epoch != eps[j].Epoch {
			return eps[i].Epoch < eps[j].Epoch
		}
		return eps[i].Split > eps[j].Split
	})
	for _, e := range eps {
		fmt.Fprintf(&b, "epoch %s %d %s %s %s %s %s\n", e.RunID, e.Epoch, e.Split, m(e.Metrics), f(e.Seconds), f(e.SamplesPerSec), tm(e.Recorded))
	}
	cks := append([]sweep.CheckpointRecord(nil), d.Checkpoints...)
	sort.SliceStable(cks, func(i, j int) bool { return cks[i].RunID < cks[j].RunID })
	for _, c := range cks {
		fmt.Fprintf(&b, "checkpoint %s %d %x %s\n", c.RunID, c.Epoch, sha256.Sum256(c.Data), tm(c.Recorded))
	}
	return b.String()
}

func testDumpImport(t *testing.T, b Backend, clk *Clock) {
	ctx := context.Background()
	a, c := Populate(t, b, clk)
	d, err := b.DB.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sweeps) != 2 || len(d.Runs) != 10 || len(d.Epochs) != 6*3*2+2*2+2+2 {
		t.Fatalf("dump: %d sweeps, %d runs, %d epochs", len(d.Sweeps), len(d.Runs), len(d.Epochs))
	}
	if d.Runs[0].Spec.ID != a.Runs[0].ID || d.Runs[9].Spec.ID != c.Runs[3].ID {
		t.Errorf("dump runs not in save order")
	}
	// Importing a database into itself adds nothing.
	st, err := b.DB.Import(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if st != (sweep.ImportStats{}) {
		t.Errorf("importing into itself: %+v, want nothing", st)
	}
	d2, err := b.DB.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if DumpString(d) != DumpString(d2) {
		t.Error("importing into itself changed the database")
	}
	// A run done in the dump replaces one that is not done here; a run
	// done here keeps its results; a missing run is inserted.
	running := c.Runs[2].ID
	done := a.Runs[0].ID
	var dd sweep.Dump
	dd.Sweeps = d.Sweeps
	for _, r := range d.Runs {
		switch r.Spec.ID {
		case running:
			r.Status, r.EpochsDone, r.Finished, r.LeaseExpires = sweep.StatusDone, 1, clk.Now(), time.Time{}
		case done:
			r.Status, r.EpochsDone = sweep.StatusFailed, 0
		default:
			continue
		}
		dd.Runs = append(dd.Runs, r)
	}
	newRun := MakeSweep("beta", func() sweep.Settings { s := BaseSettings(); s.Seed = 77; return s }()).Runs[0]
	dd.Runs = append(dd.Runs, sweep.RunRecord{Spec: newRun, ConfigKey: sweep.ConfigKey(newRun.Settings),
		Status: sweep.StatusPending, LeaseSeconds: math.NaN(), Created: clk.Now()})
	m := Metrics(1, 0.99, 0.98, 0.97)
	dd.Epochs = []sweep.EpochRecord{
		{RunID: running, Epoch: 1, Split: "train", Metrics: m.Train, Seconds: 5, SamplesPerSec: 7, Recorded: clk.Now()},
		{RunID: running, Epoch: 1, Split: "test", Metrics: m.Test, Seconds: 1, SamplesPerSec: math.NaN(), Recorded: clk.Now()},
		{RunID: done, Epoch: 1, Split: "test", Metrics: m.Test, Seconds: 1, SamplesPerSec: math.NaN(), Recorded: clk.Now()},
	}
	st, err = b.DB.Import(ctx, dd)
	if err != nil {
		t.Fatal(err)
	}
	if st != (sweep.ImportStats{Runs: 1, Replaced: 1, Epochs: 2}) {
		t.Errorf("import: %+v, want 1 run inserted, 1 replaced, 2 epochs", st)
	}
	r, err := b.DB.Run(ctx, running)
	if err != nil || r.Status != sweep.StatusDone || r.Final.DigitAccuracy != 0.99 {
		t.Errorf("replaced run: %+v %v", r, err)
	}
	r, err = b.DB.Run(ctx, done)
	if err != nil || r.Status != sweep.StatusDone || r.Final.DigitAccuracy != 0.91 {
		t.Errorf("done run changed by import: %+v %v", r, err)
	}
	if r, err := b.DB.Run(ctx, newRun.ID); err != nil || r.Status != sweep.StatusPending {
		t.Errorf("inserted run: %+v %v", r, err)
	}
}
