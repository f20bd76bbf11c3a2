package classify

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"

	"atalaya"
)

// maxEvidence is how many matches of one rule in one field a verdict keeps
// as evidence; further matches count nothing more.
const maxEvidence = 3

// scratch holds the buffers of one classification; Rules pools them.
type scratch struct {
	title, body text
	hits        []hit
}

// firing is what one rule did in one release.
type firing struct {
	inTitle, inBody bool
	evidence        []Evidence
	suppressed      string // an unless phrase that suppressed a match
}

// fieldScan gathers the matches of one field.
type fieldScan struct {
	rs       *Rules
	field    string
	t        *text
	lang     atalaya.Language
	unless   map[[2]int32]string // (rule, sentence) → unless phrase
	firings  map[int]*firing
	nearHits map[[2]int][2][]hit // (rule, near clause) → hits of term A and B
}

// Classify returns the verdict on rel: its title and body are matched
// against every rule for rel's language. It does no I/O and is safe for
// concurrent use.
func (rs *Rules) Classify(rel atalaya.Release) Verdict {
	return rs.ClassifyText(rel.Title, rel.Body, rel.Language)
}

// ClassifyText classifies a title and body written in lang. An empty lang
// applies the rules of every language.
func (rs *Rules) ClassifyText(title, body string, lang atalaya.Language) Verdict {
	s := rs.pool.Get().(*scratch)
	defer rs.pool.Put(s)
	firings := make(map[int]*firing)
	s.title.prepare(title)
	s.hits = rs.scanField(FieldTitle, &s.title, lang, firings, s.hits[:0])
	s.body.prepare(body)
	s.hits = rs.scanField(FieldBody, &s.body, lang, firings, s.hits[:0])
	s.title.src, s.body.src = "", ""
	return rs.score(firings)
}

// applies reports whether rule r is used for lang in field.
func (r *Rule) applies(lang atalaya.Language, field string) bool {
	if lang != "" && len(r.Languages) > 0 && !slices.Contains(r.Languages, lang) {
		return false
	}
	return slices.Contains(r.Fields, field)
}

func (rs *Rules) scanField(field string, t *text, lang atalaya.Language, firings map[int]*firing, hits []hit) []hit {
	hits = rs.matcher.scan(t, hits)
	fs := &fieldScan{rs: rs, field: field, t: t, lang: lang, firings: firings}
	for _, h := range hits {
		ph := rs.matcher.phrases[h.phrase]
		if ph.kind == kindUnless && rs.rules[ph.rule].applies(lang, field) {
			if fs.unless == nil {
				fs.unless = make(map[[2]int32]string)
			}
			fs.unless[[2]int32{int32(ph.rule), t.toks[h.from].sent}] = ph.text
		}
	}
	for _, h := range hits {
		ph := rs.matcher.phrases[h.phrase]
		if !rs.rules[ph.rule].applies(lang, field) {
			continue
		}
		switch ph.kind {
		case kindPattern:
			fs.match(ph.rule, int(h.from), int(h.to))
		case kindNearA, kindNearB:
			fs.addNear(ph, h)
		}
	}
	fs.resolveNear()
	for _, ri := range rs.regexes {
		fs.regex(ri)
	}
	return hits
}

// match records a match of rule ri over words [from, to).
func (fs *fieldScan) match(ri, from, to int) {
	t := fs.t
	fs.matchBytes(ri, int(t.toks[from].start), int(t.toks[to-1].end), from)
}

// matchBytes records a match of rule ri over src[start:end]; tok is the
// index of a word in it, which gives the sentence.
func (fs *fieldScan) matchBytes(ri, start, end, tok int) {
	f := fs.firings[ri]
	if f == nil {
		f = &firing{}
		fs.firings[ri] = f
	}
	if u, ok := fs.unless[[2]int32{int32(ri), fs.t.toks[tok].sent}]; ok {
		f.suppressed = u
		return
	}
	if fs.field == FieldTitle {
		f.inTitle = true
	} else {
		f.inBody = true
	}
	n := 0
	for _, e := range f.evidence {
		if e.Field == fs.field {
			n++
		}
	}
	if n >= maxEvidence {
		return
	}
	r := &fs.rs.rules[ri]
	ss, se := fs.t.sentence(tok)
	f.evidence = append(f.evidence, Evidence{
		Rule: r.ID, Label: r.Label, Topic: r.Topic, Theme: r.Theme, Field: fs.field,
		Start: start, End: end, Match: fs.t.src[start:end], Sentence: fs.t.src[ss:se], Weight: r.Weight,
	})
}

func (fs *fieldScan) addNear(ph phrase, h hit) {
	if fs.nearHits == nil {
		fs.nearHits = make(map[[2]int][2][]hit)
	}
	key := [2]int{ph.rule, ph.near}
	pair := fs.nearHits[key]
	side := 0
	if ph.kind == kindNearB {
		side = 1
	}
	pair[side] = append(pair[side], h)
	fs.nearHits[key] = pair
}

