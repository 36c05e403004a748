package reports

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The style kit of every figure: colours, fonts, the plot skeleton, tick
// makers, label wrapping, glyphs and colour maps. The figure functions
// (figures.go) build on it; none of it knows about runs or metrics.

// Fonts and sizes. Liberation Sans is metric-compatible with Arial and
// Helvetica, which the SVG names as fallbacks.
var (
	sansFont      = font.Font{Typeface: "Liberation", Variant: "Sans"}
	titleSize     = vg.Points(12)
	labelSize     = vg.Points(11)
	tickSize      = vg.Points(10)
	legendFont    = vg.Points(10)
	annotateSize  = vg.Points(9)
	gridColor     = color.Gray{Y: 225}
	referenceGray = color.Gray{Y: 60}
)

// Palette is the categorical colour cycle (matplotlib's tab10), used in
// order; curves beyond ten repeat it with dashes.
var Palette = []color.Color{
	rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728), rgb(0x9467bd),
	rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f), rgb(0xbcbd22), rgb(0x17becf),
}

func rgb(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA() // c is opaque: premultiplied equals straight
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}

func paletteStyle(i int) (color.Color, []vg.Length) {
	return Palette[i%len(Palette)], dashes[(i/len(Palette))%len(dashes)]
}

func textStyle(size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(sansFont, size), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot with the report's fonts and the given title and
// axis labels.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, titleSize)
	p.Title.Padding = vg.Points(8)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sansFont, labelSize)
		ax.Tick.Label.Font = font.From(sansFont, tickSize)
		ax.Tick.Length = vg.Points(4)
		ax.Label.Padding = vg.Points(4)
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(sansFont, legendFont)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(2)
	p.Legend.Top = true
	p.Legend.Left = true
	return p
}

// addGrid adds light grid lines at the major ticks.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	g.Vertical.Width = vg.Points(0.5)
	g.Horizontal.Width = vg.Points(0.5)
	p.Add(g)
}

// wrapLabel breaks a legend label made of space-separated parts into as
// few lines as keep each within width characters, choosing the breaks that
// make the longest line shortest, so that labels of the same shape break
// at the same part. A short tail such as "(n=3)" stays with the part
// before it. A label already holding a newline is left as it is.
func wrapLabel(s string, width int) string {
	if len(s) <= width || strings.Contains(s, "\n") {
		return s
	}
	var words []string
	for _, w := range strings.Fields(s) {
		if n := len(words); n > 0 && len(w) <= 6 && strings.HasPrefix(w, "(") {
			words[n-1] += " " + w
			continue
		}
		words = append(words, w)
	}
	var best []string
	for k := 2; k <= len(words); k++ {
		lines := balancedLines(words, k)
		best = lines
		longest := 0
		for _, l := range lines {
			longest = max(longest, len(l))
		}
		if longest <= width {
			break
		}
	}
	if best == nil {
		return s
	}
	return strings.Join(best, "\n")
}

