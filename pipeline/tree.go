package pipeline

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// node is one key of a decoded TOML document with the line it is on.
type node struct {
	path     toml.Key
	line     int     // 1-based; 0 if unknown
	raw      any     // the decoded value; map[string]any for a table
	children []*node // a table's keys, in line order
}

// key is the full dotted path, quoted where TOML needs quotes.
func (n *node) key() string { return n.path.String() }

// name is the last part of the path.
func (n *node) name() string { return n.path[len(n.path)-1] }

func (n *node) isTable() bool { _, ok := n.raw.(map[string]any); return ok }

// decodeTree decodes src into a tree of nodes that know their lines.
//
// toml v1.6 records a position for every key but exports it only through
// errors: when a value's UnmarshalTOML fails, the decoder returns a
// ParseError positioned at the key being decoded. So the document is
// decoded into Primitives, and each Primitive is decoded once more into
// lineProbe, whose UnmarshalTOML always fails; the error's Position.Line is
// the key's line (for a key = value pair the line where the value starts,
// for a [table] header the header's line, for a key inside an inline
// table the key's own line). Tables made implicitly by dotted keys
// (a.b = 1) have no position of their own; they take their first key's
// line.
func decodeTree(src []byte) (*node, error) {
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&top)
	if err != nil {
		return nil, err
	}
	root := &node{raw: map[string]any{}}
	if err := build(&md, root, top); err != nil {
		return nil, err
	}
	return root, nil
}

func build(md *toml.MetaData, parent *node, prims map[string]toml.Primitive) error {
	for k, p := range prims {
		n := &node{path: append(slices.Clone(parent.path), k), line: keyLine(md, p)}
		if err := md.PrimitiveDecode(p, &n.raw); err != nil {
			return err
		}
		if n.isTable() {
			var sub map[string]toml.Primitive
			if err := md.PrimitiveDecode(p, &sub); err != nil {
				return err
			}
			if err := build(md, n, sub); err != nil {
				return err
			}
			if n.line == 0 {
				for _, c := range n.children {
					if c.line > 0 && (n.line == 0 || c.line < n.line) {
						n.line = c.line
					}
				}
			}
		}
		parent.children = append(parent.children, n)
	}
	slices.SortFunc(parent.children, func(a, b *node) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return strings.Compare(a.name(), b.name())
	})
	return nil
}

// lineProbe is decoded into only to make the decoder report a position.
type lineProbe struct{}

// probeMsg is lineProbe's error; ParseError keeps it as Message (v1.6 has
// no Unwrap).
const probeMsg = "pipeline: line probe"

func (*lineProbe) UnmarshalTOML(any) error { return errors.New(probeMsg) }

// keyLine returns the line of the key p was decoded from, or 0.
func keyLine(md *toml.MetaData, p toml.Primitive) int {
	var probe lineProbe
	var pe toml.ParseError
	if err := md.PrimitiveDecode(p, &probe); errors.As(err, &pe) && pe.Message == probeMsg {
		return pe.Position.Line
	}
	return 0
}
