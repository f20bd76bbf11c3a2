package classify

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

// oneRule compiles a rules file with the two default labels and the given
// rule lines (already indented as one list item).
func oneRule(t testing.TB, rule string) *Rules {
	t.Helper()
	src := `labels:
  - {name: kingpin, threshold: 2}
  - {name: root_cause, threshold: 2}
themes: [arrests, prevention]
topics: [drugs]
scoring: {title_factor: 2, ratio: 1.5, relevance: 1}
rules:
` + rule
	rs, err := Parse(strings.NewReader(src), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rs
}

// matches returns the text of every evidence of rule id.
func matches(v Verdict, id string) []string {
	var out []string
	for _, e := range v.Evidence {
		if e.Rule == id {
			out = append(out, e.Match)
		}
	}
	return out
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		name string
		rule string
		lang atalaya.Language
		body string
		want []string
	}{
		{"whole words", `  - {id: r, label: kingpin, patterns: [arrest]}`, "", "arrested; the arrest; arrestment", []string{"arrest"}},
		{"case and accents", `  - {id: r, label: kingpin, patterns: [extradicion]}`, "", "La EXTRADICIÓN y la extradición", []string{"EXTRADICIÓN", "extradición"}},
		{"accent in pattern", `  - {id: r, label: kingpin, patterns: [detención]}`, "", "la detencion de", []string{"detencion"}},
		{"decomposed accents", `  - {id: r, label: kingpin, patterns: [extradicion]}`, "", "extradicio\u0301n", []string{"extradicio\u0301n"}},
		{"wildcard", `  - {id: r, label: kingpin, patterns: ["extradit*"]}`, "", "extradited, extradition, extradit, extra", []string{"extradited", "extradition", "extradit"}},
		{"wildcard inside phrase", `  - {id: r, label: kingpin, patterns: ["cartel* leader*"]}`, "", "the cartels leaders and cartel leader", []string{"cartels leaders", "cartel leader"}},
		{"phrase across punctuation", `  - {id: r, label: kingpin, patterns: [anti corruption]}`, "", "an anti-corruption group", []string{"anti-corruption"}},
		{"abbreviation keeps sentence", `  - {id: r, label: kingpin, patterns: [u s treasury]}`, "", "The U.S. Treasury acted.", []string{"U.S. Treasury"}},
		{"phrase never spans sentences", `  - {id: r, label: kingpin, patterns: [done today]}`, "", "It was done. Today it ended.", nil},
		{"named: name follows", `  - {id: r, label: kingpin, named: [arrest of]}`, "", "After the arrest of Edgar Valdez Villarreal, more.", []string{"arrest of Edgar Valdez Villarreal"}},
		{"named: name after other words", `  - {id: r, label: kingpin, named: [captured]}`, "", "Marines captured alleged trafficker Juan Pérez.", []string{"captured alleged trafficker Juan Pérez"}},
		{"named: common word before capitals", `  - {id: r, label: kingpin, named: [arrested]}`, "", "Two men were arrested in Mexico City.", nil},
		{"named: one capitalised word", `  - {id: r, label: kingpin, named: [arrest of]}`, "", "The arrest of Pedro was filmed.", nil},
		{"named: name in the next sentence", `  - {id: r, label: kingpin, named: [arrested]}`, "", "Three were arrested. Juan Pérez spoke.", nil},
		{"named: too many words before the name", `  - {id: r, label: kingpin, named: [captured]}`, "", "They captured very many armed cell members Juan Pérez.", nil},
		{"unless in same sentence", `  - {id: r, label: kingpin, patterns: [extradited], unless: [thanked]}`, "", "He thanked Mexico for those extradited. Two men were extradited.", []string{"extradited"}},
		{"unless suppresses all", `  - {id: r, label: kingpin, patterns: [extradited], unless: [thanked]}`, "", "He thanked Mexico for those extradited.", nil},
		{"near within", `  - {id: r, label: kingpin, near: [{terms: [detencion, lider], within: 3}]}`, "", "la detención del presunto líder", []string{"detención del presunto líder"}},
		{"near either order", `  - {id: r, label: kingpin, near: [{terms: [detencion, lider], within: 3}]}`, "", "el líder fue objeto de detención", []string{"líder fue objeto de detención"}},
		{"near too far", `  - {id: r, label: kingpin, near: [{terms: [detencion, lider], within: 2}]}`, "", "la detención de uno y otro líder", nil},
		{"language filter applies", `  - {id: r, label: kingpin, languages: [es], patterns: [captura]}`, atalaya.English, "la captura", nil},
		{"language filter passes", `  - {id: r, label: kingpin, languages: [es], patterns: [captura]}`, atalaya.Spanish, "la captura", []string{"captura"}},
		{"english phrase", `  - {id: r, label: kingpin, patterns: [pleaded guilty]}`, atalaya.English, "He Pleaded  Guilty today.", []string{"Pleaded  Guilty"}},
		{"regex", `  - {id: r, label: kingpin, regex: ['\p{Lu}\p{Ll}+ "N"']}`, "", `Detienen a Juan "N" en Colima`, []string{`Juan "N"`}},
		{"other scripts", `  - {id: r, label: kingpin, patterns: [картель]}`, "", "Картель наркотиков", []string{"Картель"}},
		{"invalid utf-8 separates words", `  - {id: r, label: kingpin, patterns: [cartel leader]}`, "", "cartel\xffleader", []string{"cartel\xffleader"}},
		{"one-letter wildcard", `  - {id: r, label: kingpin, patterns: ["x*"]}`, "", "x, xy, Xylophone, axe", []string{"x", "xy", "Xylophone"}},
		{"two-letter wildcard", `  - {id: r, label: kingpin, patterns: ["ca*"]}`, "", "c ca cab CARTEL acab", []string{"ca", "cab", "CARTEL"}},
		{"wildcard and whole word", `  - {id: r, label: kingpin, patterns: ["arrest", "arr*"]}`, "", "arrest, arrested", []string{"arrest", "arrest", "arrested"}},
		{"wildcard after a word", `  - {id: r, label: kingpin, patterns: ["drug traffick*"]}`, "", "drug trafficking and drug traffic", []string{"drug trafficking"}},
		{"long words", `  - {id: r, label: kingpin, patterns: [internationalization counterinsurgency]}`, "", "Internationalization Counterinsurgency; internationalizations counterinsurgency", []string{"Internationalization Counterinsurgency"}},
		{"folded multibyte word", `  - {id: r, label: kingpin, patterns: [straße*]}`, "", "STRAßENBAU and strasse", []string{"STRAßENBAU"}},
		{"non-latin wildcard", `  - {id: r, label: kingpin, patterns: ["карт*"]}`, "", "картель и карта, кар", []string{"картель", "карта"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := oneRule(t, tt.rule)
			v := rs.ClassifyText("", tt.body, tt.lang)
			if diff := cmp.Diff(tt.want, matches(v, "r")); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
			for _, e := range v.Evidence {
				if got := tt.body[e.Start:e.End]; got != e.Match {
					t.Errorf("body[%d:%d] = %q, want the match %q", e.Start, e.End, got, e.Match)
				}
				if !strings.Contains(e.Sentence, e.Match) {
					t.Errorf("sentence %q does not contain match %q", e.Sentence, e.Match)
				}
			}
		})
	}
}

