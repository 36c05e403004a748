package reports

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"sweep"
)

// SweepData is everything a report needs about one sweep, read from the
// store by the caller: the figure and HTML code never touches a database.
type SweepData struct {
	Info      sweep.SweepInfo
	Reference *sweep.Reference // nil if the sweep has none
	Runs      []sweep.RunResult
	Epochs    []sweep.EpochResult
}

// Options control a report.
type Options struct {
	// Metric ranks configurations: "test_r2" (default when ""),
	// "test_accuracy", "test_sum_accuracy", "test_nll" or "test_mse"; the
	// last two are lower-is-better.
	Metric    string
	Generated time.Time // shown in the header when not zero
	Version   string    // program version, shown in the footer
	DBPath    string    // results database, shown in the header
}

// Limits that keep figures readable.
const (
	// MaxCurves is the most configurations drawn in one learning-curve
	// figure: the best ones by the metric; the caption says so.
	MaxCurves = 10
	// MaxHeatMaps is the most pairs of settings drawn as heat maps per sweep.
	MaxHeatMaps = 6
	// htmlDPI renders PNG figures for the page at twice CSS resolution.
	htmlDPI = 192
	// slideDPI renders the PNG files of WritePNGs.
	slideDPI = 200
)

// rasterPoints is the number of points above which a scatter-type figure
// is embedded as PNG instead of SVG, to keep the page small: an SVG point
// costs about 80 bytes, a PNG figure about 100 kB. A variable for tests.
var rasterPoints = 1500

// figure is one rendered-to-be plot of a report.
type figure struct {
	Name    string // file-name part, e.g. "curves-sum-r2"
	Title   string
	Caption string
	Plot    *plot.Plot
	Raster  bool      // embed as PNG: point-heavy
	W, H    vg.Length // plot area; zero: FigureWidth × FigureHeight
}

func (f *figure) size() (vg.Length, vg.Length) {
	w, h := f.W, f.H
	if w == 0 {
		w = FigureWidth
	}
	if h == 0 {
		h = FigureHeight
	}
	return w, h
}

func clampLen(v, lo, hi vg.Length) vg.Length {
	return max(lo, min(hi, v))
}

// figGroup is a titled group of figures, or a note when there is nothing
// to draw.
type figGroup struct {
	ID      string
	Title   string
	Intro   string
	Note    string
	Figures []figure
}

// ranksMetric is the ranking metric's final value in display units.
func displayOf(m Metric) func(sweep.SplitMetrics) float64 {
	return func(s sweep.SplitMetrics) float64 { return m.Display(m.Of(s)) }
}

// curve turns aggregated epochs into a plot Curve.
func curve(label string, es []EpochStats) Curve {
	c := Curve{Label: label}
	for _, e := range es {
		c.Epochs = append(c.Epochs, float64(e.Epoch))
		c.Mean = append(c.Mean, e.Mean)
		c.Lo = append(c.Lo, e.Min)
		c.Hi = append(c.Hi, e.Max)
	}
	return c
}

const r2Floor = -1.0

// floorY cuts the y axis off at floor when the data go below it and says
// so in the returned caption text.
func floorY(p *plot.Plot, floor float64, what string) string {
	if p.Y.Min < floor {
		p.Y.Min = floor
		if p.Y.Max < floor {
			p.Y.Max = floor + 1
		}
		return fmt.Sprintf(" The axis is cut at %g: %s below it (far worse than predicting the mean sum) are off the chart.", floor, what)
	}
	return ""
}

// noRuns is the note of a figure group with nothing to draw yet.
const noRuns = "No finished runs yet."

// add appends a drawn figure to the group, its caption from caption(p)
// when not nil; a figure that could not be drawn is listed with the error
// as its caption, and one with nothing to draw (ErrNoData) is left out.
func (g *figGroup) add(f figure, err error, caption func(p *plot.Plot) string) {
	switch {
	case errors.Is(err, ErrNoData):
	case err != nil:
		g.Figures = append(g.Figures, figure{Name: f.Name, Title: f.Title, Caption: "Could not draw: " + err.Error()})
	default:
		if caption != nil {
			f.Caption = caption(f.Plot)
		}
		g.Figures = append(g.Figures, f)
	}
}

