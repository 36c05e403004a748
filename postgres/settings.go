package postgres

import (
	"strconv"
	"strings"
)

// The settings columns come from the registry (sweep.SettingColumns,
// Settings.ColumnValues, sweep.ScanSettings), as in the SQLite backend;
// no setting is listed by hand in this package.

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
