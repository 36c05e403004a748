package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// want is one expected problem: exact line and key, a fragment of the
// message.
type want struct {
	line int
	key  string
	msg  string
}

func (w want) String() string { return fmt.Sprintf("%d: %s: ...%s...", w.line, w.key, w.msg) }

// problems returns the problems Parse finds in src, failing if it finds
// none.
func problems(t *testing.T, src string) Errors {
	t.Helper()
	sw, err := Parse("test.toml", []byte(src))
	if err == nil {
		t.Fatalf("no problems found; %d runs", len(sw.Runs))
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	if sw.Name != "" || sw.Runs != nil {
		t.Errorf("Parse returned a sweep with its error: %+v", sw)
	}
	return errs
}

// match checks that errs holds exactly the wanted problems, in order.
func match(t *testing.T, errs Errors, wants []want) {
	t.Helper()
	ok := len(errs) == len(wants)
	for i := 0; ok && i < len(wants); i++ {
		p, w := errs[i], wants[i]
		ok = p.Line == w.line && p.Key == w.key && strings.Contains(p.Msg, w.msg)
	}
	if !ok {
		t.Errorf("got problems:\n%v\nwant:\n%v", errs, wants)
	}
}

const head = "name = \"t\"\n" // line 1 of most cases

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []want
	}{
		// Syntax.
		{"syntax error", head + "[grid\nlr = [0.1]\n", []want{{2, "", "invalid TOML"}}},
		{"syntax error in a list", head + "[grid]\n\nlr = [0.1 0.2]\n", []want{{4, "", "invalid TOML"}}},
		{"unterminated string", head + "description = \"abc\nrepeats = 2\n", []want{{2, "", "invalid TOML: strings cannot contain newlines"}}},
		{"missing value", head + "[train]\nlr =\nepochs = 2\n", []want{{3, "", "invalid TOML"}}},
		{"key defined twice", head + "[train]\nlr = 0.1\nlr = 0.2\n", []want{{4, "", "already been defined"}}},

		// Lines of keys written in other forms.
		{"multi-line list: the key's line", head + "[grid]\nlr = [\n  0.1,\n  -0.1,\n]\n", []want{{3, "grid.lr", "item 2: lr = -0.1"}}},
		{"dotted key at top level", head + "\ntrain.lr = -1\n", []want{{3, "train.lr", "must be > 0"}}},
		{"dotted key in a table", head + "[train]\nepochs = 1\n[grid]\n\nrandom.lr = [0.1]\n", []want{{6, "grid.random", "unknown key"}}},
		{"multi-line inline table", head + "[random]\ntrials = 2\nlr = {\n  uniform = [0, 1] }\n", []want{{5, "random.lr.uniform", "lower bound 0"}}},

		// Unknown keys, with suggestions.
		{"unknown grid key", head + "[grid]\nlerning_rate = [0.01]\n", []want{{3, "grid.lerning_rate", `did you mean "lr"?`}}},
		{"unknown train key", head + "[train]\nepoch = 3\n", []want{{3, "train.epoch", `did you mean "epochs"?`}}},
		{"synonym", head + "[train]\nlearning_rate = 0.1\n", []want{{3, "train.learning_rate", `did you mean "lr"?`}}},
		{"case", head + "[train]\nLR = 0.1\n", []want{{3, "train.LR", `did you mean "lr"?`}}},
		{"unknown table", head + "[grd]\nlr = [0.1]\n", []want{{2, "grd", `did you mean "grid"?`}}},
		{"unknown top key", head + "descripton = \"x\"\n", []want{{2, "descripton", `did you mean "description"?`}}},
		{"nothing close", head + "[train]\nzzz = 1\n", []want{{3, "train.zzz", "known keys here: head, sum_hidden"}}},
		{"unknown distribution", head + "[random]\ntrials = 2\nlr = { uniforn = [0.1, 1] }\n", []want{{4, "random.lr.uniforn", `did you mean "uniform"?`}}},
		{"unknown reference key", head + "[reference]\nlabel = \"x\"\nepoch = 5\naccuracy = 0.9\nsum_r2 = 0.1\n",
			[]want{{2, "reference.digit_accuracy", "missing"}, {5, "reference.accuracy", `did you mean "digit_accuracy"?`}}},
		{"quoted unknown key", head + "[grid]\n\"learning rate\" = [0.1]\n", []want{{3, `grid."learning rate"`, `did you mean "lr"?`}}},
		{"dotted implicit table", head + "grd.lr = [0.1]\n", []want{{2, "grd", `did you mean "grid"?`}}},

		// Keys in the wrong place.
		{"setting at top level", head + "lr = 0.1\n", []want{{2, "lr", "settings go in a table: [train]"}}},
		{"seed in grid", head + "[grid]\nseed = [1, 2]\n", []want{{3, "grid.seed", "seed is only allowed in [train]"}}},
		{"seed in random", head + "[random]\ntrials = 1\nlr = { uniform = [0.1, 1] }\nseed = { choice = [1] }\n", []want{{5, "random.seed", "only allowed in [train]"}}},
		{"repeats in train", head + "[train]\nrepeats = 3\n", []want{{3, "train.repeats", "top of the file"}}},
		{"trials in grid", head + "[grid]\ntrials = [3]\n", []want{{3, "grid.trials", "trials goes in [random]"}}},
		{"name in train (after a table)", "[train]\nname = \"x\"\n", []want{{0, "name", "missing"}, {2, "train.name", "top of the file"}}},
		{"setting in two tables", head + "[train]\nlr = 0.1\n[grid]\nlr = [0.1, 0.2]\n",
			[]want{{5, "grid.lr", "lr is already given in [train] at line 3"}}},
		{"setting in three tables", head + "[random]\ntrials = 2\nlr = { uniform = [0.1, 1] }\n[grid]\nlr = [0.1]\n[train]\nlr = 0.1\n",
			[]want{{6, "grid.lr", "already given in [random] at line 4"}, {8, "train.lr", "already given in [random] at line 4"}}},

		// Types.
		{"string for number", head + "[train]\nlr = \"0.1\"\n", []want{{3, "train.lr", `want a number, got string "0.1"`}}},
		{"float for integer", head + "[train]\nepochs = 3.0\n", []want{{3, "train.epochs", "want an integer, got 3.0: write 3"}}},
		{"fraction for integer", head + "[train]\nbatch_size = 32.5\n", []want{{3, "train.batch_size", "want an integer, got float 32.5"}}},
		{"number for head", head + "[train]\nhead = 1\n", []want{{3, "train.head", `want one of "regression" or "classify", got integer 1`}}},
		{"bool for weight", head + "[train]\nsum_weight = true\n", []want{{3, "train.sum_weight", "want a number, got boolean true"}}},
		{"list in train", head + "[train]\nlr = [0.1]\n", []want{{3, "train.lr", "want a single value"}}},
		{"scalar in grid", head + "[grid]\nlr = 0.1\n", []want{{3, "grid.lr", "want a list of values, e.g. lr = [0.1]"}}},
		{"wrong type in grid list", head + "[grid]\nlr = [0.1, \"0.2\"]\n", []want{{3, "grid.lr", `item 2: want a number, got string "0.2"`}}},
		{"grid is not a table", head + "grid = [1]\n", []want{{2, "grid", "want a table [grid], got a list"}}},
		{"repeats float", head + "repeats = 2.5\n", []want{{2, "repeats", "want an integer"}}},
		{"nan", head + "[train]\nlr = nan\n", []want{{3, "train.lr", "want a finite number"}}},
		{"inf in grid", head + "[grid]\nsum_weight = [1, inf]\n", []want{{3, "grid.sum_weight", "item 2: +Inf: want a finite number"}}},
		{"description not string", head + "description = 3\n", []want{{2, "description", "want a string"}}},

		// Lists.
		{"empty grid list", head + "[grid]\nlr = []\n", []want{{3, "grid.lr", "empty list"}}},
		{"duplicate grid value", head + "[grid]\nlr = [0.1, 0.2, 0.10]\n", []want{{3, "grid.lr", "item 3 (0.1) repeats item 1"}}},
		{"duplicate int and float", head + "[grid]\nsum_weight = [1, 1.0]\n", []want{{3, "grid.sum_weight", "item 2 (1) repeats item 1"}}},
		{"duplicate string", head + "[grid]\nhead = [\"classify\", \"classify\"]\n", []want{{3, "grid.head", "repeats item 1"}}},

		// Names.
		{"missing name", "[train]\nlr = 0.1\n", []want{{0, "name", "missing"}}},
		{"empty name", "name = \"\"\n", []want{{1, "name", "must not be empty"}}},
		{"blank name", "name = \"   \"\n", []want{{1, "name", "must not be empty"}}},
		{"padded name", "name = \" x\"\n", []want{{1, "name", "must not start or end with spaces"}}},
		{"control in name", "name = \"a\\tb\"\n", []want{{1, "name", "must be printable"}}},
		{"long name", "name = \"" + strings.Repeat("x", 101) + "\"\n", []want{{1, "name", "101 characters long"}}},
		{"name not string", "name = 3\n", []want{{1, "name", "want a string, got integer 3"}}},

		// Ranges.
		{"lr zero", head + "[train]\nlr = 0\n", []want{{3, "train.lr", "lr = 0: must be > 0"}}},
		{"lr negative in grid", head + "[grid]\nlr = [0.1, -0.1]\n", []want{{3, "grid.lr", "item 2: lr = -0.1: must be > 0"}}},
		{"weight negative", head + "[train]\ndigit_weight = -1\n", []want{{3, "train.digit_weight", "must be >= 0"}}},
		{"unknown head", head + "[train]\nhead = \"clasify\"\n", []want{{3, "train.head", `unknown head "clasify": want one of "regression" or "classify" (did you mean "classify"?)`}}},
		{"unknown optimizer", head + "[grid]\noptimizer = [\"adam\", \"rmsprop\"]\n", []want{{3, "grid.optimizer", `item 2: unknown optimizer "rmsprop"`}}},
		{"train_size zero", head + "[train]\ntrain_size = 0\n", []want{{3, "train.train_size", "must be between 1 and 60000"}}},
		{"train_size too big", head + "[train]\ntrain_size = 60001\n", []want{{3, "train.train_size", "must be between 1 and 60000"}}},
		{"epochs zero", head + "[train]\nepochs = 0\n", []want{{3, "train.epochs", "must be >= 1"}}},
		{"batch_size zero", head + "[train]\nbatch_size = 0\n", []want{{3, "train.batch_size", "must be >= 1"}}},
		{"momentum one", head + "[train]\noptimizer = \"sgd\"\nmomentum = 1\n", []want{{4, "train.momentum", "must be in [0, 1)"}}},
		{"momentum negative", head + "[train]\noptimizer = \"sgd\"\nmomentum = -0.1\n", []want{{4, "train.momentum", "must be in [0, 1)"}}},
		{"sum_hidden negative", head + "[train]\nsum_hidden = -1\n", []want{{3, "train.sum_hidden", "must be >= 0"}}},
		{"repeats zero", head + "repeats = 0\n", []want{{2, "repeats", "must be >= 1"}}},

		// Combinations.
		{"both weights zero", head + "[train]\ndigit_weight = 0\n[grid]\nsum_weight = [0, 1]\nhead = [\"regression\", \"classify\"]\n",
			[]want{{5, "grid.sum_weight", `digit_weight = 0 (train.digit_weight) and sum_weight = 0 (grid.sum_weight) together leave nothing to train, in 2 of 4 configurations, e.g. head = "regression", sum_weight = 0`}}},
		{"both weights zero in train", head + "[train]\ndigit_weight = 0\nsum_weight = 0\n",
			[]want{{4, "train.sum_weight", "leave nothing to train"}}},
		{"batch larger than data", head + "[train]\ntrain_size = 100\n[grid]\nbatch_size = [64, 128]\n",
			[]want{{5, "grid.batch_size", "batch_size = 128 (grid.batch_size) is larger than train_size = 100 (train.train_size), in 1 of 2 configurations"}}},
		{"batch default larger than data", head + "[train]\ntrain_size = 10\n",
			[]want{{3, "train.train_size", "batch_size = 64 (default) is larger than train_size = 10"}}},
		{"momentum without sgd", head + "[train]\nmomentum = 0.9\n", []want{{3, "train.momentum", `only applies to optimizer = "sgd"`}}},
		{"broadcast_mse with classify", head + "[train]\nsum_loss = \"broadcast_mse\"\n",
			[]want{{3, "train.sum_loss", `sum_loss = "broadcast_mse": only with head = "regression" (the head is "classify")`}}},
		{"shuffled pairing with a classify grid point", head + "[grid]\nhead = [\"regression\", \"classify\"]\npairing = [\"aligned\", \"shuffled\"]\n",
			[]want{{4, "grid.pairing", `pairing = "shuffled": only with head = "regression" (the head is "classify"), in 1 of 4 configurations, e.g. head = "classify", pairing = "shuffled"`}}},
		{"unknown pairing", head + "[train]\npairing = \"random\"\n", []want{{3, "train.pairing", `unknown pairing "random": want one of "aligned" or "shuffled"`}}},
		{"dropout one", head + "[train]\ndropout = 1\n", []want{{3, "train.dropout", "dropout = 1: must be in [0, 1)"}}},
		{"fc_hidden real", head + "[train]\nfc_hidden = 64.0\n", []want{{3, "train.fc_hidden", "want an integer, got 64.0: write 64"}}},

		// Random.
		{"missing trials", head + "[random]\nlr = { uniform = [0.1, 1] }\n", []want{{2, "random.trials", "missing"}}},
		{"trials zero", head + "[random]\ntrials = 0\nlr = { uniform = [0.1, 1] }\n", []want{{3, "random.trials", "trials = 0: must be >= 1"}}},
		{"nothing to draw", head + "[random]\ntrials = 3\n", []want{{3, "random.trials", "no setting to draw"}}},
		{"log_uniform zero", head + "[random]\ntrials = 2\nsum_weight = { log_uniform = [0, 1] }\n", []want{{4, "random.sum_weight.log_uniform", "lower bound 0: log_uniform needs bounds > 0"}}},
		{"lr bound zero", head + "[random]\ntrials = 2\nlr = { uniform = [0, 1] }\n", []want{{4, "random.lr.uniform", "lower bound 0: lr must be > 0"}}},
		{"momentum bound one", head + "[train]\noptimizer = \"sgd\"\n[random]\ntrials = 2\nmomentum = { uniform = [0, 1] }\n", []want{{6, "random.momentum.uniform", "upper bound 1: momentum must be in [0, 1)"}}},
		{"bounds reversed", head + "[random]\ntrials = 2\nlr = { log_uniform = [0.1, 0.001] }\n", []want{{4, "random.lr.log_uniform", "lower bound 0.1 is above upper bound 0.001"}}},
		{"one bound", head + "[random]\ntrials = 2\nlr = { uniform = [0.1] }\n", []want{{4, "random.lr.uniform", "want two bounds [a, b], got a list of 1"}}},
		{"bound not a number", head + "[random]\ntrials = 2\nlr = { uniform = [\"a\", 1] }\n", []want{{4, "random.lr.uniform", "lower bound: want a number"}}},
		{"uniform on int", head + "[random]\ntrials = 2\nepochs = { uniform = [1, 5] }\n", []want{{4, "random.epochs.uniform", "use { int_uniform = [a, b] } or { choice = [...] }"}}},
		{"uniform on head", head + "[random]\ntrials = 2\nhead = { uniform = [0, 1] }\n", []want{{4, "random.head.uniform", `use { choice = ["regression", "classify"] }`}}},
		{"int_uniform on float", head + "[random]\ntrials = 2\nlr = { int_uniform = [1, 5] }\n", []want{{4, "random.lr.int_uniform", "int_uniform draws integers but lr takes real numbers"}}},
		{"int_uniform float bound", head + "[random]\ntrials = 2\nepochs = { int_uniform = [1, 2.5] }\n", []want{{4, "random.epochs.int_uniform", "upper bound: want an integer"}}},
		{"int_uniform out of range", head + "[random]\ntrials = 2\ntrain_size = { int_uniform = [1000, 70000] }\n", []want{{4, "random.train_size.int_uniform", "upper bound 70000: train_size must be between 1 and 60000"}}},
		{"empty choice", head + "[random]\ntrials = 2\nhead = { choice = [] }\n", []want{{4, "random.head.choice", "empty list"}}},
		{"bad choice", head + "[random]\ntrials = 2\noptimizer = { choice = [\"adam\", \"adamw\"] }\n", []want{{4, "random.optimizer.choice", `item 2: unknown optimizer "adamw"`}}},
		{"duplicate choice", head + "[random]\ntrials = 2\nsum_hidden = { choice = [0, 64, 0] }\n", []want{{4, "random.sum_hidden.choice", "item 3 (0) repeats item 1"}}},
		{"two distributions", head + "[random]\ntrials = 2\nlr = { uniform = [0.1, 1], log_uniform = [0.1, 1] }\n", []want{{4, "random.lr", "give exactly one distribution, got 2"}}},
		{"not a distribution", head + "[random]\ntrials = 2\nlr = [0.1, 1]\n", []want{{4, "random.lr", "want a distribution { uniform = [a, b] }"}}},
		{"distribution as subtable", head + "[random]\ntrials = 2\n[random.lr]\nlog_uniform = [0.1, 0.01]\n", []want{{5, "random.lr.log_uniform", "is above upper bound"}}},

		// Reference.
		{"reference ranges", head + "[reference]\nlabel = \"\"\nepoch = 0\ndigit_accuracy = 92\nsum_r2 = 1.5\n",
			[]want{{3, "reference.label", "must not be empty"}, {4, "reference.epoch", "must be >= 1"},
				{5, "reference.digit_accuracy", "must be a fraction in [0, 1]"}, {6, "reference.sum_r2", "must be <= 1"}}},
		{"reference incomplete", head + "\n[reference]\nlabel = \"x\"\n",
			[]want{{3, "reference.epoch", "missing"}, {3, "reference.digit_accuracy", "missing"}, {3, "reference.sum_r2", "missing"}}},
		{"reference not a table", head + "reference = \"notebook\"\n", []want{{2, "reference", "want a table"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match(t, problems(t, tt.src), tt.want)
		})
	}
}

