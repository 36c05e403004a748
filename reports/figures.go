package reports

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file holds the figure functions. Each takes plain data (no runs, no
// database) in display units and returns a *plot.Plot. Their legends are
// meant to be drawn outside the plot area, as SVG and PNG do; a plain
// p.Save draws them inside like any gonum plot.

// ErrNoData is returned by figure functions given nothing to draw.
var ErrNoData = errors.New("reports: no data to plot")

// Curve is one line of a learning curve: a configuration's mean over its
// repeats after each epoch, with an optional band from Lo to Hi (the
// min–max over repeats). All slices have the length of Epochs; Lo and Hi
// may be nil.
type Curve struct {
	Label        string
	Epochs       []float64
	Mean, Lo, Hi []float64
	Color        color.Color // nil: the palette colour of the curve's index
	// Stopped marks a curve that was pruned: stopped early on purpose. It
	// ends at its last epoch with a × (prunedGlyph), and the legend gains
	// one "× pruned" entry.
	Stopped bool
}

// RefPoint is a published figure at one epoch, drawn as a star and a dashed
// line across the plot.
type RefPoint struct {
	Label string
	Epoch float64
	Value float64
}

// SplitCurves pairs a configuration's train and test curves of one metric.
type SplitCurves struct {
	Label       string
	Train, Test Curve
	Color       color.Color // nil: the palette colour of the pair's index
}

// EffectGroup is one value of a setting and the final metric of every run
// having that value. Kinds, when set, is parallel to Values and splits the
// runs into coloured groups (e.g. "head=classify").
type EffectGroup struct {
	Value  string
	Values []float64
	Kinds  []string
}

// HeatGrid is a mean final metric over two settings. Values[j][i] is the
// cell of XValues[i] and YValues[j] (NaN: no runs); N counts its runs.
type HeatGrid struct {
	XName, YName     string
	XValues, YValues []string
	Values           [][]float64
	N                [][]int
}

// Point is one x–y pair.
type Point struct{ X, Y float64 }

// ScatterGroup is a set of points sharing a colour and a legend entry.
type ScatterGroup struct {
	Label  string
	Points []Point
}

// LabeledPoint is a single marked point with a legend entry.
type LabeledPoint struct {
	Label string
	X, Y  float64
}

const legendWrap = 28

// curveXYs returns the finite points of a curve.
func curveXYs(c Curve) (line plotter.XYs, band plotter.XYs) {
	var lo, hi plotter.XYs
	for i := range c.Epochs {
		if i >= len(c.Mean) || !finite(c.Epochs[i]) || !finite(c.Mean[i]) {
			continue
		}
		line = append(line, plotter.XY{X: c.Epochs[i], Y: c.Mean[i]})
		if i < len(c.Lo) && i < len(c.Hi) && finite(c.Lo[i]) && finite(c.Hi[i]) {
			lo = append(lo, plotter.XY{X: c.Epochs[i], Y: c.Lo[i]})
			hi = append(hi, plotter.XY{X: c.Epochs[i], Y: c.Hi[i]})
		}
	}
	if len(lo) < 2 {
		return line, nil
	}
	flat := true
	for i := range lo {
		if lo[i].Y != hi[i].Y {
			flat = false
		}
	}
	if flat {
		return line, nil
	}
	band = append(band, lo...)
	for i := len(hi) - 1; i >= 0; i-- {
		band = append(band, hi[i])
	}
	return line, band
}

// addCurve adds a curve's band, line and point markers and returns the
// legend thumbnails.
func addCurve(p *plot.Plot, c Curve, col color.Color, dash []vg.Length, width vg.Length, bandAlpha uint8) ([]plot.Thumbnailer, error) {
	line, band := curveXYs(c)
	if len(line) == 0 {
		return nil, nil
	}
	var thumbs []plot.Thumbnailer
	if band != nil {
		poly, err := plotter.NewPolygon(band)
		if err != nil {
			return nil, err
		}
		poly.Color = withAlpha(col, bandAlpha)
		poly.LineStyle.Width = 0
		p.Add(poly)
		thumbs = append(thumbs, poly)
	}
	l, err := plotter.NewLine(line)
	if err != nil {
		return nil, err
	}
	l.Color = col
	l.Width = width
	l.Dashes = dash
	p.Add(l)
	thumbs = append(thumbs, l)
	if len(line) <= 30 {
		s, err := plotter.NewScatter(line)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	return thumbs, nil
}

// addReference draws a published figure as a dashed line and a star.
func addReference(p *plot.Plot, ref *RefPoint, xmin, xmax float64) error {
	if ref == nil || !finite(ref.Value) {
		return nil
	}
	xmin, xmax = math.Min(xmin, ref.Epoch), math.Max(xmax, ref.Epoch)
	l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: ref.Value}, {X: xmax, Y: ref.Value}})
	if err != nil {
		return err
	}
	l.Color = referenceGray
	l.Width = vg.Points(1)
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	s, err := plotter.NewScatter(plotter.XYs{{X: ref.Epoch, Y: ref.Value}})
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(5), Shape: starGlyph{}}
	p.Add(l, s)
	p.Legend.Add(ref.Label, l, s)
	return nil
}

