package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The settings registry: every field of Settings is described once, here,
// and everything else derives from the description — sweep files' keys and
// their validation (pipeline), Settings.Validate, the run identity
// (RunID, ConfigKey), the database columns, inserts and scans (store), the
// report's axes (reports), `sweep train`'s flags and the tables of `sweep
// show` and `sweep plan`, and the settings tables of the README and the
// package docs (checked by tests).
//
// Adding a setting takes: a field on Settings and an entry in the registry
// (both in this file), the code that uses it (usually in model/), and per
// database backend a numbered migration that adds its column with the
// default that reproduces the runs made before it existed (the views take
// their settings columns from the registry). A test fails when any of
// these is missing, and when the README's or the manual's tables of
// settings differ from the registry.
//
// The registry's order is part of the run identity of runs that set a later
// setting away from its default: insert new entries anywhere, never reorder
// existing ones.

// Head is the form of the sum head.
type Head string

const (
	// HeadRegression predicts the sum with one linear output trained with MSE.
	HeadRegression Head = "regression"
	// HeadClassify predicts the sum as one of 19 classes (0–18) trained with NLL.
	HeadClassify Head = "classify"
)

// Optimizer names the gradient-descent variant.
type Optimizer string

const (
	OptimizerAdam Optimizer = "adam"
	OptimizerSGD  Optimizer = "sgd" // with Settings.Momentum
)

// SumInput is what the sum head reads from the digit head.
type SumInput string

const (
	// SumInputLogProbs feeds the ten digit log-probabilities, as the notebook does.
	SumInputLogProbs SumInput = "log_probs"
	// SumInputProbs feeds the ten digit probabilities (exp of the above).
	SumInputProbs SumInput = "probs"
)

// SumLoss is the regression head's loss.
type SumLoss string

const (
	// SumLossMSE is the mean squared error of each prediction against its
	// own target.
	SumLossMSE SumLoss = "mse"
	// SumLossBroadcastMSE is the mean of (p_i − t_j)² over all N² pairs of
	// a batch: what PyTorch's F.mse_loss computes when the predictions have
	// shape (N, 1) and the targets (N,), one of the notebook's suspected
	// bugs. Its minimum puts every prediction at the batch's mean target.
	SumLossBroadcastMSE SumLoss = "broadcast_mse"
)

// Pairing is how training images meet their addends and sum targets.
type Pairing string

const (
	// PairingAligned gives each image its own addend and the target
	// label + addend.
	PairingAligned Pairing = "aligned"
	// PairingShuffled gives each training image the addend and the sum
	// target of another image, re-drawn every epoch from the run's seed,
	// as two independently shuffled data loaders do (the notebook's other
	// suspected bug). The digit target stays the image's own, and the
	// test split stays aligned.
	PairingShuffled Pairing = "shuffled"
)

// Settings are the settings of one training run. Every field is an explicit
// input; nothing is read from globals. The registry (SettingDefs)
// describes each field: its key, default, range and meaning.
//
// Zero values: Head and Optimizer "" are not valid (pipeline fills the
// defaults); SumHidden 0 means the sum head is a single linear layer, as in
// the original notebook; DigitWeight or SumWeight 0 drops that loss term
// (not both); Momentum 0 is plain SGD; Dropout and WeightDecay 0 are off;
// TrainSize 0 means all 60,000 training images; Conv1Channels,
// Conv2Channels and FCHidden 0 mean the classic widths 10, 20 and 50;
// SumInput "" means log_probs; SumLoss "" means mse; Pairing "" means
// aligned; Seed 0 is a valid seed. BatchSize, Epochs and LR must be
// positive. Resolved replaces the zero values that stand for defaults by
// those defaults.
type Settings struct {
	Head          Head      `json:"head"`
	SumHidden     int       `json:"sum_hidden"`
	SumInput      SumInput  `json:"sum_input"`
	SumLoss       SumLoss   `json:"sum_loss"`
	Conv1Channels int       `json:"conv1_channels"`
	Conv2Channels int       `json:"conv2_channels"`
	FCHidden      int       `json:"fc_hidden"`
	Dropout       float64   `json:"dropout"`
	DigitWeight   float64   `json:"digit_weight"`
	SumWeight     float64   `json:"sum_weight"`
	Optimizer     Optimizer `json:"optimizer"`
	LR            float64   `json:"lr"`
	Momentum      float64   `json:"momentum"`
	WeightDecay   float64   `json:"weight_decay"`
	BatchSize     int       `json:"batch_size"`
	Epochs        int       `json:"epochs"`
	TrainSize     int       `json:"train_size"`
	Pairing       Pairing   `json:"pairing"`
	Seed          int64     `json:"seed"`
}

