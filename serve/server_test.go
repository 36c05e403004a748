package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sweep"
	"sweep/store"
)

// TestHostHeader: requests whose Host is not localhost, an IP literal or a
// configured name are refused (DNS rebinding).
func TestHostHeader(t *testing.T) {
	f := newFixture(t)
	port := strings.TrimPrefix(f.url, "http://127.0.0.1:")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"10.1.2.3:" + port, http.StatusOK},
		{"evil.example", http.StatusMisdirectedRequest},
		{"evil.example:" + port, http.StatusMisdirectedRequest},
		{"localhost.evil.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1.nip.io:" + port, http.StatusMisdirectedRequest},
		{"node7.cluster:" + port, http.StatusMisdirectedRequest},
	} {
		for _, path := range []string{"/", "/api/sweeps", "/static/app.js"} {
			code, h, body := f.get(path, "Host", tc.host)
			if code != tc.want {
				t.Errorf("Host %q, GET %s: %d, want %d (%s)", tc.host, path, code, tc.want, strings.TrimSpace(body))
			}
			if h.Get("Content-Security-Policy") == "" {
				t.Errorf("Host %q, GET %s: no Content-Security-Policy", tc.host, path)
			}
		}
	}

	// A name given with --addr is accepted.
	s, err := New(f.ro, f.cc, Options{Hosts: []string{"node7.cluster"}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for host, want := range map[string]int{"node7.cluster:8080": http.StatusOK, "node8.cluster:8080": http.StatusMisdirectedRequest} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/sweeps", nil)
		req.Host = host
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Hosts [node7.cluster], Host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

// TestOnlyReads: no endpoint writes; other methods are refused and the
// database sees no commit from the server.
func TestOnlyReads(t *testing.T) {
	f := newFixture(t)
	watch, err := f.w.ChangeCounter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	before, _ := watch.Version(context.Background())
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, path := range []string{"/", "/api/runs", "/api/runs/" + f.running(), "/compare"} {
			req, _ := http.NewRequest(method, f.url+path, strings.NewReader("status=done"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", method, path, resp.StatusCode)
			}
		}
	}
	for _, path := range []string{"/", "/sweeps/heads", "/runs/" + f.running(), "/compare?sweep=heads", "/sweeps/heads/overview", "/api/sweeps", "/api/runs", "/api/runs/" + f.running() + "/epochs"} {
		f.mustGet(path)
	}
	if after, _ := watch.Version(context.Background()); after != before {
		t.Errorf("the database changed while only the server used it (data_version %d -> %d)", before, after)
	}
}

// TestSecurityHeaders: every response forbids outside sources.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/runs/" + f.running(), "/api/sweeps", "/static/style.css", "/runs/nonesuch", "/api/runs?limit=0"} {
		_, h, _ := f.get(path)
		c := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(c, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, c, want)
			}
		}
		if strings.Contains(c, "http") || strings.Contains(c, "*") {
			t.Errorf("GET %s: CSP %q allows an outside source", path, c)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
}

// TestEscaping: a sweep named <script>…, an error text with HTML and a
// description with quotes come out as text on every page and in JSON.
func TestEscaping(t *testing.T) {
	f := newFixture(t)
	pages := map[string]string{
		"/":                                    "",
		"/sweeps/heads":                        "",
		"/sweeps/" + url.PathEscape(evilSweep): "",
		"/runs/" + f.failedID():                "",
		"/sweeps/heads/overview":               "",
		"/compare?sweep=" + url.QueryEscape(evilSweep):       "",
		"/sweeps/" + url.PathEscape(evilSweep) + "/overview": "",
	}
	for path := range pages {
		body := f.mustGet(path)
		for _, raw := range []string{evilSweep, "<img src=x", "<b>bold</b>", `vs "classify"`} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s: raw %q in the page", path, raw)
			}
		}
		if strings.Count(body, "<script") != 1 { // our own, in <head>
			t.Errorf("GET %s: %d <script elements, want 1", path, strings.Count(body, "<script"))
		}
	}
	if body := f.mustGet("/"); !strings.Contains(body, "&lt;script&gt;alert(&#34;sweep&#34;)&lt;/script&gt;") ||
		!strings.Contains(body, "regression vs &#34;classify&#34; &lt;b&gt;bold&lt;/b&gt; &amp; &#39;quotes&#39;") {
		t.Error("sweeps page: the name or description is not shown escaped")
	}
	if body := f.mustGet("/runs/" + f.failedID()); !strings.Contains(body, "diverged at epoch 2 &lt;img src=x onerror=alert(1)&gt; &#34;quoted&#34;") {
		t.Error("run page: the error is not shown escaped")
	}
	// Links to the hostile sweep are percent-encoded paths that work.
	body := f.mustGet("/")
	if !strings.Contains(body, `href="/sweeps/%3Cscript%3Ealert%28%22sweep%22%29%3C%2Fscript%3E"`) {
		t.Error("link to the hostile sweep is not percent-encoded")
	}
	_, h, js := f.get("/api/sweeps")
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") || strings.Contains(js, "<script>") {
		t.Errorf("/api/sweeps: content type %q, raw <script> %v", h.Get("Content-Type"), strings.Contains(js, "<script>"))
	}
	var sweeps []struct{ Name string }
	if err := json.Unmarshal([]byte(js), &sweeps); err != nil || sweeps[0].Name != evilSweep {
		t.Errorf("/api/sweeps does not round-trip the name: %v", err)
	}
}