func TestHTMLNameAccepted(t *testing.T) {
	for _, name := range []string{`<script>alert(1)</script>`, `a "quoted" & <b>bold</b> name`, "héads ✓", "x.y-z_1"} {
		src := fmt.Sprintf("name = %q\n", name)
		sw := mustParse(t, src)
		if sw.Name != name || sw.Runs[0].Sweep != name {
			t.Errorf("name %q came back as %q", name, sw.Name)
		}
	}
}

func TestTooManyRuns(t *testing.T) {
	var lrs []string
	for i := 1; i <= 101; i++ {
		lrs = append(lrs, fmt.Sprintf("%d", i))
	}
	src := head + "repeats = 100\n[grid]\nlr = [" + strings.Join(lrs, ", ") + "]\n"
	match(t, problems(t, src), []want{{4, "grid.lr", "expands to 10100 runs (lr: 101 values × repeats: 100); the limit is 10000"}})

	// The limit itself is fine.
	src = head + "repeats = 100\n[grid]\nlr = [" + strings.Join(lrs[:100], ", ") + "]\n"
	if n := len(mustParse(t, src).Runs); n != 10000 {
		t.Errorf("%d runs, want 10000", n)
	}

	// Blamed on the largest factor; absurd counts do not overflow or allocate.
	src = head + "repeats = 3\n[random]\ntrials = 9000000000000000000\nlr = { uniform = [0.1, 1] }\n"
	match(t, problems(t, src), []want{{4, "random.trials", "expands to 27000000000000000000 runs"}})
}