// noteIfEmpty sets the group's note, unless it has figures or a note
// already: because if given, else that no run has finished.
func (g *figGroup) noteIfEmpty(because string) {
	if len(g.Figures) > 0 || g.Note != "" {
		return
	}
	g.Note = noRuns
	if because != "" {
		g.Note = because
	}
}

// figures builds every figure group of one sweep; a tpe sweep's search
// comes first.
func (a *analysis) figures() []figGroup {
	gs := []figGroup{a.curveFigures(), a.lossFigures(), a.effectFigures(), a.heatMapFigures(), a.scatterFigures()}
	if a.data.Info.Search != nil {
		gs = append([]figGroup{a.searchFigures()}, gs...)
	}
	return gs
}

// objectiveLabel names a search objective and its direction for an axis,
// e.g. "test_r2 (higher is better)" or "test_accuracy, % (higher is
// better)".
func objectiveLabel(obj sweep.Metric) string {
	if m, err := ParseMetric(obj.Name); err == nil && m.Percent() {
		return strings.Replace(obj.String(), " (", ", % (", 1)
	}
	return obj.String()
}

// searchFigures draws a tpe sweep's objective against the trial number.
func (a *analysis) searchFigures() figGroup {
	obj := a.data.Info.Search.Objective
	g := figGroup{ID: "search", Title: "Search progress", Intro: fmt.Sprintf(
		"Each point is one trial (a configuration the search made): the mean over its seeds of the final %s. Line: the best so far over the trials trained to the end; a pruned trial's value is from the epoch it was stopped at, so it is drawn but does not count.", obj.Name)}
	dm, err := ParseMetric(obj.Name)
	if err != nil {
		dm = MetricR2 // unknown objective: Of gives NaN, nothing is drawn
	}
	var pts []TrialPoint
	for _, t := range Trials(a.data.Runs, obj) {
		pts = append(pts, TrialPoint{Trial: float64(t.Number), Value: dm.Display(t.Value), Pruned: t.Pruned})
	}
	title := "Objective by trial: " + obj.Name
	p, err := SearchProgress(title, objectiveLabel(obj), pts, obj.HigherIsBetter)
	g.add(figure{Name: "search-objective", Title: title, Plot: p}, err, func(p *plot.Plot) string {
		cap := "Circles: trials trained to the end; × pruned: stopped early by the sweep's pruning rule; step line: best so far."
		if dm == MetricR2 {
			cap += floorY(p, r2Floor, "trials")
		}
		return cap
	})
	g.noteIfEmpty("No trial has finished yet.")
	return g
}

// refLabel names the sweep's reference in legends.
func refLabel(ref *sweep.Reference) string {
	if ref.Label == "" {
		return "reference"
	}
	return ref.Label
}

