package store

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const sqliteCLI = "/usr/bin/sqlite3"

// readmeQueries returns the ```sql blocks of the database section of the
// repository's README.
func readmeQueries(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN database section (owned by store/) -->", "<!-- END database section -->"
	_, after, ok := strings.Cut(string(text), begin)
	if !ok {
		t.Fatalf("README.md has no %q", begin)
	}
	section, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("README.md has no %q", end)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) < 3 {
		t.Fatalf("README database section has %d sql blocks, want at least 3", len(out))
	}
	return out
}

// TestREADMEQueries runs the README's example queries on a populated
// database through the Go driver: each must succeed and return rows.
func TestREADMEQueries(t *testing.T) {
	db := openTest(t, "", newClock())
	populate(t, db)
	for i, q := range readmeQueries(t) {
		rows, err := db.ro.Query(q)
		if err != nil {
			t.Errorf("query %d: %v\n%s", i+1, err, q)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("query %d: %v", i+1, err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("query %d returned no rows:\n%s", i+1, q)
		}
	}
}

// cli runs Debian's sqlite3 on path with the SQL on standard input.
func cli(t *testing.T, path, query string, args ...string) string {
	t.Helper()
	cmd := exec.Command(sqliteCLI, append(append([]string{"-batch", "-bail"}, args...), path)...)
	cmd.Stdin = strings.NewReader(query)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s\nquery:\n%s", err, out, query)
	}
	return string(out)
}

func needCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sqliteCLI); err != nil {
		t.Skipf("%s not installed", sqliteCLI)
	}
}

// TestCLIQueries runs the README's example queries in the sqlite3 CLI on a
// database the store wrote (open, in WAL mode, as during a sweep).
func TestCLIQueries(t *testing.T) {
	needCLI(t)
	path := filepath.Join(t.TempDir(), "sweep.db")
	db := openTest(t, path, newClock())
	populate(t, db)
	for i, q := range readmeQueries(t) {
		out := cli(t, path, q, "-header", "-column")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		// -column prints a header, a rule and the rows.
		if len(lines) < 3 || strings.Contains(out, "Error") {
			t.Errorf("query %d printed no rows:\n%s\n%s", i+1, q, out)
		}
	}
	if out := cli(t, path, "PRAGMA integrity_check;"); strings.TrimSpace(out) != "ok" {
		t.Errorf("integrity_check in the CLI: %s", out)
	}
}

// TestCLIConfigResults checks that the CLI computes config_results as the
// Go driver does, and that its std agrees with the CLI's own sqrt().
func TestCLIConfigResults(t *testing.T) {
	needCLI(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sweep.db")
	db := openTest(t, path, newClock())
	viewSweep(t, db)
	populate(t, db)
	goConfigs, err := db.configs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := cli(t, path, `SELECT sweep, config_key, runs, acc_mean, acc_std, r2_mean, r2_std, sum_acc_mean, sum_acc_std
		FROM config_results ORDER BY sweep, head, sum_hidden, digit_weight, sum_weight, optimizer, lr,
		momentum, batch_size, epochs, train_size, config_key;`, "-json")
	var rows []struct {
		Sweep      string   `json:"sweep"`
		ConfigKey  string   `json:"config_key"`
		Runs       int      `json:"runs"`
		AccMean    *float64 `json:"acc_mean"`
		AccStd     *float64 `json:"acc_std"`
		R2Mean     *float64 `json:"r2_mean"`
		R2Std      *float64 `json:"r2_std"`
		SumAccMean *float64 `json:"sum_acc_mean"`
		SumAccStd  *float64 `json:"sum_acc_std"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != len(goConfigs) || len(rows) < 2 {
		t.Fatalf("CLI: %d configs, Go: %d", len(rows), len(goConfigs))
	}
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	for i, r := range rows {
		g := goConfigs[i]
		if r.Sweep != g.Sweep || r.Runs != g.Runs {
			t.Errorf("row %d: CLI %s/%d, Go %s/%d", i, r.Sweep, r.Runs, g.Sweep, g.Runs)
		}
		for _, c := range []struct {
			name     string
			cli, go_ float64
		}{
			{"acc_mean", val(r.AccMean), g.AccMean}, {"acc_std", val(r.AccStd), g.AccStd},
			{"r2_mean", val(r.R2Mean), g.R2Mean}, {"r2_std", val(r.R2Std), g.R2Std},
			{"sum_acc_mean", val(r.SumAccMean), g.SumAccMean}, {"sum_acc_std", val(r.SumAccStd), g.SumAccStd},
		} {
			// The CLI prints 15 significant digits.
			if !near(c.cli, c.go_, 1e-13) {
				t.Errorf("row %d %s: CLI %v, Go %v", i, c.name, c.cli, c.go_)
			}
		}
	}
	if strings.Contains(cli(t, path, "SELECT sqrt(4);"), "2.0") {
		// Check the Newton root against the CLI's sqrt on the same variance.
		out := cli(t, path, `
			WITH d AS (
				SELECT r.sweep, r.config_key, t.accuracy AS acc
				FROM runs r JOIN epochs t ON t.run_id = r.id AND t.split = 'test' AND t.epoch = r.epochs_done
				WHERE r.status = 'done'),
			m AS (SELECT sweep, config_key, avg(acc) AS mean, count(*) AS n FROM d GROUP BY 1, 2),
			v AS (SELECT m.sweep, m.config_key, sum((d.acc - m.mean) * (d.acc - m.mean)) / (m.n - 1) AS var
				FROM m JOIN d USING (sweep, config_key) WHERE m.n > 1 GROUP BY 1, 2)
			SELECT count(*), sum(abs(c.acc_std - sqrt(v.var)) <= 1e-15 * max(1, sqrt(v.var)))
			FROM v JOIN config_results c USING (sweep, config_key);`)
		a, b, _ := strings.Cut(strings.TrimSpace(out), "|")
		n, err1 := strconv.Atoi(a)
		ok, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || n < 2 || n != ok {
			t.Errorf("Newton std vs CLI sqrt: %d of %d agree (%q)", ok, n, out)
		}
	} else {
		t.Log("this sqlite3 CLI has no sqrt(); skipped the cross-check")
	}
}
