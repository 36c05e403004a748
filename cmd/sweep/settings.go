package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"sweep"
)

// Settings in tables and flags, all from the settings registry
// (sweep.SettingDefs): no command lists the settings itself.

// planSettings picks the settings columns of `sweep plan`: every setting
// of the first release and the seed, and a later one (sweep.Setting.Later)
// only when some run sets it away from its default, so tables stay as
// narrow as the sweeps they show.
func planSettings(runs []sweep.Settings) []sweep.Setting {
	var out []sweep.Setting
	for _, d := range sweep.SettingDefs() {
		if !d.Later || anyNonDefault(d, runs) {
			out = append(out, d)
		}
	}
	return out
}

// varyingSettings picks the settings that take more than one value among
// runs, then the seed: the columns that tell the runs of `sweep runs`
// apart.
func varyingSettings(runs []sweep.Settings) []sweep.Setting {
	var out []sweep.Setting
	for _, d := range sweep.SettingDefs() {
		if d.PerRun {
			out = append(out, d)
			continue
		}
		for _, s := range runs[min(1, len(runs)):] {
			if d.Text(s) != d.Text(runs[0]) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func anyNonDefault(d sweep.Setting, runs []sweep.Settings) bool {
	for _, s := range runs {
		if !d.IsDefault(d.Value(s)) {
			return true
		}
	}
	return false
}

// settingsHeader is the settings' keys as tab-terminated table cells.
func settingsHeader(defs []sweep.Setting) string {
	var b strings.Builder
	for _, d := range defs {
		b.WriteString(d.Key + "\t")
	}
	return b.String()
}

// settingsCells is s's values of defs as tab-terminated table cells.
func settingsCells(defs []sweep.Setting, s sweep.Settings) string {
	var b strings.Builder
	for _, d := range defs {
		b.WriteString(d.Text(s) + "\t")
	}
	return b.String()
}

// settingFlags defines one flag per setting on fs (the key with '-' for
// '_': -sum-hidden, -weight-decay), each defaulting to the registry's
// default and documented by its Doc. The returned function stores the
// parsed values in a Settings.
func settingFlags(fs *flag.FlagSet) func() (sweep.Settings, error) {
	type parsed struct {
		d sweep.Setting
		v *string
	}
	var ps []parsed
	for _, d := range sweep.SettingDefs() {
		// flag prints the backquoted word as the value's name: -lr real,
		// -head regression|classify.
		usage := d.Doc + " (`" + d.TypeName() + "` " + d.Range + ")"
		if d.Kind == sweep.KindEnum {
			usage = d.Doc + " (`" + strings.Join(d.Values, "|") + "`)"
		}
		ps = append(ps, parsed{d, fs.String(d.Flag(), d.Format(d.Default), usage)})
	}
	return func() (sweep.Settings, error) {
		var s sweep.Settings
		for _, p := range ps {
			v, err := parseSetting(p.d, *p.v)
			if err != nil {
				return s, usageError{fmt.Errorf("-%s %s: %w", p.d.Flag(), *p.v, err)}
			}
			p.d.Set(&s, v)
		}
		return s, nil
	}
}

// parseSetting reads a value of d from text and checks its range.
func parseSetting(d sweep.Setting, text string) (any, error) {
	var v any
	switch d.Kind {
	case sweep.KindFloat:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("want a number")
		}
		v = f
	case sweep.KindInt:
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer")
		}
		v = i
	default:
		v = text
	}
	if msg := d.Check(v); msg != "" {
		return nil, fmt.Errorf("%s", msg)
	}
	return v, nil
}

// settingsLine is "head classify, sum_hidden 64, …, seed 1": the settings
// of planSettings for one run.
func settingsLine(s sweep.Settings) string {
	var parts []string
	for _, d := range planSettings([]sweep.Settings{s}) {
		parts = append(parts, d.Key+" "+d.Text(s))
	}
	return strings.Join(parts, ", ")
}
