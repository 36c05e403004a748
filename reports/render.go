package reports

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default size of a figure's plot area with its title and axes; a legend is
// added to the right of it, widening the figure.
const (
	FigureWidth  = 11.5 * vg.Centimeter
	FigureHeight = 8 * vg.Centimeter
)

const (
	figMargin = vg.Length(6)  // around the whole figure
	legendGap = vg.Length(12) // between the plot and its legend
)

// legendSize returns the extent of p's legend (zero without entries).
func legendSize(p *plot.Plot) (w, h vg.Length) {
	r := p.Legend.Rectangle(draw.Canvas{})
	return r.Max.X - r.Min.X, r.Max.Y - r.Min.Y
}

func titleHeight(p *plot.Plot) vg.Length {
	if p.Title.Text == "" {
		return 0
	}
	return p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
}

// FigureSize returns the canvas size that holds p drawn with a plot area
// of w × h and its legend outside, to the right.
func FigureSize(p *plot.Plot, w, h vg.Length) (vg.Length, vg.Length) {
	lw, lh := legendSize(p)
	if lw > 0 {
		w += lw + legendGap
		if need := titleHeight(p) + lh + 3*figMargin; need > h {
			h = need
		}
	}
	return w + 2*figMargin, h + 2*figMargin
}

// DrawFigure draws p on c with its legend outside the plot area, to the
// right and aligned with the top of the axes.
func DrawFigure(c draw.Canvas, p *plot.Plot) {
	c.SetColor(p.BackgroundColor)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, figMargin, -figMargin, figMargin, -figMargin)
	lw, _ := legendSize(p)
	if lw == 0 {
		p.Draw(c)
		return
	}
	leg := p.Legend
	p.Legend = plot.NewLegend()
	defer func() { p.Legend = leg }()
	p.Draw(draw.Crop(c, 0, -(lw + legendGap), 0, 0))

	lc := c
	lc.Min.X = c.Max.X - lw
	lc.Max.Y = c.Max.Y - titleHeight(p)
	leg.Top, leg.Left = true, true
	leg.Draw(lc)
}

var (
	svgProlog   = regexp.MustCompile(`(?s)^.*?<svg width="([0-9.e+-]+)pt" height="([0-9.e+-]+)pt"`)
	svgFontFace = []byte("font-family:Liberation Sans;")
	svgFontList = []byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")
)

// SVG renders p (legend outside, plot area w × h) as an <svg> element ready
// to inline in HTML: no XML prolog, size in CSS pixels, and font fallbacks
// metric-compatible with the Liberation Sans used for layout. Text is
// escaped by vgsvg.
func SVG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	W, H := FigureSize(p, w, h)
	c := vgsvg.New(W, H)
	DrawFigure(draw.New(c), p)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	m := svgProlog.FindSubmatchIndex(out)
	if m == nil {
		return nil, fmt.Errorf("reports: unexpected SVG header from vgsvg")
	}
	wpt, _ := strconv.ParseFloat(string(out[m[2]:m[3]]), 64)
	hpt, _ := strconv.ParseFloat(string(out[m[4]:m[5]]), 64)
	head := fmt.Sprintf(`<svg class="fig" width="%.0f" height="%.0f"`, wpt*4/3, hpt*4/3)
	out = append([]byte(head), out[m[1]:]...)
	out = bytes.ReplaceAll(out, svgFontFace, svgFontList)
	return out, nil
}

// PNG renders p (legend outside, plot area w × h) as a PNG image at dpi
// dots per inch, with the fonts embedded in the program.
func PNG(p *plot.Plot, w, h vg.Length, dpi int) ([]byte, error) {
	W, H := FigureSize(p, w, h)
	c := vgimg.NewWith(vgimg.UseWH(W, H), vgimg.UseDPI(dpi))
	DrawFigure(draw.New(c), p)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
