package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sweep"
	"sweep/reports"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "[flags]", `
Write one self-contained HTML file (no network resources: figures are
inline SVG) that compares the configurations of each sweep: a findings
summary, a table of configurations (mean ± std over repeats), learning
curves, train vs test loss of the best and worst configuration, the effect
of each varied setting, heat maps where two settings vary together,
digit accuracy vs sum R² of every run, and failed runs with their errors.

--metric chooses what ranks configurations: test_r2 (default),
test_accuracy, test_sum_accuracy, test_nll or test_mse.

Example:
  sweep report
  sweep report --sweep heads --sweep weights --metric test_sum_accuracy -o heads.html
  sweep report --png slides/            # also every figure as a PNG
`)
	dbPath := fs.dbFlag()
	out := fs.String("o", "report.html", "HTML file to write")
	metric := fs.String("metric", "test_r2", "final test metric that ranks configurations")
	pngDir := fs.String("png", "", "also write every figure as a PNG into this folder")
	var only stringList
	fs.Var(&only, "sweep", "report only this sweep (repeatable; default: all)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	if _, err := reports.ParseMetric(*metric); err != nil {
		return usageError{err}
	}
	db, err := openExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	data, err := reportData(ctx, db, only)
	if err != nil {
		return err
	}
	opt := reports.Options{Metric: *metric, Generated: time.Now(), Version: programVersion(), DBPath: db.Location()}
	var buf bytes.Buffer
	if err := reports.Write(&buf, data, opt); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s (%d sweeps, %.1f MB)\n", *out, len(data), float64(buf.Len())/1e6)
	if *pngDir != "" {
		if err := os.MkdirAll(*pngDir, 0o755); err != nil {
			return err
		}
		paths, err := reports.WritePNGs(*pngDir, data, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "figures: %d PNG files in %s\n", len(paths), *pngDir)
	}
	return nil
}

// reportData reads everything the report needs from the store.
func reportData(ctx context.Context, db sweep.Reader, only []string) ([]reports.SweepData, error) {
	infos, err := db.Sweeps(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	var out []reports.SweepData
	for _, info := range infos {
		if len(only) > 0 && !want[info.Name] {
			continue
		}
		delete(want, info.Name)
		f := sweep.RunFilter{Sweep: info.Name}
		d := reports.SweepData{Info: info}
		if d.Runs, err = db.Runs(ctx, f); err != nil {
			return nil, err
		}
		if d.Epochs, err = db.Epochs(ctx, f); err != nil {
			return nil, err
		}
		if d.Reference, err = db.SweepReference(ctx, info.Name); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	for name := range want {
		return nil, usageError{fmt.Errorf("--sweep %q: no such sweep in %s (see 'sweep ls')", name, db.Location())}
	}
	return out, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a reader never sees a half-written report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
