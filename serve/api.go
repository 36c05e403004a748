package serve

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"sweep"
	"sweep/reports"
	"sweep/store"
)

// num is a float that encodes NaN and ±Inf (no value) as JSON null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// jsonTime encodes the zero time as null.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC())
}

type apiSweep struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	File         string         `json:"file"`
	Source       string         `json:"source,omitempty"`
	Counts       map[string]int `json:"counts"`
	Runs         int            `json:"runs"`
	EpochsDone   int            `json:"epochs_done"`
	EpochsTotal  int            `json:"epochs_total"`
	TrainSeconds num            `json:"train_seconds"`
	SecPerEpoch  num            `json:"seconds_per_epoch"`
	ETASeconds   num            `json:"eta_seconds"`
	FirstStart   jsonTime       `json:"first_start"`
	LastFinish   jsonTime       `json:"last_finish"`
	UpdatedAt    jsonTime       `json:"updated_at"`
	Pruning      string         `json:"pruning,omitempty"` // "pruning saved N of M epochs (P%)" when the sweep prunes
}

func toAPISweep(r sweepRow, withSource bool) apiSweep {
	a := apiSweep{
		Name: r.Name, Description: r.Description, File: r.File,
		Counts: map[string]int{}, Runs: r.Runs, EpochsDone: r.EpochsDone, EpochsTotal: r.EpochsTotal,
		TrainSeconds: num(r.Seconds), SecPerEpoch: num(r.SecPerEpoch), ETASeconds: num(r.ETA),
		FirstStart: jsonTime(r.FirstStart), LastFinish: jsonTime(r.LastFinish), UpdatedAt: jsonTime(r.UpdatedAt),
		Pruning: r.Pruning,
	}
	if withSource {
		a.Source = r.Source
	}
	for _, sc := range r.Statuses {
		a.Counts[string(sc.Status)] = sc.N
	}
	return a
}

type apiMetrics struct {
	NLL         num `json:"nll"`
	Accuracy    num `json:"accuracy"`
	MSE         num `json:"mse"`
	R2          num `json:"r2"`
	SumAccuracy num `json:"sum_accuracy"`
	SumNLL      num `json:"sum_nll"`
	Samples     int `json:"samples"`
}

func toAPIMetrics(m sweep.SplitMetrics) apiMetrics {
	return apiMetrics{num(m.DigitNLL), num(m.DigitAccuracy), num(m.SumMSE), num(m.SumR2),
		num(m.SumAccuracy), num(m.SumNLL), m.Samples}
}

type apiRun struct {
	ID           string            `json:"id"`
	Sweep        string            `json:"sweep"`
	Status       string            `json:"status"`
	Settings     map[string]string `json:"settings"`
	Seed         int64             `json:"seed"`
	EpochsDone   int               `json:"epochs_done"`
	Epochs       int               `json:"epochs"`
	Final        *apiMetrics       `json:"final"` // test metrics of the last epoch; null before the first
	TrainSeconds num               `json:"train_seconds"`
	Error        string            `json:"error,omitempty"`
	Trial        int               `json:"trial,omitempty"`       // 1-based configuration number in a tpe sweep
	ReusedFrom   string            `json:"reused_from,omitempty"` // id of the done run whose epochs this one reused
	Host         string            `json:"host,omitempty"`
	Started      jsonTime          `json:"started"`
	Finished     jsonTime          `json:"finished"`
}

func toAPIRun(r sweep.RunResult) apiRun {
	a := apiRun{
		ID: r.RunID, Sweep: r.Sweep, Status: string(r.Status), Settings: map[string]string{},
		Seed: r.Settings.Seed, EpochsDone: r.EpochsDone, Epochs: r.Settings.Epochs,
		TrainSeconds: num(r.TrainSeconds), Error: r.Error, Host: r.Host, Trial: r.Trial, ReusedFrom: r.ReusedFrom,
		Started: jsonTime(r.Started), Finished: jsonTime(r.Finished),
	}
	for _, n := range reports.SettingNames() {
		a.Settings[n] = reports.SettingValue(r.Settings, n)
	}
	if r.EpochsDone > 0 {
		m := toAPIMetrics(r.Final)
		a.Final = &m
	}
	return a
}

type apiEpoch struct {
	Epoch   int    `json:"epoch"`
	Split   string `json:"split"`
	Seconds num    `json:"seconds"`
	apiMetrics
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// GET /api/sweeps: every sweep with its progress.
func (s *Server) apiSweeps(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.sweepRows(r)
	if err != nil {
		return err
	}
	out := make([]apiSweep, 0, len(rows))
	for _, row := range rows {
		out = append(out, toAPISweep(row, false))
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/sweeps/{name}: one sweep, with its file's text.
func (s *Server) apiSweep(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	info, err := s.sweep(r.Context(), name)
	if err != nil {
		return err
	}
	runs, err := s.src.Runs(r.Context(), store.RunFilter{Sweep: name})
	if err != nil {
		return err
	}
	row := sweepRow{SweepInfo: info, progress: sweepProgress(info, runs)}
	for _, st := range sweep.Statuses() {
		row.Statuses = append(row.Statuses, statusCount{st, info.Counts[st]})
	}
	return writeJSON(w, http.StatusOK, toAPISweep(row, true))
}

// GET /api/runs?sweep=&status=&s.SETTING=&sort=&dir=&limit=&offset=
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) error {
	rq, err := parseRunQuery(r.URL.Query(), "")
	if err != nil {
		return err
	}
	_, page, total, err := s.selectRuns(r.Context(), rq)
	if err != nil {
		return err
	}
	out := struct {
		Total  int      `json:"total"`
		Offset int      `json:"offset"`
		Runs   []apiRun `json:"runs"`
	}{Total: total, Offset: rq.Offset, Runs: make([]apiRun, 0, len(page))}
	for _, run := range page {
		out.Runs = append(out.Runs, toAPIRun(run))
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/runs/{id}: one run (an unambiguous id prefix is enough).
func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.src.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAPIRun(run))
}

// GET /api/runs/{id}/epochs: the run's epochs, train before test.
func (s *Server) apiEpochs(w http.ResponseWriter, r *http.Request) error {
	run, err := s.src.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	epochs, err := s.src.Epochs(r.Context(), store.RunFilter{IDs: []string{run.RunID}})
	if err != nil {
		return err
	}
	out := make([]apiEpoch, 0, len(epochs))
	for _, e := range epochs {
		out = append(out, apiEpoch{Epoch: e.Epoch, Split: e.Split, Seconds: num(e.Seconds), apiMetrics: toAPIMetrics(e.Metrics)})
	}
	return writeJSON(w, http.StatusOK, out)
}
