package index

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// splitQuery is a phraseQuery split in parts however rare its words are;
// it counts the searchers it split in *split.
type splitQuery struct {
	phraseQuery
	parts int
	split *int
}

func (q *splitQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := q.searcher(ctx, i, m, options, q.parts, 0)
	if _, ok := s.(*splitSearcher); ok {
		*q.split++
	}
	return s, err
}

// TestSplitPhraseMatchesBleve checks, on synthetic releases in several
// segments, that a phrase search split in parts matches the releases
// bleve's match-phrase query matches, with the same scores, alone and
// under a filter (which moves it with Advance). The split searches share
// one phraseScratch, so most reuse the iterators and match buffers of
// earlier ones.
func TestSplitPhraseMatchesBleve(t *testing.T) {
	_, bi, docs, phrases := indexPhrases(t, 300, Options{BatchSize: 40})
	kingpin := &filterQuery{q: keywordQuery(fieldLabel, "kingpin")}
	scratch := withPhraseScratch(context.Background(), &phraseScratch{})
	split, matched := 0, 0
	for _, parts := range []int{2, 3, 4} {
		for _, p := range phrases {
			t.Run(fmt.Sprintf("%d parts %s", parts, p), func(t *testing.T) {
				text := strings.Trim(p, `"`)
				var fast, slow []query.Query
				for _, f := range textFieldsFor("") {
					fast = append(fast, &splitQuery{phraseQuery{text: text, field: f}, parts, &split})
					slow = append(slow, matchPhrase(text, f))
				}
				for _, tt := range []struct {
					name       string
					fast, slow query.Query
				}{
					{"alone", disjunction(fast), disjunction(slow)},
					{"filtered", bleve.NewConjunctionQuery(disjunction(fast), kingpin), bleve.NewConjunctionQuery(disjunction(slow), kingpin)},
				} {
					got, want := scoresByID(t, scratch, bi, tt.fast, len(docs)), scoresByID(t, context.Background(), bi, tt.slow, len(docs))
					if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
						t.Errorf("%s: scores by ID mismatch (-bleve +split):\n%s", tt.name, diff)
					}
					if len(got) > 0 {
						matched++
					}
				}
			})
		}
	}
	if split == 0 || matched < len(phrases) {
		t.Errorf("got %d split searchers and %d matching searches, want some of each: the test does not test splitting", split, matched)
	}
}

// scoresByID returns the score of every release q matches in bi.
func scoresByID(t *testing.T, ctx context.Context, bi bleve.Index, q query.Query, size int) map[string]float64 {
	t.Helper()
	res, err := bi.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, size, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]float64)
	for _, h := range res.Hits {
		if _, dup := m[h.ID]; dup {
			t.Errorf("got release %s twice, want each match once", h.ID)
		}
		m[h.ID] = h.Score
	}
	return m
}

// TestSplitPhraseCanceled checks that a split phrase search stops when its
// context is done.
func TestSplitPhraseCanceled(t *testing.T) {
	_, bi, _, phrases := indexPhrases(t, 100, Options{BatchSize: 40})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	split := 0
	q := &splitQuery{phraseQuery{text: strings.Trim(phrases[0], `"`), field: fieldBodyEN}, 2, &split}
	_, err := bi.SearchInContext(ctx, bleve.NewSearchRequest(q))
	if err == nil || split == 0 {
		t.Errorf("got error %v from %d split searchers, want context.Canceled from a split searcher", err, split)
	}
}
