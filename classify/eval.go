package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"

	"atalaya"
)

// GoldRelease is one hand-labelled release of a gold file (JSON Lines).
type GoldRelease struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Agency    string `json:"agency"`
	Country   string `json:"country"`
	Language  string `json:"language"`
	Published string `json:"published"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Label     Label  `json:"label"`
	Relevant  bool   `json:"relevant"`
	Rationale string `json:"rationale,omitempty"`
	Line      int    `json:"-"` // line in the gold file
}

// Release returns the gold release as a release to classify. Its ID is the
// gold id, not one derived from the URL.
func (g GoldRelease) Release() atalaya.Release {
	return atalaya.Release{
		ID: atalaya.ID(g.ID), URL: g.URL, Agency: g.Agency, Country: atalaya.Country(g.Country),
		Language: atalaya.Language(g.Language), Title: g.Title, Body: g.Body,
	}
}

// maxGoldLine bounds one line of a gold file.
const maxGoldLine = 64 << 20

// ReadGold reads a gold file: one JSON object per line, blank lines
// skipped. A malformed line, a missing id or label, or (when labels are
// given) a label that is none of labels, Mixed or Neither is an error
// naming its line.
func ReadGold(r io.Reader, labels ...Label) ([]GoldRelease, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxGoldLine)
	var gold []GoldRelease
	for line := 1; sc.Scan(); line++ {
		data := bytes.TrimSpace(sc.Bytes())
		if len(data) == 0 {
			continue
		}
		var g GoldRelease
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&g); err != nil {
			return nil, fmt.Errorf("classify: gold line %d: %v", line, err)
		}
		switch {
		case g.ID == "":
			return nil, fmt.Errorf("classify: gold line %d: no id", line)
		case g.Label == "":
			return nil, fmt.Errorf("classify: gold line %d (%s): no label", line, g.ID)
		case len(labels) > 0 && g.Label != Mixed && g.Label != Neither && !slices.Contains(labels, g.Label):
			return nil, fmt.Errorf("classify: gold line %d (%s): unknown label %q (known: %v, mixed, neither)", line, g.ID, g.Label, labels)
		}
		g.Line = line
		gold = append(gold, g)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("classify: reading gold file: %w", err)
	}
	return gold, nil
}

// LabelNames returns the names of the declared labels.
func (rs *Rules) LabelNames() []Label {
	names := make([]Label, len(rs.labels))
	for i, l := range rs.labels {
		names[i] = l.Name
	}
	return names
}

// Report is the evaluation of a rule set against a gold file.
type Report struct {
	RulesVersion string `json:"rules_version"`
	Total        int    `json:"total"`
	// MacroF1 is the mean F1 over the declared labels and Neither; Mixed
	// is reported apart in PerLabel.
	MacroF1           float64                    `json:"macro_f1"`
	MacroLabels       []Label                    `json:"macro_labels"`
	PerLabel          map[Label]LabelStats       `json:"per_label"`
	Confusion         map[Label]map[Label]int    `json:"confusion"` // gold label → predicted label → count
	RelevanceAccuracy float64                    `json:"relevance_accuracy"`
	PerLanguage       map[string]GroupStats      `json:"per_language"`
	PerCountry        map[string]GroupStats      `json:"per_country"`
	Rules             []RuleStats                `json:"rules"`
	DeadRules         []string                   `json:"dead_rules"`
	Gaps              []Gap                      `json:"gaps"`
	Errors            []Misclassified            `json:"errors"`
	rulesFired        map[string]map[string]bool // gold id → rule ids
}

// LabelStats is precision, recall and F1 for one label.
type LabelStats struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`   // gold releases with the label
	Predicted int     `json:"predicted"` // releases classified with it
}

