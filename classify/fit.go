package classify

import (
	"math"
	"slices"
)

// FitOptions tune [FitWeights].
type FitOptions struct {
	// Lambda is the strength of the L2 penalty on the weights (not on the
	// thresholds); 0 means 0.1: under 5-fold cross-validation over the
	// gold, 0.01 to 0.1 scored within 0.01 of each other and 1 or more
	// clearly worse, and the larger penalty keeps weights steadier.
	Lambda float64
	// Iterations of projected gradient descent; 0 means 3000.
	Iterations int
}

// Fitted is what [FitWeights] learned: a weight per rule and a threshold
// per label (and for relevance), all plain numbers to write into a rules
// file.
type Fitted struct {
	Weights    map[string]float64 `json:"weights"`    // rule id → weight
	Thresholds map[Label]float64  `json:"thresholds"` // declared label → threshold
	Relevance  float64            `json:"relevance"`  // topic score at which a release is relevant
}

// fitDecimals is how many decimals fitted numbers keep, so that the rules
// written to a file score exactly like the rules fitted in memory.
const fitDecimals = 2

// minThreshold keeps a fitted threshold above 0, which a rules file
// requires.
const minThreshold = 0.01

// FitWeights fits the weights of rs's rules and the thresholds of its
// labels to gold by L2-regularised logistic regression, one model per
// label (is the gold label this one, or mixed?) over the label's own rules,
// and one for relevance over the topic rules. A rule's feature is what it
// adds to a score today: 0 when it does not fire, 1 when it fires in the
// body, the title factor when in the title. Weights are kept ≥ 0, so that
// every rule still counts for its own label only and every verdict stays a
// sum of the evidence shown; a label's threshold is where the model's
// probability reaches one half. The release's words play no part beyond
// the rules that fire.
func FitWeights(rs *Rules, gold []GoldRelease, opt FitOptions) Fitted {
	if opt.Lambda == 0 {
		opt.Lambda = 0.1
	}
	if opt.Iterations == 0 {
		opt.Iterations = 3000
	}
	feats := make([]map[int]float64, len(gold))
	for i, g := range gold {
		feats[i] = rs.features(g)
	}
	f := Fitted{Weights: make(map[string]float64, len(rs.rules)), Thresholds: make(map[Label]float64, len(rs.labels))}
	for _, l := range rs.labels {
		cols := rs.ruleIndexes(func(r *Rule) bool { return r.Label == l.Name })
		y := make([]bool, len(gold))
		for i, g := range gold {
			y[i] = g.Label == l.Name || g.Label == Mixed
		}
		w, t := fitLogistic(feats, cols, y, opt)
		for j, ri := range cols {
			f.Weights[rs.rules[ri].ID] = w[j]
		}
		f.Thresholds[l.Name] = t
	}
	cols := rs.ruleIndexes(func(r *Rule) bool { return r.Topic != "" })
	y := make([]bool, len(gold))
	for i, g := range gold {
		y[i] = g.Relevant
	}
	w, t := fitLogistic(feats, cols, y, opt)
	for j, ri := range cols {
		f.Weights[rs.rules[ri].ID] = w[j]
	}
	f.Relevance = t
	return f
}

// features returns, per rule index that fires on g, what it adds to a
// score before its weight: the title factor in the title, else 1.
func (rs *Rules) features(g GoldRelease) map[int]float64 {
	v := rs.Classify(g.Release())
	byID := make(map[string]int, len(v.Evidence))
	for i := range rs.rules {
		byID[rs.rules[i].ID] = i
	}
	x := make(map[int]float64)
	for _, e := range v.Evidence {
		ri := byID[e.Rule]
		if e.Field == FieldTitle {
			x[ri] = rs.scoring.TitleFactor
		} else if _, ok := x[ri]; !ok {
			x[ri] = 1
		}
	}
	return x
}

func (rs *Rules) ruleIndexes(keep func(*Rule) bool) []int {
	var out []int
	for i := range rs.rules {
		if keep(&rs.rules[i]) {
			out = append(out, i)
		}
	}
	return out
}

// fitLogistic fits P(y) = σ(w·x − t) over the columns cols of feats by
// projected gradient descent on the mean log loss plus λ/2n·|w|², with
// w ≥ 0. It returns w and the threshold t, rounded to fitDecimals.
func fitLogistic(feats []map[int]float64, cols []int, y []bool, opt FitOptions) ([]float64, float64) {
	n := float64(len(feats))
	w := make([]float64, len(cols))
	grad := make([]float64, len(cols))
	bias := 0.0
	if len(feats) == 0 {
		return w, 1
	}
	const step = 0.5
	for range opt.Iterations {
		clear(grad)
		gb := 0.0
		for i, x := range feats {
			z := bias
			for j, c := range cols {
				z += w[j] * x[c]
			}
			d := sigmoid(z)
			if y[i] {
				d--
			}
			gb += d
			for j, c := range cols {
				grad[j] += d * x[c]
			}
		}
		for j := range w {
			w[j] = max(0, w[j]-step*(grad[j]+opt.Lambda*w[j])/n)
		}
		bias -= step * gb / n
	}
	for j := range w {
		w[j] = roundTo(w[j], fitDecimals)
	}
	return w, max(minThreshold, roundTo(-bias, fitDecimals))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func roundTo(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}

// WithFitted returns a copy of rs scoring with the weights and thresholds
// of f (rules f does not name keep theirs). It shares rs's compiled
// patterns; its version is rs's with "+fit" appended, as it matches no
// file.
func (rs *Rules) WithFitted(f Fitted) *Rules {
	out := &Rules{name: rs.name, version: rs.version + "+fit", labels: slices.Clone(rs.labels), themes: rs.themes,
		topics: rs.topics, scoring: rs.scoring, rules: slices.Clone(rs.rules), matcher: rs.matcher, regexes: rs.regexes}
	for i := range out.rules {
		if w, ok := f.Weights[out.rules[i].ID]; ok {
			out.rules[i].Weight = w
		}
	}
	for i := range out.labels {
		if t, ok := f.Thresholds[out.labels[i].Name]; ok {
			out.labels[i].Threshold = t
		}
	}
	if f.Relevance > 0 {
		out.scoring.Relevance = f.Relevance
	}
	out.pool.New = func() any { return new(scratch) }
	return out
}
