package setters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// objChange is a change and the object it is in.
type objChange struct {
	object ObjectIdentifier
	change Change
}

// edit is one marked scalar to replace.
type edit struct {
	line, column int // of the node, 1-based, column in characters
	node         *yaml.Node
	value        string
}

// resolver returns the value a marker sets, or skip, or the problem that prevents it (the
// policy's own when dependency is true).
type resolver func(Marker) (value string, skip bool, problem string, dependency bool)

// rewrite finds the markers of data, a YAML stream, and returns data with the marked scalars
// set to what resolve says (nil when nothing changes), the changes, and the markers it could not
// apply. err is a stream that does not parse.
func rewrite(data []byte, resolve resolver) ([]byte, []objChange, []Unresolved, error) {
	docs, err := decode(data)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		edits      []edit
		changes    []objChange
		unresolved []Unresolved
	)
	for _, doc := range docs {
		id := identify(doc)
		visitValues(doc, func(n *yaml.Node) {
			m, ok, err := ParseMarker(n.LineComment)
			if !ok {
				return
			}
			raw := markerValue(n.LineComment)
			if err != nil {
				unresolved = append(unresolved, Unresolved{Line: n.Line, Marker: raw, Problem: err.Error()})
				return
			}
			value, skip, problem, dependency := resolve(m)
			switch {
			case skip:
				return
			case problem != "":
				unresolved = append(unresolved, Unresolved{Line: n.Line, Marker: raw, Problem: problem, Dependency: dependency})
				return
			case n.Kind != yaml.ScalarNode:
				unresolved = append(unresolved, Unresolved{Line: n.Line, Marker: raw, Problem: "the marked value is not a scalar (an alias, a mapping or a sequence): mark the anchored value or the image string itself"})
				return
			case n.Value == value:
				return
			}
			edits = append(edits, edit{line: n.Line, column: n.Column, node: n, value: value})
			changes = append(changes, objChange{object: id, change: Change{OldValue: n.Value, NewValue: value, Setter: m.String()}})
		})
	}
	if len(edits) == 0 {
		return nil, nil, unresolved, nil
	}
	out, failed := splice(data, edits)
	for _, f := range failed {
		unresolved = append(unresolved, Unresolved{Line: f.edit.line, Marker: markerValue(f.edit.node.LineComment), Problem: f.problem})
	}
	if len(failed) > 0 {
		return nil, nil, unresolved, nil
	}
	if err := verify(out, edits); err != nil {
		return nil, nil, append(unresolved, Unresolved{Line: edits[0].line, Marker: markerValue(edits[0].node.LineComment), Problem: err.Error()}), nil
	}
	return out, changes, unresolved, nil
}

func decode(data []byte) ([]*yaml.Node, error) {
	d := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		if err := d.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// visitValues calls f with every value node of doc: the document's root, every value of a
// mapping and every item of a sequence; never a mapping's key, whose line comment belongs to
// the key's line (`spec: # comment`), not to a value.
func visitValues(n *yaml.Node, f func(*yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			f(c)
			visitValues(c, f)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			f(n.Content[i])
			visitValues(n.Content[i], f)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			f(c)
			visitValues(c, f)
		}
	}
}

// identify reads the object a document holds: apiVersion, kind, metadata.name and namespace.
func identify(doc *yaml.Node) ObjectIdentifier {
	var id ObjectIdentifier
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return id
	}
	root := doc.Content[0]
	id.APIVersion, id.Kind = scalar(root, "apiVersion"), scalar(root, "kind")
	if md := field(root, "metadata"); md != nil && md.Kind == yaml.MappingNode {
		id.Name, id.Namespace = scalar(md, "name"), scalar(md, "namespace")
	}
	return id
}

