package classify

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/internal/mirror"
)

func readSmallGold(t *testing.T) []GoldRelease {
	t.Helper()
	f, err := os.Open("testdata/gold-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gold, err := ReadGold(f, Default().LabelNames()...)
	if err != nil {
		t.Fatal(err)
	}
	return gold
}

func TestEvaluate(t *testing.T) {
	rep := Evaluate(Default(), readSmallGold(t))
	wantConfusion := map[Label]map[Label]int{
		"kingpin": {"kingpin": 2}, "root_cause": {"root_cause": 2}, "neither": {"neither": 2}, "mixed": {"mixed": 1},
	}
	if diff := cmp.Diff(wantConfusion, rep.Confusion); diff != "" {
		t.Errorf("confusion (-want +got):\n%s", diff)
	}
	if rep.MacroF1 != 1 || rep.RelevanceAccuracy != 1 || len(rep.Errors) != 0 {
		t.Errorf("got macro-F1 %v, relevance accuracy %v, %d errors; want 1, 1, 0", rep.MacroF1, rep.RelevanceAccuracy, len(rep.Errors))
	}
	if got := rep.PerLabel["kingpin"]; got != (LabelStats{Precision: 1, Recall: 1, F1: 1, Support: 2, Predicted: 2}) {
		t.Errorf("got kingpin stats %+v, want perfect with support 2", got)
	}
	if len(rep.DeadRules) == 0 {
		t.Errorf("got no dead rules on 7 releases, want some")
	}
	// A report with nothing wrong says so with empty lists, not null.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"errors":[]`)) {
		t.Errorf("a report without errors marshals them as %.80s…, want []", b[bytes.Index(b, []byte(`"errors"`)):])
	}
}

