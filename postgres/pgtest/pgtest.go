// Package pgtest starts a throwaway PostgreSQL server for tests: one per
// test binary, started when a test first asks for a database and stopped
// by Stop, which the package's TestMain calls.
//
// It looks for Debian's server binaries (initdb, pg_ctl) on $PATH and in
// /usr/lib/postgresql/*/bin. Without them a test skips, saying how to
// install them, unless $CI is "true": then it fails. Once the binaries
// are there, a server that does not start fails the test.
//
// initdb refuses to run as root; as root the server runs as the postgres
// user (runuser -u postgres), in a temporary directory that user owns. It
// listens on a unix socket in that directory only (no TCP), with trust
// authentication. synchronous_commit is off: a commit does not wait for
// its WAL to reach the disk, the durability of the SQLite backend's
// synchronous=NORMAL.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Install says how to get the server binaries.
const Install = "PostgreSQL server not found: install it (Debian: apt-get install postgresql) to run this test"

const port = 5432

var (
	mu       sync.Mutex
	started  bool
	dir      string // owns data/, the socket and the log
	bin      string // directory of initdb and pg_ctl
	asUser   []string
	startErr error
	next     atomic.Int64
)

// findBin returns the directory holding initdb and pg_ctl, or "".
func findBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p)
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

// Available reports whether the server binaries are installed.
func Available() bool { return findBin() != "" }

// need skips or fails t when there is no server to be had.
func need(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(Install + " (CI=true: the PostgreSQL tests must run)")
	}
	t.Skip(Install)
}

func cmd(args ...string) *exec.Cmd {
	return exec.Command(asUser[0], append(asUser[1:], args...)...)
}

func start() error {
	bin = findBin()
	var err error
	if dir, err = os.MkdirTemp("", "sweep-pg-"); err != nil {
		return err
	}
	asUser = []string{"env"}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := cmd(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -p %d -c synchronous_commit=off -c max_connections=200 -c log_lock_waits=on", dir, port)
	if out, err := cmd(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"),
		"-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	started = true
	return nil
}

// Stop stops the server, if one was started, and removes its files.
// TestMain calls it after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if started {
		out, err := cmd(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v\n%s", err, out)
		}
		started = false
	}
	if dir != "" {
		os.RemoveAll(dir)
		dir = ""
	}
}

// URL returns the URL of a new, empty database on the test server,
// starting the server if this is the first call. Each call makes a
// different database.
func URL(t testing.TB) string {
	t.Helper()
	need(t)
	mu.Lock()
	if !started && startErr == nil {
		startErr = start()
	}
	err := startErr
	mu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), next.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, baseURL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return baseURL(name)
}

func baseURL(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d", db, dir, port)
}

// Log returns the server's log so far ("" if no server was started).
func Log() string {
	mu.Lock()
	defer mu.Unlock()
	if !started {
		return ""
	}
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	return string(b)
}
