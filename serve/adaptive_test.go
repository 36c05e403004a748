package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sweep"
)

// TestPrunedAndReused serves a sweep "asha" of 4 runs of 3 epochs, made
// by the store as 'sweep run' makes them: sum_hidden 0 (2 seeds) held at
// epoch 1 and pruned, sum_hidden 64 (2 seeds) done, the first of them
// reused from another sweep's run.
func TestPrunedAndReused(t *testing.T) {
	ctx := context.Background()
	f := newWriter(t)
	// The run the reused one copies: another sweep's, done.
	orig := newSweep("orig", "trained first", settings(sweep.HeadClassify, 64, 1))
	if err := f.w.SaveSweep(ctx, orig); err != nil {
		t.Fatal(err)
	}
	f.ids["orig"] = []string{orig.Runs[0].ID}
	id := f.claim("orig")
	for e := 1; e <= 3; e++ {
		f.epoch(id, e, 2)
	}
	f.finish(id, sweep.StatusDone, "")

	r2, _ := sweep.LookupMetric("test_r2")
	sw := newSweep("asha", "pruned and reused",
		settings(sweep.HeadClassify, 0, 1), settings(sweep.HeadClassify, 0, 2),
		settings(sweep.HeadClassify, 64, 1), settings(sweep.HeadClassify, 64, 2))
	sw.Prune = &sweep.Prune{Method: "asha", Metric: r2, MinEpochs: 1, ReductionFactor: 2}
	if err := f.w.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	for _, r := range sw.Runs {
		f.ids["asha"] = append(f.ids["asha"], r.ID)
	}
	byID := map[string]int{}
	for i, r := range sw.Runs {
		byID[r.ID] = i
	}
	reusedID, prunedID := sw.Runs[2].ID, sw.Runs[0].ID
	for range sw.Runs {
		id := f.claim("asha")
		switch {
		case id == reusedID:
			if from, err := f.w.Reuse(ctx, id, f.owner); err != nil || from != orig.Runs[0].ID {
				t.Fatalf("reuse: %q %v", from, err)
			}
		case byID[id] < 2:
			f.epoch(id, 1, float64(byID[id]))
			if err := f.w.Hold(ctx, id, f.owner, 1, "waiting"); err != nil {
				t.Fatal(err)
			}
		default:
			for e := 1; e <= 3; e++ {
				f.epoch(id, e, float64(byID[id]))
			}
			f.finish(id, sweep.StatusDone, "")
		}
	}
	if n, err := f.w.PruneConfig(ctx, "asha", sweep.ConfigKey(sw.Runs[0].Settings), "paused at epoch 1 and never promoted"); n != 2 || err != nil {
		t.Fatalf("prune: %d %v", n, err)
	}
	src := f.w
	srv, err := New(src, fixedVersion{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}

	// Sweeps page: a pruned column with 2; progress counts a pruned run's
	// trained epochs as its total: 1+1+3+3 = 8 of 8, and pruning saved
	// 2 × (3−1) = 4 of 4 × 3 = 12 epochs (33%).
	page := get("/")
	for _, want := range []string{`<th class="num">pruned</th>`, `<td class="num st-pruned">2</td>`, "8 / 8", "pruning saved 4 of 12 epochs (33%)"} {
		if !strings.Contains(page, want) {
			t.Errorf("sweeps page lacks %q", want)
		}
	}
	var sweeps []struct {
		Counts      map[string]int `json:"counts"`
		EpochsDone  int            `json:"epochs_done"`
		EpochsTotal int            `json:"epochs_total"`
		Pruning     string         `json:"pruning"`
	}
	if err := json.Unmarshal([]byte(get("/api/sweeps")), &sweeps); err != nil {
		t.Fatal(err)
	}
	// The sweeps come by name: asha, then orig.
	if len(sweeps) != 2 || sweeps[0].Counts["pruned"] != 2 || sweeps[0].Counts["done"] != 2 || sweeps[0].EpochsDone != 8 ||
		sweeps[0].EpochsTotal != 8 || sweeps[0].Pruning != "pruning saved 4 of 12 epochs (33%)" {
		t.Errorf("/api/sweeps: %+v", sweeps)
	}

	// Runs table: statuses said in full; the status filter offers pruned.
	page = get("/sweeps/asha")
	for _, want := range []string{`<td class="status">pruned at epoch 1</td>`, `<td class="status">done (reused from ` + orig.Runs[0].ID[:8] + `…)</td>`,
		`class="st-pruned"`, `<option value="pruned">pruned</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("runs page lacks %q", want)
		}
	}
	var rs struct {
		Total int `json:"total"`
		Runs  []struct {
			ID         string `json:"id"`
			ReusedFrom string `json:"reused_from"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(get("/api/runs?sweep=asha&status=pruned")), &rs); err != nil {
		t.Fatal(err)
	}
	if rs.Total != 2 {
		t.Errorf("status=pruned selects %d runs, want 2", rs.Total)
	}
	if err := json.Unmarshal([]byte(get("/api/runs?sweep=asha&status=done")), &rs); err != nil {
		t.Fatal(err)
	}
	if rs.Total != 2 || (rs.Runs[0].ReusedFrom == "" && rs.Runs[1].ReusedFrom == "") {
		t.Errorf("done runs (one reused): %+v", rs)
	}

	// Run page badge, and the compare pages draw the pruned run stopped.
	if page = get("/runs/" + prunedID); !strings.Contains(page, `id="run-status">pruned at epoch 1</span>`) {
		t.Errorf("run page lacks the pruned badge")
	}
	if page = get("/compare?run=" + prunedID + "&run=" + reusedID); !strings.Contains(page, "× pruned") || !strings.Contains(page, "done (reused from "+orig.Runs[0].ID[:8]+"…)") {
		t.Errorf("compare page lacks × pruned or the reused status")
	}
	// Configurations: the pruned one is listed after the ranked one, never
	// ranked, and drawn ending with ×.
	page = get("/compare?sweep=asha")
	if !strings.Contains(page, "pruned at epoch 1 (2 of 2)") || !strings.Contains(page, "× pruned") {
		t.Errorf("configurations page lacks the pruned configuration")
	}
	if strings.Contains(page, "Could not draw") {
		t.Errorf("a figure failed to draw")
	}
}

// fixedVersion is a Changes that never changes.
type fixedVersion struct{}

func (fixedVersion) Version(context.Context) (int64, error) { return 1, nil }
