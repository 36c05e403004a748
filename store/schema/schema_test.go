package schema

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/002_b.sql": {Data: []byte("B")},
		"m/001_a.sql": {Data: []byte("A")},
		"m/views.sql": {Data: []byte("not a migration")},
	}
	ms, err := Migrations(fsys, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "001_a.sql" || ms[1].SQL != "B" || ms[1].Version != 2 {
		t.Fatalf("Migrations = %+v, %v", ms, err)
	}
	fsys["m/004_d.sql"] = &fstest.MapFile{Data: []byte("D")}
	if _, err := Migrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "want number 003") {
		t.Errorf("a gap: %v", err)
	}
	bad := fstest.MapFS{"m/1a_x.sql": {Data: []byte("")}}
	if _, err := Migrations(bad, "m"); err == nil || !strings.Contains(err.Error(), "NNN_name.sql") {
		t.Errorf("a bad name: %v", err)
	}
}

func TestViews(t *testing.T) {
	fsys := fstest.MapFS{"v.sql": {Data: []byte(`SELECT {{settings "r."}} FROM runs r; SELECT {{config "f."}}, f.seed AS first_seed FROM runs f`)}}
	got, err := Views(fsys, "v.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "SELECT r.head, r.sum_hidden, ") || !strings.Contains(got, "r.pairing, r.seed FROM runs r;") ||
		!strings.Contains(got, "f.train_size, f.pairing, f.seed AS first_seed") {
		t.Errorf("expanded views:\n%s", got)
	}
	if _, err := Views(fstest.MapFS{"v.sql": {Data: []byte("{{nope}}")}}, "v.sql"); err == nil {
		t.Error("an unknown template function: no error")
	}
}

func TestClaimableStatuses(t *testing.T) {
	if got := ClaimableStatuses(); got != "'pending', 'failed', 'interrupted'" {
		t.Errorf("ClaimableStatuses() = %s", got)
	}
}
