// Package schema reads a storage backend's embedded schema, the same way
// for every backend (store for SQLite, postgres): numbered migrations
// NNN_name.sql, applied in order and never edited once shipped, and
// views.sql, a text/template whose {{settings "r."}} and {{config "f."}}
// expand to the settings' columns from the registry (sweep.SettingColumns:
// every setting with the seed last, and every setting but the seed), each
// after the given prefix.
package schema

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"sweep"
)

// Migration is one numbered file: NNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file's name
	SQL     string
}

// Migrations returns the migrations in dir of fsys in order, checking that
// they are numbered 1, 2, 3, … without gaps.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "[0-9]*.sql"))
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must be NNN_name.sql", base)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %03d", m.Name, i+1)
		}
	}
	return ms, nil
}

// Views expands the views template file of fsys with the settings columns.
func Views(fsys fs.FS, file string) (string, error) {
	text, err := fs.ReadFile(fsys, file)
	if err != nil {
		return "", err
	}
	tmpl, err := template.New(path.Base(file)).Funcs(template.FuncMap{
		"settings": func(prefix string) string { return sweep.SettingColumns(prefix, "seed") },
		"config":   func(prefix string) string { return sweep.SettingColumns(prefix, "") },
	}).Parse(string(text))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path.Base(file), err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("%s: %w", path.Base(file), err)
	}
	return b.String(), nil
}

// ClaimableStatuses is the SQL list of the statuses a run may be claimed
// from without a lease check: pending, and those that are retried
// (sweep.Status.Retried), each quoted: 'pending', 'failed', 'interrupted'.
func ClaimableStatuses() string {
	var q []string
	for _, s := range sweep.Statuses() {
		if s == sweep.StatusPending || s.Retried() {
			q = append(q, "'"+string(s)+"'")
		}
	}
	return strings.Join(q, ", ")
}

// EncodeAdaptive is how a sweep's [tpe] search and [prune] rule are stored
// in the sweeps table's search and prune columns: JSON text, or nil (NULL)
// when the sweep has none.
func EncodeAdaptive(s *sweep.Search, p *sweep.Prune) (search, prune any, err error) {
	if s != nil {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, nil, fmt.Errorf("encode search: %w", err)
		}
		search = string(b)
	}
	if p != nil {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, nil, fmt.Errorf("encode prune: %w", err)
		}
		prune = string(b)
	}
	return search, prune, nil
}

// DecodeAdaptive reads what EncodeAdaptive stored; "" gives nil. A choice's
// values come back with their setting's Go type (JSON has one number
// type: an integer setting's choices are made int64 again).
func DecodeAdaptive(search, prune string) (*sweep.Search, *sweep.Prune, error) {
	var s *sweep.Search
	var p *sweep.Prune
	if search != "" {
		s = new(sweep.Search)
		if err := json.Unmarshal([]byte(search), s); err != nil {
			return nil, nil, fmt.Errorf("decode search: %w", err)
		}
		for i, par := range s.Params {
			def, ok := sweep.LookupSetting(par.Key)
			if !ok {
				return nil, nil, fmt.Errorf("decode search: unknown setting %q", par.Key)
			}
			for j, c := range par.Choices {
				if f, isNum := c.(float64); isNum && def.Kind == sweep.KindInt {
					s.Params[i].Choices[j] = int64(f)
				}
			}
		}
	}
	if prune != "" {
		p = new(sweep.Prune)
		if err := json.Unmarshal([]byte(prune), p); err != nil {
			return nil, nil, fmt.Errorf("decode prune: %w", err)
		}
	}
	return s, p, nil
}

// NotRunning names the statuses as text, leaving out running: whatever a
// caller asks, a running run's checkpoint is its resume point and stays.
func NotRunning(statuses []sweep.Status) []string {
	names := []string{}
	for _, s := range statuses {
		if s != sweep.StatusRunning {
			names = append(names, string(s))
		}
	}
	return names
}
