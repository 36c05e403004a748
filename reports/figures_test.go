package reports

import (
	"bytes"
	"errors"
	"flag"
	"html"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata/")

var svgText = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)

// svgTexts returns every text drawn in an SVG, unescaped.
func svgTexts(t *testing.T, p *plot.Plot) []string {
	t.Helper()
	b, err := SVG(p, FigureWidth, FigureHeight)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range svgText.FindAllSubmatch(b, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

func count(xs []string, s string) int {
	n := 0
	for _, x := range xs {
		if x == s {
			n++
		}
	}
	return n
}

func checkAxes(t *testing.T, p *plot.Plot, title, x, y string) {
	t.Helper()
	if p.Title.Text != title || p.X.Label.Text != x || p.Y.Label.Text != y {
		t.Errorf("title/x/y = %q/%q/%q, want %q/%q/%q", p.Title.Text, p.X.Label.Text, p.Y.Label.Text, title, x, y)
	}
}

func checkRange(t *testing.T, ax plot.Axis, name string, vals ...float64) {
	t.Helper()
	for _, v := range vals {
		if v < ax.Min || v > ax.Max {
			t.Errorf("%s axis [%v, %v] does not contain %v", name, ax.Min, ax.Max, v)
		}
	}
}

func demoCurves() []Curve {
	return []Curve{
		{Label: "head=classify (n=3)", Epochs: []float64{1, 2, 3}, Mean: []float64{90, 95, 97}, Lo: []float64{89, 94, 96.5}, Hi: []float64{91, 96, 97.5}},
		{Label: "head=regression (n=3)", Epochs: []float64{1, 2, 3}, Mean: []float64{88, 93, 96}, Lo: []float64{87, 92, 95}, Hi: []float64{89, 94, 97}},
		{Label: "single run (n=1)", Epochs: []float64{1, 2, 3}, Mean: []float64{85, math.NaN(), 94}, Lo: []float64{85, math.NaN(), 94}, Hi: []float64{85, math.NaN(), 94}},
	}
}

func TestLearningCurves(t *testing.T) {
	ref := &RefPoint{Label: "notebook: 92.0% after 5 epochs", Epoch: 5, Value: 92}
	p, err := LearningCurves("Test digit accuracy by epoch", "test digit accuracy (%)", demoCurves(), ref)
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Test digit accuracy by epoch", "epoch", "test digit accuracy (%)")
	checkRange(t, p.X, "x", 1, 3, 5)
	checkRange(t, p.Y, "y", 85, 87, 97.5, 92)
	texts := svgTexts(t, p)
	for _, want := range []string{"Test digit accuracy by epoch", "epoch", "test digit accuracy (%)",
		"head=classify (n=3)", "head=regression (n=3)", "single run (n=1)", "notebook: 92.0% after 5 epochs", "1", "5"} {
		if count(texts, want) != 1 {
			t.Errorf("text %q drawn %d times, want once; texts %q", want, count(texts, want), texts)
		}
	}
	// Legend: three curves and the reference; each curve with band has
	// two thumbnails, so check the entries via their labels only.
	w, h := legendSize(p)
	if w <= 0 || h <= 0 {
		t.Errorf("legend has no extent")
	}
	golden(t, "learning_curves.svg", p)
}

func TestLearningCurvesManyConfigsLegendOutside(t *testing.T) {
	var curves []Curve
	for i := range 30 {
		curves = append(curves, Curve{Label: "head=classify sum_weight=" + strings.Repeat("1", i%4+1) + " lr=0.001 (n=3)",
			Epochs: []float64{1, 2}, Mean: []float64{float64(i), float64(i) + 1}})
	}
	p, err := LearningCurves("many", "y", curves, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The canvas grows to hold the legend beside the plot area, and the
	// plot area keeps its size.
	W, H := FigureSize(p, FigureWidth, FigureHeight)
	lw, lh := legendSize(p)
	if W < FigureWidth+lw || H < lh {
		t.Errorf("figure %v×%v too small for a legend of %v×%v", W, H, lw, lh)
	}
	if _, err := SVG(p, FigureWidth, FigureHeight); err != nil {
		t.Fatal(err)
	}
}

func TestFiguresNoData(t *testing.T) {
	nan := math.NaN()
	cases := map[string]func() (*plot.Plot, error){
		"curves nil": func() (*plot.Plot, error) { return LearningCurves("t", "y", nil, nil) },
		"curves NaN": func() (*plot.Plot, error) {
			return LearningCurves("t", "y", []Curve{{Label: "x", Epochs: []float64{1}, Mean: []float64{nan}}}, nil)
		},
		"curves empty": func() (*plot.Plot, error) { return LearningCurves("t", "y", []Curve{{Label: "x"}}, nil) },
		"loss":         func() (*plot.Plot, error) { return TrainTestLoss("t", "y", []SplitCurves{{Label: "x"}}) },
		"effect":       func() (*plot.Plot, error) { return EffectPlot("t", "head", "y", []EffectGroup{{Value: "a"}}) },
		"heat empty":   func() (*plot.Plot, error) { return HeatMap("t", "v", HeatGrid{}, false) },
		"heat NaN": func() (*plot.Plot, error) {
			return HeatMap("t", "v", HeatGrid{XValues: []string{"a"}, YValues: []string{"b"}, Values: [][]float64{{nan}}}, false)
		},
		"scatter": func() (*plot.Plot, error) {
			return AccuracyR2Scatter("t", []ScatterGroup{{Label: "x", Points: []Point{{nan, 1}}}}, nil)
		},
	}
	for name, f := range cases {
		if _, err := f(); !errors.Is(err, ErrNoData) {
			t.Errorf("%s: err = %v, want ErrNoData", name, err)
		}
	}
}

func TestTrainTestLoss(t *testing.T) {
	c := func(v ...float64) Curve { return Curve{Epochs: []float64{1, 2, 3}, Mean: v} }
	p, err := TrainTestLoss("Digit NLL, train vs. test", "digit NLL (nats)", []SplitCurves{
		{Label: "best: classify", Train: c(0.5, 0.3, 0.2), Test: c(0.4, 0.25, 0.22)},
		{Label: "worst: regression", Train: c(0.9, 0.7, 0.6), Test: c(0.8, 0.75, 0.7)},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Digit NLL, train vs. test", "epoch", "digit NLL (nats)")
	checkRange(t, p.Y, "y", 0.2, 0.9)
	texts := svgTexts(t, p)
	for _, want := range []string{"best: classify", "worst: regression", "test split", "train split"} {
		if count(texts, want) != 1 {
			t.Errorf("legend entry %q drawn %d times; texts %q", want, count(texts, want), texts)
		}
	}
}

func TestEffectPlot(t *testing.T) {
	p, err := EffectPlot("Sum R² by head", "head", "test sum R²", []EffectGroup{
		{Value: "classify", Values: []float64{0.9, 0.92, 0.94}},
		{Value: "regression", Values: []float64{0.05, 0.07, math.NaN()}},
		{Value: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Sum R² by head", "head", "test sum R²")
	checkRange(t, p.Y, "y", 0.05, 0.94)
	checkRange(t, p.X, "x", 0, 2)
	texts := svgTexts(t, p)
	// Tick labels: value, mean, n (NaN left out: n=2 for regression).
	for _, want := range []string{"classify", "mean 0.920", "n=3", "regression", "mean 0.060", "n=2", "none", "no runs", "run", "mean"} {
		if count(texts, want) != 1 {
			t.Errorf("text %q drawn %d times; texts %q", want, count(texts, want), texts)
		}
	}
}

func TestHeatMap(t *testing.T) {
	g := HeatGrid{XName: "sum_weight", YName: "head", XValues: []string{"0.1", "10"}, YValues: []string{"classify", "regression"},
		Values: [][]float64{{0.8, 0.95}, {0.07, math.NaN()}}, N: [][]int{{3, 3}, {3, 0}}}
	p, err := HeatMap("Sum R²: head × sum_weight", "mean sum R²", g, false)
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Sum R²: head × sum_weight", "sum_weight", "head")
	texts := svgTexts(t, p)
	for _, want := range []string{"0.800", "0.950", "0.070", "no runs", "mean sum R²", "classify", "regression", "0.1", "10"} {
		if count(texts, want) < 1 {
			t.Errorf("text %q missing; texts %q", want, texts)
		}
	}
	// Legend: heading plus five colour steps from best (0.95) to worst (0.07).
	for _, want := range []string{"0.950", "0.070", "0.510"} {
		if count(texts, want) != 2 { // once in a cell (or the middle step once), once in the legend
			if !(want == "0.510" && count(texts, want) == 1) {
				t.Errorf("legend value %q drawn %d times", want, count(texts, want))
			}
		}
	}
	golden(t, "heatmap.svg", p)

	// Lower is better: the brightest colour goes to the smallest value.
	p, err = HeatMap("MSE", "mean MSE", g, true)
	if err != nil {
		t.Fatal(err)
	}
	texts = svgTexts(t, p)
	i, j := slices.Index(texts, "mean MSE"), slices.Index(texts, "0.070")
	if i < 0 || j < 0 {
		t.Fatalf("texts %q", texts)
	}
}

func TestAccuracyR2Scatter(t *testing.T) {
	p, err := AccuracyR2Scatter("Digit accuracy vs. sum R²", []ScatterGroup{
		{Label: "head=classify", Points: []Point{{99, 0.9}, {98.5, 0.92}}},
		{Label: "head=regression", Points: []Point{{98, 0.07}, {math.NaN(), 0.1}}},
	}, &LabeledPoint{Label: "notebook (after 5 epochs)", X: 92, Y: 0.065})
	if err != nil {
		t.Fatal(err)
	}
	checkAxes(t, p, "Digit accuracy vs. sum R²", "test digit accuracy (%)", "test sum R²")
	checkRange(t, p.X, "x", 92, 99)
	checkRange(t, p.Y, "y", 0.065, 0.92)
	texts := svgTexts(t, p)
	for _, want := range []string{"head=classify (2 runs)", "head=regression (1 runs)", "notebook (after 5 epochs)"} {
		if count(texts, want) != 1 {
			t.Errorf("legend %q drawn %d times; texts %q", want, count(texts, want), texts)
		}
	}
}

func TestSVGEscapesUserText(t *testing.T) {
	evil := `<script>alert(1)</script> & "q"`
	p, err := LearningCurves(evil, "y", []Curve{{Label: evil, Epochs: []float64{1, 2}, Mean: []float64{1, 2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SVG(p, FigureWidth, FigureHeight)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "<script") || strings.Contains(s, "alert(1)</") {
		t.Errorf("user text reached the SVG unescaped")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp;") {
		t.Errorf("escaped label missing")
	}
	if !strings.HasPrefix(s, `<svg class="fig" width="`) || strings.Contains(s, "<?xml") {
		t.Errorf("SVG not ready to inline: %.80q", s)
	}
	if !strings.Contains(s, "font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;") {
		t.Errorf("font fallbacks missing")
	}
}

func TestPNG(t *testing.T) {
	p, err := LearningCurves("t", "y", demoCurves(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PNG(p, FigureWidth, FigureHeight, 96)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	W, H := FigureSize(p, FigureWidth, FigureHeight)
	if got, want := img.Bounds().Dx(), int(W.Dots(96)+0.5); got < want-1 || got > want+1 {
		t.Errorf("PNG width %d, want %d", got, want)
	}
	if got, want := img.Bounds().Dy(), int(H.Dots(96)+0.5); got < want-1 || got > want+1 {
		t.Errorf("PNG height %d, want %d", got, want)
	}
}

func TestTicks(t *testing.T) {
	labels := func(ts []plot.Tick) []string {
		var out []string
		for _, tk := range ts {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	if got := labels(niceTicks{6}.Ticks(0.05, 0.95)); !slices.Equal(got, []string{"0.2", "0.4", "0.6", "0.8"}) {
		t.Errorf("niceTicks(0.05, 0.95) = %v", got)
	}
	if got := labels(niceTicks{6}.Ticks(91.5, 99.4)); !slices.Equal(got, []string{"92", "94", "96", "98"}) {
		t.Errorf("niceTicks(91.5, 99.4) = %v", got)
	}
	if got := labels(niceTicks{6}.Ticks(0, 12.5)); !slices.Equal(got, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5"}) {
		t.Errorf("niceTicks(0, 12.5) = %v", got)
	}
	if got := labels(intTicks{}.Ticks(1, 5)); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("intTicks(1, 5) = %v", got)
	}
	if got := labels(intTicks{}.Ticks(1, 20)); !slices.Contains(got, "10") || slices.Contains(got, "3") {
		t.Errorf("intTicks(1, 20) = %v, want even labels only", got)
	}
}

// golden compares p's SVG with testdata/name; -update rewrites it.
func golden(t *testing.T, name string, p *plot.Plot) {
	t.Helper()
	got, err := SVG(p, FigureWidth, FigureHeight)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d vs %d bytes); look at it and run with -update if the change is intended", path, len(got), len(want))
	}
}

func TestWrapLabel(t *testing.T) {
	if got := wrapLabel("head=regression sum_weight=0.1 lr=0.001 (n=3)", 28); got != "head=regression\nsum_weight=0.1\nlr=0.001 (n=3)" {
		t.Errorf("wrapLabel = %q", got)
	}
	if got := wrapLabel("short", 28); got != "short" {
		t.Errorf("wrapLabel(short) = %q", got)
	}
}

func TestEffectPlotSplitByKind(t *testing.T) {
	p, err := EffectPlot("Sum R² by sum_weight", "sum_weight", "test sum R²", []EffectGroup{
		{Value: "0.1", Values: []float64{0.8, 0.81, 0.05, 0.07}, Kinds: []string{"head=classify", "head=classify", "head=regression", "head=regression"}},
		{Value: "10", Values: []float64{0.95, 0.2}, Kinds: []string{"head=classify", "head=regression"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, p)
	for _, want := range []string{"head=classify", "head=regression", "bar: mean", "0.1", "n=4", "10", "n=2"} {
		if count(texts, want) != 1 {
			t.Errorf("text %q drawn %d times; texts %q", want, count(texts, want), texts)
		}
	}
	// Split mode gives no pooled mean: it would hide the bimodal runs.
	for _, s := range texts {
		if strings.HasPrefix(s, "mean ") {
			t.Errorf("pooled mean %q drawn in split mode", s)
		}
	}
	checkRange(t, p.Y, "y", 0.05, 0.95)
}

func TestWrapLabelBalanced(t *testing.T) {
	for in, want := range map[string]string{
		"head=classify sum_weight=1 (n=3)":         "head=classify\nsum_weight=1 (n=3)",
		"head=regression sum_weight=1 (n=2)":       "head=regression\nsum_weight=1 (n=2)",
		"head=regression sum_weight=10 (n=3)":      "head=regression\nsum_weight=10 (n=3)",
		"averyveryveryverylongsingletokenlabel_xx": "averyveryveryverylongsingletokenlabel_xx",
		"worst: head=regression sum_weight=0.1":    "worst: head=regression\nsum_weight=0.1",
		"a b":                                      "a b",
	} {
		if got := wrapLabel(in, 28); got != want {
			t.Errorf("wrapLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
