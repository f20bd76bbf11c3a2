package classify

import (
	"errors"
	"strings"
	"testing"
)

const header = `labels:
  - {name: kingpin, threshold: 2}
themes: [arrests]
topics: [drugs]
rules:
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error, one per problem
	}{
		{"syntax error", "labels: [\n", []string{"bad.yaml:"}},
		{"unknown top-level field", "labelz: []\n", []string{"bad.yaml:1:", "unknown field"}},
		{"duplicate id", header + "  - {id: a, label: kingpin, patterns: [x]}\n  - {id: a, label: kingpin, patterns: [y]}\n",
			[]string{`bad.yaml:7: rule "a": duplicate id (first defined on line 6)`}},
		{"unknown label", header + "  - {id: a, label: boss, patterns: [x]}\n", []string{`bad.yaml:6: rule "a": unknown label "boss"`}},
		{"unknown topic", header + "  - {id: a, topic: weather, patterns: [x]}\n", []string{`bad.yaml:6: rule "a": unknown topic "weather"`}},
		{"unknown theme", header + "  - {id: a, label: kingpin, theme: golf, patterns: [x]}\n", []string{`bad.yaml:6: rule "a": unknown theme "golf"`}},
		{"bad regex", header + "  - {id: a, label: kingpin, regex: ['(unclosed']}\n", []string{`bad.yaml:6: rule "a": bad regex`}},
		{"empty regex", header + "  - {id: a, label: kingpin, regex: ['']}\n", []string{`bad.yaml:6: rule "a": regex "" matches the empty string`}},
		{"regex matching nothing", header + "  - {id: a, label: kingpin, regex: ['x*|y?']}\n", []string{`rule "a": regex "x*|y?" matches the empty string`}},
		{"empty pattern", header + "  - {id: a, label: kingpin, patterns: ['  ...  ']}\n", []string{`bad.yaml:6: rule "a": empty pattern`}},
		{"wildcard inside word", header + "  - {id: a, label: kingpin, patterns: ['ex*dite']}\n", []string{`rule "a": wildcard`}},
		{"unknown language", header + "  - {id: a, label: kingpin, languages: [fr], patterns: [x]}\n", []string{`bad.yaml:6: rule "a": unknown language "fr"`}},
		{"unknown rule field", header + "  - id: a\n    label: kingpin\n    patternz: [x]\n", []string{`bad.yaml:8: rule "a":`, "unknown field"}},
		{"unknown field name", header + "  - {id: a, label: kingpin, fields: [footer], patterns: [x]}\n", []string{`rule "a": unknown field "footer"`}},
		{"no patterns", header + "  - {id: a, label: kingpin}\n", []string{`rule "a": rule has no patterns`}},
		{"no id", header + "  - {label: kingpin, patterns: [x]}\n", []string{"bad.yaml:6: rule has no id"}},
		{"label and topic", header + "  - {id: a, label: kingpin, topic: drugs, patterns: [x]}\n", []string{"both a label and a topic"}},
		{"bad near", header + "  - {id: a, label: kingpin, near: [{terms: [x], within: 2}]}\n", []string{"near needs two terms"}},
		{"reserved label", "labels:\n  - {name: mixed, threshold: 1}\n", []string{`label "mixed" is reserved`}},
		// In block style, a problem is reported on the line of its key, or
		// of the list element at fault.
		{"unknown label, block style", header + "  - id: a\n    patterns: [x]\n    label: boss\n", []string{`bad.yaml:8: rule "a": unknown label "boss"`}},
		{"unknown theme, block style", header + "  - id: a\n    label: kingpin\n    theme: golf\n    patterns: [x]\n", []string{`bad.yaml:8: rule "a": unknown theme "golf"`}},
		{"negative weight, block style", header + "  - id: a\n    label: kingpin\n    patterns: [x]\n    weight: -1\n", []string{`bad.yaml:9: rule "a": weight must not be negative`}},
		{"bad pattern, block style", header + "  - id: a\n    label: kingpin\n    patterns:\n      - x\n      - ex*dite\n", []string{`bad.yaml:10: rule "a": wildcard`}},
		{"bad unless, block style", header + "  - id: a\n    label: kingpin\n    patterns: [x]\n    unless:\n      - '...'\n", []string{`bad.yaml:10: rule "a": empty pattern`}},
		{"bad regex, block style", header + "  - id: a\n    label: kingpin\n    regex:\n      - ok\n      - '(unclosed'\n", []string{`bad.yaml:10: rule "a": bad regex`}},
		{"unknown language, block style", header + "  - id: a\n    label: kingpin\n    patterns: [x]\n    languages:\n      - en\n      - fr\n", []string{`bad.yaml:11: rule "a": unknown language "fr"`}},
		{"bad near, block style", header + "  - id: a\n    label: kingpin\n    near:\n      - {terms: [x, y], within: 2}\n      - {terms: [x], within: 2}\n", []string{`bad.yaml:10: rule "a": near needs two terms`}},
		{"duplicate id, block style", header + "  - {id: a, label: kingpin, patterns: [x]}\n  - label: kingpin\n    id: a\n    patterns: [y]\n", []string{`bad.yaml:8: rule "a": duplicate id (first defined on line 6)`}},
		{"every problem reported", header + "  - {id: a, label: boss, patterns: [x]}\n  - {id: b, label: kingpin, regex: ['(']}\n",
			[]string{`bad.yaml:6: rule "a"`, `bad.yaml:7: rule "b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse(strings.NewReader(tt.src), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded with %d rules, want an error", len(rs.Rules()))
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got error %T %v, want Problems", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	a, err := Parse(strings.NewReader(header+"  - {id: a, label: kingpin, patterns: [x]}\n"), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(strings.NewReader(header+"  - {id: a, label: kingpin, patterns: [y]}\n"), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == b.Version() {
		t.Errorf("got the same version %s for different files, want different", a.Version())
	}
	if got, want := Default().Version(), Default().Version(); got != want {
		t.Errorf("got version %s then %s for the same file, want equal", got, want)
	}
}

// TestParseRefusesDeepNesting checks that a rules file nested deeper than
// any rules file needs is refused before it is decoded (the YAML decoder is
// quadratic in nesting), with the line of the problem.
func TestParseRefusesDeepNesting(t *testing.T) {
	deep := "version: 1\nlabels: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	_, err := Parse(strings.NewReader(deep), "deep.yaml")
	if err == nil || !strings.Contains(err.Error(), "deep.yaml:2:") || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("Parse of deeply nested rules: %v; want a nesting problem on line 2", err)
	}
}
