package serve

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"sweep"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium as the report's browser test does and
// records console problems and every request the pages make.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	requests []string
	stop     func()
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (%v): CI must run the browser test", chromiumPath, err)
		}
		t.Skipf("SKIP: %s not found (%v); install Debian's chromium to run the browser test", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
		chromedp.WindowSize(1440, 900),
	}
	parent, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		cancel()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	lctx, stopListening := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range chromedp.Console(lctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range chromedp.Events(lctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	b.stop = func() {
		time.Sleep(200 * time.Millisecond) // late console messages
		stopListening()
		wg.Wait()
		cancel()
		cancelAlloc()
		cancelTimeout()
	}
	return b
}

// check fails the test for console problems and requests that left origin.
func (b *browser) check(t *testing.T, origin string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("console: %s", p)
	}
	for _, r := range b.requests {
		if !strings.HasPrefix(r, origin+"/") && !strings.HasPrefix(r, "data:") {
			t.Errorf("a page requested %s: everything must come from %s", r, origin)
		}
	}
	t.Logf("%d requests, all to %s", len(b.requests), origin)
}

func (b *browser) open(t *testing.T, u string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitFor polls js (a boolean expression) in the page every 20 ms and
// returns how long it took to become true, failing after limit. An
// exception or a page in mid-navigation counts as false.
func waitFor(t *testing.T, b *browser, js string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var lastErr error
	for time.Since(start) < limit {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("(function () { try { return !!("+js+"); } catch (e) { return false; } })()"))
		if err == nil && ok {
			return time.Since(start)
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after %v, still false in the page: %s (last error: %v)", limit, js, lastErr)
	return 0
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("SWEEP_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "serve-"+name+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserPages loads every page in Chromium: no console error or
// warning (CSP violations included), no request leaving the server, every
// figure drawn, the hostile names shown as text. It saves a screenshot of
// each page (in $SWEEP_SCREENSHOT_DIR when set).
func TestBrowserPages(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t)
	defer b.stop()
	heads := f.ids["heads"]
	pages := []struct {
		name, path string
		figures    int
	}{
		{"sweeps", "/", 0},
		{"runs", "/sweeps/heads?sort=test_r2&dir=desc", 0},
		{"run", "/runs/" + heads[0], 4},
		{"run-failed", "/runs/" + f.failedID(), 4},
		{"compare-runs", "/compare?run=" + heads[0] + "&run=" + heads[2] + "&run=" + heads[4], 4},
		{"compare-configs", "/compare?sweep=heads", 4},
		{"overview", "/sweeps/heads/overview", 1},
		{"evil", "/sweeps/" + url.PathEscape(evilSweep), 0},
	}
	for _, p := range pages {
		b.open(t, f.url+p.path)
		type box struct{ W, H float64 }
		boxes := eval[[]box](t, b, `Array.from(document.querySelectorAll("figure svg")).map(function (e) { var r = e.getBoundingClientRect(); return {W: r.width, H: r.height}; })`)
		if len(boxes) != p.figures {
			t.Errorf("%s: %d figures drawn, want %d", p.name, len(boxes), p.figures)
		}
		for _, bx := range boxes {
			if bx.W < 200 || bx.H < 150 {
				t.Errorf("%s: a figure renders at %.0f×%.0f", p.name, bx.W, bx.H)
			}
		}
		b.screenshot(t, p.name)
	}
	// The hostile texts are text, not markup.
	b.open(t, f.url+"/")
	if got := eval[string](t, b, `document.querySelector("table.sweeps tbody tr a").textContent`); got != evilSweep {
		t.Errorf("sweep name shown as %q, want the text %q", got, evilSweep)
	}
	if n := eval[int](t, b, `document.querySelectorAll("main script, main b, main img").length`); n != 0 {
		t.Errorf("%d elements injected from database text", n)
	}
	b.open(t, f.url+"/runs/"+f.failedID())
	if got := eval[string](t, b, `document.getElementById("run-error").textContent`); got != evilError {
		t.Errorf("error shown as %q, want %q", got, evilError)
	}
	b.stop()
	b.check(t, f.url)
}

func (f *fixture) failedID() string {
	for _, id := range f.ids["heads"] {
		r, err := f.w.Run(context.Background(), id)
		if err == nil && r.Status == sweep.StatusFailed {
			return id
		}
	}
	f.t.Fatal("no failed run")
	return ""
}

// TestBrowserLive is the live acceptance: while the test writes
// into the database, the open runs table and run page show the new epoch
// within 2 s without a reload, and the sort and selection chosen before
// survive the update.
func TestBrowserLive(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t)
	defer b.stop()
	live := f.running()
	const limit = 2 * time.Second

	// Runs table: sort by test sum R² (click), tick a run, then record.
	b.open(t, f.url+"/sweeps/heads")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`th[data-key="test_r2"] a`)), chromedp.WaitReady(chromedp.CSS(`th.desc[data-key="test_r2"]`))); err != nil {
		t.Fatalf("sorting by test_r2: %v", err)
	}
	waitFor(t, b, `document.getElementById("live-state").textContent === "live"`, 5*time.Second)
	picked := f.ids["heads"][0]
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`input.pick[value="`+picked+`"]`))); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, b, `window.notReloaded = true`)
	f.epoch(live, 2, 7)
	took := waitFor(t, b, `document.querySelector("#run-`+live+` td:nth-child(`+epochsColumn(t, b)+`)").textContent === "2/3"`, limit)
	t.Logf("runs table showed the new epoch %v after its commit", took)
	if !eval[bool](t, b, `window.notReloaded === true`) {
		t.Error("the runs table reloaded the page")
	}
	if u := eval[string](t, b, `location.search`); !strings.Contains(u, "sort=test_r2") || !strings.Contains(u, "dir=desc") {
		t.Errorf("the sort was lost: location.search = %q", u)
	}
	if !eval[bool](t, b, `document.querySelector('th[data-key="test_r2"]').classList.contains("desc")`) {
		t.Error("the header no longer shows the sort")
	}
	vals := eval[[]string](t, b, `Array.from(document.querySelectorAll("#runs tbody tr")).map(function (tr) { return tr.cells[Array.from(tr.parentNode.parentNode.tHead.rows[0].cells).findIndex(function (c) { return c.dataset.key === "test_r2"; })].textContent; })`)
	if !sortedDesc(vals) {
		t.Errorf("after the update the rows are not sorted by test_r2 descending: %q", vals)
	}
	if !eval[bool](t, b, `document.querySelector('input.pick[value="`+picked+`"]').checked`) {
		t.Error("the ticked run was unticked by the update")
	}
	b.screenshot(t, "runs-live")

	// The ticked run survives a filter (a navigation), and the compare
	// link opens it.
	eval[bool](t, b, `(function () {
		var s = document.querySelector('select[name="s.head"]');
		s.value = "regression";
		return s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
	waitFor(t, b, `location.search.indexOf("s.head=regression") >= 0 && document.getElementById("live-state").textContent === "live"`, limit)
	if u := eval[string](t, b, `location.search`); !strings.Contains(u, "sort=test_r2") {
		t.Errorf("filtering lost the sort: %q", u)
	}
	if got := eval[string](t, b, `document.getElementById("compare-link").getAttribute("href")`); got != "/compare?run="+picked {
		t.Errorf("compare link %q, want /compare?run=%s", got, picked)
	}
	b.open(t, f.url+eval[string](t, b, `document.getElementById("compare-link").getAttribute("href")`))
	if n := eval[int](t, b, `document.querySelectorAll("figure svg").length`); n != 4 {
		t.Errorf("compare page of the ticked run has %d figures, want 4", n)
	}

	// Run page: a new epoch and the status change.
	b.open(t, f.url+"/runs/"+live)
	waitFor(t, b, `document.getElementById("live-state").textContent === "live"`, 5*time.Second)
	eval[bool](t, b, `window.notReloaded = true`)
	f.epoch(live, 3, 7)
	took = waitFor(t, b, `document.querySelectorAll("#epochs tbody tr").length === 3`, limit)
	t.Logf("run page showed the new epoch %v after its commit", took)
	f.finish(live, sweep.StatusDone, "")
	took = waitFor(t, b, `document.getElementById("run-status").textContent === "done"`, limit)
	t.Logf("run page showed the status change %v after its commit", took)
	if !eval[bool](t, b, `window.notReloaded === true`) {
		t.Error("the run page reloaded")
	}

	// Sweeps page: a new sweep appears.
	b.open(t, f.url+"/")
	waitFor(t, b, `document.getElementById("live-state").textContent === "live"`, 5*time.Second)
	if err := f.w.SaveSweep(context.Background(), newSweep("late", "added while watching", settings(sweep.HeadClassify, 0, 1))); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, b, `document.getElementById("sweep-late") !== null`, limit)
	t.Logf("sweeps page showed a new sweep %v after its commit", took)

	b.stop()
	b.check(t, f.url)
}

// epochsColumn is the 1-based index of the epochs column in the runs table.
func epochsColumn(t *testing.T, b *browser) string {
	return fmt.Sprint(eval[int](t, b, `Array.from(document.querySelector("#runs").tHead.rows[0].cells).findIndex(function (c) { return c.dataset.key === "epochs"; }) + 1`))
}

// sortedDesc reports whether numeric texts are descending, "–" last.
func sortedDesc(vals []string) bool {
	prev := ""
	for _, v := range vals {
		if v == "–" {
			prev = "–"
			continue
		}
		if prev == "–" {
			return false
		}
		if prev != "" {
			var a, c float64
			fmt.Sscan(prev, &a)
			fmt.Sscan(v, &c)
			if c > a {
				return false
			}
		}
		prev = v
	}
	return true
}
