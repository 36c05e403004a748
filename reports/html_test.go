package reports

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"sweep"
)

func render(t *testing.T, sweeps []SweepData, opt Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, sweeps, opt); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	figureRe = regexp.MustCompile(`(?s)<figure id="[^"]*">(.*?)</figure>`)
	xmlnsRe  = regexp.MustCompile(`xmlns(:xlink)?="http://www\.w3\.org/[0-9]+/(svg|xlink)"`)
)

// figureBodies returns the markup of every <figure> on the page.
func figureBodies(page string) []string {
	var out []string
	for _, m := range figureRe.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestHTMLEscapesUserText(t *testing.T) {
	sweeps := demoSweeps()
	sweeps[0].Info.Name = `<script>alert(1)</script>`
	sweeps[0].Info.Description = `<b>bold</b> <img src=x onerror=alert(2)>`
	sweeps[0].Info.Source = "name = \"x\"\n</pre><script>alert(3)</script>"
	sweeps[0].Info.File = `"><script>alert(4)</script>`
	sweeps[0].Reference.Label = `<i>notebook</i><script>alert(5)</script>`
	for i := range sweeps[0].Runs {
		if sweeps[0].Runs[i].Status == sweep.StatusFailed {
			sweeps[0].Runs[i].Error = `panic: <script>alert(6)</script>`
			sweeps[0].Runs[i].Host = `<svg onload=alert(7)>`
		}
	}
	page := render(t, sweeps, Options{DBPath: `<script>alert(8)</script>.db`, Version: `v<script>`})
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") ||
		strings.Contains(page, "<svg onload") || strings.Contains(page, "<b>bold") || strings.Contains(page, "<i>notebook") {
		t.Errorf("user text reached the page unescaped")
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the page's own sort script", n)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt;`,                      // name, as text
		`&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(2)&gt;`, // description
		`&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;`,          // config text
		`panic: &lt;script&gt;alert(6)&lt;/script&gt;`,               // error text
		`&lt;i&gt;notebook&lt;/i&gt;&lt;script&gt;alert(5)`,          // reference label in findings and in SVG legends
	} {
		if !strings.Contains(page, want) {
			t.Errorf("escaped form %q missing", want)
		}
	}
	// The reference label also went into SVG legends: escaped there by vgsvg.
	inSVG := false
	for _, b := range figureBodies(page) {
		if strings.Contains(b, "&lt;i&gt;notebook&lt;/i&gt;") {
			inSVG = true
		}
	}
	if !inSVG {
		t.Errorf("reference label not found (escaped) in any figure")
	}
}

func TestHTMLNoExternalResources(t *testing.T) {
	page := render(t, demoSweeps(), Options{Generated: time.Now(), Version: "test"})
	stripped := xmlnsRe.ReplaceAllString(page, "")
	for _, bad := range []string{"http://", "https://", "url(", "@import", "//cdn", `src="//`, `href="//`} {
		if i := strings.Index(stripped, bad); i >= 0 {
			t.Errorf("external reference %q at %q", bad, stripped[max(0, i-60):min(len(stripped), i+60)])
		}
	}
	// Every src is a data URI, every href an in-page anchor.
	for _, m := range regexp.MustCompile(`\b(src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if m[1] == "src" && !strings.HasPrefix(m[2], "data:image/png;base64,") {
			t.Errorf("src=%q is not a data URI", m[2])
		}
		if m[1] == "href" && !strings.HasPrefix(m[2], "#") {
			t.Errorf("href=%q is not an in-page anchor", m[2])
		}
	}
	if !strings.Contains(page, `Content-Security-Policy" content="default-src 'none'`) {
		t.Errorf("no CSP forbidding external fetches")
	}
}

func TestHTMLEveryFigurePresent(t *testing.T) {
	sweeps := demoSweeps()
	page := render(t, sweeps, Options{})
	bodies := figureBodies(page)
	// Per sweep: 3 learning curves, 2 train/test, 1 effect per varying
	// setting (2 each), 1 heat map (one pair each), 1 scatter = 9.
	if len(bodies) != 18 {
		t.Errorf("%d figures, want 18", len(bodies))
	}
	for i, b := range bodies {
		if !strings.Contains(b, "<svg") && !strings.Contains(b, `<img class="fig"`) {
			t.Errorf("figure %d has no svg or img: %.200s", i, b)
		}
	}
	if strings.Contains(page, "Could not draw") {
		t.Errorf("a figure failed to draw")
	}
	for _, want := range []string{
		`id="sweep-1"`, `href="#sweep-1"`, `id="sweep-2"`, `href="#sweep-2"`, // table of contents
		"head-vs-weight", "reproduce-notebook",
		"<details><summary>Sweep configuration</summary><pre>", // collapsible config
		"training diverged at epoch",                           // failed run with its error
		`<tr class="best">`,                                    // best row highlighted
		"Test digit accuracy by epoch", "Test sum R² by epoch", "Test sum accuracy by epoch",
		"Digit NLL, train vs. test", "Sum MSE, train vs. test",
		"Sum R² by head", "Sum R² by sum_weight", "Sum R²: head × sum_weight",
		"Sum R² by sum_hidden", "Sum R² by lr", "Sum R²: sum_hidden × lr",
		"Digit accuracy vs. sum R², all runs",
		"PyTorch notebook reported 92.0% digit accuracy and sum R² 0.065 after 5 epochs",
		"17 done", "1 failed", "1 pending",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Table columns: only the varying settings, then the metrics and n.
	if !strings.Contains(page, `>head</th><th title="setting" class="" data-numeric="0">sum_weight</th>`) {
		t.Errorf("table header of sweep 1 not [head sum_weight ...]")
	}
	if strings.Contains(page, ">optimizer</th>") || strings.Contains(page, ">seed</th>") {
		t.Errorf("table shows a setting that does not vary")
	}
	if p := os.Getenv("SWEEP_REPORT_OUT"); p != "" {
		os.WriteFile(p, []byte(page), 0o644)
	}
}

func TestHTMLTableSortedByMetric(t *testing.T) {
	sweeps := demoSweeps()[:1]
	rowRe := regexp.MustCompile(`<tr( class="best")?><td data-v="(\w+)">`)
	firstHead := func(page string) (string, bool) {
		m := rowRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no table rows")
		}
		return m[2], m[1] != ""
	}
	// By R² the classify head wins; by test_mse too; the best row is first.
	for _, metric := range []string{"test_r2", "test_mse"} {
		page := render(t, sweeps, Options{Metric: metric})
		if h, best := firstHead(page); h != "classify" || !best {
			t.Errorf("%s: first row head=%s best=%v", metric, h, best)
		}
	}
	page := render(t, sweeps, Options{Metric: "test_mse"})
	if !strings.Contains(page, `aria-sort="ascending">test sum MSE</th>`) {
		t.Errorf("MSE column not marked as sorted ascending")
	}
	if err := Write(&bytes.Buffer{}, sweeps, Options{Metric: "bogus"}); err == nil {
		t.Errorf("bad metric accepted")
	}
}

func TestHTMLEmptyAndPartial(t *testing.T) {
	pendingOnly := synthSweep("pending-only", grid(baseSettings(), "head", []string{"regression", "classify"}), 2,
		func(int) sweep.Status { return sweep.StatusPending })
	zeroEpochs := synthSweep("zero-epochs", grid(baseSettings()), 2, nil)
	for i := range zeroEpochs.Runs {
		zeroEpochs.Runs[i].EpochsDone = 0 // done but nothing recorded
	}
	zeroEpochs.Epochs = nil
	regressionOnly := synthSweep("regression-only", grid(baseSettings(), "sum_weight", []float64{0.1, 1}), 1, nil) // SumNLL NaN, n=1
	single := synthSweep("single-config", []sweep.Settings{baseSettings()}, 3, nil)
	failedOnly := synthSweep("failed-only", grid(baseSettings()), 2, func(int) sweep.Status { return sweep.StatusFailed })
	empty := SweepData{Info: sweep.SweepInfo{Name: "no-runs"}}

	page := render(t, []SweepData{pendingOnly, zeroEpochs, regressionOnly, single, failedOnly, empty}, Options{})
	if strings.Contains(page, "Could not draw") {
		t.Errorf("a figure failed")
	}
	if n := strings.Count(page, `<p class="note">No finished runs yet.</p>`); n < 5*4 {
		t.Errorf("%d 'no finished runs' notes, want at least 20 (5 groups × 4 empty sweeps)", n)
	}
	if !strings.Contains(page, "No setting varies in this sweep") {
		t.Errorf("single-config sweep lacks the no-varying-setting note")
	}
	if !strings.Contains(page, "Needs two settings that vary") {
		t.Errorf("heat map note missing")
	}
	if !strings.Contains(page, "The sweep&#39;s single configuration reaches") {
		t.Errorf("single-config finding missing")
	}
	// The single configuration still gets its figures: 3 curves, 1 loss pair
	// (2 figures), scatter; regression-only: 3 + 2 + 1 effect + scatter.
	if n := len(figureBodies(page)); n != 6+7 {
		t.Errorf("%d figures, want 13", n)
	}
	if !strings.Contains(page, "with n=1 on one side no spread over seeds can be estimated") {
		t.Errorf("n=1 wording missing")
	}
}

func TestHTMLManyConfigs(t *testing.T) {
	sd := synthSweep("thirty", grid(baseSettings(), "head", []string{"regression", "classify"},
		"sum_weight", []float64{0.1, 0.3, 1, 3, 10}, "lr", []float64{0.0003, 0.001, 0.003}), 2, nil)
	page := render(t, []SweepData{sd}, Options{})
	if !strings.Contains(page, "Showing the 10 best of 30 configurations by sum R²; all are in the table.") {
		t.Errorf("cap note missing")
	}
	if n := strings.Count(page, "<tr><td") + strings.Count(page, `<tr class="best"><td`); n != 30 {
		t.Errorf("%d table rows, want 30", n)
	}
	// Three varying settings → three heat maps.
	if n := strings.Count(page, `id="sweep-1-heat-`); n != 3 {
		t.Errorf("%d heat maps, want 3", n)
	}
}

func TestWritePNGs(t *testing.T) {
	dir := t.TempDir()
	paths, err := WritePNGs(dir, demoSweeps(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 18 {
		t.Errorf("%d PNGs, want 18", len(paths))
	}
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			t.Errorf("duplicate path %s", p)
		}
		seen[p] = true
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if img.Bounds().Dx() < 600 || img.Bounds().Dy() < 400 {
			t.Errorf("%s is only %v", p, img.Bounds())
		}
	}
	if !strings.HasSuffix(paths[0], "01-head-vs-weight-curves-digit-accuracy.png") {
		t.Errorf("first path %s", paths[0])
	}
}

func TestHTMLRasterFigures(t *testing.T) {
	defer func(n int) { rasterPoints = n }(rasterPoints)
	rasterPoints = 10 // the demo's effect plots and scatter have 17 points
	page := render(t, demoSweeps()[:1], Options{})
	re := regexp.MustCompile(`<img class="fig" alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">`)
	ms := re.FindAllStringSubmatch(page, -1)
	// Sweep 1: 2 effect plots and the scatter have 17 points each.
	if len(ms) != 3 {
		t.Fatalf("%d PNG figures, want 3", len(ms))
	}
	for _, m := range ms {
		b, err := base64.StdEncoding.DecodeString(m[2])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", m[1], err)
		}
		// Rendered at twice CSS resolution: at least 2 × 400 px wide.
		if img.Bounds().Dx() < 800 {
			t.Errorf("%s: PNG only %d px wide", m[1], img.Bounds().Dx())
		}
	}
	if len(figureBodies(page)) != 9 {
		t.Errorf("%d figures, want 9", len(figureBodies(page)))
	}
}

