package classify

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"atalaya"
)

func TestPhrases(t *testing.T) {
	got := Phrases("La Extradición de 2 hombres. Vinculación a proceso", 2)
	for _, want := range []string{"extradicion", "hombres", "vinculacion", "proceso", "a proceso"[2:]} {
		if !slices.Contains(got, want) {
			t.Errorf("phrases lack %q: %v", want, got)
		}
	}
	for _, not := range []string{"la", "la extradicion", "extradicion de", "2", "2 hombres", "hombres vinculacion"} {
		if slices.Contains(got, not) {
			t.Errorf("phrases hold %q (a stop word or number at an end, or across sentences): %v", not, got)
		}
	}
	if three := Phrases("Vinculación a proceso", 3); !slices.Contains(three, "vinculacion a proceso") {
		t.Errorf("got %v, want the folded three-word phrase", three)
	}
}

func TestSuggest(t *testing.T) {
	rs, err := Parse(strings.NewReader(strings.Replace(fitRules, "relevance: 2", "relevance: 1", 1)), "fit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var gold []GoldRelease
	for i := range 4 {
		// The rules miss these: "handed" is not a pattern.
		gold = append(gold, GoldRelease{ID: fmt.Sprintf("k%d", i), Body: "The fugitive was handed over to the marshals.", Label: "kingpin", Relevant: true},
			GoldRelease{ID: fmt.Sprintf("n%d", i), Body: "The marshals held a ceremony.", Label: Neither})
	}
	archived := []atalaya.Release{{Body: "Two men were handed over at the bridge, officials said about drugs."}}
	got := Suggest(rs, gold, slices.Values(archived), SuggestOptions{})
	i := slices.IndexFunc(got, func(s Suggestion) bool { return s.Phrase == "handed" })
	if i < 0 {
		t.Fatalf("no suggestion of \"handed\": %+v", got)
	}
	want := Suggestion{Phrase: "handed", Label: "kingpin", Precision: 1, Coverage: 4, Support: 4, Missed: 4, Archive: 1, ArchiveNeither: 1}
	if got[i] != want {
		t.Errorf("got %+v, want %+v", got[i], want)
	}
	if slices.ContainsFunc(got, func(s Suggestion) bool { return s.Phrase == "marshals" }) {
		t.Errorf("suggested \"marshals\", which is in every release: %+v", got)
	}
}
