package pipeline

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"sweep"
)

// TestDocListsEverySetting checks the settings table of the manual
// (doc.go) against the registry: every setting is there, in registry
// order, with its type and default.
func TestDocListsEverySetting(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for _, d := range sweep.SettingDefs() {
		def := d.Format(d.Default)
		if d.Kind == sweep.KindEnum {
			def = strconv.Quote(def)
		}
		re := regexp.MustCompile(`(?m)^//\t` + regexp.QuoteMeta(d.Key) + ` +` + d.TypeName() + ` +` + regexp.QuoteMeta(def) + `( |$)`)
		loc := re.FindIndex(src)
		if loc == nil {
			t.Errorf("doc.go's settings table has no row %q %s %s", d.Key, d.TypeName(), def)
			continue
		}
		if loc[0] < last {
			t.Errorf("doc.go lists %s out of the registry's order", d.Key)
		}
		last = loc[0]
	}
}
