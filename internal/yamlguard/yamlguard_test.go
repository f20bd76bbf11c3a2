package yamlguard

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// nested returns YAML nesting depth levels deep, in the given style.
func nested(style string, depth int) string {
	switch style {
	case "flow":
		return "user_agent: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
	case "flow mappings":
		return "a: " + strings.Repeat("{a: ", depth) + "1" + strings.Repeat("}", depth) + "\n"
	case "block mappings":
		var b strings.Builder
		for i := range depth {
			b.WriteString(strings.Repeat(" ", i) + "k:\n")
		}
		return b.String()
	case "compact sequences":
		return strings.Repeat("- ", depth) + "x\n"
	}
	panic("unknown style " + style)
}

func TestCheckDepth(t *testing.T) {
	for _, style := range []string{"flow", "flow mappings", "block mappings", "compact sequences"} {
		t.Run(style, func(t *testing.T) {
			if err := Check([]byte(nested(style, 10)), Limits{MaxDepth: 12}); err != nil {
				t.Errorf("10 levels under a limit of 12: got %v, want nil", err)
			}
			err := Check([]byte(nested(style, 40)), Limits{MaxDepth: 12})
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Error(), "nested more than 12 levels") || e.Line < 1 {
				t.Errorf("40 levels over a limit of 12: got %v, want an *Error with a line, naming the limit", err)
			}
		})
	}
}

// TestCheckHugeNesting is the input: 200 KB of brackets, which the
// decoder needs minutes and gigabytes for. The guard stops at the limit.
func TestCheckHugeNesting(t *testing.T) {
	doc := []byte(nested("flow", 100_000))
	err := Check(doc, Limits{})
	if err == nil || !strings.HasPrefix(err.Error(), "line 1: ") {
		t.Fatalf("Check: got %v, want a depth error on line 1", err)
	}
}

func TestCheckSize(t *testing.T) {
	err := Check([]byte(strings.Repeat("a: 1\n", 100)), Limits{MaxSize: 100})
	if err == nil || !strings.Contains(err.Error(), "500 bytes, more than the limit of 100") {
		t.Errorf("Check: got %v, want a size error", err)
	}
}

// TestCheckNotFooled checks that brackets, dashes and indentation inside
// comments, quoted scalars and block scalars are not counted.
func TestCheckNotFooled(t *testing.T) {
	deep := strings.Repeat("[", 50)
	docs := map[string]string{
		"comment":            "a: 1 # " + deep + "\n# " + deep + "\n",
		"double quoted":      `a: "` + deep + `"` + "\n",
		"single quoted":      "a: '" + deep + "'\n",
		"quoted in flow":     "a: ['" + deep + "', \"" + deep + "\"]\n",
		"multi-line quoted":  "a: \"x\n" + deep + "\n  y\"\nb: 1\n",
		"block scalar":       "a: |\n  " + deep + "\n" + strings.Repeat("            x\n", 3) + "b: 1\n",
		"folded in sequence": "- >-\n  " + deep + "\n- b\n",
		"plain with bracket": "pattern: (\\d+[" + "\nb: " + deep[:3] + "]]]\n",
		"apostrophe":         "title: don't " + deep + "\nb: 1\n",
		"anchor and tag":     "a: &x !!str [1]\nb: *x\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if err := Check([]byte(doc), Limits{MaxDepth: 8}); err != nil {
				t.Errorf("Check(%q): got %v, want nil", doc, err)
			}
		})
	}
}

// TestCheckRealFiles checks that the files Atalaya ships pass.
func TestCheckRealFiles(t *testing.T) {
	for _, path := range []string{"../../config/default.yaml", "../../classify/rules/default.yaml", "../../config/testdata/profiles.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(data, Limits{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"a: [1, {b: 'c'}]\n", "- - x\n", "a: |\n  [[\nb: \"x\n\"\n", nested("block mappings", 5)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The limit is monotonic: what passes a limit passes every higher
		// one, what fails it fails every lower one.
		err := Check(data, Limits{MaxDepth: 4})
		higher := Check(data, Limits{MaxDepth: 5})
		lower := Check(data, Limits{MaxDepth: 3})
		if err == nil && higher != nil {
			t.Errorf("%q passes a limit of 4 but not of 5: %v", data, higher)
		}
		if err != nil && lower == nil {
			t.Errorf("%q fails a limit of 4 (%v) but passes 3", data, err)
		}
	})
}
