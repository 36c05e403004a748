package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sweep"

	"sweep/model"
	"sweep/store"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "[flags]", `
Write one of the result views as CSV (with a header row) or JSON (an array
of objects keyed by column), for pandas, R or a spreadsheet. The views are
the ones you can query with sqlite3:

  run_results     one row per run, final-epoch test metrics
  epoch_results   one row per run, epoch and split (train|test)
  config_results  one row per configuration, mean and std over repeats

With --weights RUN it writes instead that run's trained weights (a done
run's final ones, or a stopped run's last epoch's) as a safetensors file
with the PyTorch module's names and the run's settings in its metadata,
for 'sweep predict --weights' or PyTorch (go doc sweep/model lists the
tensors).

Example:
  sweep export --view epoch_results -o epochs.csv
  sweep export --format json --view config_results | jq '.[0]'
  python3 -c "import pandas as pd; print(pd.read_csv('epochs.csv').head())"
  sweep export --weights 3fa2c1 -o model.safetensors
`)
	dbPath := fs.dbFlag()
	format := fs.String("format", "csv", "csv or json")
	view := fs.String("view", "run_results", "run_results, epoch_results or config_results")
	out := fs.String("o", "-", "file to write; - for standard output")
	weights := fs.String("weights", "", "write this run's trained weights (id or unique prefix) instead of a view")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	if *weights != "" {
		return exportWeights(ctx, *dbPath, *weights, *out, stdout, stderr)
	}
	if *format != "csv" && *format != "json" {
		return usageError{fmt.Errorf("--format %q: want csv or json", *format)}
	}
	if !store.IsView(*view) {
		return usageError{fmt.Errorf("--view %q: want run_results, epoch_results or config_results", *view)}
	}
	db, err := openExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	cols, rows, err := db.View(ctx, *view)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if *format == "csv" {
		err = writeCSV(&buf, cols, rows)
	} else {
		err = writeJSON(&buf, cols, rows)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", *view, err)
	}
	if *out == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	// Like the report: a file appears whole or not at all.
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %d rows of %s\n", *out, len(rows), *view)
	return nil
}

func writeCSV(w io.Writer, cols []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	cw.Write(cols)
	rec := make([]string, len(cols))
	for _, row := range rows {
		for i, v := range row {
			rec[i] = csvValue(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// csvValue prints NULL as an empty field, as pandas expects for NaN.
func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if math.IsNaN(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func writeJSON(w io.Writer, cols []string, rows [][]any) error {
	objs := make([]map[string]any, len(rows))
	for i, row := range rows {
		o := make(map[string]any, len(cols))
		for j, c := range cols {
			v := row[j]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				v = nil
			}
			o[c] = v
		}
		objs[i] = o
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(objs)
}

// exportWeights writes a run's latest checkpoint as PyTorch-named weights.
func exportWeights(ctx context.Context, dbPath, runID, out string, stdout, stderr io.Writer) error {
	db, err := openExisting(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	r, data, epoch, err := runWeights(ctx, db, runID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := model.ExportWeights(&buf, r.Settings, data); err != nil {
		return err
	}
	if out == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: weights of run %s (%s, after epoch %d of %d), %d bytes\n", out, r.RunID, r.Status, epoch, r.Settings.Epochs, buf.Len())
	return nil
}

// runWeights finds a run by id or prefix and its latest checkpoint.
func runWeights(ctx context.Context, db sweep.Reader, runID string) (sweep.RunResult, []byte, int, error) {
	r, err := db.Run(ctx, runID)
	if err != nil {
		return r, nil, 0, err
	}
	epoch, data, err := db.Checkpoint(ctx, r.RunID)
	if errors.Is(err, sweep.ErrNotFound) {
		return r, nil, 0, fmt.Errorf("run %s (%s) has no stored weights: it recorded no epoch with a checkpoint (trained by an older sweep, or with --checkpoints=false), or 'sweep gc' deleted them", r.RunID, r.Status)
	}
	return r, data, epoch, err
}
