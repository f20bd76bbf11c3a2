package index

import (
	"context"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atalaya/classify"
)

// TestOrQueryMatchesBleve checks, on releases in many segments, that the
// disjunctions of query words match what bleve's disjunctions of the same
// operands match, with the same scores: words (a disjunction over the
// text fields, with the accent-folded form in English ones), ORs of
// words, keyword values among them, words ANDed (their norm set by the
// conjunction), under a filter (which moves them with Advance), from
// postings read and from postings kept, and again after releases were
// revised (deleted from their segments, so that the postings kept before
// are read again).
func TestOrQueryMatchesBleve(t *testing.T) {
	x, bi, docs, _ := indexPhrases(t, 400, Options{BatchSize: 30})
	kingpin := &filterQuery{q: keywordQuery(fieldLabel, "kingpin")}
	cache := &keptCache{}
	texts := []string{
		"sanctions", "extradición", "prevención OR fentanyl", "(sanctions OR prevención) OR cartuchos",
		"label:kingpin OR overdose", "fentanyl rifles", "treatment AND (laboratorio OR delegations)", "zzzunknown OR sanctions",
	}
	matched, fast := 0, 0
	for round := range 2 {
		for _, text := range texts {
			e, err := Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			q := translate(e, true)
			for _, c := range []struct {
				name       string
				fast, slow query.Query
			}{
				{"alone", q, bleveDisjunctions(q)},
				{"filtered", bleve.NewConjunctionQuery(q, kingpin), bleve.NewConjunctionQuery(bleveDisjunctions(q), kingpin)},
				{"read and kept", withKept(translate(e, true), cache), bleveDisjunctions(q)},
				{"from kept postings", withKept(translate(e, true), cache), bleveDisjunctions(q)},
			} {
				got, want := scoresByID(t, context.Background(), bi, c.fast, len(docs)), scoresByID(t, context.Background(), bi, c.slow, len(docs))
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("round %d %q %s: scores by ID mismatch (-bleve +or):\n%s", round, text, c.name, diff)
				}
				if len(got) > 0 {
					matched++
				}
			}
			if hasOrSearcher(t, x, q) {
				fast++
			}
		}
		var revised []Document
		for k := round; k < len(docs); k += 4 {
			docs[k].Verdict.Label = classify.Label([]string{"kingpin", "neither"}[round])
			revised = append(revised, docs[k])
		}
		if err := x.Put(context.Background(), revised...); err != nil {
			t.Fatal(err)
		}
	}
	words := 0
	for key := range cache.entries {
		if strings.HasPrefix(key.what, "word ") {
			words++
		}
	}
	if words == 0 {
		t.Error("no postings were kept: the test does not test searching kept postings")
	}
	if matched < len(texts)*2 || fast < len(texts) {
		t.Errorf("%d searches matched anything and %d used the orSearcher, want most of both: the test does not test it", matched, fast)
	}
}

// bleveDisjunctions returns q with bleve's disjunction queries in place of
// orQuery.
func bleveDisjunctions(q query.Query) query.Query {
	switch q := q.(type) {
	case *orQuery:
		var ops []query.Query
		for _, op := range q.operands {
			ops = append(ops, bleveDisjunctions(op))
		}
		return bleve.NewDisjunctionQuery(ops...)
	case *query.ConjunctionQuery:
		var ops []query.Query
		for _, op := range q.Conjuncts {
			ops = append(ops, bleveDisjunctions(op))
		}
		return bleve.NewConjunctionQuery(ops...)
	}
	return q
}

// hasOrSearcher reports whether q's searcher in x is or holds an
// orSearcher.
func hasOrSearcher(t *testing.T, x *Index, q query.Query) bool {
	t.Helper()
	if c, ok := q.(*query.ConjunctionQuery); ok {
		q = c.Conjuncts[0]
	}
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	s, err := q.Searcher(context.Background(), snapshotOf(t, x), bi.Mapping(), bleveOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, ok := s.(*orSearcher)
	return ok
}

// bleveOptions are the searcher options of a scored search.
func bleveOptions() search.SearcherOptions { return search.SearcherOptions{Score: "default"} }