// RuleStats says how one rule behaves on the gold file.
type RuleStats struct {
	ID       string `json:"id"`
	Label    Label  `json:"label,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Coverage int    `json:"coverage"` // releases it fires on
	// Precision is the share of those releases whose gold label is the
	// rule's label (or Mixed); for a topic rule, the share that are relevant.
	Precision float64 `json:"precision"`
	// Overlaps counts releases on which a rule of the same label also
	// fires; Conflicts, releases on which a rule of another label does.
	Overlaps  map[string]int `json:"overlaps,omitempty"`
	Conflicts map[string]int `json:"conflicts,omitempty"`
}

// Gap is a relevant gold release on which no label rule fired.
type Gap struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Label Label  `json:"label,omitempty"` // the gold label, when the release is labelled
	// Reason says why the release counts as relevant.
	Reason string `json:"reason"`
}

// gapOf describes a relevant release that no label rule fired on, and why
// it counts as relevant.
func gapOf(g GoldRelease, v Verdict) Gap {
	reason := "a topic rule found it relevant"
	if g.Label != "" {
		reason = "the gold file labels it " + string(g.Label)
	} else if !v.Relevant {
		reason = "the gold file marks it relevant"
	}
	return Gap{ID: g.ID, Title: g.Title, URL: g.URL, Label: g.Label, Reason: reason}
}

// Misclassified is a gold release whose verdict label is wrong, with the
// evidence that decided it.
type Misclassified struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Gold       Label             `json:"gold"`
	Got        Label             `json:"got"`
	Scores     map[Label]float64 `json:"scores"`
	Evidence   []Evidence        `json:"evidence"`
	NearMisses []NearMiss        `json:"near_misses,omitempty"`
}

// Evaluate classifies every gold release with rs and compares.
func Evaluate(rs *Rules, gold []GoldRelease) Report {
	return EvaluateSeq(rs, slices.Values(gold))
}

// EvaluateSeq is Evaluate over a sequence, holding no release text once it
// is classified, so that it can run over a whole archive. A release with no
// gold label counts towards rule coverage, overlaps, conflicts and gaps
// (when marked relevant), but not towards the per-label scores or errors.
func EvaluateSeq(rs *Rules, gold iter.Seq[GoldRelease]) Report {
	rep := Report{
		RulesVersion: rs.version,
		MacroLabels:  append(rs.LabelNames(), Neither),
		PerLabel:     make(map[Label]LabelStats), Confusion: make(map[Label]map[Label]int),
		// Empty, not null, in JSON when nothing is found.
		DeadRules: []string{}, Gaps: []Gap{}, Errors: []Misclassified{},
		rulesFired: make(map[string]map[string]bool),
	}
	var slim []GoldRelease // without their text, for ruleStats
	labelled, relevantRight := 0, 0
	groups := newGroupTallies()
	for g := range gold {
		rep.Total++
		v := rs.Classify(g.Release())
		rep.rulesFired[g.ID] = firedRules(v)
		slim = append(slim, GoldRelease{ID: g.ID, Label: g.Label, Relevant: g.Relevant})
		if g.Relevant && !slices.ContainsFunc(v.Evidence, func(e Evidence) bool { return e.Label != "" }) {
			rep.Gaps = append(rep.Gaps, gapOf(g, v))
		}
		if g.Label == "" {
			continue
		}
		labelled++
		if rep.Confusion[g.Label] == nil {
			rep.Confusion[g.Label] = make(map[Label]int)
		}
		rep.Confusion[g.Label][v.Label]++
		if v.Relevant == g.Relevant {
			relevantRight++
		}
		groups.add(g, v)
		if v.Label != g.Label {
			rep.Errors = append(rep.Errors, Misclassified{ID: g.ID, Title: g.Title, Gold: g.Label, Got: v.Label,
				Scores: v.Scores, Evidence: v.Evidence, NearMisses: v.NearMisses})
		}
	}
	if labelled > 0 {
		rep.RelevanceAccuracy = float64(relevantRight) / float64(labelled)
	}
	rep.perLabel(append(slices.Clone(rep.MacroLabels), Mixed))
	rep.PerLanguage, rep.PerCountry = groups.stats(rep.MacroLabels)
	rep.ruleStats(rs, slim)
	return rep
}

func firedRules(v Verdict) map[string]bool {
	m := make(map[string]bool)
	for _, e := range v.Evidence {
		m[e.Rule] = true
	}
	return m
}

// perLabel fills PerLabel and MacroF1 from the confusion matrix.
func (rep *Report) perLabel(labels []Label) {
	rep.PerLabel = labelStats(rep.Confusion, labels)
	rep.MacroF1 = macroF1(rep.PerLabel, rep.MacroLabels)
}

// labelStats computes precision, recall and F1 of each of labels from a
// confusion matrix (gold → predicted → count).
func labelStats(confusion map[Label]map[Label]int, labels []Label) map[Label]LabelStats {
	out := make(map[Label]LabelStats, len(labels))
	for _, l := range labels {
		var st LabelStats
		tp := confusion[l][l]
		for gl, row := range confusion {
			st.Predicted += row[l]
			if gl == l {
				for _, n := range row {
					st.Support += n
				}
			}
		}
		if st.Predicted > 0 {
			st.Precision = float64(tp) / float64(st.Predicted)
		}
		if st.Support > 0 {
			st.Recall = float64(tp) / float64(st.Support)
		}
		if st.Precision+st.Recall > 0 {
			st.F1 = 2 * st.Precision * st.Recall / (st.Precision + st.Recall)
		}
		out[l] = st
	}
	return out
}

// macroF1 is the mean F1 over labels.
func macroF1(stats map[Label]LabelStats, labels []Label) float64 {
	sum := 0.0
	for _, l := range labels {
		sum += stats[l].F1
	}
	return sum / float64(len(labels))
}

// ruleStats fills Rules and DeadRules.
func (rep *Report) ruleStats(rs *Rules, gold []GoldRelease) {
	byID := make(map[string]*Rule, len(rs.rules))
	for i := range rs.rules {
		byID[rs.rules[i].ID] = &rs.rules[i]
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		st := RuleStats{ID: r.ID, Label: r.Label, Topic: r.Topic}
		correct := 0
		for _, g := range gold {
			fired := rep.rulesFired[g.ID]
			if !fired[r.ID] {
				continue
			}
			st.Coverage++
			if r.Label != "" && (g.Label == r.Label || g.Label == Mixed) || r.Topic != "" && g.Relevant {
				correct++
			}
			if r.Label == "" {
				continue
			}
			for _, other := range slices.Sorted(maps.Keys(fired)) {
				o := byID[other]
				switch {
				case other == r.ID || o.Label == "":
				case o.Label == r.Label:
					st.Overlaps = incr(st.Overlaps, other)
				default:
					st.Conflicts = incr(st.Conflicts, other)
				}
			}
		}
		if st.Coverage > 0 {
			st.Precision = float64(correct) / float64(st.Coverage)
		} else {
			rep.DeadRules = append(rep.DeadRules, r.ID)
		}
		rep.Rules = append(rep.Rules, st)
	}
}

func incr(m map[string]int, k string) map[string]int {
	if m == nil {
		m = make(map[string]int)
	}
	m[k]++
	return m
}