// curveFigures draws the test learning curves of the best configurations.
func (a *analysis) curveFigures() figGroup {
	m, ref := a.metric, a.data.Reference
	lc := figGroup{ID: "curves", Title: "Learning curves"}
	shown := a.ranked
	capNote := ""
	if len(shown) > MaxCurves {
		shown = shown[:MaxCurves]
		capNote = fmt.Sprintf(" Showing the %d best of %d configurations by %s; all are in the table.", MaxCurves, len(a.ranked), m.Name())
	}
	// Pruned configurations fill the places the finished ones leave,
	// those that went furthest first: they are never ranked (see Config).
	shown = slices.Clone(shown)
	room := min(len(a.pruned), MaxCurves-len(shown))
	if room > 0 {
		shown = append(shown, a.pruned[:room]...)
	}
	if n := len(a.pruned) - max(room, 0); n > 0 {
		capNote += fmt.Sprintf(" %s not drawn; all are in the table.", plural(n, "pruned configuration is", "pruned configurations are"))
	}
	type lcSpec struct {
		name, title string
		metric      Metric
		ref         *RefPoint
	}
	specs := []lcSpec{
		{"curves-digit-accuracy", "Test digit accuracy", MetricAccuracy, nil},
		{"curves-sum-r2", "Test sum R²", MetricR2, nil},
		{"curves-sum-accuracy", "Test sum accuracy", MetricSumAccuracy, nil},
	}
	if ref != nil && ref.Epoch > 0 {
		lbl := refLabel(ref)
		specs[0].ref = &RefPoint{Label: fmt.Sprintf("%s: %s after %s", lbl, MetricAccuracy.Format(ref.DigitAccuracy), plural(ref.Epoch, "epoch", "epochs")), Epoch: float64(ref.Epoch), Value: 100 * ref.DigitAccuracy}
		specs[1].ref = &RefPoint{Label: fmt.Sprintf("%s: R² %s after %s", lbl, formatNum(ref.SumR2), plural(ref.Epoch, "epoch", "epochs")), Epoch: float64(ref.Epoch), Value: ref.SumR2}
	}
	// Legends name only the settings that vary among the curves shown;
	// settings common to all of them go into the title.
	var shownSettings []sweep.Settings
	for _, c := range shown {
		shownSettings = append(shownSettings, c.Settings)
	}
	localVarying := VaryingSettings(shownSettings)
	var common []string
	for _, name := range a.varying {
		if !slices.Contains(localVarying, name) && len(shown) > 0 {
			common = append(common, name+"="+SettingValue(shown[0].Settings, name))
		}
	}
	titleSuffix := ""
	if len(common) > 0 && len(shown) < len(a.ranked)+len(a.pruned) {
		titleSuffix = " (" + strings.Join(common, ", ") + ")"
	} else {
		localVarying = a.varying
	}
	for _, s := range specs {
		var curves []Curve
		for _, c := range shown {
			label := fmt.Sprintf("%s (n=%d)", Label(c.Settings, localVarying), len(c.curveRuns()))
			cv := curve(label, ConfigCurve(c, a.idx, "test", displayOf(s.metric)))
			cv.Stopped = c.Pruned()
			curves = append(curves, cv)
		}
		p, err := LearningCurves(s.title+" by epoch"+titleSuffix, s.metric.AxisLabel(), curves, s.ref)
		lc.add(figure{Name: s.name, Title: s.title, Plot: p}, err, func(p *plot.Plot) string {
			cap := "Mean over seeds per configuration (line); shaded band: min–max over seeds."
			if s.metric == MetricR2 {
				cap += " R² = 1 − SSE/SST: 1 is perfect, 0 is no better than predicting the mean sum." + floorY(p, r2Floor, "values")
			}
			if s.ref != nil {
				cap += " Star and dashed line: the reference's published figure."
			}
			if len(a.pruned) > 0 && room > 0 {
				cap += " × pruned: the configuration was stopped early by the sweep's pruning rule after that epoch."
			}
			return cap + capNote
		})
	}
	lc.noteIfEmpty("")
	return lc
}