// TestManyErrors checks that one call reports every problem of a file, in
// line order, with exact lines.
func TestManyErrors(t *testing.T) {
	src, err := os.ReadFile("testdata/many_errors.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("testdata/many_errors.toml", src)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	match(t, errs, []want{
		{4, "repeats", "must be >= 1"},
		{7, "train.epochs", "want an integer, got 3.0: write 3"},
		{8, "train.lr", "want a single value"},
		{9, "train.optimiser", `did you mean "optimizer"?`},
		{12, "grid.lerning_rate", `did you mean "lr"?`},
		{13, "grid.head", `item 2: unknown head "clasify"`},
		{14, "grid.sum_weight", "empty list"},
		{15, "grid.batch_size", "want a list of values"},
		{16, "grid.momentum", "item 2: momentum = 1: must be in [0, 1)"},
		{20, "random.lr.log_uniform", "lower bound 0: lr must be > 0"},
		{20, "random.lr", "already given in [train] at line 8"},
		{21, "random.epochs.uniform", "uniform draws real numbers but epochs takes integers"},
		{21, "random.epochs", "already given in [train] at line 7"},
		{23, "reference.sum_r2", "missing"},
		{26, "reference.digit_accuracy", "must be a fraction"},
	})
	// Error() is one "file:line: key: msg" per problem.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(errs) {
		t.Fatalf("Error() has %d lines for %d problems", len(lines), len(errs))
	}
	if want := `testdata/many_errors.toml:12: grid.lerning_rate: unknown key; did you mean "lr"?`; lines[4] != want {
		t.Errorf("line 5 of Error() = %q, want %q", lines[4], want)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"a.toml", 3, "grid.lr", "bad"}, "a.toml:3: grid.lr: bad"},
		{Problem{"a.toml", 0, "name", "missing"}, "a.toml: name: missing"},
		{Problem{"a.toml", 2, "", "invalid TOML"}, "a.toml:2: invalid TOML"},
		{Problem{"a.toml", 0, "", "cannot read"}, "a.toml: cannot read"},
		{Problem{"", 0, "", "x"}, "x"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.toml", "# first\nname = \"same\"\n")
	b := write("b.toml", "name = \"other\"\n")
	c := write("c.toml", "\n\n\nname = \"same\"\n[train]\nlr = -1\n")
	missing := filepath.Join(dir, "missing.toml")

	sweeps, err := Load([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(sweeps) != 2 || sweeps[0].Name != "same" || sweeps[1].Name != "other" || sweeps[0].File != a {
		t.Errorf("sweeps %+v", sweeps)
	}

	// Every problem of every file together: the duplicate name is found
	// even though c.toml has another problem, and names both files.
	_, err = Load([]string{a, missing, b, c})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	wants := []string{
		missing + ": cannot read the file: no such file or directory",
		c + ":4: name: sweep name \"same\" is already used by " + a + ":2: names must be unique",
		c + ":6: train.lr: lr = -1: must be > 0",
	}
	if len(errs) != len(wants) {
		t.Fatalf("got\n%v\nwant %d problems", err, len(wants))
	}
	for i, w := range wants {
		if !strings.HasPrefix(errs[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, errs[i], w)
		}
	}

	// The same file twice.
	_, err = Load([]string{a, a})
	if err == nil || !strings.Contains(err.Error(), "the same file is given twice") {
		t.Errorf("same file twice: %v", err)
	}

	if sweeps, err := Load(nil); sweeps != nil || err != nil {
		t.Errorf("Load(nil) = %v, %v", sweeps, err)
	}
}