// TrainImages returns how many training images the run uses.
func (s Settings) TrainImages() int {
	if s.TrainSize == 0 {
		return TrainImages
	}
	return s.TrainSize
}

// Kind is the type of a setting's values.
type Kind int

const (
	KindFloat Kind = iota // float64; sweep files may write an integer
	KindInt               // int64
	KindEnum              // a string among Setting.Values
)

// Setting describes one field of Settings.
type Setting struct {
	Key     string   // TOML key and database column; flags write '-' for '_'
	Kind    Kind     // the type of its values
	Default any      // float64, int64 or string, by Kind
	Values  []string // KindEnum: the allowed values
	Doc     string   // what it means, one sentence for tables and --help
	Range   string   // the allowed values in words, for tables ("> 0", "[0, 1)")

	// Later marks settings added after the first release. They enter a
	// run's identity only when they differ from their default, so that
	// every run saved before they existed keeps its id.
	Later bool

	// PerRun marks the seed: set in [train] and by repeats, never an axis
	// of a grid or a report, and not part of a configuration.
	PerRun bool

	check    func(v any) string       // "" when v is in range, else why not
	requires func(s Settings) string  // "" when a non-default value fits the rest of s, else what it needs
	get      func(s Settings) any     // the resolved value (zero values replaced by what they mean)
	set      func(s *Settings, v any) // stores a value of the setting's type
}

// Value returns the setting's value in s, resolved: a zero value that
// means a default (train_size 0, conv1_channels 0, …) comes back as that
// default. Its type is float64, int64 or string by Kind.
func (d Setting) Value(s Settings) any { return d.get(s) }

// Set stores v, which must have the setting's type, in s.
func (d Setting) Set(s *Settings, v any) { d.set(s, v) }

// Check says why v (of the setting's type) is not an allowed value, or ""
// when it is.
func (d Setting) Check(v any) string {
	switch d.Kind {
	case KindFloat:
		x, ok := v.(float64)
		if !ok {
			return fmt.Sprintf("want a number, got %T", v)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "want a finite number"
		}
	case KindInt:
		if _, ok := v.(int64); !ok {
			return fmt.Sprintf("want an integer, got %T", v)
		}
	case KindEnum:
		x, ok := v.(string)
		if !ok || !slices.Contains(d.Values, x) {
			return "want " + QuoteList(d.Values)
		}
	}
	if d.check != nil {
		return d.check(v)
	}
	return ""
}

// Requires says what the rest of s must be for this setting to differ from
// its default (for example sum_loss = "broadcast_mse" needs the regression
// head), or "" when s is fine.
func (d Setting) Requires(s Settings) string {
	if d.requires == nil || d.IsDefault(d.Value(s)) {
		return ""
	}
	return d.requires(s)
}

// IsDefault reports whether v is the setting's default.
func (d Setting) IsDefault(v any) bool { return v == d.Default }

// Numeric reports whether the setting's values are numbers.
func (d Setting) Numeric() bool { return d.Kind != KindEnum }

// Flag is the setting's command-line flag name: the key with '-' for '_'.
func (d Setting) Flag() string { return strings.ReplaceAll(d.Key, "_", "-") }

// Format writes a value of the setting as text: the shortest exact form of
// a float (0.1, 1e-05), an integer, or an enum's string unquoted.
func (d Setting) Format(v any) string { return FormatValue(v) }

// Text is the setting's value in s, formatted.
func (d Setting) Text(s Settings) string { return d.Format(d.Value(s)) }

// TypeName names the kind for tables: "real", "integer" or "string".
func (d Setting) TypeName() string {
	switch d.Kind {
	case KindFloat:
		return "real"
	case KindInt:
		return "integer"
	}
	return "string"
}

// FormatValue writes a float64, int64 or string setting value as text.
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// QuoteList writes strings as `"a" or "b"`, or `"a", "b", "c"`.
func QuoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) == 2 {
		return q[0] + " or " + q[1]
	}
	return strings.Join(q, ", ")
}

// SettingDefs returns the registry: every setting in canonical order (the
// order of grid loops, outermost first, of random draws, of tables and of
// the run identity). The seed is last.
func SettingDefs() []Setting { return slices.Clone(registry) }

// LookupSetting returns the setting with the given key.
func LookupSetting(key string) (Setting, bool) {
	i := slices.IndexFunc(registry, func(d Setting) bool { return d.Key == key })
	if i < 0 {
		return Setting{}, false
	}
	return registry[i], true
}

