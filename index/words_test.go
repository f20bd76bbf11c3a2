package index

import (
	"context"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestWordsQueryMatchesBleve checks that wordsQuery matches what bleve's
// match query with every word required matches, with the same scores:
// one word (searched by its term searcher alone), several, words the
// analyzer drops, and with a filter beside it.
func TestWordsQueryMatchesBleve(t *testing.T) {
	_, bi, docs, _ := indexPhrases(t, 300, Options{BatchSize: 40})
	kingpin := &filterQuery{q: keywordQuery(fieldLabel, "kingpin")}
	matched := 0
	for _, text := range []string{"sanctions", "Sanctioned", "extradición", "arms trafficking", "lavado de dinero", "the", "de", "zzzunknown"} {
		var fast, slow []query.Query
		for _, f := range textFieldsFor("") {
			fast = append(fast, matchAll(text, f))
			m := bleve.NewMatchQuery(text)
			m.SetField(f)
			m.SetOperator(query.MatchQueryOperatorAnd)
			slow = append(slow, m)
		}
		for _, c := range []struct {
			name       string
			fast, slow query.Query
		}{
			{"alone", disjunction(fast), disjunction(slow)},
			{"filtered", bleve.NewConjunctionQuery(disjunction(fast), kingpin), bleve.NewConjunctionQuery(disjunction(slow), kingpin)},
		} {
			got, want := scoresByID(t, context.Background(), bi, c.fast, len(docs)), scoresByID(t, context.Background(), bi, c.slow, len(docs))
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("%q %s: scores by ID mismatch (-bleve +words):\n%s", text, c.name, diff)
			}
			if len(got) > 0 {
				matched++
			}
		}
	}
	if matched < 6 {
		t.Errorf("%d searches matched anything, want most: the test does not test scores", matched)
	}
}
