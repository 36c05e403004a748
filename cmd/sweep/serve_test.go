package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var servingURL = regexp.MustCompile(`at (http://[0-9.:\[\]]+)/`)

// lockedBuffer collects a command's output from its goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeCommand runs 'sweep serve' in-process on a free port: it prints
// the URL, answers, and stops cleanly when its context ends.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	syntheticDB(t, db, 20, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- cmdServe(ctx, []string{"--db", db, "--addr", "127.0.0.1:0"}, &stdout, &stderr) }()
	var base string
	for start := time.Now(); base == "" && time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		if m := servingURL.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no URL printed: %q %q", stdout.String(), stderr.String())
	}
	resp, err := http.Get(base + "/api/runs?sweep=big&limit=5")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"total": 20`) {
		t.Errorf("GET /api/runs: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of its context's end")
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("loopback serve printed a warning: %s", stderr.String())
	}
}

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := sweepCmd(t, "serve", "--db", filepath.Join(dir, "none.db")); code != 2 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing database: exit %d, %q", code, errOut)
	}
	if _, errOut, code := sweepCmd(t, "serve", "--addr", "8080"); code != 2 || !strings.Contains(errOut, "--addr") {
		t.Errorf("bad --addr: exit %d, %q", code, errOut)
	}
	if isLoopback("0.0.0.0") || isLoopback("") || !isLoopback("127.0.0.1") || !isLoopback("::1") || !isLoopback("localhost") {
		t.Error("isLoopback is wrong")
	}
}

// TestServeProcessSIGINT starts the real binary, on all interfaces: it
// warns that there is no authentication, serves, and exits 0 on SIGINT.
func TestServeProcessSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := sweepBinary(t)
	db := filepath.Join(t.TempDir(), "sweep.db")
	syntheticDB(t, db, 5, 2)
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "0.0.0.0:0")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v (stderr %q)", err, stderr.String())
	}
	m := regexp.MustCompile(`http://\[?[0-9a-f.:]*\]?:(\d+)/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no URL in %q", line)
	}
	resp, err := http.Get("http://127.0.0.1:" + m[1] + "/api/sweeps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/sweeps: %d", resp.StatusCode)
	}
	if !strings.Contains(stderr.String(), "WARNING") || !strings.Contains(stderr.String(), "no authentication") {
		t.Errorf("no warning for a non-loopback address: %q", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { io.Copy(io.Discard, out); waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("exit after SIGINT: %v (stderr %q)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sweep serve did not exit within 10 s of SIGINT")
	}
}
