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

// scratch holds the state of one classification; Rules pools it, so a
// classification allocates little more than its verdict.
type scratch struct {
	title, body text
	hits        []hit
	slot        []int32    // per rule: 1 + its index in fired, or 0
	fired       []firing   // the rules that matched, in order of first match
	evidence    []Evidence // of every rule, in order of recording
	order       []evidenceKey
	unless      []unlessHit
	near        []nearHit
	themes      []string   // of the verdict, before sorting
	topics      []string   // likewise
	over        []LabelDef // labels over their thresholds
}

// firing is what one rule did in one release.
type firing struct {
	rule            int
	inTitle, inBody bool
	title, body     int    // evidence recorded in each field
	suppressed      string // an unless phrase that suppressed a match
}

// evidenceKey orders evidence in a verdict: by field, offset, then rule
// and order of recording.
type evidenceKey struct {
	field, start, rule, seq int
}

// unlessHit is an unless phrase of rule found in sentence sent.
type unlessHit struct {
	rule, sent int32
	seq        int32 // order found: a later phrase is the one reported
	text       string
}

// nearHit is a hit of one term (side 0 or 1) of near clause near of rule.
type nearHit struct {
	rule, near int32
	side       int32
	h          hit
}

// fieldScan gathers the matches of one field.
type fieldScan struct {
	rs    *Rules
	s     *scratch
	field string
	t     *text
	lang  atalaya.Language
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
	if len(s.slot) != len(rs.rules) {
		s.slot = make([]int32, len(rs.rules))
	}
	s.title.prepare(title, rs.matcher)
	rs.scanField(s, FieldTitle, &s.title, lang)
	s.body.prepare(body, rs.matcher)
	rs.scanField(s, FieldBody, &s.body, lang)
	v := rs.score(s)
	s.reset()
	return v
}

// reset readies s for the next classification and drops its references
// to the text classified.
func (s *scratch) reset() {
	for _, f := range s.fired {
		s.slot[f.rule] = 0
	}
	clear(s.fired)
	clear(s.evidence)
	clear(s.unless)
	s.fired, s.evidence, s.unless = s.fired[:0], s.evidence[:0], s.unless[:0]
	s.title.src, s.body.src = "", ""
	s.title.m, s.body.m = nil, nil
}

// applies reports whether rule r is used for lang in field.
func (r *Rule) applies(lang atalaya.Language, field string) bool {
	if lang != "" && len(r.Languages) > 0 && !slices.Contains(r.Languages, lang) {
		return false
	}
	return slices.Contains(r.Fields, field)
}

func (rs *Rules) scanField(s *scratch, field string, t *text, lang atalaya.Language) {
	s.hits = rs.matcher.scan(t, s.hits[:0])
	fs := &fieldScan{rs: rs, s: s, field: field, t: t, lang: lang}
	s.unless, s.near = s.unless[:0], s.near[:0]
	for _, h := range s.hits {
		ph := &rs.matcher.phrases[h.phrase]
		if ph.kind == kindUnless && rs.rules[ph.rule].applies(lang, field) {
			s.unless = append(s.unless, unlessHit{rule: int32(ph.rule), sent: t.toks[h.from].sent, seq: int32(len(s.unless)), text: ph.text})
		}
	}
	slices.SortFunc(s.unless, func(a, b unlessHit) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.sent, b.sent), cmp.Compare(a.seq, b.seq))
	})
	for _, h := range s.hits {
		ph := &rs.matcher.phrases[h.phrase]
		if !rs.rules[ph.rule].applies(lang, field) {
			continue
		}
		switch ph.kind {
		case kindPattern:
			fs.match(ph.rule, int(h.from), int(h.to))
		case kindNamed:
			if end := fs.t.nameAfter(int(h.to)); end > 0 {
				fs.match(ph.rule, int(h.from), end)
			}
		case kindNearA:
			s.near = append(s.near, nearHit{rule: int32(ph.rule), near: int32(ph.near), side: 0, h: h})
		case kindNearB:
			s.near = append(s.near, nearHit{rule: int32(ph.rule), near: int32(ph.near), side: 1, h: h})
		}
	}
	fs.resolveNear()
	for _, ri := range rs.regexes {
		fs.regex(ri)
	}
}

// match records a match of rule ri over words [from, to).
func (fs *fieldScan) match(ri, from, to int) {
	t := fs.t
	fs.matchBytes(ri, int(t.toks[from].start), int(t.toks[to-1].end), from)
}

// matchBytes records a match of rule ri over src[start:end]; tok is the
// index of a word in it, which gives the sentence.
func (fs *fieldScan) matchBytes(ri, start, end, tok int) {
	s := fs.s
	if s.slot[ri] == 0 {
		s.fired = append(s.fired, firing{rule: ri})
		s.slot[ri] = int32(len(s.fired))
	}
	f := &s.fired[s.slot[ri]-1]
	if u, ok := fs.unlessPhrase(ri, fs.t.toks[tok].sent); ok {
		f.suppressed = u
		return
	}
	n := &f.body
	if fs.field == FieldTitle {
		f.inTitle = true
		n = &f.title
	} else {
		f.inBody = true
	}
	if *n >= maxEvidence {
		return
	}
	*n++
	r := &fs.rs.rules[ri]
	ss, se := fs.t.sentence(tok)
	s.evidence = append(s.evidence, Evidence{
		Rule: r.ID, Label: r.Label, Topic: r.Topic, Theme: r.Theme, Field: fs.field,
		Start: start, End: end, Match: fs.t.src[start:end], Sentence: fs.t.src[ss:se], Weight: r.Weight,
	})
	s.order = append(s.order, evidenceKey{field: fieldOrder(fs.field), start: start, rule: ri, seq: len(s.order)})
}

