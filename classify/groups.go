package classify

// GroupStats is how the rules do on the gold releases of one language or
// one country.
type GroupStats struct {
	Total             int     `json:"total"`
	MacroF1           float64 `json:"macro_f1"`
	RelevanceAccuracy float64 `json:"relevance_accuracy"`
}

// tally counts verdicts against gold labels.
type tally struct {
	confusion    map[Label]map[Label]int
	total, relOK int
}

func (t *tally) add(gold, got Label, relevantOK bool) {
	if t.confusion == nil {
		t.confusion = make(map[Label]map[Label]int)
	}
	if t.confusion[gold] == nil {
		t.confusion[gold] = make(map[Label]int)
	}
	t.confusion[gold][got]++
	t.total++
	if relevantOK {
		t.relOK++
	}
}

func (t *tally) stats(macroLabels []Label) GroupStats {
	st := GroupStats{Total: t.total, MacroF1: macroF1(labelStats(t.confusion, macroLabels), macroLabels)}
	if t.total > 0 {
		st.RelevanceAccuracy = float64(t.relOK) / float64(t.total)
	}
	return st
}

// groupTallies tallies verdicts per language and per country.
type groupTallies struct {
	language, country map[string]*tally
}

func newGroupTallies() groupTallies {
	return groupTallies{language: make(map[string]*tally), country: make(map[string]*tally)}
}

// add counts the verdict v on the labelled gold release g.
func (gt groupTallies) add(g GoldRelease, v Verdict) {
	for _, m := range []struct {
		groups map[string]*tally
		key    string
	}{{gt.language, orUnknown(g.Language)}, {gt.country, orUnknown(g.Country)}} {
		t := m.groups[m.key]
		if t == nil {
			t = new(tally)
			m.groups[m.key] = t
		}
		t.add(g.Label, v.Label, v.Relevant == g.Relevant)
	}
}

// stats returns the figures per language and per country.
func (gt groupTallies) stats(macroLabels []Label) (perLanguage, perCountry map[string]GroupStats) {
	conv := func(m map[string]*tally) map[string]GroupStats {
		out := make(map[string]GroupStats, len(m))
		for k, t := range m {
			out[k] = t.stats(macroLabels)
		}
		return out
	}
	return conv(gt.language), conv(gt.country)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
