package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"sweep"
)

// MaxRuns is the most runs one sweep file may expand to. It guards against
// a grid or repeats count typed with a digit too many.
const MaxRuns = 10000

// MaxNameLen is the longest sweep name accepted, in characters.
const MaxNameLen = 100

// Parse parses and validates one sweep file's text and expands it into
// runs; file is used in messages and stored as Sweep.File. On failure the
// error is an Errors holding every problem found.
func Parse(file string, src []byte) (sweep.Sweep, error) {
	sw, _, probs := parse(file, src)
	if len(probs) > 0 {
		return sweep.Sweep{}, probs
	}
	return sw, nil
}

// Load reads, parses and validates the files, and checks that their sweep
// names are unique. It returns the sweeps in the order of paths, or an
// Errors holding every problem of every file. No paths gives no sweeps and
// no error.
func Load(paths []string) ([]sweep.Sweep, error) {
	type seen struct {
		file string
		line int
	}
	var (
		all    Errors
		sweeps []sweep.Sweep
		names  = map[string]seen{}
	)
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			msg := err.Error()
			var pe *os.PathError
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			all = append(all, Problem{File: path, Msg: "cannot read the file: " + msg})
			continue
		}
		sw, nameLine, probs := parse(path, src)
		if sw.Name != "" {
			if first, dup := names[sw.Name]; dup {
				msg := fmt.Sprintf("sweep name %q is already used by %s", sw.Name, first.file)
				if first.line > 0 {
					msg = fmt.Sprintf("%s:%d", msg, first.line)
				}
				msg += ": names must be unique across the files given"
				if filepath.Clean(first.file) == filepath.Clean(path) {
					msg += " (the same file is given twice)"
				}
				probs = append(probs, Problem{File: path, Line: nameLine, Key: "name", Msg: msg})
				probs.sortLines()
			} else {
				names[sw.Name] = seen{path, nameLine}
			}
		}
		all = append(all, probs...)
		sweeps = append(sweeps, sw)
	}
	if len(all) > 0 {
		return nil, all
	}
	return sweeps, nil
}

// parse does Parse's work. It also returns the line of the name key, and
// fills Sweep.Name whenever the name itself is valid, so that Load can
// check names across files that have other problems.
func parse(file string, src []byte) (sweep.Sweep, int, Errors) {
	p := &parser{file: file}
	sw := sweep.Sweep{File: file, Source: string(src)}
	h := sha256.Sum256(src)
	sw.Hash = hex.EncodeToString(h[:])

	root, err := decodeTree(src)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			p.add(syntaxLine(pe, src), "", "invalid TOML: %s", pe.Message)
		} else {
			p.add(0, "", "invalid TOML: %v", err)
		}
		return sw, 0, p.probs
	}
	sp := p.spec(root)
	sw.Name, sw.Description, sw.Reference = sp.name, sp.description, sp.ref
	if len(p.probs) == 0 {
		if sp.tpe != nil {
			sw.Search = p.search(sp)
		} else {
			sw.Runs = p.expand(sp)
		}
	}
	if len(p.probs) == 0 && sp.prune != nil {
		sw.Prune = p.prune(sp, sw)
	}
	if len(p.probs) > 0 {
		sw.Runs, sw.Search, sw.Prune = nil, nil, nil
		p.probs.sortLines()
	}
	return sw, sp.nameLine, p.probs
}

// syntaxLine is the line of a TOML syntax error. It is counted from the
// error's byte offset: the decoder's own Position.Line is one too far when
// the error is at the newline ending a line (as in an unclosed "[grid").
func syntaxLine(pe toml.ParseError, src []byte) int {
	if start := pe.Position.Start; start > 0 && start <= len(src) {
		return 1 + bytes.Count(src[:start], []byte("\n"))
	}
	return pe.Position.Line
}

// parser collects the problems of one file.
type parser struct {
	file  string
	probs Errors
}

func (p *parser) add(line int, key, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) at(n *node, format string, args ...any) {
	p.add(n.line, n.key(), format, args...)
}

