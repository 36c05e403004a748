package reports

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"sweep"
)

// The page's view model: plain strings for html/template, which escapes
// every one of them. Only figure bodies are template.HTML, and those are
// generated here (vgsvg escapes the text it draws).

type pageView struct {
	Metric      string
	MetricID    string
	MetricLower bool
	Generated   string
	Version     string
	DBPath      string
	Findings    []Finding
	Headlines   []headlineView
	Sweeps      []sweepView
}

type headlineView struct {
	Anchor string
	Name   string
	Lines  []string
}

type countView struct {
	Label string
	N     int
	Class string
}

type sweepView struct {
	Anchor      string
	Name        string
	Description string
	File        string
	Hash        string
	Source      string
	Updated     string
	When        string
	Counts      []countView
	Total       int
	Done        int
	TrainTime   string
	Facts       []factView // search, pruning and reuse, when the sweep has them
	Findings    []Finding
	Table       tableView
	Groups      []groupView
	Failed      []failedView
}

// factView is one more line of a sweep's facts.
type factView struct {
	Label, Text string
}

type groupView struct {
	Anchor  string
	Title   string
	Intro   string
	Note    string
	Figures []figureView
}

type figureView struct {
	figure
	Anchor string
	Body   template.HTML
}

type tableView struct {
	Headers []headerView
	Rows    []rowView
	Note    string
}

type headerView struct {
	Label   string
	Title   string
	Numeric bool
	Ranked  bool
}

type rowView struct {
	Best  bool
	Cells []cellView
}

type cellView struct {
	Text string
	Sort string
}

