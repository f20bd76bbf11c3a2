package web

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"atalaya/classify"
)

// span is a marked byte range of a text, with the rules that marked it.
type span struct {
	Start, End int
	Rules      []string
	Label      string
}

// evidenceSpans returns the spans the evidence marks in field of text,
// sorted and merged where they overlap. Evidence whose offsets do not fall
// on the text (a verdict made on other text) is left out.
func evidenceSpans(text, field string, evidence []classify.Evidence) []span {
	var spans []span
	for _, e := range evidence {
		if e.Field != field || e.Start < 0 || e.End > len(text) || e.Start >= e.End ||
			!utf8.RuneStart(text[e.Start]) || (e.End < len(text) && !utf8.RuneStart(text[e.End])) {
			continue
		}
		spans = append(spans, span{Start: e.Start, End: e.End, Rules: []string{e.Rule}, Label: string(e.Label)})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.Start < merged[n-1].End {
			last := &merged[n-1]
			last.End = max(last.End, s.End)
			if !slices.Contains(last.Rules, s.Rules[0]) {
				last.Rules = append(last.Rules, s.Rules[0])
			}
			if last.Label != s.Label {
				last.Label = ""
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// markedSegments cuts text[from:to] into segments, marking the parts that
// spans cover.
func markedSegments(text string, from, to int, spans []span) []segment {
	var segs []segment
	at := from
	for _, s := range spans {
		if s.End <= from || s.Start >= to {
			continue
		}
		start, end := max(s.Start, from), min(s.End, to)
		if start > at {
			segs = append(segs, segment{Text: text[at:start]})
		}
		segs = append(segs, segment{Text: text[start:end], Mark: true, Rule: strings.Join(s.Rules, ", "), Label: s.Label})
		at = end
	}
	if at < to {
		segs = append(segs, segment{Text: text[at:to]})
	}
	return segs
}

// paragraphs cuts a body (paragraphs separated by blank lines) into
// paragraphs of segments, marking the spans.
func paragraphs(body string, spans []span) [][]segment {
	var paras [][]segment
	at := 0
	for at < len(body) {
		end := strings.Index(body[at:], "\n\n")
		if end < 0 {
			end = len(body)
		} else {
			end += at
		}
		if strings.TrimSpace(body[at:end]) != "" {
			paras = append(paras, markedSegments(body, at, end, spans))
		}
		at = end + 2
	}
	return paras
}