func TestUnlessLastPhraseReported(t *testing.T) {
	rs := oneRule(t, `  - {id: r, label: kingpin, patterns: [extradited], unless: [thanked, praised]}`)
	v := rs.ClassifyText("", "He praised and thanked Mexico for those extradited.", "")
	want := []NearMiss{{Rule: "r", Label: "kingpin", Reason: `unless "thanked" in the same sentence`, Score: 1}}
	if diff := cmp.Diff(want, v.NearMisses); diff != "" {
		t.Errorf("near misses (-want +got):\n%s", diff)
	}
}

func TestNearEvidenceOrder(t *testing.T) {
	rs := oneRule(t, `  - {id: r, label: kingpin, near: [{terms: [jefe, captura], within: 2}, {terms: [lider, detencion], within: 2}]}
  - {id: s, label: kingpin, near: [{terms: [captura, lider], within: 9}]}
`)
	v := rs.ClassifyText("Captura del jefe", "La detención del líder. Captura de un jefe, captura del líder y del jefe.", "es")
	var got []string
	for _, e := range v.Evidence {
		got = append(got, e.Rule+" "+e.Field+" "+e.Match)
	}
	want := []string{
		"r title Captura del jefe",
		"r body detención del líder", "s body líder. Captura", "s body líder. Captura de un jefe, captura",
		"r body Captura de un jefe", "s body Captura de un jefe, captura del líder", "r body jefe, captura",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestUnlessNearMiss(t *testing.T) {
	rs := oneRule(t, `  - {id: r, label: kingpin, patterns: [extradited], unless: [thanked]}`)
	v := rs.ClassifyText("", "He thanked Mexico for those extradited.", "")
	want := []NearMiss{{Rule: "r", Label: "kingpin", Reason: `unless "thanked" in the same sentence`, Score: 1}}
	if diff := cmp.Diff(want, v.NearMisses); diff != "" {
		t.Errorf("near misses (-want +got):\n%s", diff)
	}
}

func TestScoring(t *testing.T) {
	rules := `  - {id: k1, label: kingpin, theme: arrests, weight: 1, patterns: [arrested]}
  - {id: k2, label: kingpin, theme: arrests, weight: 1, patterns: [extradited]}
  - {id: r1, label: root_cause, theme: prevention, weight: 2, patterns: [prevention]}
  - {id: r2, label: root_cause, weight: 1, patterns: [treatment]}
  - {id: d1, topic: drugs, weight: 1, patterns: [drugs]}
`
	rs := oneRule(t, rules)
	tests := []struct {
		name, title, body string
		wantLabel         Label
		wantScores        map[Label]float64
		wantRelevant      bool
	}{
		{"nothing", "", "a quiet day", Neither, map[Label]float64{"kingpin": 0, "root_cause": 0}, false},
		{"below threshold", "", "he was arrested", Neither, map[Label]float64{"kingpin": 1, "root_cause": 0}, false},
		{"distinct rules only", "", "arrested, arrested and arrested", Neither, map[Label]float64{"kingpin": 1, "root_cause": 0}, false},
		{"title factor", "Man arrested", "", "kingpin", map[Label]float64{"kingpin": 2, "root_cause": 0}, true},
		{"two rules", "", "arrested then extradited", "kingpin", map[Label]float64{"kingpin": 2, "root_cause": 0}, true},
		{"ratio wins", "", "arrested, extradited; prevention and treatment", "root_cause", map[Label]float64{"kingpin": 2, "root_cause": 3}, true},
		{"mixed", "", "arrested, extradited; prevention", Mixed, map[Label]float64{"kingpin": 2, "root_cause": 2}, true},
		{"topic makes relevant", "", "drugs", Neither, map[Label]float64{"kingpin": 0, "root_cause": 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := rs.ClassifyText(tt.title, tt.body, "")
			if v.Label != tt.wantLabel || v.Relevant != tt.wantRelevant {
				t.Errorf("got label %s relevant %t, want %s %t", v.Label, v.Relevant, tt.wantLabel, tt.wantRelevant)
			}
			if diff := cmp.Diff(tt.wantScores, v.Scores); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThemesTopicsVersion(t *testing.T) {
	rs := oneRule(t, `  - {id: k1, label: kingpin, theme: arrests, patterns: [arrested]}
  - {id: d1, topic: drugs, patterns: [cocaine]}
`)
	v := rs.ClassifyText("", "cocaine; arrested; arrested", "")
	if !slices.Equal(v.Themes, []string{"arrests"}) || !slices.Equal(v.Topics, []string{"drugs"}) {
		t.Errorf("got themes %v topics %v, want [arrests] [drugs]", v.Themes, v.Topics)
	}
	if v.RulesVersion == "" || v.RulesVersion != rs.Version() {
		t.Errorf("got rules version %q, want %q", v.RulesVersion, rs.Version())
	}
}

func TestDefaultExamples(t *testing.T) {
	rs := Default()
	for _, p := range rs.Check() {
		t.Error(p)
	}
	for _, r := range rs.Rules() {
		if len(r.Examples.Fire) == 0 || len(r.Examples.Not) == 0 {
			t.Errorf("rule %s: got %d fire and %d not examples, want at least one of each", r.ID, len(r.Examples.Fire), len(r.Examples.Not))
		}
	}
}

func TestCheckReportsFailingExamples(t *testing.T) {
	rs := oneRule(t, `  - id: r
    label: kingpin
    patterns: [arrested]
    examples: {fire: [nothing here], not: [he was arrested]}
`)
	got := rs.Check()
	if len(got) != 2 {
		t.Fatalf("got %d problems, want 2: %v", len(got), got)
	}
	for _, p := range got {
		if p.Line != 8 || p.Rule != "r" {
			t.Errorf("got problem at line %d rule %q, want line 8 rule r: %v", p.Line, p.Rule, p)
		}
	}
}

func TestClassifyConcurrent(t *testing.T) {
	rs := Default()
	bodies := []string{"He was extradited to face charges.", "Prevención de adicciones para jóvenes.", "", "Sunny day."}
	want := make([]Verdict, len(bodies))
	for i, b := range bodies {
		want[i] = rs.ClassifyText("", b, "")
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				k := (g + i) % len(bodies)
				if diff := cmp.Diff(want[k], rs.ClassifyText("", bodies[k], "")); diff != "" {
					t.Errorf("concurrent verdict differs (-want +got):\n%s", diff)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestTieWithDefaultRatioIsMixed checks that two labels over their
// thresholds with equal scores make Mixed when the ratio is the default
// 1, where "best < ratio × other" alone does not.
func TestTieWithDefaultRatioIsMixed(t *testing.T) {
	src := `labels:
  - {name: kingpin, threshold: 1}
  - {name: root_cause, threshold: 1}
rules:
  - {id: k, label: kingpin, patterns: [extradited]}
  - {id: r, label: root_cause, patterns: [prevention]}
`
	rs, err := Parse(strings.NewReader(src), "tie.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Scoring().Ratio; got != 1 {
		t.Fatalf("got default ratio %g, want 1", got)
	}
	if v := rs.ClassifyText("", "Two men were extradited; a prevention programme opened.", ""); v.Label != Mixed {
		t.Errorf("got label %s with scores %v, want mixed", v.Label, v.Scores)
	}
	if v := rs.ClassifyText("", "Two men were extradited.", ""); v.Label != "kingpin" {
		t.Errorf("got label %s alone, want kingpin", v.Label)
	}
}
