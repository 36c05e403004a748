package serve

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"sweep"
	"sweep/reports"
	"sweep/store"
)

var funcs = template.FuncMap{
	"sweepURL": func(name string) string { return "/sweeps/" + url.PathEscape(name) },
	"runURL":   func(id string) string { return "/runs/" + url.PathEscape(id) },
	"pct":      func(v float64) string { return fmtPct(v) },
	"num":      func(v float64) string { return fmtNum(v) },
	"dur":      fmtDuration,
	"when":     fmtTime,
}

func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

func fmtPct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
}

func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func fmtDuration(secs float64) string {
	if math.IsNaN(secs) || secs < 0 {
		return "–"
	}
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%.1fs", secs)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// layoutView is what every page's frame shows.
type layoutView struct {
	Title   string
	DBPath  string
	Version string
	Gen     int64
}

// layout fills the frame. Gen is the generation the request's data were
// read at (or after), which the page's script compares with the events'.
func (s *Server) layout(r *http.Request, title string) layoutView {
	gen, ok := r.Context().Value(genKey{}).(int64)
	if !ok {
		gen = s.gen.Load()
	}
	return layoutView{Title: title, DBPath: s.opt.DBPath, Version: s.opt.Version, Gen: gen}
}

func (s *Server) render(w http.ResponseWriter, name string, view any) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return s.pages[name].ExecuteTemplate(w, "layout", view)
}

type errorView struct {
	layoutView
	Status  int
	Message string
}

// figure is one rendered figure or why it could not be drawn.
type figure struct {
	Title string
	SVG   template.HTML
	Note  string
}

// svgFigure renders p as inline SVG. vgsvg escapes the text it draws, so
// names from the database are safe in it, as in the report.
func svgFigure(title string, p *plot.Plot, err error) figure {
	f := figure{Title: title}
	switch {
	case errors.Is(err, reports.ErrNoData):
		f.Note = "Nothing to draw yet."
	case err != nil:
		f.Note = "Could not draw: " + err.Error()
	default:
		b, err := reports.SVG(p, reports.FigureWidth, reports.FigureHeight)
		if err != nil {
			f.Note = "Could not draw: " + err.Error()
		} else {
			f.SVG = template.HTML(b)
		}
	}
	return f
}

// curveMetric is one metric drawn as a curve: the four the issue asks for.
type curveMetric struct {
	Name  string
	Label string
	M     reports.Metric
}

var curveMetrics = []curveMetric{
	{"Digit NLL", "digit NLL (nats)", reports.MetricNLL},
	{"Digit accuracy", "digit accuracy (%)", reports.MetricAccuracy},
	{"Sum R²", "sum R²", reports.MetricR2},
	{"Sum accuracy", "sum accuracy (%)", reports.MetricSumAccuracy},
}

// r2Floor cuts R² axes as the report does: a diverging regression head
// goes far below and would flatten everything else.
const r2Floor = -1.0

func floorR2(p *plot.Plot, m reports.Metric) {
	if p != nil && m == reports.MetricR2 && p.Y.Min < r2Floor {
		p.Y.Min = r2Floor
		if p.Y.Max < r2Floor {
			p.Y.Max = r2Floor + 1
		}
	}
}

// ---- sweeps page ----

type sweepRow struct {
	sweep.SweepInfo
	Statuses []statusCount
	progress
	Percent float64
}

type statusCount struct {
	Status sweep.Status
	N      int
}

type sweepsView struct {
	layoutView
	Statuses []sweep.Status
	Sweeps   []sweepRow
}

func (s *Server) pageSweeps(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.sweepRows(r)
	if err != nil {
		return err
	}
	v := sweepsView{layoutView: s.layout(r, "Sweeps"), Statuses: sweep.Statuses(), Sweeps: rows}
	return s.render(w, "sweeps", v)
}