func TestHTMLDivergedRuns(t *testing.T) {
	sd := synthSweep("diverged", grid(baseSettings(), "head", []string{"regression", "classify"}), 2, nil)
	for i := range sd.Runs {
		if sd.Runs[i].Settings.Head == sweep.HeadRegression {
			if sd.Runs[i].Settings.Seed == 1 {
				sd.Runs[i].Final.SumR2 = math.NaN() // diverged
				sd.Runs[i].Final.SumMSE = math.Inf(1)
			} else {
				sd.Runs[i].Final.SumR2 = -40 // far worse than the mean
			}
		}
	}
	for i := range sd.Epochs {
		if sd.Epochs[i].Epoch == 5 && sd.Epochs[i].Split == "test" && sd.Epochs[i].Metrics.SumR2 < 0.5 {
			sd.Epochs[i].Metrics.SumR2 = -40
		}
	}
	page := render(t, []SweepData{sd}, Options{})
	if strings.Contains(page, "Could not draw") {
		t.Errorf("a figure failed")
	}
	for _, want := range []string{
		"1 run produced a non-finite final sum R² (diverged) and is left out of the means.",
		"The axis is cut at -1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(page, `<td data-v="-40">-40.0</td>`) {
		t.Errorf("the diverged configuration's R² of -40 is not shown in the table")
	}
}