// balancedLines splits words into k lines minimising the longest line.
func balancedLines(words []string, k int) []string {
	n := len(words)
	// width(i, j): length of words[i:j] joined by spaces.
	width := func(i, j int) int {
		w := j - i - 1
		for _, x := range words[i:j] {
			w += len(x)
		}
		return w
	}
	// cost[c][i]: minimal longest line splitting words[i:] into c lines.
	const inf = 1 << 30
	cost := make([][]int, k+1)
	next := make([][]int, k+1)
	for c := range cost {
		cost[c] = make([]int, n+1)
		next[c] = make([]int, n+1)
		for i := range cost[c] {
			cost[c][i] = inf
		}
	}
	cost[0][n] = 0
	for c := 1; c <= k; c++ {
		for i := n - 1; i >= 0; i-- {
			for j := i + 1; j <= n; j++ {
				if cost[c-1][j] == inf {
					continue
				}
				if m := max(width(i, j), cost[c-1][j]); m < cost[c][i] {
					cost[c][i], next[c][i] = m, j
				}
			}
		}
	}
	var out []string
	for c, i := k, 0; c > 0 && i < n; c-- {
		j := next[c][i]
		out = append(out, strings.Join(words[i:j], " "))
		i = j
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// intTicks labels an epoch axis with whole numbers.
type intTicks struct{}

func (intTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	span := hi - lo
	if span > 40 || span < 0 {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	step := 1.0
	switch {
	case span > 20:
		step = 5
	case span > 10:
		step = 2
	}
	var ticks []plot.Tick
	for v := lo; v <= hi; v++ {
		t := plot.Tick{Value: v}
		if math.Mod(v, step) == 0 || step == 1 {
			t.Label = strconv.Itoa(int(v))
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// niceTicks places about n labelled ticks at round steps (1, 2, 2.5 or 5
// times a power of ten) with unlabelled minor ticks between them.
type niceTicks struct{ n int }

func (t niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || !finite(min) || !finite(max) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	n := t.n
	if n < 2 {
		n = 6
	}
	raw := (max - min) / float64(n-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step, minor float64
	for _, s := range []struct{ step, minor float64 }{{1, 0.5}, {2, 1}, {2.5, 0.5}, {5, 1}, {10, 5}} {
		if s.step*mag >= raw*0.999 {
			step, minor = s.step*mag, s.minor*mag
			break
		}
	}
	dec := 0
	if d := -math.Floor(math.Log10(step) + 1e-9); d > 0 {
		dec = int(d)
	}
	if math.Abs(step/math.Pow(10, -float64(dec))-math.Round(step/math.Pow(10, -float64(dec)))) > 1e-6 {
		dec++ // 2.5 × 10^k needs one more decimal
	}
	ratio := int64(math.Round(step / minor))
	var ticks []plot.Tick
	for k := int64(math.Ceil(min/minor - 1e-9)); float64(k)*minor <= max+minor*1e-9; k++ {
		v := float64(k) * minor
		if k%ratio == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// bandAlpha makes min–max bands fainter the more curves share a plot.
func bandAlpha(curves int) uint8 {
	if curves > 4 {
		return 22
	}
	return 40
}

// darker returns c at 70% brightness.
func darker(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.RGBA{R: uint8(r >> 8 * 7 / 10), G: uint8(g >> 8 * 7 / 10), B: uint8(b >> 8 * 7 / 10), A: 255}
}

// starGlyph draws a five-pointed star.
type starGlyph struct{}

func (starGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	var p vg.Path
	r := sty.Radius
	for i := 0; i < 10; i++ {
		rad := r
		if i%2 == 1 {
			rad = r * 0.45
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		q := vg.Point{X: pt.X + rad*vg.Length(math.Cos(a)), Y: pt.Y + rad*vg.Length(math.Sin(a))}
		if i == 0 {
			p.Move(q)
		} else {
			p.Line(q)
		}
	}
	p.Close()
	c.Fill(p)
}

// crossGlyph draws a bold ×, the mark of a pruned (stopped) run: bolder
// than draw.CrossGlyph so that it reads over a curve's last point.
type crossGlyph struct{}

func (crossGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 0.8
	ls := draw.LineStyle{Color: sty.Color, Width: sty.Radius * 0.45}
	c.StrokeLine2(ls, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
	c.StrokeLine2(ls, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
}

// Viridis is the perceptually uniform palette of the heat maps.
type viridis struct{ n int }

var viridisAnchors = []color.RGBA{
	rgb(0x440154), rgb(0x482878), rgb(0x3e4989), rgb(0x31688e), rgb(0x26828e),
	rgb(0x1f9e89), rgb(0x35b779), rgb(0x6ece58), rgb(0xb5de2b), rgb(0xfde725),
}

func (v viridis) Colors() []color.Color {
	out := make([]color.Color, v.n)
	for i := range out {
		out[i] = viridisAt(float64(i) / float64(v.n-1))
	}
	return out
}

func viridisAt(t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	f := t * float64(len(viridisAnchors)-1)
	i := int(f)
	if i >= len(viridisAnchors)-1 {
		return viridisAnchors[len(viridisAnchors)-1]
	}
	a, b := viridisAnchors[i], viridisAnchors[i+1]
	w := f - float64(i)
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-w) + float64(y)*w)) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 255}
}

// luminance is the relative luminance of c in [0, 1].
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.SetColor(s.Color)
	c.Fill(c.Rectangle.Path())
}

type reversed struct{ viridis }

func (r reversed) Colors() []color.Color {
	c := r.viridis.Colors()
	for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
		c[i], c[j] = c[j], c[i]
	}
	return c
}
