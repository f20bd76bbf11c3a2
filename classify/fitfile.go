package classify

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	yamlparser "github.com/goccy/go-yaml/parser"
)

// lineEdit sets key to value in the mapping whose line is at: on the
// key's own line when the mapping has it (col is where its value starts,
// old its text), else on a new line after line at, indented by indent.
type lineEdit struct {
	line, col int // 1-based; col 0: insert a new line after line
	old       string
	indent    int
	key       string
	value     string
}

// WriteFitted returns the rules file src with the weights, thresholds and
// relevance of f written in: every other byte, comments included, is
// kept. A rule or label that has no weight or threshold key gets one on a
// new line after its first key, so it must be written in block style.
func WriteFitted(src []byte, f Fitted) ([]byte, error) {
	file, err := yamlparser.ParseBytes(src, yamlparser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("classify: reading rules to write fitted weights: %w", err)
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, fmt.Errorf("classify: the rules file is empty")
	}
	top := mappingValues(file.Docs[0].Body)
	var edits []lineEdit
	for _, item := range sequenceOf(top["rules"]) {
		m := mappingValues(item)
		w, ok := f.Weights[scalarOf(m["id"])]
		if !ok {
			continue
		}
		e, err := editKey(item, m, "weight", w)
		if err != nil {
			return nil, fmt.Errorf("classify: rule %q: %w", scalarOf(m["id"]), err)
		}
		edits = append(edits, e)
	}
	for _, item := range sequenceOf(top["labels"]) {
		m := mappingValues(item)
		t, ok := f.Thresholds[Label(scalarOf(m["name"]))]
		if !ok {
			continue
		}
		e, err := editKey(item, m, "threshold", t)
		if err != nil {
			return nil, fmt.Errorf("classify: label %q: %w", scalarOf(m["name"]), err)
		}
		edits = append(edits, e)
	}
	if f.Relevance > 0 {
		if sc, ok := top["scoring"]; ok {
			e, err := editKey(sc, mappingValues(sc), "relevance", f.Relevance)
			if err != nil {
				return nil, fmt.Errorf("classify: scoring: %w", err)
			}
			edits = append(edits, e)
		} else {
			src = append(bytes.TrimRight(src, "\n"), []byte("\nscoring:\n  relevance: "+formatFloat(f.Relevance)+"\n")...)
		}
	}
	return applyEdits(src, edits)
}

// editKey plans setting key to value in the mapping node n (values m).
func editKey(n ast.Node, m map[string]ast.Node, key string, value float64) (lineEdit, error) {
	val := formatFloat(value)
	if v, ok := m[key]; ok {
		tk := v.GetToken()
		if tk == nil || tk.Position == nil {
			return lineEdit{}, fmt.Errorf("no position for %s", key)
		}
		return lineEdit{line: tk.Position.Line, col: tk.Position.Column, old: tk.Value, key: key, value: val}, nil
	}
	mn, ok := n.(*ast.MappingNode)
	if !ok || mn.IsFlowStyle || len(mn.Values) == 0 {
		return lineEdit{}, fmt.Errorf("has no %s key and is not written in block style: add \"%s: 1\" to it and fit again", key, key)
	}
	first := mn.Values[0].Key.GetToken()
	return lineEdit{line: first.Position.Line, indent: first.Position.Column - 1, key: key, value: val}, nil
}

// applyEdits applies edits to src, last line first.
func applyEdits(src []byte, edits []lineEdit) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	slices.SortFunc(edits, func(a, b lineEdit) int { return b.line - a.line })
	for _, e := range edits {
		if e.line < 1 || e.line > len(lines) {
			return nil, fmt.Errorf("classify: line %d out of range", e.line)
		}
		ln := lines[e.line-1]
		if e.col == 0 {
			lines = slices.Insert(lines, e.line, strings.Repeat(" ", e.indent)+e.key+": "+e.value+"\n")
			continue
		}
		r := []rune(ln)
		at := e.col - 1
		if at+len([]rune(e.old)) > len(r) || string(r[at:at+len([]rune(e.old))]) != e.old {
			return nil, fmt.Errorf("classify: line %d: cannot find %s value %q to replace", e.line, e.key, e.old)
		}
		lines[e.line-1] = string(r[:at]) + e.value + string(r[at+len([]rune(e.old)):])
	}
	return []byte(strings.Join(lines, "")), nil
}

// mappingValues returns the values of a mapping node by key.
func mappingValues(n ast.Node) map[string]ast.Node {
	out := make(map[string]ast.Node)
	for _, mv := range mappingEntries(n) {
		if mv.Key != nil && mv.Key.GetToken() != nil {
			out[mv.Key.GetToken().Value] = mv.Value
		}
	}
	return out
}

func sequenceOf(n ast.Node) []ast.Node {
	if s, ok := n.(*ast.SequenceNode); ok {
		return s.Values
	}
	return nil
}

func scalarOf(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	if s, err := strconv.Unquote(n.GetToken().Value); err == nil {
		return s
	}
	return n.GetToken().Value
}
