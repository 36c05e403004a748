package reports

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// largeSweeps is the lead's budget case: 500 runs × 10 epochs (50
// configurations × 10 seeds, three settings varying), with a reference.
func largeSweeps() []SweepData {
	base := baseSettings()
	base.Epochs = 10
	sd := synthSweep("large", grid(base, "head", []string{"regression", "classify"},
		"sum_weight", []float64{0.1, 0.3, 1, 3, 10}, "lr", []float64{0.0003, 0.001, 0.003, 0.01, 0.03}), 10, nil)
	sd.Reference = demoSweeps()[0].Reference
	return []SweepData{sd}
}

// TestLargeReportBudget checks that 500 runs × 10 epochs render in under
// 10 s to under 10 MB.
func TestLargeReportBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("large report skipped in -short mode")
	}
	sweeps := largeSweeps()
	if n := len(sweeps[0].Runs); n != 500 {
		t.Fatalf("%d runs, want 500", n)
	}
	start := time.Now()
	var buf bytes.Buffer
	if err := Write(&buf, sweeps, Options{}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	size := buf.Len()
	t.Logf("500 runs × 10 epochs: %.2f MB in %v (%d figures, %d as PNG)", float64(size)/1e6, took,
		strings.Count(buf.String(), "<figure"), strings.Count(buf.String(), `<img class="fig"`))
	if size > 10<<20 {
		t.Errorf("report is %.1f MB, budget 10 MB", float64(size)/(1<<20))
	}
	if took > 10*time.Second {
		t.Errorf("report took %v, budget 10 s", took)
	}
	if p := os.Getenv("SWEEP_LARGE_REPORT_OUT"); p != "" {
		os.WriteFile(p, buf.Bytes(), 0o644)
	}
}

func BenchmarkWriteLarge(b *testing.B) {
	sweeps := largeSweeps()
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, sweeps, Options{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB/report")
}