// origin says where a setting's values come from.
type origin struct {
	key  string // e.g. "grid.lr"; "" for the default
	line int
}

func (o origin) String() string {
	if o.key == "" {
		return "default"
	}
	return o.key
}

// axis is one [grid] list.
type axis struct {
	set  setting
	vals []any
	at   origin
}

// dist is one [random] distribution.
type dist struct {
	set     setting
	at      origin
	kind    string // uniform, log_uniform, int_uniform or choice
	lo, hi  float64
	ilo     int64
	ihi     int64
	choices []any
}

// spec is a sweep file after checking each key on its own.
type spec struct {
	name        string
	nameLine    int
	description string
	repeats     int64
	repeatsAt   origin
	seed        int64
	fixed       map[string]any // [train] settings
	axes        []axis         // [grid], canonical order
	dists       []dist         // [random], canonical order
	trials      int64          // 0 without [random]
	trialsAt    origin
	ref         *sweep.Reference
	from        map[string]origin // where each setting given in the file is
	tables      map[string]int    // line of each table given ([grid], [random], …)
	tpe         *tpeSpec          // nil without [tpe]
	prune       *pruneSpec        // nil without [prune]
}

// tpeSpec is a checked [tpe] table.
type tpeSpec struct {
	at        origin // the table
	trials    int64  // 0 when missing or invalid
	trialsAt  origin
	startup   int64
	objective sweep.Metric // Name "" when missing or invalid
	dists     []dist       // the space, canonical order
}

// pruneSpec is a checked [prune] table.
type pruneSpec struct {
	at          origin // the table
	method      string
	metric      sweep.Metric // Name "" until given or taken from [tpe]
	metricGiven bool
	higher      *bool // direction, when given
	minEpochs   int64
	minEpochsAt origin // zero: the default
	eta         int64  // 0 for median
}

