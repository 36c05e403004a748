package store

import (
	"strings"

	"sweep"
)

// The settings columns, derived from the settings registry
// (sweep.SettingDefs): one column per setting, named by its key, in
// registry order, in the runs table and in the views run_results and
// config_results (config_results names the seed first_seed). These helpers
// are the only place store/ lists them.

// settingColumns is the settings' column names in registry order, each
// with prefix ("r." for an alias), comma-separated. seed names the seed's
// column ("" leaves it out).
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

// settingArgs returns the resolved values of s in settingColumns order
// (seed included), for an INSERT.
func settingArgs(s sweep.Settings) []any {
	defs := sweep.SettingDefs()
	args := make([]any, len(defs))
	for i, d := range defs {
		args[i] = d.Value(s)
	}
	return args
}

// settingsScan returns scan destinations for the columns of
// settingColumns (seed included) and a function that stores what they
// received in a Settings.
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
