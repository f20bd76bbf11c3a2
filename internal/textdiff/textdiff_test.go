package textdiff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []Line
	}{
		{"paragraph added at the end", "a\n\nb", "a\n\nb\n\nc", []Line{{Same, "a"}, {Same, "b"}, {Added, "c"}}},
		{"paragraph changed", "a\n\nb\n\nc", "a\n\nB\n\nc", []Line{{Same, "a"}, {Added, "B"}, {Removed, "b"}, {Same, "c"}}},
		{"blank lines and spaces do not count", "a\n\n\n\n  b ", "a\n\nb", []Line{{Same, "a"}, {Same, "b"}}},
		{"from nothing", "", "x", []Line{{Added, "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Diff(Paragraphs(tt.old), Paragraphs(tt.new), 1<<20)
			if !ok {
				t.Fatal("refused")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := Diff(strings.Split(strings.Repeat("x\n", 100), "\n"), strings.Split(strings.Repeat("y\n", 100), "\n"), 1000); ok {
		t.Error("a diff over maxCells was computed")
	}
}

// FuzzDiff compares any two texts: the diff keeps every paragraph of the old
// one (same or removed) and of the new one (same or added), in order.
func FuzzDiff(f *testing.F) {
	f.Add("a\n\nb\n\nc", "a\n\nB\n\nc\n\nd")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, oldText, newText string) {
		old, cur := Paragraphs(oldText), Paragraphs(newText)
		lines, ok := Diff(old, cur, 1<<20)
		if !ok {
			return
		}
		var gotOld, gotNew []string
		for _, l := range lines {
			if l.Op != Added {
				gotOld = append(gotOld, l.Text)
			}
			if l.Op != Removed {
				gotNew = append(gotNew, l.Text)
			}
		}
		if strings.Join(gotOld, "\x00") != strings.Join(old, "\x00") || strings.Join(gotNew, "\x00") != strings.Join(cur, "\x00") {
			t.Errorf("diff of %q and %q: %v", old, cur, lines)
		}
	})
}
