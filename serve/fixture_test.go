package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"sweep"
	"sweep/store"
)

// fixture is a real SQLite database written through the store's normal
// API, as 'sweep run' writes it, and a server over it opened read-only.
type fixture struct {
	t     *testing.T
	path  string
	w     *store.DB // the writer, as a 'sweep run' process
	owner sweep.Owner
	url   string // http://127.0.0.1:PORT
	srv   *Server
	ro    *store.DB
	cc    *store.ChangeCounter
	ids   map[string][]string // run ids by sweep, in file order
	taken map[string]bool     // runs claimed
	live  string              // the heads run left running
}

// Names and texts that must come out escaped.
const (
	evilSweep = `<script>alert("sweep")</script>`
	evilDesc  = `regression vs "classify" <b>bold</b> & 'quotes'`
	evilError = `diverged at epoch 2 <img src=x onerror=alert(1)> "quoted"`
)

func settings(head sweep.Head, hidden int, seed int64) sweep.Settings {
	return sweep.Settings{Head: head, SumHidden: hidden, DigitWeight: 1, SumWeight: 1,
		Optimizer: sweep.OptimizerAdam, LR: 0.001, BatchSize: 64, Epochs: 3, TrainSize: 1000, Seed: seed}
}

func newSweep(name, desc string, ss ...sweep.Settings) sweep.Sweep {
	sw := sweep.Sweep{Name: name, Description: desc, File: "configs/" + name + ".toml",
		Source: "name = \"" + name + "\"\n[grid]\nhead = [\"regression\", \"classify\"]\n", Hash: "h"}
	for _, s := range ss {
		sw.Runs = append(sw.Runs, sweep.RunSpec{ID: sweep.RunID(name, s), Sweep: name, Settings: s})
	}
	return sw
}

// metrics are plausible made-up values that improve with the epoch and
// differ by run.
func metrics(epoch int, k float64) sweep.EpochMetrics {
	f := 1 - 1/float64(epoch+1)
	m := sweep.SplitMetrics{DigitNLL: 1.2 - f + 0.01*k, DigitAccuracy: 0.8 + 0.15*f - 0.005*k,
		SumMSE: 3 * (1 - f), SumR2: 0.5 + 0.4*f - 0.01*k, SumAccuracy: 0.3 + 0.5*f - 0.01*k, SumNLL: 2 - f, Samples: 1000}
	return sweep.EpochMetrics{Epoch: epoch, Train: m, Test: m, TrainSeconds: 0.5, EvalSeconds: 0.1, SamplesPerSec: 2000}
}

// newFixture writes:
//   - sweep "heads" (description with HTML and quotes): head × sum_hidden ×
//     2 seeds = 8 runs, 3 epochs each; 6 done, 1 failed after 2 epochs
//     with an error holding HTML, 1 running with 1 epoch;
//   - sweep evilSweep with 2 pending runs;
//
// and serves it on 127.0.0.1 until the test ends.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := newWriter(t)
	var err error

	var ss []sweep.Settings
	for _, h := range []sweep.Head{sweep.HeadRegression, sweep.HeadClassify} {
		for _, hid := range []int{0, 64} {
			for seed := int64(1); seed <= 2; seed++ {
				ss = append(ss, settings(h, hid, seed))
			}
		}
	}
	heads := newSweep("heads", evilDesc, ss...)
	evil := newSweep(evilSweep, "a name to escape", settings(sweep.HeadClassify, 64, 1), settings(sweep.HeadClassify, 64, 2))
	for _, sw := range []sweep.Sweep{heads, evil} {
		if err := f.w.SaveSweep(ctx, sw); err != nil {
			t.Fatal(err)
		}
		for _, r := range sw.Runs {
			f.ids[sw.Name] = append(f.ids[sw.Name], r.ID)
		}
	}
	for i := range heads.Runs {
		id := f.claim("heads")
		switch {
		case i < 6:
			for e := 1; e <= 3; e++ {
				f.epoch(id, e, float64(i))
			}
			f.finish(id, sweep.StatusDone, "")
		case i == 6:
			f.epoch(id, 1, float64(i))
			f.epoch(id, 2, float64(i))
			f.finish(id, sweep.StatusFailed, evilError)
		default:
			f.epoch(id, 1, float64(i))
			f.live = id
		}
	}

	ro, err := store.OpenReadOnly(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	cc, err := ro.ChangeCounter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	f.ro, f.cc = ro, cc
	f.srv, err = New(ro, cc, Options{DBPath: "sweep.db", Version: "test",
		Logf: func(format string, a ...any) { t.Logf(format, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "http://" + ln.Addr().String()
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(sctx, ln, f.srv) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not stop within 10 s of its context's end")
		}
	})
	return f
}

// newWriter is a fixture with only its writer: an empty database that
// claim, epoch and finish fill; the caller serves it.
func newWriter(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "sweep.db"), ids: map[string][]string{}, taken: map[string]bool{},
		owner: sweep.Owner{ID: "test:1", Host: "testhost", Version: "test"}}
	var err error
	if f.w, err = store.Open(f.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.w.Close() })
	return f
}

func (f *fixture) claim(sweepName string) string {
	f.t.Helper()
	var free []string
	for _, id := range f.ids[sweepName] {
		if !f.taken[id] {
			free = append(free, id)
		}
	}
	run, ok, err := f.w.Claim(context.Background(), free, f.owner, time.Hour)
	if err != nil || !ok {
		f.t.Fatalf("claim in %s: ok=%v err=%v", sweepName, ok, err)
	}
	f.taken[run.ID] = true
	return run.ID
}

func (f *fixture) epoch(id string, e int, k float64) {
	f.t.Helper()
	if err := f.w.RecordEpoch(context.Background(), id, f.owner, metrics(e, k)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) finish(id string, st sweep.Status, msg string) {
	f.t.Helper()
	if err := f.w.Finish(context.Background(), id, f.owner, st, msg); err != nil {
		f.t.Fatal(err)
	}
}

// running is the id of the heads run still training.
func (f *fixture) running() string { return f.live }

// get fetches path and returns status and body.
func (f *fixture) get(path string, header ...string) (int, http.Header, string) {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func (f *fixture) mustGet(path string) string {
	f.t.Helper()
	code, _, body := f.get(path)
	if code != http.StatusOK {
		f.t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

// *store.DB is a Source and *store.ChangeCounter a Changes.
var (
	_ Source  = (*store.DB)(nil)
	_ Changes = (*store.ChangeCounter)(nil)
)
