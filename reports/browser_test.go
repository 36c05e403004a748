package reports

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
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserRendersReport opens a report of hand-made data (two sweeps,
// varied settings, a reference, a failed run, a pending run) in headless
// Chromium and checks that the page loads offline without console errors or
// exceptions, that every figure has a rendered size and fits the page, and
// that the table sorts. It saves a full-page screenshot in the test's temp
// folder and copies it to $SWEEP_SCREENSHOT_DIR when that is set.
func TestBrowserRendersReport(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP: %s not found (%v); install Debian's chromium to run the browser test", chromiumPath, err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, demoSweeps(), Options{Generated: time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC), Version: "test", DBPath: "sweep.db"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: page}).String()

	var browserLog syncBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium-profile")),
		chromedp.WindowSize(1440, 900),
		chromedp.CombinedOutput(&browserLog),
	}
	parent, cancelTimeout := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelTimeout()
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	defer func() {
		if t.Failed() {
			t.Logf("browser output:\n%s", browserLog.String())
		}
	}()

	// Start the browser, then listen before navigating so nothing is lost.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	lctx, stopListening := context.WithCancel(ctx)
	var mu sync.Mutex
	var problems, requests []string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range chromedp.Console(lctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range chromedp.Events(lctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			mu.Lock()
			requests = append(requests, ev.Request.URL)
			mu.Unlock()
		}
	}()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitReady(chromedp.CSS("footer")),
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}

	checkFigures(t, ctx, 18)

	// Click-to-sort: clicking the head column twice reverses its order.
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () {
		var t = document.querySelector("table.sortable");
		var ths = t.tHead.rows[0].cells;
		var first = function () { return t.tBodies[0].rows[0].cells[1].textContent; };
		var out = [first()];
		ths[0].click(); out.push(t.tBodies[0].rows[0].cells[0].textContent);
		ths[0].click(); out.push(t.tBodies[0].rows[0].cells[0].textContent);
		return out;
	})()`))
	if err != nil {
		t.Fatalf("sorting: %v", err)
	}
	if len(order) != 3 || order[1] == order[2] {
		t.Errorf("clicking the head column twice did not reverse the order: %q", order)
	}
	// Restore the page's order for the screenshot.
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatal(err)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shotPath := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))
	if out := os.Getenv("SWEEP_SCREENSHOT_DIR"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(out, "report.png")
		if err := os.WriteFile(dst, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "report.html"), mustRead(t, page), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot copied to %s", dst)
	}

	// The lead's budget case, 500 runs × 10 epochs, with the point-heavy
	// figures as PNG data URIs (threshold lowered) so that path is checked
	// in a browser too.
	defer func(n int) { rasterPoints = n }(rasterPoints)
	rasterPoints = 400
	large := filepath.Join(dir, "large.html")
	lf, err := os.Create(large)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(lf, largeSweeps(), Options{}); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: large}).String()), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("loading the large report: %v", err)
	}
	if imgs := checkFigures(t, ctx, 12); imgs == 0 {
		t.Errorf("the large report has no PNG figure; the img path went untested")
	}
	t.Logf("large report loaded and checked in %v", time.Since(start))

	// Give late console messages a moment, then stop listening.
	time.Sleep(200 * time.Millisecond)
	stopListening()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("console: %s", p)
	}
	for _, r := range requests {
		if !strings.HasPrefix(r, "file://") && !strings.HasPrefix(r, "data:") {
			t.Errorf("the page requested %s: it must be fully offline", r)
		}
	}
}

// checkFigures measures every figure of the loaded page: each must hold an
// svg or a loaded img with a rendered size, fit the page width and, for
// SVG, contain text. It returns how many are images.
func checkFigures(t *testing.T, ctx context.Context, want int) (imgs int) {
	t.Helper()
	type figBox struct {
		ID       string  `json:"id"`
		Tag      string  `json:"tag"`
		W        float64 `json:"w"`
		H        float64 `json:"h"`
		Right    float64 `json:"right"`
		Loaded   bool    `json:"loaded"`
		Texts    int     `json:"texts"`
		PageWide float64 `json:"pageWide"`
	}
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[]figBox](`Array.from(document.querySelectorAll("figure")).map(function (f) {
		var e = f.querySelector("svg, img");
		if (!e) { return {id: f.id, tag: "", w: 0, h: 0, right: 0, loaded: false, texts: 0, pageWide: 0}; }
		var r = e.getBoundingClientRect();
		var loaded = e.tagName.toLowerCase() === "img" ? (e.complete && e.naturalWidth > 0) : true;
		return {id: f.id, tag: e.tagName.toLowerCase(), w: r.width, h: r.height, right: r.right, loaded: loaded,
			texts: e.querySelectorAll("text").length, pageWide: document.documentElement.clientWidth};
	})`))
	if err != nil {
		t.Fatalf("measuring figures: %v", err)
	}
	if len(boxes) != want {
		t.Errorf("%d figures on the page, want %d", len(boxes), want)
	}
	for _, b := range boxes {
		if b.Tag == "img" {
			imgs++
		}
		switch {
		case b.Tag == "":
			t.Errorf("figure %s has no svg or img", b.ID)
		case b.W < 100 || b.H < 100:
			t.Errorf("figure %s (%s) renders at %.0f×%.0f px", b.ID, b.Tag, b.W, b.H)
		case !b.Loaded:
			t.Errorf("figure %s image did not load", b.ID)
		case b.Right > b.PageWide+1:
			t.Errorf("figure %s overflows the page: right edge %.0f > %.0f", b.ID, b.Right, b.PageWide)
		case b.Tag == "svg" && b.Texts < 5:
			t.Errorf("figure %s has only %d text elements: empty plot?", b.ID, b.Texts)
		}
	}
	return imgs
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer collects the browser's output from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