func (p *parser) spec(root *node) *spec {
	sp := &spec{repeats: 1, seed: 1, fixed: map[string]any{}, from: map[string]origin{}, tables: map[string]int{}}
	defs := settingKeys()
	byName := map[string]setting{}
	var names []string
	for _, s := range defs {
		byName[s.name] = s
		names = append(names, s.name)
	}
	// Every place a setting is given, to report settings given twice.
	type place struct {
		section string
		at      origin
	}
	places := map[string][]place{}
	given := func(section string, n *node) {
		places[n.name()] = append(places[n.name()], place{section, origin{n.key(), n.line}})
	}

	haveName := false
	for _, n := range root.children {
		if n.isTable() {
			sp.tables[n.name()] = n.line
		}
		switch n.name() {
		case "name":
			haveName = true
			sp.nameLine = n.line
			if name, ok := p.name(n); ok {
				sp.name = name
			}
		case "description":
			if s, ok := n.raw.(string); ok {
				sp.description = s
			} else {
				p.at(n, "want a string, got %s", describe(n.raw))
			}
		case "repeats":
			sp.repeatsAt = origin{n.key(), n.line}
			if v, ok := p.intAtLeast(n, 1); ok {
				sp.repeats = v
			}
		case "train":
			if !p.table(n) {
				continue
			}
			for _, c := range n.children {
				k := c.name()
				switch s, ok := byName[k]; {
				case k == "seed":
					if v, msg := (setting{name: "seed", kind: kindInt}).convert(c.raw); msg != "" {
						p.at(c, "%s", msg)
					} else {
						sp.seed = v.(int64)
					}
				case ok:
					given("train", c)
					if _, isList := c.raw.([]any); isList {
						p.at(c, "want a single value: [train] sets one value for every run; a list of values to try goes in [grid]")
						continue
					}
					if c.isTable() {
						p.at(c, "want a single value, got a table; distributions go in [random]")
						continue
					}
					if v, msg := s.value(c.raw); msg != "" {
						p.at(c, "%s", msg)
					} else {
						sp.fixed[k] = v
					}
				default:
					p.unknown(c, "train", append(slices.Clone(names), "seed"))
				}
			}
		case "grid":
			if !p.table(n) {
				continue
			}
			for _, c := range n.children {
				s, ok := byName[c.name()]
				if !ok {
					p.unknown(c, "grid", names)
					continue
				}
				given("grid", c)
				if a, ok := p.axis(s, c); ok {
					sp.axes = append(sp.axes, a)
				}
			}
		case "random":
			if !p.table(n) {
				continue
			}
			p.random(sp, n, byName, names, func(c *node) { given("random", c) })
		case "tpe":
			if p.table(n) {
				sp.tpe = p.tpe(n, byName, names, func(c *node) { given("tpe", c) })
			}
		case "prune":
			if p.table(n) {
				sp.prune = p.pruneTable(n)
			}
		case "reference":
			if p.table(n) {
				sp.ref = p.reference(n)
			}
		default:
			p.unknown(n, "", topKeys())
		}
	}
	if !haveName {
		p.add(0, "name", `missing: every sweep file needs a name, e.g. name = "heads"`)
	}

	p.adaptive(sp)

	// A setting may be given in only one of [train], [grid] and [random]
	// (or of [train] and [tpe]).
	for _, s := range defs {
		ps := places[s.name]
		slices.SortStableFunc(ps, func(a, b place) int { return a.at.line - b.at.line })
		for i, pl := range ps {
			if i == 0 {
				sp.from[s.name] = pl.at
				continue
			}
			tables := "[train], [grid] and [random]"
			if sp.tpe != nil {
				tables = "[train] and [tpe]"
			}
			p.add(pl.at.line, pl.at.key, "%s is already given in [%s] at line %d: a setting may appear in only one of %s",
				s.name, ps[0].section, ps[0].at.line, tables)
		}
	}

	// Canonical order for the grid's loops and the random draws.
	order := func(name string) int { return slices.Index(names, name) }
	slices.SortFunc(sp.axes, func(a, b axis) int { return order(a.set.name) - order(b.set.name) })
	slices.SortFunc(sp.dists, func(a, b dist) int { return order(a.set.name) - order(b.set.name) })
	if sp.tpe != nil {
		slices.SortFunc(sp.tpe.dists, func(a, b dist) int { return order(a.set.name) - order(b.set.name) })
	}

	if sp.repeats > 1 && sp.seed > math.MaxInt64-(sp.repeats-1) {
		p.add(sp.repeatsAt.line, sp.repeatsAt.key, "seeds %d to %d+%d overflow a 64-bit integer: use a smaller seed", sp.seed, sp.seed, sp.repeats-1)
	}
	p.guard(sp)
	return sp
}

// guard reports a file that would expand to more than MaxRuns runs, at the
// key that multiplies the count most.
func (p *parser) guard(sp *spec) {
	total := float64(sp.repeats)
	var parts []string
	biggest, at := float64(sp.repeats), sp.repeatsAt
	for _, a := range sp.axes {
		n := float64(len(a.vals))
		total *= n
		parts = append(parts, fmt.Sprintf("%s: %d values", a.set.name, len(a.vals)))
		if n > biggest {
			biggest, at = n, a.at
		}
	}
	trials, trialsAt := sp.trials, sp.trialsAt
	if sp.tpe != nil && sp.tpe.trials > 0 {
		trials, trialsAt = sp.tpe.trials, sp.tpe.trialsAt
	}
	if trials > 0 {
		total *= float64(trials)
		parts = append(parts, fmt.Sprintf("trials: %d", trials))
		if float64(trials) > biggest {
			biggest, at = float64(trials), trialsAt
		}
	}
	parts = append(parts, fmt.Sprintf("repeats: %d", sp.repeats))
	if total <= MaxRuns {
		return
	}
	key := at.key
	if key == "" {
		key = "repeats"
	}
	p.add(at.line, key, "the file expands to %.0f runs (%s); the limit is %d per file: shrink the grid, trials or repeats, or split the sweep",
		total, strings.Join(parts, " × "), MaxRuns)
}

