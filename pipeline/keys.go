package pipeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"sweep"
)

// kind is the type of a setting's values.
type kind = sweep.Kind

const (
	kindFloat = sweep.KindFloat // float64; integers are accepted and converted
	kindInt   = sweep.KindInt   // int64; floats are rejected
	kindEnum  = sweep.KindEnum  // string from a fixed set
)

// setting is one key of sweep.Settings as it is written in a file: the
// registry's entry (sweep.SettingDefs) in the shape the parser uses.
type setting struct {
	name  string
	kind  kind
	def   any                            // default: float64, int64 or string by kind
	enum  []string                       // allowed values of a kindEnum
	check func(v any) string             // "" when v is in range, else why not
	set   func(s *sweep.Settings, v any) // stores v in s
}

// settingKeys returns the settings a sweep file may give in [train], [grid]
// or [random], in the registry's canonical order, which is also the order of
// the grid's nested loops (first key outermost) and of random draws. The
// seed is not among them: [train] handles it with repeats.
func settingKeys() []setting {
	var out []setting
	for _, d := range sweep.SettingDefs() {
		if d.PerRun {
			continue
		}
		out = append(out, setting{name: d.Key, kind: d.Kind, def: d.Default, enum: d.Values, check: d.Check, set: d.Set})
	}
	return out
}

// Keys of the other tables, for unknown-key suggestions.
func topKeys() []string {
	return []string{"name", "description", "repeats", "train", "grid", "random", "tpe", "prune", "reference"}
}
func tpeKeys() []string { return []string{"trials", "startup_trials", "objective", "direction"} }
func pruneKeys() []string {
	return []string{"method", "metric", "direction", "min_epochs", "reduction_factor"}
}
func referenceKeys() []string { return []string{"label", "epoch", "digit_accuracy", "sum_r2"} }
func distKeys() []string      { return []string{"uniform", "log_uniform", "int_uniform", "choice"} }

// convert turns a raw TOML value into the setting's Go type, or says why it
// cannot.
func (s setting) convert(raw any) (any, string) {
	switch s.kind {
	case kindFloat:
		switch v := raw.(type) {
		case int64:
			return float64(v), ""
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Sprintf("%v: want a finite number", v)
			}
			return v, ""
		}
		return nil, "want a number, got " + describe(raw)
	case kindInt:
		switch v := raw.(type) {
		case int64:
			return v, ""
		case float64:
			if v == math.Trunc(v) && math.Abs(v) < 1e15 {
				return nil, fmt.Sprintf("want an integer, got %s: write %d", fmtFloatLiteral(v), int64(v))
			}
			return nil, "want an integer, got " + describe(raw)
		}
		return nil, "want an integer, got " + describe(raw)
	default:
		v, ok := raw.(string)
		if !ok {
			return nil, fmt.Sprintf("want one of %s, got %s", sweep.QuoteList(s.enum), describe(raw))
		}
		for _, e := range s.enum {
			if v == e {
				return v, ""
			}
		}
		msg := fmt.Sprintf("unknown %s %q: want one of %s", s.name, v, sweep.QuoteList(s.enum))
		if d := suggest(v, s.enum); d != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", d)
		}
		return nil, msg
	}
}

// value converts and range-checks raw. The message names the value when it
// is about its range.
func (s setting) value(raw any) (any, string) {
	v, msg := s.convert(raw)
	if msg != "" {
		return nil, msg
	}
	if s.check != nil {
		if msg := s.check(v); msg != "" {
			return nil, fmt.Sprintf("%s = %s: %s", s.name, fmtValue(v), msg)
		}
	}
	return v, ""
}

// describe names the type and value of a raw TOML value for messages.
func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return "float " + fmtFloatLiteral(v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case time.Time:
		return "a date/time"
	}
	return fmt.Sprintf("%T", raw)
}

// fmtValue formats a converted value as it would be written in TOML.
func fmtValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// fmtFloatLiteral formats a float so that it reads as a float (64.0, not 64).
func fmtFloatLiteral(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

// aliases maps names people commonly write for a key to the key, for
// suggestions only: they are never accepted as the key itself.
func aliases() map[string]string {
	return map[string]string{
		"learning_rate": "lr", "learningrate": "lr", "lrate": "lr", "rate": "lr", "step_size": "lr", "eta": "lr",
		"batch": "batch_size", "batchsize": "batch_size", "bs": "batch_size", "minibatch": "batch_size",
		"epoch": "epochs", "n_epochs": "epochs", "num_epochs": "epochs", "nepochs": "epochs",
		"hidden": "sum_hidden", "hidden_size": "sum_hidden", "sum_hidden_size": "sum_hidden", "sum_units": "sum_hidden",
		"mom": "momentum", "beta": "momentum",
		"opt": "optimizer", "optim": "optimizer", "optimiser": "optimizer", "solver": "optimizer",
		"sum_head": "head", "head_type": "head", "loss": "head",
		"train_images": "train_size", "n_train": "train_size", "num_train": "train_size", "samples": "train_size", "subset": "train_size",
		"seeds": "repeats", "n_seeds": "repeats", "num_seeds": "repeats", "repeat": "repeats", "runs": "repeats", "replicates": "repeats",
		"n_trials": "trials", "num_trials": "trials", "samples_count": "trials", "n_samples": "trials",
		"digit_loss_weight": "digit_weight", "sum_loss_weight": "sum_weight",
		"desc": "description", "title": "name",
		"loguniform": "log_uniform", "log": "log_uniform", "range": "uniform", "randint": "int_uniform", "values": "choice", "choices": "choice", "one_of": "choice",
		"accuracy": "digit_accuracy", "r2": "sum_r2",
		"max": "maximize", "maximise": "maximize", "maximum": "maximize", "higher": "maximize",
		"min": "minimize", "minimise": "minimize", "minimum": "minimize", "lower": "minimize",
		"startup": "startup_trials", "n_startup_trials": "startup_trials", "warmup_trials": "startup_trials",
		"target": "objective", "goal": "objective", "optimize": "objective",
		"reduction": "reduction_factor", "grace_period": "min_epochs",
		"pruner": "method", "sha": "asha", "successive_halving": "asha",
	}
}

// suggest returns the known key closest to name, or "" if none is close
// enough to be a likely typo or synonym. Known keys are tried before
// aliases and ties go to the first candidate, so the answer is stable.
func suggest(name string, known []string) string {
	n := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(name)))
	type candidate struct{ text, key string }
	var cands []candidate
	for _, k := range known {
		cands = append(cands, candidate{k, k})
	}
	al := aliases()
	names := make([]string, 0, len(al))
	for a := range al {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		if slices.Contains(known, al[a]) {
			cands = append(cands, candidate{a, al[a]})
		}
	}
	limit := min(max(len([]rune(n))/3, 1), 3)
	best, bestD := "", limit+1
	for _, c := range cands {
		if d := levenshtein(n, c.text); d < bestD {
			best, bestD = c.key, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