// SettingKeys returns every setting's key in canonical order, the seed
// included when withSeed is set.
func SettingKeys(withSeed bool) []string {
	var keys []string
	for _, d := range registry {
		if !d.PerRun || withSeed {
			keys = append(keys, d.Key)
		}
	}
	return keys
}

// Default values of the settings that have them in code as well as in the
// registry.
const (
	DefaultConv1Channels = 10
	DefaultConv2Channels = 20
	DefaultFCHidden      = 50
)

func f64(v any) float64 { return v.(float64) }
func i64(v any) int64   { return v.(int64) }

func atLeast(min int64) func(any) string {
	return func(v any) string {
		if i64(v) < min {
			return fmt.Sprintf("must be >= %d", min)
		}
		return ""
	}
}

func between(lo, hi int64) func(any) string {
	return func(v any) string {
		if x := i64(v); x < lo || x > hi {
			return fmt.Sprintf("must be between %d and %d", lo, hi)
		}
		return ""
	}
}

func nonNegative(v any) string {
	if f64(v) < 0 {
		return "must be >= 0"
	}
	return ""
}

func positive(v any) string {
	if !(f64(v) > 0) {
		return "must be > 0"
	}
	return ""
}

// fraction accepts [0, 1).
func fraction(v any) string {
	if x := f64(v); x < 0 || x >= 1 {
		return "must be in [0, 1)"
	}
	return ""
}

// orEnum resolves an empty enum value that means def.
func orEnum[E ~string](v, def E) E {
	if v == "" {
		return def
	}
	return v
}

// orDefault resolves a zero int that means def.
func orDefault(v, def int) int64 {
	if v == 0 {
		return int64(def)
	}
	return int64(v)
}

func regressionOnly(s Settings) string {
	if s.Head != HeadRegression {
		return fmt.Sprintf("only with head = %q (the head is %q)", HeadRegression, s.Head)
	}
	return ""
}

