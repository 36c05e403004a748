package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a sweep file.
type Problem struct {
	File string // path as given; "" when the problem is not about one file
	Line int    // 1-based; 0 when no line can be named (a missing key, an unreadable file)
	Key  string // full dotted key, e.g. "grid.lr" or "random.lr.log_uniform"; "" for the whole file
	Msg  string
}

// String formats the problem as "file:line: key: msg", leaving out the
// parts that are empty or 0.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem found in the sweep files, in file order and,
// within a file, in line order. Parse and Load return it as their error
// when there is at least one problem, and a nil error otherwise.
type Errors []Problem

// Error lists the problems one per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortLines orders the problems of one file by line; problems without a
// line (about the file as a whole) come first. The sort is stable, so
// problems on one line keep the order they were found in.
func (e Errors) sortLines() {
	sort.SliceStable(e, func(i, j int) bool { return e[i].Line < e[j].Line })
}