// LearningCurves draws one line per configuration (mean over repeats, a
// shaded min–max band when there are repeats) against the epoch, with an
// optional reference point. A Stopped curve ends with a × and the legend
// then says "× pruned". Curves are coloured by their index in the
// palette unless they carry a colour.
func LearningCurves(title, yLabel string, curves []Curve, ref *RefPoint) (*plot.Plot, error) {
	p := newPlot(title, "epoch", yLabel)
	addGrid(p)
	p.X.Tick.Marker = intTicks{}
	p.Y.Tick.Marker = niceTicks{6}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	drawn := 0
	var stopped *plotter.Scatter
	for i, c := range curves {
		col, dash := paletteStyle(i)
		if c.Color != nil {
			col = c.Color
		}
		thumbs, err := addCurve(p, c, col, dash, vg.Points(1.6), bandAlpha(len(curves)))
		if err != nil {
			return nil, fmt.Errorf("curve %q: %w", c.Label, err)
		}
		if thumbs == nil {
			continue
		}
		drawn++
		p.Legend.Add(wrapLabel(c.Label, legendWrap), thumbs...)
		for _, e := range c.Epochs {
			xmin, xmax = math.Min(xmin, e), math.Max(xmax, e)
		}
		if c.Stopped {
			line, _ := curveXYs(c)
			end, err := prunedMarker(line[len(line)-1:], col)
			if err != nil {
				return nil, fmt.Errorf("curve %q: %w", c.Label, err)
			}
			p.Add(end)
			stopped = end
		}
	}
	if drawn == 0 {
		return nil, ErrNoData
	}
	if stopped != nil {
		p.Legend.Add("× pruned", prunedThumb())
	}
	if err := addReference(p, ref, xmin, xmax); err != nil {
		return nil, err
	}
	return p, nil
}

// prunedGlyph marks where a pruned run or configuration stopped: a ×,
// larger than the curves' point markers.
func prunedGlyph(col color.Color) draw.GlyphStyle {
	return draw.GlyphStyle{Color: col, Radius: vg.Points(4.5), Shape: crossGlyph{}}
}

// prunedMarker draws the × of prunedGlyph at each point.
func prunedMarker(xys plotter.XYs, col color.Color) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle = prunedGlyph(col)
	return s, nil
}

// prunedThumb is the legend's "× pruned" entry, in black.
func prunedThumb() plot.Thumbnailer {
	return &plotter.Scatter{GlyphStyle: prunedGlyph(color.Black)}
}