func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if n := field(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// markerValue is the marker's "$imagepolicy" value as written, for messages.
func markerValue(comment string) string {
	m, _, err := ParseMarker(comment)
	if err == nil {
		return m.String()
	}
	var fields map[string]any
	text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	if json.Unmarshal([]byte(text), &fields) == nil {
		if v, ok := fields["$imagepolicy"].(string); ok {
			return v
		}
	}
	return comment
}

// spliceFailure is an edit splice could not make.
type spliceFailure struct {
	edit    edit
	problem string
}

// splice replaces the scalar token of each edit in data, and returns the new bytes.
func splice(data []byte, edits []edit) ([]byte, []spliceFailure) {
	lineStarts := []int{0}
	for i, b := range data {
		if b == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	type span struct {
		start, end int
		text       string
	}
	var spans []span
	var failed []spliceFailure
	for _, e := range edits {
		start, end, text, err := token(data, lineStarts, e)
		if err != nil {
			failed = append(failed, spliceFailure{edit: e, problem: err.Error()})
			continue
		}
		spans = append(spans, span{start, end, text})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var out bytes.Buffer
	last := 0
	for _, s := range spans {
		out.Write(data[last:s.start])
		out.WriteString(s.text)
		last = s.end
	}
	out.Write(data[last:])
	return out.Bytes(), failed
}

// token finds the bytes of e's scalar token in data, after its anchor and tag, and returns them
// with the text that replaces them: the new value written in the token's own style.
func token(data []byte, lineStarts []int, e edit) (int, int, string, error) {
	if e.line < 1 || e.line > len(lineStarts) {
		return 0, 0, "", errors.New("the value's position is outside the file")
	}
	off := lineStarts[e.line-1]
	for range e.column - 1 {
		if off >= len(data) || data[off] == '\n' {
			return 0, 0, "", errors.New("the value's position is outside its line")
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	// Node properties: an anchor (&name) and a tag (!tag), in either order.
	for off < len(data) && (data[off] == '&' || data[off] == '!') {
		for off < len(data) && !isBlank(data[off]) && data[off] != '\n' {
			off++
		}
		for off < len(data) && isBlank(data[off]) {
			off++
		}
	}
	n := e.node
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		end, err := quotedEnd(data, off, '"')
		return off, end, doubleQuoted(e.value), err
	case n.Style&yaml.SingleQuotedStyle != 0:
		end, err := quotedEnd(data, off, '\'')
		if bytes.ContainsAny([]byte(e.value), "\n") {
			return off, end, doubleQuoted(e.value), err
		}
		return off, end, "'" + string(bytes.ReplaceAll([]byte(e.value), []byte("'"), []byte("''"))) + "'", err
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, 0, "", errors.New("the marked value is a block scalar (| or >): write it on the marker's line")
	}
	if !bytes.HasPrefix(data[off:], []byte(n.Value)) || bytes.ContainsAny([]byte(n.Value), "\n") {
		return 0, 0, "", errors.New("the marked value spans lines: write it on the marker's line")
	}
	text := e.value
	if !plainSafe(e.value, n.Style&yaml.TaggedStyle != 0) {
		text = doubleQuoted(e.value)
	}
	return off, off + len(n.Value), text, nil
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// quotedEnd returns the offset just after the quoted scalar that starts at off, on one line.
func quotedEnd(data []byte, off int, q byte) (int, error) {
	if off >= len(data) || data[off] != q {
		return 0, errors.New("the marked value is not where the parser put it")
	}
	for i := off + 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\n':
			return 0, errors.New("the marked value spans lines: write it on the marker's line")
		case q == '"' && c == '\\':
			i++
		case c == q && q == '\'' && i+1 < len(data) && data[i+1] == '\'':
			i++
		case c == q:
			return i + 1, nil
		}
	}
	return 0, errors.New("the marked value has no closing quote")
}

// doubleQuoted writes s as a YAML double-quoted scalar; Go's escapes are YAML's.
func doubleQuoted(s string) string { return strconv.Quote(s) }

// plainSafe tells whether s, written plain, reads back as the string s: not a number, a
// boolean or null (unless the value has an explicit tag), and no character that ends or
// changes a plain scalar.
func plainSafe(s string, tagged bool) bool {
	if s == "" {
		return false
	}
	src := s
	if tagged {
		src = "!!str " + s
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	v := n.Content[0]
	return v.Kind == yaml.ScalarNode && v.Value == s && v.Tag == "!!str" && v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// verify parses out again and checks that each edited value reads as the value it was set to.
func verify(out []byte, edits []edit) error {
	docs, err := decode(out)
	if err != nil {
		return fmt.Errorf("the rewritten file does not parse (%v): the value cannot be set in place", err)
	}
	values := map[[2]int]string{}
	for _, doc := range docs {
		visitValues(doc, func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				values[[2]int{n.Line, n.Column}] = n.Value
			}
		})
	}
	for _, e := range edits {
		if got, ok := values[[2]int{e.line, e.column}]; !ok || got != e.value {
			return fmt.Errorf("the rewritten value reads as %s, not %s: the value cannot be set in place", quote(got), quote(e.value))
		}
	}
	return nil
}