type runsAnswer struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Runs   []struct {
		ID       string            `json:"id"`
		Status   string            `json:"status"`
		Settings map[string]string `json:"settings"`
		Final    *struct {
			R2 *float64 `json:"r2"`
		} `json:"final"`
		Error string `json:"error"`
	} `json:"runs"`
}

func getJSON(t *testing.T, f *fixture, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(f.mustGet(path)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	var sweeps []struct {
		Name        string         `json:"name"`
		Counts      map[string]int `json:"counts"`
		EpochsDone  int            `json:"epochs_done"`
		EpochsTotal int            `json:"epochs_total"`
		ETA         *float64       `json:"eta_seconds"`
	}
	getJSON(t, f, "/api/sweeps", &sweeps)
	if len(sweeps) != 2 || sweeps[1].Name != "heads" || sweeps[1].Counts["done"] != 6 || sweeps[1].Counts["failed"] != 1 ||
		sweeps[1].Counts["running"] != 1 || sweeps[1].EpochsDone != 6*3+2+1 || sweeps[1].EpochsTotal != 24 || sweeps[1].ETA == nil {
		t.Errorf("/api/sweeps: %+v", sweeps)
	}

	var rs runsAnswer
	getJSON(t, f, "/api/runs?sweep=heads&sort=test_r2&dir=desc&limit=3", &rs)
	if rs.Total != 8 || len(rs.Runs) != 3 {
		t.Fatalf("sorted page: total %d, %d runs", rs.Total, len(rs.Runs))
	}
	for i := 1; i < len(rs.Runs); i++ {
		if *rs.Runs[i].Final.R2 > *rs.Runs[i-1].Final.R2 {
			t.Errorf("not sorted by test_r2 descending: %v then %v", *rs.Runs[i-1].Final.R2, *rs.Runs[i].Final.R2)
		}
	}
	getJSON(t, f, "/api/runs?sweep=heads&status=failed", &rs)
	if rs.Total != 1 || rs.Runs[0].Error != evilError {
		t.Errorf("status filter: %+v", rs)
	}
	getJSON(t, f, "/api/runs?sweep=heads&s.head=classify&s.sum_hidden=64", &rs)
	if rs.Total != 2 {
		t.Errorf("setting filter: %d runs, want 2", rs.Total)
	}
	for _, r := range rs.Runs {
		if r.Settings["head"] != "classify" || r.Settings["sum_hidden"] != "64" {
			t.Errorf("setting filter let through %v", r.Settings)
		}
	}
	getJSON(t, f, "/api/runs?limit=2&offset=8", &rs)
	if rs.Total != 10 || len(rs.Runs) != 2 || rs.Offset != 8 {
		t.Errorf("paging: total %d, %d runs at %d", rs.Total, len(rs.Runs), rs.Offset)
	}

	var epochs []struct {
		Epoch int      `json:"epoch"`
		Split string   `json:"split"`
		R2    *float64 `json:"r2"`
	}
	getJSON(t, f, "/api/runs/"+f.running()[:6]+"/epochs", &epochs)
	if len(epochs) != 2 || epochs[0].Split != "train" || epochs[1].Split != "test" || epochs[1].R2 == nil {
		t.Errorf("epochs by id prefix: %+v", epochs)
	}

	for path, want := range map[string]int{
		"/api/runs?status=bogus":             http.StatusBadRequest,
		"/api/runs?s.nope=1":                 http.StatusBadRequest,
		"/api/runs?limit=999999":             http.StatusBadRequest,
		"/api/runs?limit=-1":                 http.StatusBadRequest,
		"/api/runs?sort=nope":                http.StatusBadRequest,
		"/api/runs/ffffffffffff":             http.StatusNotFound,
		"/api/runs/ffffffffffff/epochs":      http.StatusNotFound,
		"/api/sweeps/nope":                   http.StatusNotFound,
		"/sweeps/nope":                       http.StatusNotFound,
		"/runs/ffffffffffff":                 http.StatusNotFound,
		"/compare":                           http.StatusBadRequest,
		"/compare?metric=bogus&run=x":        http.StatusBadRequest,
		"/compare?" + manyRuns(MaxCompare+1): http.StatusBadRequest,
		"/nope":                              http.StatusNotFound,
	} {
		code, h, body := f.get(path)
		if code != want {
			t.Errorf("GET %s: %d, want %d (%s)", path, code, want, body)
		}
		if strings.HasPrefix(path, "/api/") && !strings.HasPrefix(h.Get("Content-Type"), "application/json") && code != http.StatusNotFound {
			t.Errorf("GET %s: error is %q, not JSON", path, h.Get("Content-Type"))
		}
	}
}

func manyRuns(n int) string {
	v := url.Values{}
	for i := 0; i < n; i++ {
		v.Add("run", strings.Repeat("a", 11)+string(rune('a'+i%26)))
	}
	return v.Encode()
}

// TestEvents: the stream says hello, then "change" within 2 s of a commit.
func TestEvents(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // left open until the fixture's server stops: shutdown must end it
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- ev
			}
		}
		close(events)
	}()
	if ev := <-events; ev != "hello" {
		t.Fatalf("first event %q, want hello", ev)
	}
	start := time.Now()
	f.epoch(f.running(), 2, 7)
	select {
	case ev := <-events:
		if ev != "change" {
			t.Errorf("event %q, want change", ev)
		}
		t.Logf("change event %v after the commit", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatal("no change event within 2 s of a commit")
	}
	// The page shows the new epoch at once: the cache was dropped.
	var rs runsAnswer
	getJSON(t, f, "/api/runs?sweep=heads&status=running", &rs)
	if len(rs.Runs) != 1 {
		t.Fatalf("running runs: %+v", rs)
	}
	code, _, body := f.get("/runs/" + f.running())
	if code != 200 || !strings.Contains(body, "2 of 3 epochs") {
		t.Errorf("run page after the change does not show epoch 2")
	}
	f.finish(f.running(), sweep.StatusDone, "")
}