// name checks the sweep's name: any printable text, since reports escape
// it, but not empty, not padded with spaces and not too long.
func (p *parser) name(n *node) (string, bool) {
	s, ok := n.raw.(string)
	switch {
	case !ok:
		p.at(n, "want a string, got %s", describe(n.raw))
	case strings.TrimSpace(s) == "":
		p.at(n, "must not be empty")
	case strings.TrimSpace(s) != s:
		p.at(n, "%q: must not start or end with spaces", s)
	case utf8.RuneCountInString(s) > MaxNameLen:
		p.at(n, "is %d characters long: the limit is %d", utf8.RuneCountInString(s), MaxNameLen)
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		p.at(n, "%q: must be printable (no tabs, newlines or control characters)", s)
	default:
		return s, true
	}
	return "", false
}

// table reports n if it is not a table.
func (p *parser) table(n *node) bool {
	if n.isTable() {
		return true
	}
	p.at(n, "want a table [%s], got %s", n.name(), describe(n.raw))
	return false
}

func (p *parser) intAtLeast(n *node, min int64) (int64, bool) {
	v, msg := (setting{name: n.name(), kind: kindInt}).convert(n.raw)
	if msg != "" {
		p.at(n, "%s", msg)
		return 0, false
	}
	if v.(int64) < min {
		p.at(n, "%s = %d: must be >= %d", n.name(), v, min)
		return 0, false
	}
	return v.(int64), true
}

// unknown reports a key that does not belong where it is. section is the
// table it is in ("" for the top level). Keys that belong elsewhere get a
// hint where; others get the closest known key, if one is close.
func (p *parser) unknown(n *node, section string, known []string) {
	k := n.name()
	isSetting := slices.ContainsFunc(settingKeys(), func(s setting) bool { return s.name == k })
	var hint string
	switch {
	case section == "" && isSetting:
		hint = "settings go in a table: [train] for one value for all runs, [grid] for a list of values, [random] for a distribution, [tpe] for a space to search"
	case k == "seed":
		hint = "seed is only allowed in [train]: for several seeds per configuration use repeats = N at the top of the file"
	case k == "repeats" || k == "name" || k == "description":
		hint = k + " goes at the top of the file, before the first table"
	case k == "trials" && section != "random" && section != "tpe":
		hint = "trials goes in [random] or [tpe]"
	case section != "reference" && slices.Contains(referenceKeys(), k) && suggest(k, known) == "":
		hint = k + " goes in [reference]"
	case (section == "random" || section == "tpe") && slices.Contains(distKeys(), k):
		hint = fmt.Sprintf("a distribution belongs to a setting, e.g. lr = { %s = [...] }", k)
	}
	if hint != "" {
		p.at(n, "unknown key here: %s", hint)
		return
	}
	msg := "unknown key"
	if s := suggest(k, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; known keys here: " + strings.Join(known, ", ")
	}
	p.at(n, "%s", msg)
}

// axis checks one [grid] list.
func (p *parser) axis(s setting, n *node) (axis, bool) {
	list, ok := n.raw.([]any)
	if !ok {
		if n.isTable() {
			p.at(n, "want a list of values, got a table; distributions go in [random]")
		} else {
			p.at(n, "want a list of values, e.g. %s = [%s], got %s; one value for every run goes in [train]",
				s.name, fmtRaw(n.raw), describe(n.raw))
		}
		return axis{}, false
	}
	if len(list) == 0 {
		p.at(n, "empty list: give at least one value")
		return axis{}, false
	}
	vals, ok := p.values(s, n, list)
	return axis{set: s, vals: vals, at: origin{n.key(), n.line}}, ok
}