// unlessPhrase returns the last unless phrase of rule ri found in sentence
// sent of the field.
func (fs *fieldScan) unlessPhrase(ri int, sent int32) (string, bool) {
	us := fs.s.unless
	if len(us) == 0 {
		return "", false
	}
	i, _ := slices.BinarySearchFunc(us, [2]int32{int32(ri), sent + 1}, func(u unlessHit, k [2]int32) int {
		return cmp.Or(cmp.Compare(u.rule, k[0]), cmp.Compare(u.sent, k[1]))
	})
	if i == 0 || us[i-1].rule != int32(ri) || us[i-1].sent != sent {
		return "", false
	}
	return us[i-1].text, true
}

// resolveNear fires the near clauses whose two terms are close enough, in
// order of rule and clause.
func (fs *fieldScan) resolveNear() {
	near := fs.s.near
	slices.SortStableFunc(near, func(a, b nearHit) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.near, b.near), cmp.Compare(a.side, b.side))
	})
	for len(near) > 0 {
		n := 1
		for n < len(near) && near[n].rule == near[0].rule && near[n].near == near[0].near {
			n++
		}
		group := near[:n]
		near = near[n:]
		split := 0
		for split < len(group) && group[split].side == 0 {
			split++
		}
		fs.nearPairs(int(group[0].rule), int(group[0].near), group[:split], group[split:])
	}
}

// nearPairs fires near clause k of rule ri for each pair of a term A hit
// and a term B hit close enough, at most maxEvidence times.
func (fs *fieldScan) nearPairs(ri, k int, as, bs []nearHit) {
	within := fs.rs.rules[ri].Near[k].Within
	fired := 0
	for _, a := range as {
		for _, b := range bs {
			if fired >= maxEvidence {
				return
			}
			if nearGap(a.h, b.h) <= within {
				fs.match(ri, int(min(a.h.from, b.h.from)), int(max(a.h.to, b.h.to)))
				fired++
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

// score turns the rules' firings in s into a verdict.
func (rs *Rules) score(s *scratch) Verdict {
	v := Verdict{Label: Neither, Scores: make(map[Label]float64, len(rs.labels)), RulesVersion: rs.version}
	for _, l := range rs.labels {
		v.Scores[l.Name] = 0
	}
	slices.SortFunc(s.fired, func(a, b firing) int { return cmp.Compare(a.rule, b.rule) })
	topic := 0.0
	for i := range s.fired {
		f := &s.fired[i]
		r := &rs.rules[f.rule]
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
		if r.Label != "" {
			v.Scores[r.Label] += w
			if r.Theme != "" {
				s.themes = append(s.themes, r.Theme)
			}
		} else {
			topic += w
			s.topics = append(s.topics, r.Topic)
		}
	}
	v.Themes = sortedDistinct(s.themes)
	v.Topics = sortedDistinct(s.topics)
	s.themes, s.topics = s.themes[:0], s.topics[:0]
	s.over = rs.decide(&v, s.over[:0])
	v.Relevant = v.Label != Neither || topic >= rs.scoring.Relevance
	v.Evidence = s.sortedEvidence()
	return v
}

// sortedEvidence returns the evidence recorded, by field and offset; the
// evidence of one offset by rule and order of recording.
func (s *scratch) sortedEvidence() []Evidence {
	if len(s.evidence) == 0 {
		return nil
	}
	slices.SortFunc(s.order, func(a, b evidenceKey) int {
		return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(a.start, b.start), cmp.Compare(a.rule, b.rule), cmp.Compare(a.seq, b.seq))
	})
	out := make([]Evidence, len(s.order))
	for i, k := range s.order {
		out[i] = s.evidence[k.seq]
	}
	s.order = s.order[:0]
	return out
}

// decide sets the verdict's label from its scores: a label over its
// threshold wins when it is Ratio times every other label over its
// threshold; two such labels closer than that make Mixed. It appends the
// labels over their thresholds to over and returns it, for reuse.
func (rs *Rules) decide(v *Verdict, over []LabelDef) []LabelDef {
	for _, l := range rs.labels {
		s := v.Scores[l.Name]
		if s >= l.Threshold {
			over = append(over, l)
		} else if s > 0 {
			v.NearMisses = append(v.NearMisses, NearMiss{Label: l.Name, Reason: "score below threshold " + formatFloat(l.Threshold), Score: s})
		}
	}
	if len(over) == 0 {
		return over
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
	return over
}

func fieldOrder(f string) int {
	if f == FieldTitle {
		return 0
	}
	return 1
}

// sortedDistinct returns a new slice of the distinct strings of s, sorted;
// it sorts s.
func sortedDistinct(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Clone(slices.Compact(s))
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