var registry = []Setting{
	{Key: "head", Kind: KindEnum, Default: string(HeadClassify),
		Values: []string{string(HeadRegression), string(HeadClassify)},
		Doc:    `form of the sum head: "classify" (19 classes 0–18, NLL) or "regression" (one output, MSE)`,
		get:    func(s Settings) any { return string(s.Head) },
		set:    func(s *Settings, v any) { s.Head = Head(v.(string)) }},
	{Key: "sum_hidden", Kind: KindInt, Default: int64(64), Range: ">= 0",
		Doc:   "hidden ReLU units of the sum head; 0 = a single linear layer (the notebook)",
		check: atLeast(0),
		get:   func(s Settings) any { return int64(s.SumHidden) },
		set:   func(s *Settings, v any) { s.SumHidden = int(i64(v)) }},
	{Key: "sum_input", Kind: KindEnum, Default: string(SumInputLogProbs), Later: true,
		Values: []string{string(SumInputLogProbs), string(SumInputProbs)},
		Doc:    `what the sum head reads from the digit head: its "log_probs" (the notebook's) or "probs"`,
		get:    func(s Settings) any { return string(orEnum(s.SumInput, SumInputLogProbs)) },
		set:    func(s *Settings, v any) { s.SumInput = SumInput(v.(string)) }},
	{Key: "sum_loss", Kind: KindEnum, Default: string(SumLossMSE), Later: true,
		Values:   []string{string(SumLossMSE), string(SumLossBroadcastMSE)},
		Doc:      `loss of the regression head: "mse", or "broadcast_mse", the mean of (p_i − t_j)² over all pairs of a batch (what PyTorch computes for predictions of shape (N, 1) and targets (N,))`,
		requires: regressionOnly,
		get:      func(s Settings) any { return string(orEnum(s.SumLoss, SumLossMSE)) },
		set:      func(s *Settings, v any) { s.SumLoss = SumLoss(v.(string)) }},
	{Key: "conv1_channels", Kind: KindInt, Default: int64(DefaultConv1Channels), Later: true, Range: "1 to 512",
		Doc:   "output channels of the trunk's first 5×5 convolution",
		check: between(1, 512),
		get:   func(s Settings) any { return orDefault(s.Conv1Channels, DefaultConv1Channels) },
		set:   func(s *Settings, v any) { s.Conv1Channels = int(i64(v)) }},
	{Key: "conv2_channels", Kind: KindInt, Default: int64(DefaultConv2Channels), Later: true, Range: "1 to 512",
		Doc:   "output channels of the trunk's second 5×5 convolution",
		check: between(1, 512),
		get:   func(s Settings) any { return orDefault(s.Conv2Channels, DefaultConv2Channels) },
		set:   func(s *Settings, v any) { s.Conv2Channels = int(i64(v)) }},
	{Key: "fc_hidden", Kind: KindInt, Default: int64(DefaultFCHidden), Later: true, Range: "1 to 4096",
		Doc:   "units of the trunk's hidden fully connected layer",
		check: between(1, 4096),
		get:   func(s Settings) any { return orDefault(s.FCHidden, DefaultFCHidden) },
		set:   func(s *Settings, v any) { s.FCHidden = int(i64(v)) }},
	{Key: "dropout", Kind: KindFloat, Default: 0.0, Later: true, Range: "[0, 1)",
		Doc:   "probability of zeroing a unit of the trunk's hidden layer while training (inverted dropout, off at evaluation); 0 = off",
		check: fraction,
		get:   func(s Settings) any { return s.Dropout },
		set:   func(s *Settings, v any) { s.Dropout = f64(v) }},
	{Key: "digit_weight", Kind: KindFloat, Default: 1.0, Range: ">= 0",
		Doc:   "weight of the digit NLL in the loss",
		check: nonNegative,
		get:   func(s Settings) any { return s.DigitWeight },
		set:   func(s *Settings, v any) { s.DigitWeight = f64(v) }},
	{Key: "sum_weight", Kind: KindFloat, Default: 1.0, Range: ">= 0",
		Doc:   "weight of the sum loss; the two weights may not both be 0",
		check: nonNegative,
		get:   func(s Settings) any { return s.SumWeight },
		set:   func(s *Settings, v any) { s.SumWeight = f64(v) }},
	{Key: "optimizer", Kind: KindEnum, Default: string(OptimizerAdam),
		Values: []string{string(OptimizerAdam), string(OptimizerSGD)},
		Doc:    `"adam" or "sgd" (with momentum)`,
		get:    func(s Settings) any { return string(s.Optimizer) },
		set:    func(s *Settings, v any) { s.Optimizer = Optimizer(v.(string)) }},
	{Key: "lr", Kind: KindFloat, Default: 0.001, Range: "> 0",
		Doc:   "learning rate",
		check: positive,
		get:   func(s Settings) any { return s.LR },
		set:   func(s *Settings, v any) { s.LR = f64(v) }},
	{Key: "momentum", Kind: KindFloat, Default: 0.0, Range: "[0, 1)",
		Doc:   "momentum of sgd; set to 0 for adam runs",
		check: fraction,
		get:   func(s Settings) any { return s.Momentum },
		set:   func(s *Settings, v any) { s.Momentum = f64(v) }},
	{Key: "weight_decay", Kind: KindFloat, Default: 0.0, Later: true, Range: ">= 0",
		Doc:   "weight decay of every parameter: L2 added to the gradient for sgd (PyTorch's SGD weight_decay), decoupled for adam (AdamW: w ← w − lr·weight_decay·w before the step); 0 = off",
		check: nonNegative,
		get:   func(s Settings) any { return s.WeightDecay },
		set:   func(s *Settings, v any) { s.WeightDecay = f64(v) }},
	{Key: "batch_size", Kind: KindInt, Default: int64(64), Range: "1 to train_size",
		Doc:   "training batch size",
		check: atLeast(1),
		get:   func(s Settings) any { return int64(s.BatchSize) },
		set:   func(s *Settings, v any) { s.BatchSize = int(i64(v)) }},
	{Key: "epochs", Kind: KindInt, Default: int64(3), Range: ">= 1",
		Doc:   "passes over the training images",
		check: atLeast(1),
		get:   func(s Settings) any { return int64(s.Epochs) },
		set:   func(s *Settings, v any) { s.Epochs = int(i64(v)) }},
	{Key: "train_size", Kind: KindInt, Default: int64(TrainImages), Range: fmt.Sprintf("1 to %d", TrainImages),
		Doc:   "the first N training images (fewer = quicker sweeps); 0 in code means all",
		check: between(1, TrainImages),
		get:   func(s Settings) any { return int64(s.TrainImages()) },
		set:   func(s *Settings, v any) { s.TrainSize = int(i64(v)) }},
	{Key: "pairing", Kind: KindEnum, Default: string(PairingAligned), Later: true,
		Values:   []string{string(PairingAligned), string(PairingShuffled)},
		Doc:      `how training images meet addends and sum targets: "aligned", or "shuffled": each image gets another image's addend and sum target, re-drawn every epoch (two independently shuffled loaders); the test split stays aligned`,
		requires: regressionOnly,
		get:      func(s Settings) any { return string(orEnum(s.Pairing, PairingAligned)) },
		set:      func(s *Settings, v any) { s.Pairing = Pairing(v.(string)) }},
	{Key: "seed", Kind: KindInt, Default: int64(1), PerRun: true, Range: "any",
		Doc: "seed of the weights, shuffling, dropout and training addends; in sweep files the base seed, only in [train]",
		get: func(s Settings) any { return s.Seed },
		set: func(s *Settings, v any) { s.Seed = i64(v) }},
}

