package classify

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"atalaya"
)

// Phrases returns the distinct word n-grams of 1 to maxWords words of s,
// folded as patterns are (lower case, no accents), never across sentences
// and never starting or ending with a common English or Spanish word or a
// number. Each is a phrase a rule could use as it is.
func Phrases(s string, maxWords int) []string {
	var t text
	t.prepare(s, nil)
	seen := make(map[string]bool)
	var out []string
	for i := range t.toks {
		for n := 1; n <= maxWords && i+n <= len(t.toks); n++ {
			last := i + n - 1
			if t.toks[last].sent != t.toks[i].sent {
				break
			}
			first, end := t.word(i), t.word(last)
			if stopWords[first] || stopWords[end] || isNumber(first) || isNumber(end) || len(first) < 2 {
				continue
			}
			words := make([]string, n)
			for k := range n {
				words[k] = t.word(i + k)
			}
			p := strings.Join(words, " ")
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func isNumber(w string) bool {
	return strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// stopWords are words no suggested phrase starts or ends with.
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`a an the of and or to in on at by for from with as is are was were be been has have had
		that this these those it its his her their our we he she they which who will would can could may not no also
		said says more than over into after before about under
		el la los las un una unos unas de del y o e u a al en por para con sin que se su sus lo le les es son fue fueron
		ha han como mas este esta estos estas ese esa sobre entre durante tras desde hasta ante`) {
		m[w] = true
	}
	return m
}()

// SuggestOptions tune [Suggest]. Zero values take the defaults.
type SuggestOptions struct {
	MaxWords     int     // longest n-gram; default 3
	MinSupport   int     // gold releases a phrase must be in; default 3
	MinPrecision float64 // share of them with the label; default 0.75
	Limit        int     // suggestions per label; default 15
}

// Suggestion is a phrase that separates one label on the gold.
type Suggestion struct {
	Phrase string `json:"phrase"`
	Label  Label  `json:"label"`
	// Precision is the share of gold releases with the phrase whose label
	// is Label (or mixed); Coverage, how many releases of Label have it, of
	// Support.
	Precision float64 `json:"precision"`
	Coverage  int     `json:"coverage"`
	Support   int     `json:"support"`
	// Missed is how many of the gold releases of Label that the rules get
	// wrong have the phrase.
	Missed int `json:"missed"`
	// Archive is how many archived releases have the phrase;
	// ArchiveNeither, how many of those the rules label neither though
	// they find them relevant.
	Archive        int `json:"archive"`
	ArchiveNeither int `json:"archive_neither_relevant"`
}

// Suggest lists, per declared label, phrases of the gold releases the
// rules get wrong and of archived releases they label neither but find
// relevant, ranked by how well they separate the label on the gold
// (precision × coverage). It only suggests: a person writes the rule.
// archived may be nil.
func Suggest(rs *Rules, gold []GoldRelease, archived iter.Seq[atalaya.Release], opt SuggestOptions) []Suggestion {
	opt = opt.withDefaults()
	inGold := make(map[string][]int) // phrase → indexes of gold releases
	candidate := make(map[string]bool)
	missed := make(map[string]map[Label]int)
	for i, g := range gold {
		v := rs.Classify(g.Release())
		wrong := v.Label != g.Label
		for _, p := range Phrases(g.Title+"\n"+g.Body, opt.MaxWords) {
			inGold[p] = append(inGold[p], i)
			if wrong {
				candidate[p] = true
				if missed[p] == nil {
					missed[p] = make(map[Label]int)
				}
				missed[p][g.Label]++
			}
		}
	}
	archive, neither := make(map[string]int), make(map[string]int)
	if archived != nil {
		for rel := range archived {
			v := rs.Classify(rel)
			nr := v.Label == Neither && v.Relevant
			for _, p := range Phrases(rel.Title+"\n"+rel.Body, opt.MaxWords) {
				if len(inGold[p]) < opt.MinSupport {
					continue
				}
				archive[p]++
				if nr {
					neither[p]++
					candidate[p] = true
				}
			}
		}
	}
	support := make(map[Label]int)
	for _, g := range gold {
		support[g.Label]++
	}
	var out []Suggestion
	for _, l := range rs.LabelNames() {
		var ss []Suggestion
		for p := range candidate {
			idx := inGold[p]
			if len(idx) < opt.MinSupport || missed[p][l] == 0 && neither[p] == 0 {
				continue
			}
			hits := 0
			for _, i := range idx {
				if gold[i].Label == l || gold[i].Label == Mixed {
					hits++
				}
			}
			prec := float64(hits) / float64(len(idx))
			if prec < opt.MinPrecision {
				continue
			}
			ss = append(ss, Suggestion{Phrase: p, Label: l, Precision: prec, Coverage: hits, Support: support[l] + support[Mixed],
				Missed: missed[p][l], Archive: archive[p], ArchiveNeither: neither[p]})
		}
		slices.SortFunc(ss, func(a, b Suggestion) int {
			return cmp.Or(cmp.Compare(b.Precision*float64(b.Coverage), a.Precision*float64(a.Coverage)),
				cmp.Compare(b.Missed, a.Missed), cmp.Compare(a.Phrase, b.Phrase))
		})
		out = append(out, ss[:min(len(ss), opt.Limit)]...)
	}
	return out
}

func (o SuggestOptions) withDefaults() SuggestOptions {
	if o.MaxWords == 0 {
		o.MaxWords = 3
	}
	if o.MinSupport == 0 {
		o.MinSupport = 3
	}
	if o.MinPrecision == 0 {
		o.MinPrecision = 0.75
	}
	if o.Limit == 0 {
		o.Limit = 15
	}
	return o
}