// values checks the items of a list of setting values: each converted and
// in range, none repeated.
func (p *parser) values(s setting, n *node, list []any) ([]any, bool) {
	var vals []any
	var idx []int
	ok := true
	for i, raw := range list {
		v, msg := s.value(raw)
		if msg != "" {
			p.at(n, "item %d: %s", i+1, msg)
			ok = false
			continue
		}
		if j := slices.Index(vals, v); j >= 0 {
			p.at(n, "item %d (%s) repeats item %d: each value may appear once", i+1, fmtValue(v), idx[j]+1)
			ok = false
			continue
		}
		vals = append(vals, v)
		idx = append(idx, i)
	}
	return vals, ok
}

// fmtRaw formats a raw scalar TOML value for an example.
func fmtRaw(raw any) string {
	switch v := raw.(type) {
	case float64, int64, string:
		return fmtValue(v)
	}
	return "..."
}

// random checks the [random] table.
func (p *parser) random(sp *spec, n *node, byName map[string]setting, names []string, given func(*node)) {
	var trialsNode *node
	bad := false
	for _, c := range n.children {
		if _, isSetting := byName[c.name()]; !isSetting && c.name() != "trials" {
			p.unknown(c, "random", append(slices.Clone(names), "trials"))
			continue
		}
		if c.name() == "trials" {
			trialsNode = c
			sp.trialsAt = origin{c.key(), c.line}
			if v, ok := p.intAtLeast(c, 1); ok {
				sp.trials = v
			} else {
				bad = true
			}
			continue
		}
		if !p.spaceKey(c, byName, &sp.dists, given) {
			bad = true
		}
	}
	switch {
	case trialsNode == nil && len(sp.dists) > 0:
		sp.dists = nil
		p.add(n.line, "random.trials", "missing: say how many random draws to make, e.g. trials = 8")
	case trialsNode != nil && len(sp.dists) == 0 && !bad:
		sp.trials = 0
		p.at(trialsNode, "[random] has no setting to draw: add one, e.g. lr = { log_uniform = [1e-4, 1e-1] }")
	}
}

// spaceKey checks the distribution of the setting c names, in [random] or
// [tpe], and appends it to dists; false if it is not valid.
func (p *parser) spaceKey(c *node, byName map[string]setting, dists *[]dist, given func(*node)) bool {
	given(c)
	d, ok := p.dist(byName[c.name()], c)
	if ok {
		*dists = append(*dists, d)
	}
	return ok
}

// dist checks one [random] or [tpe] distribution.
func (p *parser) dist(s setting, n *node) (dist, bool) {
	d := dist{set: s, at: origin{n.key(), n.line}}
	var example string
	switch s.kind {
	case kindFloat:
		example = "{ uniform = [a, b] }, { log_uniform = [a, b] } or { choice = [...] }"
	case kindInt:
		example = "{ int_uniform = [a, b] } or { choice = [...] }"
	default:
		example = fmt.Sprintf("{ choice = [%s] }", strings.Join(strings.Split(sweep.QuoteList(s.enum), " or "), ", "))
	}
	if !n.isTable() {
		p.at(n, "want a distribution %s, got %s", example, describe(n.raw))
		return d, false
	}
	if len(n.children) != 1 {
		var ks []string
		for _, c := range n.children {
			ks = append(ks, c.name())
		}
		if len(ks) == 0 {
			p.at(n, "empty: want a distribution %s", example)
		} else {
			p.at(n, "give exactly one distribution, got %d (%s)", len(ks), strings.Join(ks, ", "))
		}
		return d, false
	}
	c := n.children[0]
	d.kind = c.name()
	switch d.kind {
	case "choice":
		list, ok := c.raw.([]any)
		if !ok {
			p.at(c, "want a list of values to choose from, got %s", describe(c.raw))
			return d, false
		}
		if len(list) == 0 {
			p.at(c, "empty list: give at least one value")
			return d, false
		}
		d.choices, ok = p.values(s, c, list)
		return d, ok
	case "uniform", "log_uniform":
		if s.kind != kindFloat {
			p.at(c, "%s draws real numbers but %s takes %s: use %s", d.kind, s.name, kindText(s), example)
			return d, false
		}
	case "int_uniform":
		if s.kind != kindInt {
			p.at(c, "int_uniform draws integers but %s takes %s: use %s", s.name, kindText(s), example)
			return d, false
		}
	default:
		p.unknown(c, "distribution", distKeys())
		return d, false
	}

	list, ok := c.raw.([]any)
	if !ok || len(list) != 2 {
		p.at(c, "want two bounds [a, b], got %s", describeList(c.raw))
		return d, false
	}
	lo, msg1 := s.convert(list[0])
	hi, msg2 := s.convert(list[1])
	if msg1 != "" || msg2 != "" {
		if msg1 != "" {
			p.at(c, "lower bound: %s", msg1)
		}
		if msg2 != "" {
			p.at(c, "upper bound: %s", msg2)
		}
		return d, false
	}
	ok = true
	for _, b := range []struct {
		which string
		v     any
	}{{"lower", lo}, {"upper", hi}} {
		if msg := s.check(b.v); msg != "" {
			p.at(c, "%s bound %s: %s %s", b.which, fmtValue(b.v), s.name, msg)
			ok = false
		}
	}
	if s.kind == kindInt {
		d.ilo, d.ihi = lo.(int64), hi.(int64)
		d.lo, d.hi = float64(d.ilo), float64(d.ihi)
	} else {
		d.lo, d.hi = lo.(float64), hi.(float64)
	}
	if d.lo > d.hi {
		p.at(c, "lower bound %s is above upper bound %s", fmtValue(lo), fmtValue(hi))
		ok = false
	}
	if d.kind == "log_uniform" && d.lo <= 0 && ok {
		p.at(c, "lower bound %s: log_uniform needs bounds > 0", fmtValue(lo))
		ok = false
	}
	return d, ok
}

