// Package deploy holds the files that run sweep on clusters: a Slurm job
// array (slurm/), a Kubernetes Indexed Job (k8s/) and the image they run
// (Dockerfile). Nothing here is Go but this test, which checks what can be
// checked without a cluster: the script's syntax, that the manifests
// parse and say what they must, and the Dockerfile's stages.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSlurmScript(t *testing.T) {
	const path = "slurm/sweep-array.sbatch"
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n %s: %v\n%s", path, err, out)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`#SBATCH --array=`,
		`#SBATCH --cpus-per-task=`,
		`run --no-wait --db "$SWEEP_DB" -j "$SLURM_CPUS_PER_TASK"`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable", path)
	}
	// Run it with a stand-in for the binary: it passes the database, -j
	// and the files on, refuses a SQLite path, and turns exit 1 (runs
	// failed: results) and 3 (runs other tasks hold) into success but not
	// exit 2.
	dir := t.TempDir()
	fake := filepath.Join(dir, "sweep")
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\nexit ${FAKE_STATUS:-0}\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(db, status string) (string, int) {
		cmd := exec.Command("bash", path, "configs/lr.toml")
		cmd.Env = append(os.Environ(), "SWEEP_DB="+db, "SWEEP_BIN="+fake, "SLURM_CPUS_PER_TASK=3", "FAKE_STATUS="+status)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("postgres://u@h/db", "1"); code != 0 {
		t.Errorf("exit 1 of sweep run: task exits %d\n%s", code, out)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if got := strings.TrimSpace(string(args)); got != "run --no-wait --db postgres://u@h/db -j 3 --progress log configs/lr.toml" {
		t.Errorf("sweep called with %q", got)
	}
	if _, code := run("postgres://u@h/db", "2"); code != 2 {
		t.Errorf("exit 2 of sweep run: task exits %d, want 2", code)
	}
	if out, code := run("postgres://u@h/db", "3"); code != 0 {
		t.Errorf("exit 3 of sweep run (runs held by other tasks): task exits %d\n%s", code, out)
	}
	if out, code := run("sweep.db", "0"); code != 2 || !strings.Contains(out, "must be a postgres:// URL") {
		t.Errorf("SQLite path: exit %d\n%s", code, out)
	}
}

func TestKubernetesJob(t *testing.T) {
	text, err := os.ReadFile("k8s/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("k8s/sweep-job.yaml: %v", err)
		}
		docs = append(docs, doc)
	}
	if len(docs) != 1 || docs[0]["kind"] != "Job" || docs[0]["apiVersion"] != "batch/v1" {
		t.Fatalf("want one batch/v1 Job, got %v", docs)
	}
	var job struct {
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Name    string   `yaml:"name"`
						Command []string `yaml:"command"`
						Args    []string `yaml:"args"`
						Env     []struct {
							Name      string `yaml:"name"`
							Value     string `yaml:"value"`
							ValueFrom struct {
								SecretKeyRef struct {
									Name string `yaml:"name"`
									Key  string `yaml:"key"`
								} `yaml:"secretKeyRef"`
							} `yaml:"valueFrom"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(text, &job); err != nil {
		t.Fatal(err)
	}
	s := job.Spec
	if s.CompletionMode != "Indexed" || s.Completions < 2 || s.Parallelism < 2 {
		t.Errorf("want an Indexed Job with several pods: %+v", s)
	}
	if s.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", s.Template.Spec.RestartPolicy)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	if cmd := strings.Join(append(c.Command, c.Args...), " "); !strings.Contains(cmd, "sweep run") {
		t.Errorf("the container does not run 'sweep run': %s", cmd)
	}
	found := false
	for _, e := range c.Env {
		if e.Name == "SWEEP_DB" {
			found = true
			if e.Value != "" || e.ValueFrom.SecretKeyRef.Name == "" || e.ValueFrom.SecretKeyRef.Key == "" {
				t.Errorf("SWEEP_DB must come from a Secret: %+v", e)
			}
		}
	}
	if !found {
		t.Error("the container has no SWEEP_DB")
	}
	if regexp.MustCompile(`postgres(ql)?://[^\s:@/]+:[^\s@]+@`).Match(text) && !strings.Contains(string(text), ":PASSWORD@") {
		t.Error("the manifest holds a database password")
	}
}

func TestDockerfileStages(t *testing.T) {
	text, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`).FindAllStringSubmatch(string(text), -1) {
		stages = append(stages, m[2])
	}
	if len(stages) != 2 || stages[0] != "build" || stages[1] != "run" {
		t.Fatalf("stages %q, want build and run", stages)
	}
	bodies := regexp.MustCompile(`(?m)^FROM `).Split(string(text), -1)
	build, run := bodies[1], bodies[2]
	if !strings.Contains(build, "CGO_ENABLED=1") || !strings.Contains(build, "go build") {
		t.Error("the build stage must build with cgo (the SQLite driver is C)")
	}
	for _, want := range []string{"COPY --from=build /out/sweep", "SWEEP_MNIST_DIR=", "COPY configs", "USER "} {
		if !strings.Contains(run, want) {
			t.Errorf("the run stage lacks %q", want)
		}
	}
	// The MNIST files' path in the module cache, as the build stage
	// copies it, exists here.
	m := regexp.MustCompile(`"\$\(go env GOMODCACHE\)"(\S+)`).FindStringSubmatch(build)
	if m == nil {
		t.Fatal("the build stage does not copy MNIST from the module cache")
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	pattern := strings.TrimSpace(string(out)) + strings.ReplaceAll(m[1], `\!`, `!`)
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) != 4 {
		t.Errorf("%s matches %d files, want the 4 MNIST files (go mod download first)", pattern, len(files))
	}
}