// TrainTestLoss draws train (dashed) and test (solid) curves of one loss
// for a few configurations, one colour per configuration.
func TrainTestLoss(title, yLabel string, pairs []SplitCurves) (*plot.Plot, error) {
	p := newPlot(title, "epoch", yLabel)
	addGrid(p)
	p.X.Tick.Marker = intTicks{}
	p.Y.Tick.Marker = niceTicks{6}
	trainDash := []vg.Length{vg.Points(5), vg.Points(3)}
	drawn := 0
	for i, pc := range pairs {
		col, _ := paletteStyle(i)
		if pc.Color != nil {
			col = pc.Color
		}
		var legend []plot.Thumbnailer
		for _, split := range []struct {
			name string
			c    Curve
			dash []vg.Length
		}{
			{"test", pc.Test, nil},
			{"train", pc.Train, trainDash},
		} {
			thumbs, err := addCurve(p, split.c, col, split.dash, vg.Points(1.6), bandAlpha(2*len(pairs)))
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", split.name, pc.Label, err)
			}
			if thumbs != nil && legend == nil {
				legend = thumbs
			}
			if thumbs != nil {
				drawn++
			}
		}
		if legend != nil {
			p.Legend.Add(wrapLabel(pc.Label, legendWrap+6), legend...)
		}
	}
	if drawn == 0 {
		return nil, ErrNoData
	}
	// One entry per line style, in black, so each configuration is named once.
	for _, s := range []struct {
		name string
		dash []vg.Length
	}{{"test split", nil}, {"train split", trainDash}} {
		l := &plotter.Line{LineStyle: draw.LineStyle{Color: color.Black, Width: vg.Points(1.6), Dashes: s.dash}}
		p.Legend.Add(s.name, l)
	}
	return p, nil
}

// jitter spreads the i-th point of a group over ±width/2 with a
// low-discrepancy sequence, so repeated values stay visible.
func jitter(i int, width float64) float64 {
	const golden = 0.6180339887498949
	f := math.Mod(float64(i)*golden+0.5, 1)
	return (f - 0.5) * width
}

// EffectPlot draws the final metric of every run for each value of one
// setting (points with a little jitter, categorical x axis) and marks each
// value's mean with a bar; the tick labels give the mean and n. When the
// groups carry Kinds, the runs of each kind are drawn side by side within
// a value, in their own colour and with their own mean bar.
func EffectPlot(title, setting, yLabel string, groups []EffectGroup) (*plot.Plot, error) {
	p := newPlot(title, setting, yLabel)
	p.Y.Tick.Marker = niceTicks{6}
	addGrid(p)

	var kinds []string
	for _, g := range groups {
		for i := range g.Values {
			if i < len(g.Kinds) && g.Kinds[i] != "" && !slices.Contains(kinds, g.Kinds[i]) {
				kinds = append(kinds, g.Kinds[i])
			}
		}
	}
	slices.Sort(kinds)
	split := len(kinds) > 1
	if !split {
		kinds = []string{""}
	}
	kindOf := func(g EffectGroup, i int) string {
		if !split || i >= len(g.Kinds) {
			return kinds[0]
		}
		return g.Kinds[i]
	}

	const span = 0.72 // width of one value's column, in x units
	slot := span / float64(len(kinds))
	pts := make([]plotter.XYs, len(kinds))
	means := make([]plotter.XYs, len(kinds))
	var ticks []plot.Tick
	total := 0
	for gi, g := range groups {
		n := 0
		var all []float64
		for j, kind := range kinds {
			var vals []float64
			for i, v := range g.Values {
				if finite(v) && kindOf(g, i) == kind {
					vals = append(vals, v)
				}
			}
			x := float64(gi) - span/2 + (float64(j)+0.5)*slot
			for k, v := range vals {
				pts[j] = append(pts[j], plotter.XY{X: x + jitter(k, slot*0.55), Y: v})
			}
			if s := Summarize(vals); s.N > 0 {
				means[j] = append(means[j], plotter.XY{X: x, Y: s.Mean})
			}
			n += len(vals)
			all = append(all, vals...)
		}
		total += n
		label := g.Value + "\nno runs"
		switch s := Summarize(all); {
		case s.N > 0 && split:
			label = fmt.Sprintf("%s\nn=%d", g.Value, s.N)
		case s.N > 0:
			label = fmt.Sprintf("%s\nmean %s\nn=%d", g.Value, formatNum(s.Mean), s.N)
		}
		ticks = append(ticks, plot.Tick{Value: float64(gi), Label: label})
	}
	if total == 0 {
		return nil, ErrNoData
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.X.Tick.Length = 0

	for j, kind := range kinds {
		if len(pts[j]) == 0 {
			continue
		}
		col := Palette[j%len(Palette)]
		sc, err := plotter.NewScatter(pts[j])
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: withAlpha(col, 140), Radius: vg.Points(2.6), Shape: scatterShapes[j%len(scatterShapes)]}
		barCol := color.Color(color.Black)
		if split {
			barCol = darker(col)
		}
		bars := &meanBars{XYs: means[j], HalfWidth: slot * 0.42, LineStyle: draw.LineStyle{Color: barCol, Width: vg.Points(2.2)}}
		p.Add(sc, bars)
		if split {
			p.Legend.Add(wrapLabel(kind, legendWrap), sc, bars)
		} else {
			p.Legend.Add("run", sc)
			p.Legend.Add("mean", bars)
		}
	}
	if split {
		p.Legend.Add("bar: mean")
	}
	return p, nil
}

