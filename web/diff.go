package web

import "strings"

// maxDiffCells bounds the work of a diff: the product of the paragraph
// counts of the two versions.
const maxDiffCells = 1 << 20

// diffOp is what happened to one paragraph between two versions.
type diffOp int

const (
	diffSame diffOp = iota
	diffAdded
	diffRemoved
)

// diffLine is one paragraph of a diff.
type diffLine struct {
	Op   diffOp
	Text string
}

// Same, Added and Removed let templates test a line's op.
func (l diffLine) Same() bool    { return l.Op == diffSame }
func (l diffLine) Added() bool   { return l.Op == diffAdded }
func (l diffLine) Removed() bool { return l.Op == diffRemoved }

// splitParagraphs returns the non-empty paragraphs of a text whose
// paragraphs are separated by blank lines.
func splitParagraphs(text string) []string {
	var paras []string
	for p := range strings.SplitSeq(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return paras
}

// diffParagraphs returns the paragraphs of old and new as a diff: a longest
// common subsequence keeps what both share, the rest is removed or added.
// ok is false when the texts are too long to compare within maxDiffCells.
func diffParagraphs(old, new []string) (lines []diffLine, ok bool) {
	// Trim the common head and tail, which is most of a revision.
	head := 0
	for head < len(old) && head < len(new) && old[head] == new[head] {
		head++
	}
	tail := 0
	for tail < len(old)-head && tail < len(new)-head && old[len(old)-1-tail] == new[len(new)-1-tail] {
		tail++
	}
	a, b := old[head:len(old)-tail], new[head:len(new)-tail]
	if (len(a)+1)*(len(b)+1) > maxDiffCells {
		return nil, false
	}
	for _, p := range old[:head] {
		lines = append(lines, diffLine{diffSame, p})
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
			lines = append(lines, diffLine{diffSame, a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, diffLine{diffAdded, b[j]})
			j++
		default:
			lines = append(lines, diffLine{diffRemoved, a[i]})
			i++
		}
	}
	for _, p := range old[len(old)-tail:] {
		lines = append(lines, diffLine{diffSame, p})
	}
	return lines, true
}