// lossFigures draws train against test loss of the best and worst
// configuration.
func (a *analysis) lossFigures() figGroup {
	m := a.metric
	tt := figGroup{ID: "loss", Title: "Train vs. test loss", Intro: "Best and worst configuration by " + m.Name() + ". Solid: test split, after each epoch; dashed: train split, averaged over the epoch's batches while it trained."}
	best, worst, ok := BestWorst(a.ranked, m)
	if !ok {
		tt.noteIfEmpty("")
		return tt
	}
	pick := []Config{best}
	colors := []int{0}
	if worst.Key != best.Key {
		pick = append(pick, worst)
		wi := len(a.ranked) - 1
		for i, c := range a.ranked {
			if c.Key == worst.Key {
				wi = i
			}
		}
		if wi >= MaxCurves || wi%len(Palette) == 0 {
			wi = 3
		}
		colors = append(colors, wi)
	}
	for _, spec := range []struct {
		name, title, y string
		f              func(sweep.SplitMetrics) float64
	}{
		{"loss-digit-nll", "Digit NLL, train vs. test", "digit NLL (nats)", func(s sweep.SplitMetrics) float64 { return s.DigitNLL }},
		{"loss-sum-mse", "Sum MSE, train vs. test", "sum MSE", func(s sweep.SplitMetrics) float64 { return s.SumMSE }},
	} {
		var pairs []SplitCurves
		for i, c := range pick {
			role := "best"
			if i == 1 {
				role = "worst"
			}
			col, _ := paletteStyle(colors[i])
			pairs = append(pairs, SplitCurves{
				Label: role + ": " + c.Label,
				Train: curve("", ConfigCurve(c, a.idx, "train", spec.f)),
				Test:  curve("", ConfigCurve(c, a.idx, "test", spec.f)),
				Color: col,
			})
		}
		p, err := TrainTestLoss(spec.title, spec.y, pairs)
		cap := "Mean over seeds; band: min–max over seeds."
		if spec.name == "loss-sum-mse" {
			cap += " For the classify head the MSE is that of the arg-max class."
		}
		tt.add(figure{Name: spec.name, Title: spec.title, Caption: cap, Plot: p}, err, nil)
	}
	tt.noteIfEmpty("")
	return tt
}

// effectFigures draws the final metric against each setting that varies.
func (a *analysis) effectFigures() figGroup {
	m := a.metric
	ef := figGroup{ID: "effects", Title: "Effect of each setting", Intro: fmt.Sprintf("Final %s of every finished run per value of each setting that varies (points jittered sideways); bar: mean over the runs with that value, pooled over the other settings unless coloured.", m.Name())}
	headVaries := slices.Contains(a.varying, "head")
	for _, name := range a.varying {
		by := ""
		if headVaries && name != "head" {
			by = "head"
		}
		groupsE := EffectValues(a.configs, name, by, m)
		points := 0
		for i := range groupsE {
			for k := range groupsE[i].Values {
				groupsE[i].Values[k] = m.Display(groupsE[i].Values[k])
			}
			points += len(groupsE[i].Values)
		}
		if points == 0 {
			continue
		}
		title := fmt.Sprintf("%s by %s", firstUpper(m.Name()), name)
		p, err := EffectPlot(title, name, m.AxisLabel(), groupsE)
		w := clampLen(vg.Length(len(groupsE))*vg.Points(68)+vg.Points(90), FigureWidth, 2*FigureWidth)
		ef.add(figure{Name: "effect-" + name, Title: title, Plot: p, Raster: points > rasterPoints, W: w}, err, func(p *plot.Plot) string {
			cap := ""
			if by != "" {
				cap = "Colour: head form, each with its own mean bar."
			}
			if m == MetricR2 {
				cap += floorY(p, r2Floor, "runs")
			}
			return strings.TrimSpace(cap)
		})
	}
	if len(a.ranked) > 0 && len(a.varying) == 0 {
		ef.noteIfEmpty("No setting varies in this sweep: its runs differ only in the seed.")
	}
	ef.noteIfEmpty("")
	return ef
}

