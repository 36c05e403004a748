package reports

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestParallelCoordinates(t *testing.T) {
	axes := []ParallelAxis{
		{Name: "head", Values: []string{"classify", "regression"}},
		{Name: "lr", Values: []string{"0.001", "0.01", "0.1"}},
	}
	lines := []ParallelLine{
		{Values: []string{"classify", "0.001"}, Metric: 0.98},
		{Values: []string{"regression", "0.01"}, Metric: 0.7},
		{Values: []string{"regression", "0.1"}, Metric: math.NaN()}, // diverged: left out
		{Values: []string{"classify", "0.1"}, Metric: 0.9},
	}
	p, err := ParallelCoordinates("Settings against test sum R²", "test sum R²", axes, lines, false)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := SVG(p, FigureWidth, FigureHeight)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"classify", "regression", "0.001", "lr", "head", "test sum R²", "3 runs", "best: 0.980", "worst: 0.700"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	png, err := PNG(p, FigureWidth, FigureHeight, 96)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SWEEP_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "parallel.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Lower is better: the lowest value is the best.
	p, err = ParallelCoordinates("", "test digit NLL", axes, lines, true)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ = SVG(p, FigureWidth, FigureHeight)
	if !bytes.Contains(svg, []byte("best: 0.700")) {
		t.Error("lowerIsBetter: legend does not call the lowest value best")
	}

	// A random search's many values: at most maxAxisLabels labels, ends kept.
	many := ParallelAxis{Name: "lr"}
	var manyLines []ParallelLine
	for i := range 40 {
		v := fmt.Sprintf("0.%04d", i+1)
		many.Values = append(many.Values, v)
		manyLines = append(manyLines, ParallelLine{Values: []string{v}, Metric: float64(i)})
	}
	p, err = ParallelCoordinates("", "m", []ParallelAxis{many}, manyLines, false)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ = SVG(p, FigureWidth, FigureHeight)
	labelled := 0
	for _, v := range many.Values {
		if bytes.Contains(svg, []byte(">"+v+"<")) {
			labelled++
		}
	}
	if labelled > maxAxisLabels || !bytes.Contains(svg, []byte(">0.0001<")) || !bytes.Contains(svg, []byte(">0.0040<")) {
		t.Errorf("%d of 40 values labelled (want at most %d, both ends)", labelled, maxAxisLabels)
	}

	if _, err := ParallelCoordinates("", "m", axes, []ParallelLine{{Values: []string{"classify", "0.001"}, Metric: math.NaN()}}, false); !errors.Is(err, ErrNoData) {
		t.Errorf("no finite metric: got %v, want ErrNoData", err)
	}
	if _, err := ParallelCoordinates("", "m", axes, []ParallelLine{{Values: []string{"sgd", "0.001"}, Metric: 1}}, false); err == nil {
		t.Error("a value missing from its axis was accepted")
	}
	if _, err := ParallelCoordinates("", "m", axes, []ParallelLine{{Values: []string{"classify"}, Metric: 1}}, false); err == nil {
		t.Error("a line with too few values was accepted")
	}
}
