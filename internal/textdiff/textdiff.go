// Package textdiff compares two versions of a text paragraph by paragraph:
// what both keep, what the new one adds and what it removes, as a reader of a
// revised press release wants to see it.
package textdiff

import "strings"

// Op is what happened to one paragraph between two versions.
type Op int

// The ops of a Line.
const (
	Same Op = iota
	Added
	Removed
)

// Line is one paragraph of a diff.
type Line struct {
	Op   Op
	Text string
}

// Paragraphs returns the non-empty paragraphs of a text whose paragraphs are
// separated by blank lines, trimmed.
func Paragraphs(text string) []string {
	var paras []string
	for p := range strings.SplitSeq(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return paras
}

// Diff returns old and new as a diff: a longest common subsequence of
// paragraphs keeps what both share, the rest is removed or added. The common
// head and tail, most of a revision, cost nothing; the rest costs the product
// of its paragraph counts, and ok is false when that is over maxCells.
func Diff(old, new []string, maxCells int) (lines []Line, ok bool) {
	head := 0
	for head < len(old) && head < len(new) && old[head] == new[head] {
		head++
	}
	tail := 0
	for tail < len(old)-head && tail < len(new)-head && old[len(old)-1-tail] == new[len(new)-1-tail] {
		tail++
	}
	a, b := old[head:len(old)-tail], new[head:len(new)-tail]
	if (len(a)+1)*(len(b)+1) > maxCells {
		return nil, false
	}
	for _, p := range old[:head] {
		lines = append(lines, Line{Same, p})
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, Line{Same, a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, Line{Added, b[j]})
			j++
		default:
			lines = append(lines, Line{Removed, a[i]})
			i++
		}
	}
	for _, p := range old[len(old)-tail:] {
		lines = append(lines, Line{Same, p})
	}
	return lines, true
}