// heatMapFigures draws the final metric over pairs of varying settings.
func (a *analysis) heatMapFigures() figGroup {
	m := a.metric
	hm := figGroup{ID: "heatmaps", Title: "Pairs of settings", Intro: fmt.Sprintf("Mean final %s over the finished runs in each cell; brighter is better.", m.Name())}
	var pairs [][2]string
	for i := 0; i < len(a.varying); i++ {
		for j := i + 1; j < len(a.varying); j++ {
			pairs = append(pairs, [2]string{a.varying[i], a.varying[j]})
		}
	}
	if len(pairs) > MaxHeatMaps {
		hm.Intro += fmt.Sprintf(" %d more pairs are not drawn.", len(pairs)-MaxHeatMaps)
		pairs = pairs[:MaxHeatMaps]
	}
	for _, pr := range pairs {
		g := PairGrid(a.configs, pr[1], pr[0], m)
		lo, hi := math.MaxInt, 0
		for j := range g.Values {
			for i := range g.Values[j] {
				g.Values[j][i] = m.Display(g.Values[j][i])
				if n := g.N[j][i]; n > 0 {
					lo, hi = min(lo, n), max(hi, n)
				}
			}
		}
		if hi == 0 {
			continue
		}
		title := fmt.Sprintf("%s: %s × %s", firstUpper(m.Name()), pr[0], pr[1])
		p, err := HeatMap(title, "mean "+m.Name()+unitSuffix(m), g, m.LowerIsBetter())
		cap := fmt.Sprintf("%d runs per cell.", lo)
		if lo != hi {
			cap = fmt.Sprintf("%d–%d runs per cell.", lo, hi)
		}
		var others []string
		for _, v := range a.varying {
			if v != pr[0] && v != pr[1] {
				others = append(others, v)
			}
		}
		if len(others) > 0 {
			cap += " Pooled over " + strings.Join(others, ", ") + "."
		}
		w := clampLen(vg.Length(len(g.XValues))*vg.Points(62)+vg.Points(90), 8*vg.Centimeter, 2*FigureWidth)
		h := clampLen(vg.Length(len(g.YValues))*vg.Points(34)+vg.Points(90), 6*vg.Centimeter, 2*FigureHeight)
		hm.add(figure{Name: "heat-" + pr[0] + "-" + pr[1], Title: title, Caption: cap, Plot: p, W: w, H: h}, err, nil)
	}
	if len(a.ranked) > 0 && len(a.varying) < 2 {
		hm.noteIfEmpty(fmt.Sprintf("Needs two settings that vary; this sweep varies %s.", plural(len(a.varying), "setting", "settings")))
	}
	hm.noteIfEmpty("")
	return hm
}

// scatterFigures draws every finished run's digit accuracy against its sum
// R², coloured by head.
func (a *analysis) scatterFigures() figGroup {
	ref := a.data.Reference
	sc := figGroup{ID: "scatter", Title: "Digit accuracy vs. sum R²", Intro: "Final test metrics of every finished run, coloured by head form."}
	byHead := map[string][]Point{}
	var heads []string
	points := 0
	for _, c := range a.configs {
		h := string(c.Settings.Head)
		for _, r := range c.Runs {
			if _, ok := byHead[h]; !ok {
				heads = append(heads, h)
			}
			byHead[h] = append(byHead[h], Point{X: 100 * r.Final.DigitAccuracy, Y: r.Final.SumR2})
			points++
		}
	}
	sort.Strings(heads)
	var sgroups []ScatterGroup
	for _, h := range heads {
		sgroups = append(sgroups, ScatterGroup{Label: "head=" + h, Points: byHead[h]})
	}
	var refPt *LabeledPoint
	if ref != nil {
		refPt = &LabeledPoint{Label: fmt.Sprintf("%s (after %s)", refLabel(ref), plural(ref.Epoch, "epoch", "epochs")), X: 100 * ref.DigitAccuracy, Y: ref.SumR2}
	}
	p, err := AccuracyR2Scatter("Digit accuracy vs. sum R², all runs", sgroups, refPt)
	sc.add(figure{Name: "scatter-accuracy-r2", Title: "Digit accuracy vs. sum R²", Plot: p, Raster: points > rasterPoints}, err, func(p *plot.Plot) string {
		return strings.TrimSpace(floorY(p, r2Floor, "runs"))
	})
	sc.noteIfEmpty("")
	return sc
}

func unitSuffix(m Metric) string {
	if m.Percent() {
		return " (%)"
	}
	return ""
}

func firstUpper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// formatDuration renders seconds as e.g. "2h 03m 05s".
func formatDuration(secs float64) string {
	if math.IsNaN(secs) || secs <= 0 {
		return "0s"
	}
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm %02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	if secs < 10 {
		return fmt.Sprintf("%.1fs", secs)
	}
	return fmt.Sprintf("%ds", s)
}

