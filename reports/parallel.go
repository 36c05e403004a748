package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxAxisLabels is the most values labelled on one axis.
const maxAxisLabels = 12

// ParallelAxis is one categorical axis of a parallel-coordinates figure: a
// setting and its values, bottom to top.
type ParallelAxis struct {
	Name   string
	Values []string
}

// ParallelLine is one run: its value on every axis (parallel to the axes)
// and its final metric, in display units.
type ParallelLine struct {
	Values []string
	Metric float64
}

// ParallelCoordinates draws one polyline per run across one vertical axis
// per setting and a last axis for the metric. Setting values are evenly
// spaced in the order given (so a log-spaced lr grid is evenly spaced too);
// the metric axis is linear from its lowest to its highest finite value.
// Lines are coloured by the metric on the heat maps' palette, dark (worse)
// to bright (better), and drawn worst first so the best lie on top; runs
// whose metric is not finite are left out. lowerIsBetter reverses the
// palette, as in HeatMap.
func ParallelCoordinates(title, metricLabel string, axes []ParallelAxis, lines []ParallelLine, lowerIsBetter bool) (*plot.Plot, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	var kept []ParallelLine
	for _, l := range lines {
		if len(l.Values) != len(axes) {
			return nil, fmt.Errorf("reports: parallel coordinates: line has %d values for %d axes", len(l.Values), len(axes))
		}
		if finite(l.Metric) {
			kept = append(kept, l)
			lo, hi = math.Min(lo, l.Metric), math.Max(hi, l.Metric)
		}
	}
	if len(kept) == 0 {
		return nil, ErrNoData
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	quality := func(v float64) float64 {
		q := (v - lo) / span
		if lowerIsBetter {
			q = 1 - q
		}
		return q
	}
	slices.SortStableFunc(kept, func(a, b ParallelLine) int {
		qa, qb := quality(a.Metric), quality(b.Metric)
		switch {
		case qa < qb:
			return -1
		case qa > qb:
			return 1
		}
		return 0
	})

	p := newPlot(title, "", "")
	p.HideY()
	n := len(axes)
	p.X.Min, p.X.Max = -0.15, float64(n)+0.15
	p.Y.Min, p.Y.Max = -0.05, 1.05
	p.X.Tick.Label.Font.Size = labelSize
	var ticks []plot.Tick
	for i, a := range axes {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: a.Name})
	}
	ticks = append(ticks, plot.Tick{Value: float64(n), Label: metricLabel})
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.LineStyle.Width = 0
	p.X.Tick.LineStyle.Width = 0

	pos := make([]map[string]float64, n)
	for i, a := range axes {
		pos[i] = map[string]float64{}
		for j, v := range a.Values {
			y := 0.5
			if len(a.Values) > 1 {
				y = float64(j) / float64(len(a.Values)-1)
			}
			pos[i][v] = y
		}
	}

	// Lines first, axes and their labels on top.
	width := vg.Points(1.2)
	alpha := uint8(200)
	if len(kept) > 50 {
		width, alpha = vg.Points(0.7), 110
	}
	for _, l := range kept {
		xys := make(plotter.XYs, 0, n+1)
		for i, v := range l.Values {
			y, ok := pos[i][v]
			if !ok {
				return nil, fmt.Errorf("reports: parallel coordinates: value %q is not on axis %q", v, axes[i].Name)
			}
			xys = append(xys, plotter.XY{X: float64(i), Y: y})
		}
		xys = append(xys, plotter.XY{X: float64(n), Y: (l.Metric - lo) / span})
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = withAlpha(viridisAt(quality(l.Metric)), alpha)
		line.Width = width
		p.Add(line)
	}

	for i := 0; i <= n; i++ {
		axis, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: 0}, {X: float64(i), Y: 1}})
		if err != nil {
			return nil, err
		}
		axis.Color = color.Gray{Y: 40}
		axis.Width = vg.Points(1)
		p.Add(axis)

		var lab plotter.XYLabels
		if i < n {
			// A random search gives an axis many values: label at most
			// maxAxisLabels of them, evenly, ends included.
			vals := axes[i].Values
			stride := max(1, (len(vals)+maxAxisLabels-2)/(maxAxisLabels-1))
			for j, v := range vals {
				if j%stride != 0 && j != len(vals)-1 {
					continue
				}
				lab.XYs = append(lab.XYs, plotter.XY{X: float64(i), Y: pos[i][v]})
				lab.Labels = append(lab.Labels, v)
			}
		} else {
			for k := 0; k <= 4; k++ {
				f := float64(k) / 4
				lab.XYs = append(lab.XYs, plotter.XY{X: float64(n), Y: f})
				lab.Labels = append(lab.Labels, formatNum(lo+f*(hi-lo)))
				if hi == lo {
					break
				}
			}
		}
		labels, err := plotter.NewLabels(lab)
		if err != nil {
			return nil, err
		}
		for j := range labels.TextStyle {
			labels.TextStyle[j] = textStyle(annotateSize)
			labels.TextStyle[j].XAlign = draw.XLeft
			labels.TextStyle[j].YAlign = draw.YCenter
		}
		labels.Offset = vg.Point{X: vg.Points(4)}
		p.Add(labels)
	}

	// The legend reads the colour scale: best and worst.
	best, worst := hi, lo
	if lowerIsBetter {
		best, worst = lo, hi
	}
	p.Legend.Add(fmt.Sprintf("best: %s", formatNum(best)), swatch{viridisAt(1)})
	p.Legend.Add(fmt.Sprintf("worst: %s", formatNum(worst)), swatch{viridisAt(0)})
	p.Legend.Add(fmt.Sprintf("%d runs", len(kept)), swatch{color.White})
	return p, nil
}
