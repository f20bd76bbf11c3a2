package index

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atalaya/classify"
)

// TestKeptPhraseMatchesBleve checks, on releases in many segments, that a
// phrase searched over its kept matches matches the releases bleve's
// match-phrase query matches, with the same scores: walked into an empty
// cache (one goroutine, and several parts at once), again from the cache,
// under a filter (which moves it with Advance), and again after releases
// were revised, which deletes them from the kept segments and adds new
// ones.
func TestKeptPhraseMatchesBleve(t *testing.T) {
	x, bi, docs, phrases := indexPhrases(t, 400, Options{BatchSize: 30})
	phrases = phrases[:12]
	kingpin := &filterQuery{q: keywordQuery(fieldLabel, "kingpin")}
	matched := 0
	for round := range 3 {
		for _, p := range phrases {
			text := strings.Trim(p, `"`)
			var kept, slow []query.Query
			for _, f := range textFieldsFor("") {
				kept = append(kept, &phraseQuery{text: text, field: f, cache: &x.kept, partDocs: 16})
				slow = append(slow, matchPhrase(text, f))
			}
			ctx := withSearchTurn(withPhraseScratch(context.Background(), &x.scratch), nil, 1+round%2)
			for _, c := range []struct {
				name       string
				kept, slow query.Query
			}{
				{"first", disjunction(kept), disjunction(slow)},
				{"again", disjunction(kept), disjunction(slow)},
				{"filtered", bleve.NewConjunctionQuery(disjunction(kept), kingpin), bleve.NewConjunctionQuery(disjunction(slow), kingpin)},
			} {
				got, want := scoresByID(t, ctx, bi, c.kept, len(docs)), scoresByID(t, context.Background(), bi, c.slow, len(docs))
				if diff := gocmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
					t.Errorf("round %d %s %s: scores by ID mismatch (-bleve +kept):\n%s", round, p, c.name, diff)
				}
				if len(got) > 0 {
					matched++
				}
			}
		}
		var revised []Document
		for k := round; k < len(docs); k += 3 {
			docs[k].Verdict.Label = []classify.Label{"kingpin", "neither", "root_cause"}[round]
			if k%2 == 0 { // some lose their phrases
				docs[k].Release.Body = strings.ToUpper(docs[k].Release.Body[:20]) + " reemplazado " + docs[k].Release.Body[len(docs[k].Release.Body)/2:]
			}
			revised = append(revised, docs[k])
		}
		if err := x.Put(context.Background(), revised...); err != nil {
			t.Fatal(err)
		}
	}
	if matched < len(phrases)*3 {
		t.Errorf("%d searches matched anything, want most: the test does not test phrases", matched)
	}
	kept := 0
	for k := range x.kept.entries {
		if strings.HasPrefix(k.what, "phrase ") {
			kept++
		}
	}
	if kept == 0 {
		t.Error("no phrase matches were kept")
	}
}

// TestKeptPhraseCanceled checks that a phrase whose matches are being
// found stops when its context is done, and keeps nothing.
func TestKeptPhraseCanceled(t *testing.T) {
	x, bi, _, phrases := indexPhrases(t, 200, Options{BatchSize: 40})
	ctx, cancel := context.WithCancel(withPhraseScratch(context.Background(), &x.scratch))
	cancel()
	q := &phraseQuery{text: strings.Trim(phrases[0], `"`), field: fieldBodyEN, cache: &x.kept}
	_, err := bi.SearchInContext(ctx, bleve.NewSearchRequest(q))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if n := len(x.kept.entries); n != 0 {
		t.Errorf("a canceled search kept %d bitmaps, want none", n)
	}
}

// TestSearchKeepsPhrases checks that Index.Search keeps a phrase's matches
// and answers the same from them.
func TestSearchKeepsPhrases(t *testing.T) {
	x, _, _, phrases := indexPhrases(t, 300, Options{BatchSize: 40})
	for _, sort := range []Sort{SortRelevance, SortDate} {
		q := Query{Text: phrases[2], Sort: sort, Size: 50, Facets: true}
		first, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.kept.entries) == 0 {
			t.Fatalf("%s: the search kept nothing", sort)
		}
		again, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		first.Took, again.Took = 0, 0
		if diff := gocmp.Diff(first, again); diff != "" || first.Total == 0 {
			t.Errorf("%s: %d matches first; from the kept matches (-first +again):\n%s", sort, first.Total, diff)
		}
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

// TestKeptConcurrently runs phrase, filtered and faceted searches from
// several goroutines while releases are indexed, so that kept bitmaps and
// facet values are found, shared and evicted at once (run with -race);
// every search must answer what a search alone answers once the writes
// have ended.
func TestKeptConcurrently(t *testing.T) {
	x, _, docs, phrases := indexPhrases(t, 300, Options{BatchSize: 30})
	queries := []Query{
		{Text: phrases[0], Facets: true},
		{Text: phrases[4], Labels: []string{"kingpin"}},
		{Text: "sanctions NOT label:neither", Sort: SortDate},
		{Text: phrases[6] + " OR fentanyl", Countries: []string{"mx"}, Facets: true},
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		defer close(stop)
		for k := 0; k < len(docs); k += 30 {
			if err := x.Put(context.Background(), docs[k:min(k+30, len(docs))]...); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := x.Search(context.Background(), queries[i%len(queries)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, q := range queries {
		fresh, err := OpenMem()
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		if err := fresh.Put(context.Background(), docs...); err != nil {
			t.Fatal(err)
		}
		got, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != want.Total || !gocmp.Equal(got.Facets, want.Facets) {
			t.Errorf("%+v: %d matches and facets %v after concurrent searches, want %d and %v", q, got.Total, got.Facets, want.Total, want.Facets)
		}
	}
}
