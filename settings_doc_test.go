package sweep

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's settings table from the registry")

// settingsMarkdown is the README's table of settings, made from the
// registry.
func settingsMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | type | default | values | meaning |\n|---|---|---|---|---|\n")
	for _, d := range SettingDefs() {
		values := d.Range
		if d.Kind == KindEnum {
			values = "`" + strings.Join(d.Values, "`, `") + "`"
		}
		b.WriteString("| `" + d.Key + "` | " + d.TypeName() + " | " + d.Format(d.Default) + " | " + values + " | " +
			strings.ReplaceAll(d.Doc, "|", "\\|") + " |\n")
	}
	return b.String()
}

const (
	settingsBegin = "<!-- BEGIN settings table: made from the registry by `go test . -run TestREADMESettings -update` -->\n"
	settingsEnd   = "<!-- END settings table -->"
)

// TestREADMESettings fails when the README's settings table is not the
// registry's (run it with -update to rewrite the table).
func TestREADMESettings(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, settingsBegin), strings.Index(readme, settingsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no settings table between %q and %q", settingsBegin, settingsEnd)
	}
	got, want := readme[i+len(settingsBegin):j], settingsMarkdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(readme[:i+len(settingsBegin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's settings table differs from the registry (go test . -run TestREADMESettings -update):\n%s", want)
}