// countingSource counts the runs the server reads, to tell a cached
// answer from a computed one. It reads the real database underneath.
type countingSource struct {
	Source
	runs atomic.Int64
}

func (c *countingSource) Runs(ctx context.Context, f store.RunFilter) ([]sweep.RunResult, error) {
	c.runs.Add(1)
	return c.Source.Runs(ctx, f)
}

// TestCachePerSweep: a change in one sweep recomputes the pages of that
// sweep and the pages over all sweeps, not the pages of another sweep.
func TestCachePerSweep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src := &countingSource{Source: f.ro}
	s, err := New(src, f.cc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	get := func(path string) (reads int64, gen string, body string) {
		before := src.runs.Load()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Host = "127.0.0.1"
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return src.runs.Load() - before, rec.Header().Get("X-Sweep-Generation"), rec.Body.String()
	}
	change := func() {
		s.refreshSweeps(ctx)
		s.changed()
		time.Sleep(minRefresh + 50*time.Millisecond)
	}
	s.refreshSweeps(ctx)
	get("/sweeps/heads")
	get("/")
	if n, _, _ := get("/sweeps/heads"); n != 0 {
		t.Errorf("unchanged data: %d reads, want a cached answer", n)
	}

	// A run of the other sweep starts: heads' pages stay cached but are
	// current at the new generation; the sweeps page is recomputed.
	f.claim(evilSweep)
	change()
	n, gen, _ := get("/sweeps/heads")
	if n != 0 {
		t.Errorf("change in another sweep: /sweeps/heads read the database %d times", n)
	}
	if want := strconv.FormatInt(s.gen.Load(), 10); gen != want {
		t.Errorf("cached answer current at generation %s, want %s", gen, want)
	}
	if n, _, body := get("/"); n == 0 || !strings.Contains(body, `<td class="num st-running">1</td>`) {
		t.Errorf("sweeps page after a change: %d reads", n)
	}

	// An epoch of heads: its page is recomputed and shows it.
	f.epoch(f.running(), 2, 7)
	change()
	if n, _, body := get("/sweeps/heads"); n == 0 || !strings.Contains(body, "2/3") {
		t.Errorf("change in heads: %d reads, new epoch shown: %v", n, strings.Contains(body, "2/3"))
	}
}
