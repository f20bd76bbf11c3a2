package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atalaya/classify"
)

// TestFilteredQueryMatchesBleve checks, on synthetic releases in many
// segments, that a query with filters matches what bleve's conjunction
// of the query and its unscored filters matches, each release with the
// score the query gives it without filters (bleve's conjunction scales
// them all by one factor, its weight counting the filters'): searched
// with an empty cache, again from the cache, and again after releases
// were revised (new segments, documents deleted from kept ones, merges).
func TestFilteredQueryMatchesBleve(t *testing.T) {
	x, docs := indexSynth(t, 400, Options{BatchSize: 25})
	queries := []Query{
		{Text: "sanctions", Labels: []string{"kingpin"}},
		{Text: "fentanyl OR treatment", Labels: []string{"KINGPIN", "root_cause"}, Since: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Text: `"arms trafficking"`, Until: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), Countries: []string{"us"}},
		{Text: "prevención", Languages: []string{"es"}, Since: time.Date(2020, 2, 10, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)},
		{Text: "rifles NOT label:neither", Sources: []string{"state", "sre"}},
		{Text: "zzzunknownword", Labels: []string{"kingpin"}},
	}
	matched := 0
	for round := range 3 {
		for _, q := range queries {
			for _, cached := range []bool{false, true} {
				name := fmt.Sprintf("round %d %+v cached=%v", round, q, cached)
				got, want := filteredScores(t, x, q, true), filteredScores(t, x, q, false)
				if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
					t.Errorf("%s: scores by ID mismatch (-bleve +filtered):\n%s", name, diff)
				}
				if len(got) > 0 {
					matched++
				}
			}
		}
		var revised []Document
		for k := round; k < len(docs); k += 5 {
			docs[k].Verdict.Label = []classify.Label{"kingpin", "neither", "root_cause"}[round]
			docs[k].Release.Published = docs[k].Release.Published.AddDate(0, -7*(round+1), 0)
			revised = append(revised, docs[k])
		}
		if err := x.Put(context.Background(), revised...); err != nil {
			t.Fatal(err)
		}
	}
	if matched < 20 {
		t.Errorf("%d searches matched anything, want most: the test does not test filtering", matched)
	}
	if len(x.filters.entries) == 0 {
		t.Error("the filter cache kept nothing")
	}
}

// filteredScores returns the score of every release q matches in x: with
// filteredQuery and x's filter cache when fast, else the releases bleve's
// conjunction matches with the scores of q's text alone.
func filteredScores(t *testing.T, x *Index, q Query, fast bool) map[string]float64 {
	t.Helper()
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	bq, err := buildQuery(&q, true)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := bq.(*filteredQuery)
	if !ok {
		t.Fatalf("query %+v is a %T, want a filteredQuery", q, bq)
	}
	if fast {
		return scoresByID(t, context.Background(), bi, withFilterCache(bq, &x.filters), 1000)
	}
	matches := scoresByID(t, context.Background(), bi, bleve.NewConjunctionQuery(f.text, f.filter), 1000)
	text := scoresByID(t, context.Background(), bi, f.text, 1000)
	for id := range matches {
		matches[id] = text[id]
	}
	return matches
}