// meanBars draws a short horizontal bar at each point.
type meanBars struct {
	plotter.XYs
	HalfWidth float64 // in data units of x
	draw.LineStyle
}

func (m *meanBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, pt := range m.XYs {
		y := trY(pt.Y)
		c.StrokeLines(m.LineStyle, c.ClipLinesXY([]vg.Point{{X: trX(pt.X - m.HalfWidth), Y: y}, {X: trX(pt.X + m.HalfWidth), Y: y}})...)
	}
}

func (m *meanBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = plotter.XYRange(m.XYs)
	return xmin - m.HalfWidth, xmax + m.HalfWidth, ymin, ymax
}

func (m *meanBars) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(m.LineStyle, c.Min.X, y, c.Max.X, y)
}

// gridXYZ adapts a HeatGrid to plotter.GridXYZ with categorical coordinates.
type gridXYZ struct{ g HeatGrid }

func (g gridXYZ) Dims() (c, r int)   { return len(g.g.XValues), len(g.g.YValues) }
func (g gridXYZ) Z(c, r int) float64 { return g.g.Values[r][c] }
func (g gridXYZ) X(c int) float64    { return float64(c) }
func (g gridXYZ) Y(r int) float64    { return float64(r) }

// HeatMap draws a grid of mean values over two settings with every cell
// annotated and a legend of colour steps. The palette runs from dark
// (worse) to bright (better): with lowerIsBetter it is reversed.
func HeatMap(title, valueLabel string, g HeatGrid, lowerIsBetter bool) (*plot.Plot, error) {
	if len(g.XValues) == 0 || len(g.YValues) == 0 || len(g.Values) != len(g.YValues) {
		return nil, ErrNoData
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, row := range g.Values {
		if len(row) != len(g.XValues) {
			return nil, fmt.Errorf("reports: heat grid row %d has %d cells, want %d", j, len(row), len(g.XValues))
		}
		for _, v := range row {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return nil, ErrNoData
	}
	p := newPlot(title, g.XName, g.YName)
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	colorOf := func(v float64) color.RGBA {
		t := (v - lo) / (hi - lo)
		if lowerIsBetter {
			t = 1 - t
		}
		return viridisAt(t)
	}
	var pal viridis
	pal.n = 256
	hm := plotter.NewHeatMap(gridXYZ{g}, pal)
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 235}
	if lowerIsBetter {
		hm.Palette = reversed{pal}
	}
	p.Add(hm)

	var xt, yt []plot.Tick
	for i, v := range g.XValues {
		xt = append(xt, plot.Tick{Value: float64(i), Label: v})
	}
	for j, v := range g.YValues {
		yt = append(yt, plot.Tick{Value: float64(j), Label: v})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Length, p.Y.Tick.Length = 0, 0
	p.X.Padding, p.Y.Padding = 0, 0

	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	for j, row := range g.Values {
		for i, v := range row {
			xys = append(xys, plotter.XY{X: float64(i), Y: float64(j)})
			sty := textStyle(annotateSize + 1)
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
			if finite(v) {
				labels = append(labels, formatNum(v))
				if luminance(colorOf(v)) < 0.45 {
					sty.Color = color.White
				}
			} else {
				labels = append(labels, "no runs")
				sty.Color = color.Gray{Y: 110}
			}
			styles = append(styles, sty)
		}
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	lbl.TextStyle = styles
	p.Add(lbl)

	// Legend: five colour steps from best to worst.
	p.Legend.Add(valueLabel)
	steps := 5
	for k := 0; k < steps; k++ {
		t := 1 - float64(k)/float64(steps-1) // best first
		v := lo + t*(hi-lo)
		if lowerIsBetter {
			v = hi - t*(hi-lo)
		}
		p.Legend.Add(formatNum(v), swatch{viridisAt(t)})
	}
	return p, nil
}

// scatterShapes distinguish groups for readers who cannot tell the colours
// apart.
var scatterShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.RingGlyph{}}

// AccuracyR2Scatter draws final digit accuracy (%) against final sum R², one
// colour and marker per group (e.g. head form), with an optional reference
// point such as a published result.
func AccuracyR2Scatter(title string, groups []ScatterGroup, ref *LabeledPoint) (*plot.Plot, error) {
	p := newPlot(title, "test digit accuracy (%)", "test sum R²")
	p.X.Tick.Marker = niceTicks{6}
	p.Y.Tick.Marker = niceTicks{6}
	addGrid(p)
	drawn := 0
	for i, g := range groups {
		var xys plotter.XYs
		for _, pt := range g.Points {
			if finite(pt.X) && finite(pt.Y) {
				xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		col, _ := paletteStyle(i)
		s.GlyphStyle = draw.GlyphStyle{Color: withAlpha(col, 170), Radius: vg.Points(3), Shape: scatterShapes[i%len(scatterShapes)]}
		p.Add(s)
		p.Legend.Add(wrapLabel(fmt.Sprintf("%s (%d runs)", g.Label, len(xys)), legendWrap), s)
		drawn++
	}
	if drawn == 0 {
		return nil, ErrNoData
	}
	if ref != nil && finite(ref.X) && finite(ref.Y) {
		s, err := plotter.NewScatter(plotter.XYs{{X: ref.X, Y: ref.Y}})
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(6), Shape: starGlyph{}}
		p.Add(s)
		p.Legend.Add(wrapLabel(ref.Label, legendWrap), s)
	}
	return p, nil
}

// TrialPoint is one trial of an adaptive search: its number and its
// objective value in display units. A pruned trial's value is from the
// epoch it was stopped at.
type TrialPoint struct {
	Trial  float64
	Value  float64
	Pruned bool
}

// SearchProgress draws an adaptive search's objective against the trial
// number: one point per trial (a × for a pruned one) and the best so far
// as a step line. The best so far runs over the trials that were not
// pruned only, since a pruned trial's value is not a final one;
// higherIsBetter gives its direction. Points with a non-finite value are
// left out.
func SearchProgress(title, yLabel string, trials []TrialPoint, higherIsBetter bool) (*plot.Plot, error) {
	var done, pruned plotter.XYs
	sorted := slices.Clone(trials)
	slices.SortStableFunc(sorted, func(a, b TrialPoint) int { return cmp.Compare(a.Trial, b.Trial) })
	var xs, finals []float64
	for _, t := range sorted {
		if !finite(t.Trial) || !finite(t.Value) {
			continue
		}
		if t.Pruned {
			pruned = append(pruned, plotter.XY{X: t.Trial, Y: t.Value})
			continue
		}
		done = append(done, plotter.XY{X: t.Trial, Y: t.Value})
		xs, finals = append(xs, t.Trial), append(finals, t.Value)
	}
	if len(done)+len(pruned) == 0 {
		return nil, ErrNoData
	}
	p := newPlot(title, "trial (in the order the search made them)", yLabel)
	addGrid(p)
	p.X.Tick.Marker = intTicks{}
	p.Y.Tick.Marker = niceTicks{6}
	col, _ := paletteStyle(0)
	if len(done) > 0 {
		best := BestSoFar(finals, higherIsBetter)
		var steps plotter.XYs
		for i := range best {
			steps = append(steps, plotter.XY{X: xs[i], Y: best[i]})
		}
		if last := sorted[len(sorted)-1].Trial; finite(last) && last > xs[len(xs)-1] {
			steps = append(steps, plotter.XY{X: last, Y: best[len(best)-1]})
		}
		l, err := plotter.NewLine(steps)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color = color.Black
		l.Width = vg.Points(1.6)
		s, err := plotter.NewScatter(done)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Add(l, s)
		p.Legend.Add("trial, trained to the end", s)
		p.Legend.Add("best so far", l)
	}
	if len(pruned) > 0 {
		s, err := prunedMarker(pruned, Palette[3])
		if err != nil {
			return nil, err
		}
		p.Add(s)
		p.Legend.Add("× pruned (value when stopped)", s)
	}
	return p, nil
}
