package classify

import (
	"cmp"
	"hash/fnv"
	"math"
	"slices"
)

// CVOptions tune [CrossValidate].
type CVOptions struct {
	Folds int // at least 2
	// Fit, when set, fits weights and thresholds on the other folds before
	// scoring each fold (see [FitWeights]); nil scores the rules as they
	// are, which only says how stable the figures are across parts of the
	// gold, not how the rules do on unseen text when they were written on
	// it.
	Fit *FitOptions
}

// Spread is a figure over the folds of a cross-validation.
type Spread struct {
	Mean  float64   `json:"mean"`
	SD    float64   `json:"sd"` // sample standard deviation
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Folds []float64 `json:"folds"`
}

// CVReport is a k-fold cross-validation of a rule set over gold releases.
type CVReport struct {
	RulesVersion      string                `json:"rules_version"`
	Folds             int                   `json:"folds"`
	Fitted            bool                  `json:"fitted"`
	Total             int                   `json:"total"`
	MacroF1           Spread                `json:"macro_f1"`
	RelevanceAccuracy Spread                `json:"relevance_accuracy"`
	PerLabel          map[Label]LabelStats  `json:"per_label"` // over every held-out verdict, mixed included
	PerLanguage       map[string]GroupStats `json:"per_language"`
	PerCountry        map[string]GroupStats `json:"per_country"`
}

// Folds splits gold into k folds, stratified by label: the releases of
// each label, ordered by a hash of their id, are dealt in turn, so the
// split depends only on the ids and labels. It returns the fold of each
// release.
func Folds(gold []GoldRelease, k int) []int {
	idx := make([]int, len(gold))
	for i := range idx {
		idx[i] = i
	}
	hashes := make([]uint64, len(gold))
	for i, g := range gold {
		h := fnv.New64a()
		h.Write([]byte(g.ID))
		hashes[i] = h.Sum64()
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(gold[a].Label, gold[b].Label), cmp.Compare(hashes[a], hashes[b]), cmp.Compare(a, b))
	})
	fold := make([]int, len(gold))
	for n, i := range idx {
		fold[i] = n % k
	}
	return fold
}

// CrossValidate scores rs on each of opt.Folds folds of gold, fitting
// weights on the other folds first when opt.Fit is set. Figures per
// label, language and country pool the held-out verdicts of every fold.
func CrossValidate(rs *Rules, gold []GoldRelease, opt CVOptions) CVReport {
	k := max(2, min(opt.Folds, len(gold)))
	fold := Folds(gold, k)
	macro := append(rs.LabelNames(), Neither)
	rep := CVReport{RulesVersion: rs.version, Folds: k, Fitted: opt.Fit != nil, Total: len(gold)}
	var pooled tally
	groups := newGroupTallies()
	var f1s, rels []float64
	for f := range k {
		var train, test []GoldRelease
		for i, g := range gold {
			if fold[i] == f {
				test = append(test, g)
			} else {
				train = append(train, g)
			}
		}
		scorer := rs
		if opt.Fit != nil {
			scorer = rs.WithFitted(FitWeights(rs, train, *opt.Fit))
		}
		var t tally
		for _, g := range test {
			v := scorer.Classify(g.Release())
			t.add(g.Label, v.Label, v.Relevant == g.Relevant)
			pooled.add(g.Label, v.Label, v.Relevant == g.Relevant)
			groups.add(g, v)
		}
		st := t.stats(macro)
		f1s, rels = append(f1s, st.MacroF1), append(rels, st.RelevanceAccuracy)
	}
	rep.MacroF1, rep.RelevanceAccuracy = spreadOf(f1s), spreadOf(rels)
	rep.PerLabel = labelStats(pooled.confusion, append(slices.Clone(macro), Mixed))
	rep.PerLanguage, rep.PerCountry = groups.stats(macro)
	return rep
}

func spreadOf(xs []float64) Spread {
	s := Spread{Folds: xs, Min: math.Inf(1), Max: math.Inf(-1)}
	if len(xs) == 0 {
		return Spread{}
	}
	for _, x := range xs {
		s.Mean += x
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	if len(xs) > 1 {
		for _, x := range xs {
			s.SD += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(s.SD / float64(len(xs)-1))
	}
	return s
}