func kindText(s setting) string {
	switch s.kind {
	case kindFloat:
		return "real numbers"
	case kindInt:
		return "integers"
	}
	return "one of " + sweep.QuoteList(s.enum)
}

func describeList(raw any) string {
	if l, ok := raw.([]any); ok {
		return fmt.Sprintf("a list of %d", len(l))
	}
	return describe(raw)
}

// reference checks the [reference] table. All four keys are required:
// sweep.Reference has no way to say a figure is missing.
func (p *parser) reference(n *node) *sweep.Reference {
	ref := &sweep.Reference{}
	have := map[string]bool{}
	ok := true
	number := func(c *node) (float64, bool) {
		v, msg := (setting{kind: kindFloat}).convert(c.raw)
		if msg != "" {
			p.at(c, "%s", msg)
			return 0, false
		}
		return v.(float64), true
	}
	for _, c := range n.children {
		k := c.name()
		switch k {
		case "label":
			have[k] = true
			s, isStr := c.raw.(string)
			switch {
			case !isStr:
				p.at(c, "want a string, got %s", describe(c.raw))
				ok = false
			case strings.TrimSpace(s) == "":
				p.at(c, "must not be empty")
				ok = false
			default:
				ref.Label = s
			}
		case "epoch":
			have[k] = true
			if v, good := p.intAtLeast(c, 1); good {
				ref.Epoch = int(v)
			} else {
				ok = false
			}
		case "digit_accuracy":
			have[k] = true
			v, good := number(c)
			if good && (v < 0 || v > 1) {
				p.at(c, "digit_accuracy = %s: must be a fraction in [0, 1] (0.92, not 92)", fmtValue(v))
				good = false
			}
			ref.DigitAccuracy, ok = v, ok && good
		case "sum_r2":
			have[k] = true
			v, good := number(c)
			if good && v > 1 {
				p.at(c, "sum_r2 = %s: must be <= 1", fmtValue(v))
				good = false
			}
			ref.SumR2, ok = v, ok && good
		default:
			p.unknown(c, "reference", referenceKeys())
		}
	}
	for _, k := range referenceKeys() {
		if !have[k] {
			p.add(n.line, "reference."+k, "missing: a reference needs label, epoch, digit_accuracy and sum_r2")
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return ref
}
