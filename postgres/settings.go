package postgres

import (
	"strconv"
	"strings"

	"sweep"
)

// The settings columns, derived from the settings registry
// (sweep.SettingDefs) as in the SQLite backend: one column per setting,
// named by its key, in registry order. These helpers and the views
// template are the only place this package lists them.

// settingColumns is the settings' column names in registry order, each
// with prefix, comma-separated. seed names the seed's column ("" leaves it
// out).
func settingColumns(prefix, seed string) string {
	var cols []string
	for _, d := range sweep.SettingDefs() {
		name := d.Key
		if d.PerRun {
			if seed == "" {
				continue
			}
			name = seed
		}
		cols = append(cols, prefix+name)
	}
	return strings.Join(cols, ", ")
}

// placeholders returns "$from, $from+1, …" for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$")
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

// settingArgs returns the resolved values of s in settingColumns order
// (seed included).
func settingArgs(s sweep.Settings) []any {
	defs := sweep.SettingDefs()
	args := make([]any, len(defs))
	for i, d := range defs {
		args[i] = d.Value(s)
	}
	return args
}

// settingsScan returns scan destinations for settingColumns (seed
// included) and a function that stores what they received in a Settings.
func settingsScan() (dest []any, store func(*sweep.Settings)) {
	defs := sweep.SettingDefs()
	dest = make([]any, len(defs))
	for i, d := range defs {
		switch d.Kind {
		case sweep.KindFloat:
			dest[i] = new(float64)
		case sweep.KindInt:
			dest[i] = new(int64)
		default:
			dest[i] = new(string)
		}
	}
	return dest, func(s *sweep.Settings) {
		for i, d := range defs {
			switch p := dest[i].(type) {
			case *float64:
				d.Set(s, *p)
			case *int64:
				d.Set(s, *p)
			case *string:
				d.Set(s, *p)
			}
		}
	}
}