// resolveNear fires the near clauses whose two terms are close enough.
func (fs *fieldScan) resolveNear() {
	keys := make([][2]int, 0, len(fs.nearHits))
	for k := range fs.nearHits {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		within := fs.rs.rules[k[0]].Near[k[1]].Within
		pair := fs.nearHits[k]
		fired := 0
		for _, a := range pair[0] {
			for _, b := range pair[1] {
				if fired >= maxEvidence {
					break
				}
				if nearGap(a, b) <= within {
					fs.match(k[0], int(min(a.from, b.from)), int(max(a.to, b.to)))
					fired++
				}
			}
		}
	}
}

// regex runs the regular expressions of rule ri over the field.
func (fs *fieldScan) regex(ri int) {
	r := &fs.rs.rules[ri]
	if !r.applies(fs.lang, fs.field) || len(fs.t.toks) == 0 {
		return
	}
	for _, re := range r.regex {
		for _, loc := range re.FindAllStringIndex(fs.t.src, maxEvidence) {
			tok := sort.Search(len(fs.t.toks), func(i int) bool { return int(fs.t.toks[i].end) > loc[0] })
			tok = min(tok, len(fs.t.toks)-1)
			fs.matchBytes(ri, loc[0], loc[1], tok)
		}
	}
}

// score turns the rules' firings into a verdict.
func (rs *Rules) score(firings map[int]*firing) Verdict {
	v := Verdict{Label: Neither, Scores: make(map[Label]float64, len(rs.labels)), RulesVersion: rs.version}
	for _, l := range rs.labels {
		v.Scores[l.Name] = 0
	}
	ids := make([]int, 0, len(firings))
	for ri := range firings {
		ids = append(ids, ri)
	}
	slices.Sort(ids)
	topic := 0.0
	for _, ri := range ids {
		f, r := firings[ri], &rs.rules[ri]
		if !f.inTitle && !f.inBody {
			if f.suppressed != "" {
				v.NearMisses = append(v.NearMisses, NearMiss{Rule: r.ID, Label: r.Label, Reason: "unless " + quote(f.suppressed) + " in the same sentence", Score: r.Weight})
			}
			continue
		}
		w := r.Weight
		if f.inTitle {
			w *= rs.scoring.TitleFactor
		}
		v.Evidence = append(v.Evidence, f.evidence...)
		if r.Label != "" {
			v.Scores[r.Label] += w
			if r.Theme != "" {
				v.Themes = append(v.Themes, r.Theme)
			}
		} else {
			topic += w
			v.Topics = append(v.Topics, r.Topic)
		}
	}
	v.Themes = sortedDistinct(v.Themes)
	v.Topics = sortedDistinct(v.Topics)
	rs.decide(&v)
	v.Relevant = v.Label != Neither || topic >= rs.scoring.Relevance
	slices.SortStableFunc(v.Evidence, func(a, b Evidence) int {
		return cmp.Or(cmp.Compare(fieldOrder(a.Field), fieldOrder(b.Field)), cmp.Compare(a.Start, b.Start))
	})
	return v
}

// decide sets the verdict's label from its scores: a label over its
// threshold wins when it is Ratio times every other label over its
// threshold; two such labels closer than that make Mixed.
func (rs *Rules) decide(v *Verdict) {
	var over []LabelDef
	for _, l := range rs.labels {
		s := v.Scores[l.Name]
		if s >= l.Threshold {
			over = append(over, l)
		} else if s > 0 {
			v.NearMisses = append(v.NearMisses, NearMiss{Label: l.Name, Reason: "score below threshold " + formatFloat(l.Threshold), Score: s})
		}
	}
	if len(over) == 0 {
		return
	}
	slices.SortStableFunc(over, func(a, b LabelDef) int { return cmp.Compare(v.Scores[b.Name], v.Scores[a.Name]) })
	best := v.Scores[over[0].Name]
	v.Label = over[0].Name
	for _, l := range over[1:] {
		s := v.Scores[l.Name]
		if best < rs.scoring.Ratio*s || best == s {
			v.Label = Mixed
			continue
		}
		v.NearMisses = append(v.NearMisses, NearMiss{Label: l.Name, Reason: "outscored by " + string(over[0].Name), Score: s})
	}
}

func fieldOrder(f string) int {
	if f == FieldTitle {
		return 0
	}
	return 1
}

func sortedDistinct(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// nearGap is the number of words between two hits; overlapping hits are
// not near each other.
func nearGap(a, b hit) int {
	switch {
	case a.to <= b.from:
		return int(b.from - a.to)
	case b.to <= a.from:
		return int(a.from - b.to)
	}
	return math.MaxInt
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