// rendered is a figure's output.
type rendered struct {
	svg []byte
	png []byte
	err error
}

// renderAll renders figures concurrently, SVG or PNG as each asks (or PNG
// at dpi for all when allPNG).
func renderAll(figs []*figure, allPNG bool, dpi int) []rendered {
	out := make([]rendered, len(figs))
	work := make(chan int)
	var wg sync.WaitGroup
	n := runtime.GOMAXPROCS(0)
	if n > len(figs) {
		n = len(figs)
	}
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f := figs[i]
				func() {
					defer func() {
						if r := recover(); r != nil {
							out[i].err = fmt.Errorf("drawing %s: %v", f.Name, r)
						}
					}()
					w, h := f.size()
					if allPNG || f.Raster {
						out[i].png, out[i].err = PNG(f.Plot, w, h, dpi)
					} else {
						out[i].svg, out[i].err = SVG(f.Plot, w, h)
					}
				}()
			}
		}()
	}
	for i := range figs {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// Write renders the HTML report of sweeps: one self-contained page with no
// external references.
func Write(w io.Writer, sweeps []SweepData, opt Options) error {
	m, err := ParseMetric(opt.Metric)
	if err != nil {
		return err
	}
	page := buildPage(sweeps, m, opt)
	var figs []*figure
	for si := range page.Sweeps {
		for gi := range page.Sweeps[si].Groups {
			g := &page.Sweeps[si].Groups[gi]
			for fi := range g.Figures {
				if g.Figures[fi].Plot != nil {
					figs = append(figs, &g.Figures[fi].figure)
				}
			}
		}
	}
	out := renderAll(figs, false, htmlDPI)
	k := 0
	for si := range page.Sweeps {
		for gi := range page.Sweeps[si].Groups {
			g := &page.Sweeps[si].Groups[gi]
			for fi := range g.Figures {
				fv := &g.Figures[fi]
				if fv.Plot == nil {
					continue
				}
				r := out[k]
				k++
				switch {
				case r.err != nil:
					fv.Caption = "Could not draw: " + r.err.Error()
				case r.png != nil:
					// base64 output is safe in an attribute; ours, not user text.
					fv.Body = template.HTML(`<img class="fig" alt="` + template.HTMLEscapeString(fv.Title) +
						`" src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(r.png) + `">`)
				default:
					// vgsvg escapes all text it draws, so user text in
					// legends and titles cannot break out of the SVG.
					fv.Body = template.HTML(r.svg)
				}
				fv.Plot = nil
			}
		}
	}
	return pageTemplate.Execute(w, page)
}

// WritePNGs renders every figure of the report as a PNG file in dir
// (created if needed), for slides, and returns the paths in report order.
func WritePNGs(dir string, sweeps []SweepData, opt Options) ([]string, error) {
	m, err := ParseMetric(opt.Metric)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var figs []*figure
	var names []string
	used := map[string]bool{}
	for si, sd := range sweeps {
		a := analyze(sd, m)
		slug := slugify(sd.Info.Name)
		if slug == "" {
			slug = "sweep"
		}
		for _, g := range a.figures() {
			for fi := range g.Figures {
				f := g.Figures[fi]
				if f.Plot == nil {
					continue
				}
				name := fmt.Sprintf("%02d-%s-%s.png", si+1, slug, slugify(f.Name))
				for k := 2; used[name]; k++ {
					name = fmt.Sprintf("%02d-%s-%s-%d.png", si+1, slug, slugify(f.Name), k)
				}
				used[name] = true
				figs = append(figs, &f)
				names = append(names, name)
			}
		}
	}
	out := renderAll(figs, true, slideDPI)
	var paths []string
	var errs []error
	for i, r := range out {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		p := filepath.Join(dir, names[i])
		if err := os.WriteFile(p, r.png, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, errors.Join(errs...)
}

// slugify keeps letters, digits, '-' and '_' (lower-cased) for file names.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}
