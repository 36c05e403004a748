package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sweep"
)

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sweep.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sw := makeSweep("ro", seeds(baseSettings(), 2)...)
	if err := w.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}

	// Beside an open writer.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ro.Runs(ctx, RunFilter{Sweep: "ro"})
	if err != nil || len(runs) != 2 {
		t.Fatalf("Runs: %d runs, %v", len(runs), err)
	}
	if err := ro.SaveSweep(ctx, makeSweep("other", baseSettings())); err == nil {
		t.Error("SaveSweep through a read-only DB succeeded")
	}
	if _, _, err := ro.Claim(ctx, ids(sw), ownerA, time.Minute); err == nil {
		t.Error("Claim through a read-only DB succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	// After the last writer closed, when SQLite has removed -wal and -shm.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err = OpenReadOnly(path)
	if err != nil {
		t.Fatalf("open with no writer: %v", err)
	}
	defer ro.Close()
	infos, err := ro.Sweeps(ctx)
	if err != nil || len(infos) != 1 || infos[0].Counts[sweep.StatusPending] != 2 {
		t.Fatalf("Sweeps: %+v, %v", infos, err)
	}
}

func TestOpenReadOnlyRefuses(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if _, err := OpenReadOnly(missing); err == nil {
		t.Error("opened a missing file")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s", missing)
	}

	for _, tc := range []struct {
		name    string
		version int
	}{{"empty", 0}, {"older", SchemaVersion() - 1}, {"newer", SchemaVersion() + 1}} {
		path := filepath.Join(dir, tc.name+".db")
		raw, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`CREATE TABLE x (a); PRAGMA user_version = ` + strconv.Itoa(tc.version)); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		_, err = OpenReadOnly(path)
		if !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("%s (user_version %d): got %v, want ErrSchemaVersion", tc.name, tc.version, err)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

func TestChangeCounter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sweep.db")
	w := openTest(t, path, nil)
	sw := makeSweep("cc", baseSettings())
	if err := w.SaveSweep(ctx, sw); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	cc, err := ro.ChangeCounter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()

	v0, err := cc.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Runs(ctx, RunFilter{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := cc.Version(ctx); v != v0 {
		t.Errorf("version moved from %d to %d on a read", v0, v)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"claim", func() error { _, _, err := w.Claim(ctx, ids(sw), ownerA, time.Minute); return err }},
		{"epoch", func() error {
			return w.RecordEpoch(ctx, sw.Runs[0].ID, ownerA, sweep.EpochMetrics{Epoch: 1, Train: sweep.SplitMetrics{Samples: 1}, Test: sweep.SplitMetrics{Samples: 1}})
		}},
		{"finish", func() error { return w.Finish(ctx, sw.Runs[0].ID, ownerA, sweep.StatusFailed, "boom") }},
		{"new run", func() error { return w.SaveSweep(ctx, makeSweep("cc2", baseSettings())) }},
	}
	prev := v0
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		v, err := cc.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == prev {
			t.Errorf("%s: version stayed %d", s.what, v)
		}
		prev = v
	}
}