func TestEvaluateErrors(t *testing.T) {
	gold := []GoldRelease{
		{ID: "a", Title: "Man extradited", Body: "He was extradited to face charges.", Label: "root_cause", Relevant: true},
		{ID: "b", Title: "Weather", Body: "Sunny.", Label: "neither"},
	}
	rep := Evaluate(Default(), gold)
	if len(rep.Errors) != 1 || rep.Errors[0].ID != "a" || rep.Errors[0].Got != "kingpin" || len(rep.Errors[0].Evidence) == 0 {
		t.Fatalf("got errors %+v, want release a misclassified as kingpin with evidence", rep.Errors)
	}
	if got := rep.PerLabel["neither"]; got.Support != 1 || got.Precision != 1 {
		t.Errorf("got neither stats %+v, want support 1 precision 1", got)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"macro-F1", "a: gold root_cause, got kingpin", "+ extradition kingpin"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReadGoldErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"malformed", "{\"id\":\"a\",\"label\":\"kingpin\"}\n{not json\n", "gold line 2:"},
		{"unknown label", "\n{\"id\":\"a\",\"label\":\"boss\"}\n", `gold line 2 (a): unknown label "boss"`},
		{"no label", `{"id":"a"}`, "gold line 1 (a): no label"},
		{"no id", `{"label":"neither"}`, "gold line 1: no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadGold(strings.NewReader(tt.src), "kingpin", "root_cause")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	old := oneRule(t, "  - {id: k, label: kingpin, weight: 2, patterns: [extradited]}\n")
	nw := oneRule(t, "  - {id: k, label: kingpin, weight: 2, patterns: [extradited], unless: [thanked]}\n")
	gold := []GoldRelease{
		{ID: "a", Body: "He thanked them for those extradited.", Label: "neither"},
		{ID: "b", Body: "Two men were extradited.", Label: "kingpin"},
	}
	got := Diff(old, nw, GoldReleases(gold))
	want := DiffReport{Total: 2, Changed: []Change{{ID: "a", Old: "kingpin", New: "neither"}}, Transitions: map[string]int{"kingpin → neither": 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

func TestCodebook(t *testing.T) {
	rs := Default()
	rep := Evaluate(rs, readSmallGold(t))
	for _, format := range []string{"md", "html"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Codebook(rs, &rep, format, &b); err != nil {
				t.Fatal(err)
			}
			for _, r := range rs.Rules() {
				if !strings.Contains(b.String(), r.ID) {
					t.Errorf("codebook lacks rule %s", r.ID)
				}
			}
			if !strings.Contains(b.String(), "precision") {
				t.Errorf("codebook with a report lacks precision")
			}
		})
	}
	if err := Codebook(rs, nil, "pdf", &bytes.Buffer{}); err == nil {
		t.Errorf("got no error for format pdf, want one")
	}
}

// TestDevGold checks the default rules against the shared development gold
// set when it is present.
func TestDevGold(t *testing.T) {
	f, err := os.Open("../../shared/gold/dev.jsonl")
	if err != nil {
		t.Skipf("no shared gold set: %v", err)
	}
	defer f.Close()
	gold, err := ReadGold(f, Default().LabelNames()...)
	if err != nil {
		t.Fatal(err)
	}
	if rep := Evaluate(Default(), gold); rep.MacroF1 < 0.9 {
		t.Errorf("got macro-F1 %.3f on dev.jsonl, want ≥ 0.90", rep.MacroF1)
	}
}

// TestMirrorLabels measures the default rules on the test mirror's
// releases, whose text the team wrote and labelled by the labeling guide
// without looking at the rules: closer to unseen releases than dev.jsonl,
// on which the rules were tuned, though not unseen either (two general
// rules and arms-flow's unless clause followed disagreements here). 34 of
// 36 agree; the two misses are joint statements labelled mixed.
func TestMirrorLabels(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	rs := Default()
	agree := 0
	for _, a := range m.Articles {
		v := rs.Classify(atalaya.Release{Language: atalaya.Language(a.Language), Title: a.Title, Body: a.Body})
		if string(v.Label) == a.Label {
			agree++
		} else {
			t.Logf("%s: got %s, labelled %s", a.Title, v.Label, a.Label)
		}
	}
	if want := len(m.Articles) - 2; agree < want {
		t.Errorf("rules agree with %d of %d mirror labels, want at least %d", agree, len(m.Articles), want)
	}
}

// TestEvaluateUnlabelled checks that releases without a gold label count
// for rule coverage but are never errors or confusion entries.
func TestEvaluateUnlabelled(t *testing.T) {
	rs := Default()
	gold := []GoldRelease{
		{ID: "a", Language: "en", Title: "Extradition", Body: "The suspect was extradited to the United States to face charges of drug trafficking."},
		{ID: "b", Language: "en", Title: "Visit", Body: "The minister visited the embassy."},
	}
	rep := EvaluateSeq(rs, slices.Values(gold))
	if rep.Total != 2 || len(rep.Errors) != 0 || len(rep.Confusion) != 0 {
		t.Errorf("unlabelled evaluation: total %d, %d errors, confusion %v; want 2, 0, empty", rep.Total, len(rep.Errors), rep.Confusion)
	}
	covered := 0
	for _, st := range rep.Rules {
		covered += st.Coverage
	}
	if covered == 0 {
		t.Error("no rule coverage counted for unlabelled releases")
	}
}

// TestGapsSayWhy checks that a relevant release no label rule fired on is
// reported with its title, URL and why it counts as relevant, in the
// text report too.
func TestGapsSayWhy(t *testing.T) {
	rs := Default()
	gold := []GoldRelease{{ID: "g1", URL: "https://example.org/g1", Language: "en", Title: "A meeting", Body: "The delegations met.", Label: Neither, Relevant: true}}
	rep := Evaluate(rs, gold)
	if len(rep.Gaps) != 1 {
		t.Fatalf("gaps = %+v, want the one relevant release", rep.Gaps)
	}
	g := rep.Gaps[0]
	if g.URL != "https://example.org/g1" || g.Reason == "" || g.Title != "A meeting" {
		t.Errorf("gap = %+v, want title, URL and reason", g)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if !strings.Contains(text, "https://example.org/g1") || strings.Contains(text, "g1 ()") {
		t.Errorf("report text lacks the URL or shows empty brackets:\n%s", text)
	}
}