type failedView struct {
	RunID  string
	Status string
	Label  string
	Epochs int
	Host   string
	Error  string
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func buildPage(sweeps []SweepData, m Metric, opt Options) pageView {
	pv := pageView{
		Metric:      m.Name(),
		MetricID:    string(m),
		MetricLower: m.LowerIsBetter(),
		Generated:   formatTime(opt.Generated),
		Version:     opt.Version,
		DBPath:      opt.DBPath,
	}
	var as []*analysis
	for i, sd := range sweeps {
		a := analyze(sd, m)
		as = append(as, a)
		fs := a.findings()
		anchor := fmt.Sprintf("sweep-%d", i+1)
		pv.Headlines = append(pv.Headlines, headlineView{Anchor: anchor, Name: sd.Info.Name, Lines: a.headline(fs)})
		pv.Sweeps = append(pv.Sweeps, a.view(anchor, fs))
	}
	pv.Findings = overallFindings(as, m)
	return pv
}

func (a *analysis) view(anchor string, fs []Finding) sweepView {
	info := a.data.Info
	sv := sweepView{
		Anchor:      anchor,
		Name:        info.Name,
		Description: info.Description,
		File:        info.File,
		Hash:        info.Hash,
		Source:      info.Source,
		Updated:     formatTime(info.UpdatedAt),
		Total:       a.total,
		Done:        a.done,
		TrainTime:   formatDuration(info.Seconds),
		Findings:    fs,
	}
	if len(sv.Hash) > 12 {
		sv.Hash = sv.Hash[:12]
	}
	switch {
	case !info.FirstStart.IsZero() && !info.LastFinish.IsZero():
		sv.When = fmt.Sprintf("%s – %s (%s wall time)", formatTime(info.FirstStart), formatTime(info.LastFinish),
			formatDuration(info.LastFinish.Sub(info.FirstStart).Seconds()))
	case !info.FirstStart.IsZero():
		sv.When = "started " + formatTime(info.FirstStart) + ", not finished"
	default:
		sv.When = "not started"
	}
	for _, st := range sweep.Statuses() {
		sv.Counts = append(sv.Counts, countView{Label: string(st), N: a.counts[st], Class: "st-" + string(st)})
	}
	sv.Facts = a.facts()
	sv.Table = a.table()
	for _, g := range a.figures() {
		gv := groupView{Anchor: anchor + "-" + g.ID, Title: g.Title, Intro: g.Intro, Note: g.Note}
		for _, f := range g.Figures {
			gv.Figures = append(gv.Figures, figureView{figure: f, Anchor: anchor + "-" + f.Name})
		}
		sv.Groups = append(sv.Groups, gv)
	}
	for _, r := range a.data.Runs {
		if r.Status.Retried() {
			sv.Failed = append(sv.Failed, failedView{
				RunID:  r.RunID,
				Status: string(r.Status),
				Label:  runLabel(r.Settings, a.varying),
				Epochs: r.EpochsDone,
				Host:   r.Host,
				Error:  r.Error,
			})
		}
	}
	return sv
}

// facts are the lines about a sweep's adaptive search, its pruning rule
// and its reused runs.
func (a *analysis) facts() []factView {
	info, runs := a.data.Info, a.data.Runs
	var out []factView
	saved, full := PruningSavings(runs)
	savedText := PruningText(saved, full) + " against training every run to the end"
	if s := info.Search; s != nil {
		ts := Trials(runs, s.Objective)
		pruned := 0
		for _, t := range ts {
			if t.Pruned {
				pruned++
			}
		}
		// What pruning saved is said once, on the pruning line below.
		text := fmt.Sprintf("%s on %s: %d of %s made, %d pruned", s.Method, s.Objective, len(ts), plural(s.Trials, "trial", "trials"), pruned)
		out = append(out, factView{"search", text})
	}
	if p := info.Prune; p != nil {
		rule := fmt.Sprintf("%s on %s from epoch %d", p.Method, p.Metric, p.MinEpochs)
		if p.Method == "asha" {
			rule += fmt.Sprintf(", reduction factor %d", p.ReductionFactor)
		}
		out = append(out, factView{"pruning", rule + ": " + savedText})
	}
	if n := Reused(runs); n > 0 {
		out = append(out, factView{"reused", fmt.Sprintf("%s reused the epochs of an identical done run of another sweep instead of training; they count as done", plural(n, "run", "runs"))})
	}
	return out
}

func cellStats(m Metric, s Stats) cellView {
	if s.N == 0 {
		return cellView{Text: "—", Sort: ""}
	}
	v := m.Display(s.Mean)
	text := formatNumFixed(m, v)
	if s.N > 1 {
		dec := 1
		if !m.Percent() {
			dec = numDecimals(v)
		}
		text += " ± " + formatSpread(m.Display(s.Std), dec)
	}
	return cellView{Text: text, Sort: strconv.FormatFloat(v, 'g', -1, 64)}
}

// formatNumFixed prints table numbers: one decimal for percentages.
func formatNumFixed(m Metric, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if m.Percent() {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return formatNum(v)
}

func (a *analysis) table() tableView {
	var t tableView
	for _, name := range a.varying {
		t.Headers = append(t.Headers, headerView{Label: name, Title: "setting"})
	}
	cols := []Metric{MetricAccuracy, MetricR2, MetricSumAccuracy}
	if a.metric == MetricNLL || a.metric == MetricMSE {
		cols = append(cols, a.metric)
	}
	for _, c := range cols {
		t.Headers = append(t.Headers, headerView{Label: "test " + c.Name() + unitSuffix(c), Title: "final test " + c.Name() + ": mean ± std over seeds", Numeric: true, Ranked: c == a.metric})
	}
	t.Headers = append(t.Headers, headerView{Label: "n", Title: "finished runs (seeds) of the configuration", Numeric: true})
	if len(a.pruned) > 0 {
		t.Headers = append(t.Headers, headerView{Label: "status", Title: "done: trained to the end; pruned: stopped early by the sweep's pruning rule"})
	}
	if len(a.varying) == 0 {
		t.Headers = append([]headerView{{Label: "configuration", Title: "no setting varies"}}, t.Headers...)
	}

	// Ranked configurations, then pruned ones, then those with nothing
	// finished yet.
	rows := append([]Config(nil), a.ranked...)
	rows = append(rows, a.pruned...)
	for _, c := range a.configs {
		if len(c.Runs) == 0 && !c.Pruned() {
			rows = append(rows, c)
		}
	}
	for i, c := range rows {
		var r rowView
		r.Best = i == 0 && len(c.Runs) > 0
		if len(a.varying) == 0 {
			r.Cells = append(r.Cells, cellView{Text: c.Label})
		}
		for _, name := range a.varying {
			v := SettingValue(c.Settings, name)
			r.Cells = append(r.Cells, cellView{Text: v, Sort: v})
		}
		for _, m := range cols {
			if c.Pruned() {
				// Metrics after the epoch it stopped at, in parentheses
				// and with no sort value: never sorted among final ones.
				cv := cellStats(m, Config{Runs: c.Stopped}.Final(m))
				if cv.Sort != "" {
					cv.Text = "(" + cv.Text + ")"
				}
				r.Cells = append(r.Cells, cellView{Text: cv.Text})
				continue
			}
			r.Cells = append(r.Cells, cellStats(m, c.Final(m)))
		}
		runs := len(c.curveRuns())
		n := strconv.Itoa(runs)
		if c.Planned > runs {
			n += " of " + strconv.Itoa(c.Planned)
		}
		r.Cells = append(r.Cells, cellView{Text: n, Sort: strconv.Itoa(runs)})
		if len(a.pruned) > 0 {
			st := ""
			switch {
			case c.Pruned():
				st = fmt.Sprintf("pruned at epoch %d", c.PrunedAt)
			case len(c.Runs) > 0:
				st = "done"
			}
			r.Cells = append(r.Cells, cellView{Text: st, Sort: st})
		}
		t.Rows = append(t.Rows, r)
	}
	switch {
	case len(a.ranked) == 0 && len(a.pruned) == 0:
		t.Note = "No finished runs yet."
	case len(a.pruned) > 0:
		t.Note = "Pruned configurations: the metrics in parentheses are after the epoch they were stopped at, not final; they are not ranked and sort last."
	}
	return t
}

// runLabel names one run: the varying settings and the seed.
func runLabel(s sweep.Settings, varying []string) string {
	seed := "seed=" + strconv.FormatInt(s.Seed, 10)
	if len(varying) == 0 {
		return seed
	}
	return Label(s, varying) + " " + seed
}