func TestHTMLAdaptiveSweeps(t *testing.T) {
	page := render(t, adaptiveSweeps(), Options{})
	if strings.Contains(page, "Could not draw") {
		t.Errorf("a figure failed to draw")
	}
	for _, want := range []string{
		// hunt: 8 trials of 24, 4 pruned; 8 pruned runs × 3 epochs saved =
		// 24 of 16 × 5 = 80 epochs (30%).
		"tpe on test_r2 (higher is better): 8 of 24 trials made, 4 pruned</dd>",
		"asha on test_r2 (higher is better) from epoch 1, reduction factor 3: pruning saved 24 of 80 epochs (30%)",
		"2 runs reused the epochs of an identical done run of another sweep instead of training; they count as done",
		// halving: 2 pruned runs × 3 epochs = 6 of 6 × 5 = 30 epochs (20%).
		"median on test_accuracy (higher is better) from epoch 2: pruning saved 6 of 30 epochs (20%)",
		`id="sweep-1-search"`, "Search progress", "Objective by trial: test_r2",
		"4 configurations (8 runs) were pruned, stopped early by the sweep&#39;s pruning rule after epoch 2",
		"pruned at epoch 2", "8 pruned", "2 pruned",
		"× pruned: the configuration was stopped early",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "preliminary") {
		t.Errorf("a finished sweep with pruned runs is called preliminary")
	}
	// The search figure only for the tpe sweep.
	if strings.Contains(page, `id="sweep-2-search"`) {
		t.Errorf("grid sweep has a search figure")
	}
	// The ×-pruned legend entry is drawn in the learning curves of both
	// sweeps (3 figures each) and the search figure's legend once.
	var legends, search int
	for _, b := range figureBodies(page) {
		if strings.Contains(b, ">× pruned<") {
			legends++
		}
		if strings.Contains(b, ">× pruned (value when stopped)<") {
			search++
		}
	}
	if legends != 6 || search != 1 {
		t.Errorf("× pruned in %d curve figures (want 6) and %d search figures (want 1)", legends, search)
	}
	// Pruned rows are never ranked: their metric cells carry no sort value.
	if !strings.Contains(page, `<td data-v="pruned at epoch 2">pruned at epoch 2</td>`) {
		t.Errorf("pruned rows lack their status cell")
	}
}