func (s *Server) sweepRows(r *http.Request) ([]sweepRow, error) {
	ctx := r.Context()
	infos, err := s.src.Sweeps(ctx)
	if err != nil {
		return nil, err
	}
	runs, err := s.src.Runs(ctx, store.RunFilter{})
	if err != nil {
		return nil, err
	}
	bySweep := map[string][]sweep.RunResult{}
	for _, r := range runs {
		bySweep[r.Sweep] = append(bySweep[r.Sweep], r)
	}
	var rows []sweepRow
	for _, info := range infos {
		row := sweepRow{SweepInfo: info, progress: sweepProgress(info, bySweep[info.Name])}
		for _, st := range sweep.Statuses() {
			row.Statuses = append(row.Statuses, statusCount{st, info.Counts[st]})
		}
		if row.EpochsTotal > 0 {
			row.Percent = 100 * float64(row.EpochsDone) / float64(row.EpochsTotal)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ---- runs page ----

type column struct {
	Key, Label string
	SortURL    string
	Sorted     string // "asc", "desc" or ""
	Num        bool
}

type runRow struct {
	ID, Status string
	StatusText string // reports.StatusText: "done (reused from …)", "pruned at epoch 2"
	Cells      []cell
	Error      string
}

type cell struct {
	Text string
	Num  bool
}

type option struct {
	Value    string
	Selected bool
}

type filterView struct {
	Name, Param string
	Options     []option
}

type runsView struct {
	layoutView
	Info        sweep.SweepInfo
	Common      []string // "name=value" of the settings every run shares
	Columns     []column
	Rows        []runRow
	Filters     []filterView
	Status      []option
	Sort        string
	Desc        bool
	Total       int
	From, To    int
	PrevURL     string
	NextURL     string
	ClearURL    string
	OverviewURL string
	ConfigsURL  string
}

func (s *Server) pageRuns(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	rq, err := parseRunQuery(r.URL.Query(), name)
	if err != nil {
		return err
	}
	info, err := s.sweep(r.Context(), name)
	if err != nil {
		return err
	}
	all, page, total, err := s.selectRuns(r.Context(), rq)
	if err != nil {
		return err
	}
	settings := reports.RunSettings(all)
	varying := reports.VaryingSettings(settings)
	base := "/sweeps/" + url.PathEscape(name)
	v := runsView{
		layoutView: s.layout(r, "Runs of "+name),
		Info:       info, Total: total, Sort: rq.Sort, Desc: rq.Desc,
		ClearURL:    base,
		OverviewURL: base + "/overview",
		ConfigsURL:  "/compare?" + url.Values{"sweep": {name}}.Encode(),
	}
	if len(all) > 0 {
		for _, n := range reports.SettingNames() {
			if !slices.Contains(varying, n) {
				v.Common = append(v.Common, n+"="+reports.SettingValue(all[0].Settings, n))
			}
		}
	}

	// Filters: status, and every setting with more than one value.
	for _, st := range sweep.Statuses() {
		v.Status = append(v.Status, option{string(st), st == rq.Status})
	}
	chosen := map[string]string{}
	for _, kv := range rq.Settings {
		chosen[kv[0]] = kv[1]
	}
	for _, n := range reports.SettingNames() {
		vals := reports.SettingValues(settings, n)
		if len(vals) < 2 && chosen[n] == "" {
			continue
		}
		f := filterView{Name: n, Param: settingParam + n}
		for _, val := range vals {
			f.Options = append(f.Options, option{val, chosen[n] == val})
		}
		v.Filters = append(v.Filters, f)
	}

	// Columns: id, status, the varying settings, seed, progress, metrics.
	type col struct {
		key, label string
		num        bool
		cell       func(sweep.RunResult) string
	}
	cols := []col{
		{colID, "run", false, func(r sweep.RunResult) string { return r.RunID }},
		{colStatus, "status", false, reports.StatusText},
	}
	for _, n := range varying {
		cols = append(cols, col{n, n, allNumeric(reports.SettingValues(settings, n)), func(r sweep.RunResult) string { return reports.SettingValue(r.Settings, n) }})
	}
	cols = append(cols,
		col{colSeed, "seed", true, func(r sweep.RunResult) string { return strconv.FormatInt(r.Settings.Seed, 10) }},
		col{colEpochs, "epochs", true, func(r sweep.RunResult) string {
			return fmt.Sprintf("%d/%d", r.EpochsDone, r.Settings.Epochs)
		}})
	for _, m := range metricColumns {
		cols = append(cols, col{string(m), m.AxisLabel(), true, func(r sweep.RunResult) string {
			v := finalMetric(r, m)
			if m.Percent() {
				return fmtPct(v)
			}
			return fmtNum(v)
		}})
	}
	cols = append(cols,
		col{colSeconds, "train time", true, func(r sweep.RunResult) string { return fmtDuration(r.TrainSeconds) }},
		col{colStarted, "started", false, func(r sweep.RunResult) string { return fmtTime(r.Started) }})

	for _, c := range cols {
		q := rq
		q.Offset = 0
		q.Sort = c.key
		sorted := ""
		q.Desc = c.num && (c.key != colSeed && c.key != colEpochs) // metrics: best-looking first
		if rq.Sort == c.key {
			sorted = "asc"
			if rq.Desc {
				sorted = "desc"
			}
			q.Desc = !rq.Desc
		}
		v.Columns = append(v.Columns, column{Key: c.key, Label: c.label, Num: c.num, Sorted: sorted, SortURL: base + "?" + q.values().Encode()})
	}
	for _, r := range page {
		row := runRow{ID: r.RunID, Status: string(r.Status), StatusText: reports.StatusText(r), Error: r.Error}
		for _, c := range cols[2:] {
			row.Cells = append(row.Cells, cell{c.cell(r), c.num})
		}
		v.Rows = append(v.Rows, row)
	}
	v.From, v.To = rq.Offset+1, rq.Offset+len(page)
	if rq.Offset > 0 {
		q := rq
		q.Offset = max(0, rq.Offset-rq.Limit)
		v.PrevURL = base + "?" + q.values().Encode()
	}
	if v.To < total {
		q := rq
		q.Offset = v.To
		v.NextURL = base + "?" + q.values().Encode()
	}
	return s.render(w, "runs", v)
}

func allNumeric(vals []string) bool {
	for _, v := range vals {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	}
	return true
}

// ---- run page ----

type kv struct{ Key, Value string }

type epochRow struct {
	Epoch        int
	Train, Test  sweep.SplitMetrics
	TrainSeconds float64
	TestSeconds  float64
	HasTest      bool
}

type runView struct {
	layoutView
	Run        sweep.RunResult
	StatusText string // reports.StatusText
	Settings   []kv
	Epochs     []epochRow
	Figures    []figure
}

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.src.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	epochs, err := s.src.Epochs(r.Context(), store.RunFilter{IDs: []string{run.RunID}})
	if err != nil {
		return err
	}
	v := runView{layoutView: s.layout(r, "Run "+run.RunID), Run: run, StatusText: reports.StatusText(run)}
	for _, n := range reports.SettingNames() {
		v.Settings = append(v.Settings, kv{n, reports.SettingValue(run.Settings, n)})
	}
	v.Settings = append(v.Settings, kv{"seed", strconv.FormatInt(run.Settings.Seed, 10)})

	byEpoch := map[int]*epochRow{}
	var order []int
	for _, e := range epochs {
		row := byEpoch[e.Epoch]
		if row == nil {
			row = &epochRow{Epoch: e.Epoch}
			byEpoch[e.Epoch] = row
			order = append(order, e.Epoch)
		}
		if e.Split == "test" {
			row.Test, row.TestSeconds, row.HasTest = e.Metrics, e.Seconds, true
		} else {
			row.Train, row.TrainSeconds = e.Metrics, e.Seconds
		}
	}
	for _, ep := range order {
		v.Epochs = append(v.Epochs, *byEpoch[ep])
	}
	for _, cm := range curveMetrics {
		var pair reports.SplitCurves
		pair.Label = "run " + run.RunID
		for _, e := range epochs {
			c := &pair.Train
			if e.Split == "test" {
				c = &pair.Test
			}
			c.Epochs = append(c.Epochs, float64(e.Epoch))
			c.Mean = append(c.Mean, cm.M.Display(cm.M.Of(e.Metrics)))
		}
		p, err := reports.TrainTestLoss(cm.Name+" by epoch", cm.Label, []reports.SplitCurves{pair})
		floorR2(p, cm.M)
		v.Figures = append(v.Figures, svgFigure(cm.Name, p, err))
	}
	return s.render(w, "run", v)
}

// ---- compare page ----

type compareRow struct {
	ID, Sweep, Status, Label string
	StatusText               string // reports.StatusText
	Cells                    []cell
}

type compareView struct {
	layoutView
	Mode      string // "runs" or "configs"
	Metric    reports.Metric
	Metrics   []option
	Headers   []string
	Rows      []compareRow
	Figures   []figure
	Note      string
	SweepName string
}

func (s *Server) pageCompare(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	m, err := reports.ParseMetric(q.Get("metric"))
	if err != nil {
		return badRequest("%v", err)
	}
	v := compareView{layoutView: s.layout(r, "Compare"), Metric: m}
	for _, mm := range reports.Metrics {
		v.Metrics = append(v.Metrics, option{string(mm), mm == m})
	}
	if name := q.Get("sweep"); name != "" {
		if err := s.compareConfigs(r, name, m, &v); err != nil {
			return err
		}
	} else {
		if err := s.compareRuns(r, q["run"], &v); err != nil {
			return err
		}
	}
	return s.render(w, "compare", v)
}

func (s *Server) compareRuns(r *http.Request, ids []string, v *compareView) error {
	v.Mode = "runs"
	if len(ids) == 0 {
		return badRequest("compare: tick runs in a runs table, or give ?run=ID&run=ID or ?sweep=NAME")
	}
	if len(ids) > MaxCompare {
		return badRequest("compare: %d runs asked for, at most %d", len(ids), MaxCompare)
	}
	runs, err := s.src.Runs(r.Context(), store.RunFilter{IDs: ids})
	if err != nil {
		return err
	}
	if len(runs) < len(ids) {
		v.Note = fmt.Sprintf("%d of the %d runs asked for are not in the database.", len(ids)-len(runs), len(ids))
	}
	if len(runs) == 0 {
		return fmt.Errorf("compare: %w: none of the runs %s", store.ErrNotFound, strings.Join(ids, ", "))
	}
	epochs, err := s.src.Epochs(r.Context(), store.RunFilter{IDs: ids})
	if err != nil {
		return err
	}
	idx := reports.IndexEpochs(epochs)
	varying := reports.VaryingSettings(reports.RunSettings(runs))
	multiSweep := false
	for _, rr := range runs {
		multiSweep = multiSweep || rr.Sweep != runs[0].Sweep
	}
	v.Headers = append([]string{"run", "sweep", "status"}, varying...)
	v.Headers = append(v.Headers, "seed", "epochs")
	for _, m := range metricColumns {
		v.Headers = append(v.Headers, m.AxisLabel())
	}
	numeric := map[string]bool{}
	for _, n := range varying {
		numeric[n] = allNumeric(reports.SettingValues(reports.RunSettings(runs), n))
	}
	labels := map[string]string{}
	for _, rr := range runs {
		label := rr.RunID
		if multiSweep {
			label = rr.Sweep + " " + label
		}
		if l := reports.Label(rr.Settings, varying); len(varying) > 0 {
			label += " " + l
		}
		labels[rr.RunID] = label
		row := compareRow{ID: rr.RunID, Sweep: rr.Sweep, Status: string(rr.Status), StatusText: reports.StatusText(rr), Label: label}
		for _, n := range varying {
			row.Cells = append(row.Cells, cell{reports.SettingValue(rr.Settings, n), numeric[n]})
		}
		row.Cells = append(row.Cells, cell{strconv.FormatInt(rr.Settings.Seed, 10), true}, cell{fmt.Sprintf("%d/%d", rr.EpochsDone, rr.Settings.Epochs), true})
		for _, m := range metricColumns {
			val := finalMetric(rr, m)
			if m.Percent() {
				row.Cells = append(row.Cells, cell{fmtPct(val), true})
			} else {
				row.Cells = append(row.Cells, cell{fmtNum(val), true})
			}
		}
		v.Rows = append(v.Rows, row)
	}
	for _, cm := range curveMetrics {
		var curves []reports.Curve
		for _, rr := range runs {
			c := reports.Curve{Label: labels[rr.RunID], Stopped: rr.Status == sweep.StatusPruned}
			for _, e := range idx[rr.RunID] {
				if e.Split == "test" {
					c.Epochs = append(c.Epochs, float64(e.Epoch))
					c.Mean = append(c.Mean, cm.M.Display(cm.M.Of(e.Metrics)))
				}
			}
			curves = append(curves, c)
		}
		p, err := reports.LearningCurves("Test "+strings.ToLower(cm.Name[:1])+cm.Name[1:]+" by epoch", "test "+cm.Label, curves, nil)
		floorR2(p, cm.M)
		v.Figures = append(v.Figures, svgFigure(cm.Name, p, err))
	}
	return nil
}

func (s *Server) compareConfigs(r *http.Request, name string, m reports.Metric, v *compareView) error {
	v.Mode, v.SweepName = "configs", name
	v.Title = "Configurations of " + name
	if _, err := s.sweep(r.Context(), name); err != nil {
		return err
	}
	runs, err := s.src.Runs(r.Context(), store.RunFilter{Sweep: name})
	if err != nil {
		return err
	}
	epochs, err := s.src.Epochs(r.Context(), store.RunFilter{Sweep: name})
	if err != nil {
		return err
	}
	idx := reports.IndexEpochs(epochs)
	varying := reports.VaryingSettings(reports.RunSettings(runs))
	configs := reports.GroupConfigs(runs, varying)
	ranked := reports.Rank(reports.WithRuns(configs), m)
	// Pruned configurations are never ranked (reports.Config): they follow
	// the ranked ones in the table and fill the figures' free places.
	var pruned []reports.Config
	for _, c := range configs {
		if c.Pruned() {
			pruned = append(pruned, c)
		}
	}
	shown := ranked
	if len(shown) > reports.MaxCurves {
		shown = shown[:reports.MaxCurves]
		v.Note = fmt.Sprintf("The figures show the %d best of %d configurations by %s; the table lists all.", reports.MaxCurves, len(ranked), m.Name())
	}
	shown = append(slices.Clone(shown), pruned[:min(len(pruned), reports.MaxCurves-len(shown))]...)
	if len(ranked) == 0 && len(pruned) == 0 {
		v.Note = "No configuration has a finished run yet: configurations are compared over their done runs, as in the report."
	}
	v.Headers = []string{"configuration", "done runs"}
	for _, mm := range metricColumns {
		v.Headers = append(v.Headers, mm.AxisLabel()+" (mean ± std)")
	}
	for _, c := range ranked {
		row := compareRow{Label: c.Label, Cells: []cell{{fmt.Sprintf("%d of %d", len(c.Runs), c.Planned), true}}}
		for _, mm := range metricColumns {
			row.Cells = append(row.Cells, cell{mm.FormatStats(c.Final(mm)), true})
		}
		v.Rows = append(v.Rows, row)
	}
	for _, c := range pruned {
		// Metrics after the epoch it stopped at, in parentheses: not final.
		row := compareRow{Label: c.Label, Cells: []cell{{fmt.Sprintf("pruned at epoch %d (%d of %d)", c.PrunedAt, len(c.Stopped), c.Planned), true}}}
		for _, mm := range metricColumns {
			row.Cells = append(row.Cells, cell{"(" + mm.FormatStats(reports.Config{Runs: c.Stopped}.Final(mm)) + ")", true})
		}
		v.Rows = append(v.Rows, row)
	}
	for _, cm := range curveMetrics {
		var curves []reports.Curve
		for _, c := range shown {
			es := reports.ConfigCurve(c, idx, "test", func(sm sweep.SplitMetrics) float64 { return cm.M.Display(cm.M.Of(sm)) })
			cv := reports.Curve{Label: fmt.Sprintf("%s (n=%d)", c.Label, len(c.Runs)+len(c.Stopped)), Stopped: c.Pruned()}
			for _, e := range es {
				cv.Epochs = append(cv.Epochs, float64(e.Epoch))
				cv.Mean = append(cv.Mean, e.Mean)
				cv.Lo = append(cv.Lo, e.Min)
				cv.Hi = append(cv.Hi, e.Max)
			}
			curves = append(curves, cv)
		}
		p, err := reports.LearningCurves("Test "+strings.ToLower(cm.Name[:1])+cm.Name[1:]+" by epoch", "test "+cm.Label, curves, nil)
		floorR2(p, cm.M)
		v.Figures = append(v.Figures, svgFigure(cm.Name, p, err))
	}
	return nil
}

// ---- overview page: parallel coordinates and findings ----

type overviewView struct {
	layoutView
	Info      sweep.SweepInfo
	Metric    reports.Metric
	Metrics   []option
	Figure    figure
	Findings  []reports.Finding
	Varying   []string
	Failed    int // failed runs, listed at FailedURL
	FailedURL string
}

func (s *Server) pageOverview(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	m, err := reports.ParseMetric(r.URL.Query().Get("metric"))
	if err != nil {
		return badRequest("%v", err)
	}
	ctx := r.Context()
	info, err := s.sweep(ctx, name)
	if err != nil {
		return err
	}
	sd := reports.SweepData{Info: info}
	if sd.Runs, err = s.src.Runs(ctx, store.RunFilter{Sweep: name}); err != nil {
		return err
	}
	if sd.Epochs, err = s.src.Epochs(ctx, store.RunFilter{Sweep: name}); err != nil {
		return err
	}
	if sd.Reference, err = s.src.SweepReference(ctx, name); err != nil {
		return err
	}
	v := overviewView{layoutView: s.layout(r, "Overview of "+name), Info: info, Metric: m}
	for _, mm := range reports.Metrics {
		v.Metrics = append(v.Metrics, option{string(mm), mm == m})
	}
	settings := reports.RunSettings(sd.Runs)
	v.Varying = reports.VaryingSettings(settings)
	var axes []reports.ParallelAxis
	for _, n := range v.Varying {
		axes = append(axes, reports.ParallelAxis{Name: n, Values: reports.SettingValues(settings, n)})
	}
	var lines []reports.ParallelLine
	for _, run := range sd.Runs {
		if !reports.Finished(run) {
			continue
		}
		l := reports.ParallelLine{Metric: m.Display(m.Of(run.Final))}
		for _, n := range v.Varying {
			l.Values = append(l.Values, reports.SettingValue(run.Settings, n))
		}
		lines = append(lines, l)
	}
	p, err := reports.ParallelCoordinates("Settings against final "+m.Name(), m.AxisLabel(), axes, lines, m.LowerIsBetter())
	v.Figure = svgFigure("Parallel coordinates", p, err)
	if errors.Is(err, reports.ErrNoData) {
		v.Figure.Note = "No finished run yet: the figure draws done runs only."
	}
	v.Findings = reports.Findings(sd, m)
	v.Failed = info.Counts[sweep.StatusFailed]
	v.FailedURL = "/sweeps/" + url.PathEscape(name) + "?status=failed"
	return s.render(w, "overview", v)
}
