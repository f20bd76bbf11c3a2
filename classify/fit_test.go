package classify

import (
	"fmt"
	"strings"
	"testing"
)

// fitRules has two kingpin rules, one that only kingpin releases trigger
// (extradited) and one that every release triggers (police), a root_cause
// rule and a topic rule; one rule has no weight key, and comments are
// there to be kept.
const fitRules = `# header comment
labels:
  - name: kingpin
    threshold: 3 # hand-set
  - name: root_cause
    threshold: 3
topics: [drugs]
scoring:
  relevance: 2
rules:
  - id: extradited
    label: kingpin
    weight: 1
    patterns: [extradited]
  # police is in every release
  - id: police
    label: kingpin
    patterns: [police]
  - id: prevention
    label: root_cause
    weight: 1
    patterns: [prevention]
  - id: drugs
    topic: drugs
    weight: 1
    patterns: [drugs]
`

// fitGold is n releases of each of kingpin, root_cause and neither.
func fitGold(n int) []GoldRelease {
	var gold []GoldRelease
	for i := range n {
		gold = append(gold,
			GoldRelease{ID: fmt.Sprintf("k%d", i), Body: "The police said two men were extradited over drugs.", Label: "kingpin", Relevant: true},
			GoldRelease{ID: fmt.Sprintf("r%d", i), Body: "The police opened a prevention centre on drugs.", Label: "root_cause", Relevant: true},
			GoldRelease{ID: fmt.Sprintf("n%d", i), Body: "The police band played.", Label: Neither})
	}
	return gold
}

func TestFitWeights(t *testing.T) {
	rs, err := Parse(strings.NewReader(fitRules), "fit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gold := fitGold(10)
	f := FitWeights(rs, gold, FitOptions{})
	if f.Weights["extradited"] <= f.Weights["police"] {
		t.Errorf("got weight %g for extradited and %g for police, want the rule that separates kingpin to weigh more", f.Weights["extradited"], f.Weights["police"])
	}
	if f.Thresholds["kingpin"] <= f.Weights["police"] {
		t.Errorf("got kingpin threshold %g ≤ police weight %g: police alone would make kingpin", f.Thresholds["kingpin"], f.Weights["police"])
	}
	rep := Evaluate(rs.WithFitted(f), gold)
	if rep.MacroF1 != 1 || rep.RelevanceAccuracy != 1 {
		t.Errorf("fitted rules got macro-F1 %g relevance %g on their own gold, want 1 and 1", rep.MacroF1, rep.RelevanceAccuracy)
	}
}

func TestWriteFitted(t *testing.T) {
	f := Fitted{Weights: map[string]float64{"extradited": 2.5, "police": 0, "prevention": 3.25, "drugs": 1.5},
		Thresholds: map[Label]float64{"kingpin": 1.75, "root_cause": 2}, Relevance: 0.5}
	out, err := WriteFitted([]byte(fitRules), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# header comment", "threshold: 1.75 # hand-set", "# police is in every release", "  - id: police\n    weight: 0\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("fitted file lacks %q:\n%s", want, out)
		}
	}
	rs := parseFitted(t, out, f)
	if got := rs.Scoring().Relevance; got != 0.5 {
		t.Errorf("got relevance %g, want 0.5", got)
	}
}

func TestWriteFittedFlowStyleNeedsKey(t *testing.T) {
	src := header + "  - {id: a, label: kingpin, patterns: [x]}\n"
	_, err := WriteFitted([]byte(src), Fitted{Weights: map[string]float64{"a": 2}})
	if err == nil || !strings.Contains(err.Error(), `rule "a": has no weight key`) {
		t.Errorf("got error %v, want one saying rule a has no weight key", err)
	}
}

func TestFolds(t *testing.T) {
	gold := fitGold(10)
	fold := Folds(gold, 5)
	count := map[[2]any]int{}
	for i, g := range gold {
		count[[2]any{fold[i], g.Label}]++
	}
	for k, n := range count {
		if n != 2 {
			t.Errorf("fold %v holds %d releases of its label, want 2 (stratified)", k, n)
		}
	}
	again := Folds(gold, 5)
	for i := range fold {
		if fold[i] != again[i] {
			t.Fatalf("folds differ between two calls at release %d", i)
		}
	}
}

func TestCrossValidate(t *testing.T) {
	rs, err := Parse(strings.NewReader(fitRules), "fit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gold := fitGold(10)
	asWritten := CrossValidate(rs, gold, CVOptions{Folds: 5})
	plain := Evaluate(rs, gold)
	for l, st := range plain.PerLabel {
		if asWritten.PerLabel[l] != st {
			t.Errorf("label %s: pooled cross-validation of the rules as written gave %+v, want the plain figures %+v", l, asWritten.PerLabel[l], st)
		}
	}
	if len(asWritten.MacroF1.Folds) != 5 {
		t.Errorf("got %d fold figures, want 5", len(asWritten.MacroF1.Folds))
	}
	fitted := CrossValidate(rs, gold, CVOptions{Folds: 5, Fit: &FitOptions{}})
	if fitted.MacroF1.Mean != 1 || fitted.MacroF1.SD != 0 {
		t.Errorf("fitted cross-validation got macro-F1 %+v, want 1 ± 0 on separable gold", fitted.MacroF1)
	}
	if asWritten.MacroF1.Mean >= fitted.MacroF1.Mean {
		t.Errorf("got macro-F1 %g as written and %g fitted, want fitting to help (as written, no label reaches its threshold 3)", asWritten.MacroF1.Mean, fitted.MacroF1.Mean)
	}
}

// parseFitted compiles a fitted rules file and checks that it holds the
// weights and thresholds of f.
func parseFitted(t *testing.T, out []byte, f Fitted) *Rules {
	t.Helper()
	rs, err := Parse(strings.NewReader(string(out)), "fitted.yaml")
	if err != nil {
		t.Fatalf("fitted file does not compile: %v\n%s", err, out)
	}
	for _, r := range rs.Rules() {
		if r.Weight != f.Weights[r.ID] {
			t.Errorf("rule %s: got weight %g, want %g", r.ID, r.Weight, f.Weights[r.ID])
		}
	}
	for _, l := range rs.Labels() {
		if l.Threshold != f.Thresholds[l.Name] {
			t.Errorf("label %s: got threshold %g, want %g", l.Name, l.Threshold, f.Thresholds[l.Name])
		}
	}
	return rs
}