// Resolved returns s with every zero value that stands for a default
// replaced by that default (train_size 0 by 60000, conv1_channels 0 by 10,
// sum_input "" by "log_probs", …): the form stored in databases.
func (s Settings) Resolved() Settings {
	for _, d := range registry {
		d.set(&s, d.get(s))
	}
	return s
}

// Validate reports the first setting that cannot be trained: a value out
// of its range, a setting whose value does not fit the others, or both
// loss weights zero.
func (s Settings) Validate() error {
	for _, d := range registry {
		v := d.get(s)
		if msg := d.Check(v); msg != "" {
			return fmt.Errorf("%s = %s: %s", d.Key, quoteEnum(d, v), msg)
		}
	}
	for _, d := range registry {
		if msg := d.Requires(s); msg != "" {
			return fmt.Errorf("%s = %s: %s", d.Key, quoteEnum(d, d.get(s)), msg)
		}
	}
	if s.DigitWeight == 0 && s.SumWeight == 0 {
		return fmt.Errorf("digit_weight and sum_weight are both 0: nothing to train")
	}
	return nil
}

func quoteEnum(d Setting, v any) string {
	if d.Kind == KindEnum {
		return strconv.Quote(fmt.Sprint(v))
	}
	return d.Format(v)
}

// canonical is the settings in a fixed, versioned text form: the input of
// RunID. Floats use the shortest exact representation so 0.1 and 0.10
// hash alike. Settings marked Later appear only when they differ from
// their default, so the text (and every id) of a run that leaves them at
// their defaults is what it was before they existed.
func (s Settings) canonical() string {
	parts := []string{"v1"}
	for _, d := range registry {
		v := d.get(s)
		if d.Later && d.IsDefault(v) {
			continue
		}
		parts = append(parts, d.Key+"="+d.Format(v))
	}
	return strings.Join(parts, "\n")
}

// RunID is a run's identity: a hash of the sweep name and every resolved
// setting including the seed. The same point of the same sweep always gets
// the same ID, so re-running a sweep file finds the runs it already has.
func RunID(sweepName string, s Settings) string {
	h := sha256.Sum256([]byte("sweep=" + sweepName + "\n" + s.canonical()))
	return hex.EncodeToString(h[:6])
}

// ConfigKey identifies a configuration: the settings without the seed.
// Repeats of one configuration share it.
func ConfigKey(s Settings) string {
	s.Seed = 0
	h := sha256.Sum256([]byte(s.canonical()))
	return hex.EncodeToString(h[:6])
}

// The settings as database columns, for the storage backends: one column
// per setting, named by its key, in registry order, the seed last.

// SettingColumns is the settings' column names, each after prefix ("r."
// for a table alias), comma-separated. seed names the seed's column
// ("first_seed" in config_results); "" leaves it out.
func SettingColumns(prefix, seed string) string {
	var cols []string
	for _, d := range registry {
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

// ColumnValues returns s's resolved values in SettingColumns order (seed
// included): float64, int64 or string.
func (s Settings) ColumnValues() []any {
	vals := make([]any, len(registry))
	for i, d := range registry {
		vals[i] = d.get(s)
	}
	return vals
}

// ScanSettings returns scan destinations for the columns of SettingColumns
// (seed included) and a function that stores what they received in a
// Settings.
func ScanSettings() (dest []any, store func(*Settings)) {
	dest = make([]any, len(registry))
	for i, d := range registry {
		switch d.Kind {
		case KindFloat:
			dest[i] = new(float64)
		case KindInt:
			dest[i] = new(int64)
		default:
			dest[i] = new(string)
		}
	}
	return dest, func(s *Settings) {
		for i, d := range registry {
			switch p := dest[i].(type) {
			case *float64:
				d.set(s, *p)
			case *int64:
				d.set(s, *p)
			case *string:
				d.set(s, *p)
			}
		}
	}
}
