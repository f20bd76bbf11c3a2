package index

import (
	"context"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"atalaya/classify"
)

// TestHighlightWordsMatchesBleve checks that the fragments highlightWords
// makes are those of Bleve's highlighting search, hit for hit, on
// releases in many segments, some revised (deleted from their segments):
// words, ORs and ANDs of them, negated words and filters (whose words are
// not marked), accented words (looked for unaccented in English text),
// words in titles only (the body's first fragment, unmarked), keywords.
func TestHighlightWordsMatchesBleve(t *testing.T) {
	x, bi, docs, _ := indexPhrases(t, 300, Options{BatchSize: 25})
	var revised []Document
	for k := 0; k < len(docs); k += 5 {
		docs[k].Verdict.Label = classify.Label("mixed")
		revised = append(revised, docs[k])
	}
	if err := x.Put(context.Background(), revised...); err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"sanctions", "extradición", "prevención OR fentanyl", "treatment AND (laboratorio OR delegations)",
		"(sanctions OR prevención) AND NOT label:neither", "fentanyl AND NOT overdose", "Cárdenas", "title:sanctions",
		"label:kingpin", "sanctions OR sanctions", "rifles cartuchos", "NOT label:neither",
	}
	marked := 0
	for _, text := range texts {
		q := Query{Text: text, Size: 40}
		r, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if len(r.Hits) == 0 {
			t.Errorf("%q: no hits: the test does not test it", text)
			continue
		}
		bq, err := buildQuery(&q, false)
		if err != nil {
			t.Fatal(err)
		}
		words, ok := wordsToHighlight(bq, bi.Mapping())
		if !ok {
			t.Errorf("%q: not highlighted by words", text)
			continue
		}
		fast, slow := copyHits(r), copyHits(r)
		if err := highlightWords(context.Background(), bi, words, fast); err != nil {
			t.Fatal(err)
		}
		if err := highlightBySearch(context.Background(), bi, bq, slow); err != nil {
			t.Fatal(err)
		}
		for i := range fast.Hits {
			if diff := gocmp.Diff(slow.Hits[i].Fragments, fast.Hits[i].Fragments); diff != "" {
				t.Errorf("%q, hit %s: fragments differ (-bleve +words):\n%s", text, fast.Hits[i].ID, diff)
			}
			if slices.ContainsFunc(fast.Hits[i].Fragments, func(f string) bool { return strings.Contains(f, "<mark>") }) {
				marked++
			}
		}
	}
	if marked < 100 {
		t.Errorf("%d hits had a word marked: the test hardly tests highlighting", marked)
	}
}

func copyHits(r *Result) *Result {
	return &Result{Hits: slices.Clone(r.Hits)}
}

// TestWordsToHighlight checks which queries are highlighted by their
// words and which by Bleve's search.
func TestWordsToHighlight(t *testing.T) {
	m := newMapping()
	for _, c := range []struct {
		text  string
		words []string // field:term
		ok    bool
	}{
		{"sanctions", []string{"body_en:sanction", "body_es:sanctions"}, true},
		{"fentanyl AND NOT overdose", []string{"body_en:fentanyl", "body_es:fentanyl"}, true},
		{"label:kingpin AND body:cartuchos", []string{"body_en:cartucho", "body_es:cartuch"}, true},
		{"title:sanctions", nil, true},
		{`"arms trafficking"`, nil, false},
		{"sanc*", nil, false},
		{"label:king*", nil, true},
		{"anti-drug", nil, false}, // two words that match only together
	} {
		q := Query{Text: c.text}
		bq, err := buildQuery(&q, false)
		if err != nil {
			t.Fatal(err)
		}
		words, ok := wordsToHighlight(bq, m)
		var got []string
		for _, w := range words {
			got = append(got, w.field+":"+string(w.term))
		}
		if ok != c.ok || !slices.Equal(got, c.words) {
			t.Errorf("%q: words %q, %v; want %q, %v", c.text, got, ok, c.words, c.ok)
		}
	}
}

// TestHighlightWordsHitGone checks that a hit deleted between the search
// and its highlighting gets no fragments, and the others theirs.
func TestHighlightWordsHitGone(t *testing.T) {
	x, bi, _, _ := indexPhrases(t, 100, Options{BatchSize: 25})
	q := Query{Text: "sanctions", Size: 5}
	r, err := x.Search(context.Background(), q)
	if err != nil || len(r.Hits) < 2 {
		t.Fatalf("search: %v, %d hits", err, len(r.Hits))
	}
	if err := x.Delete(context.Background(), r.Hits[0].ID); err != nil {
		t.Fatal(err)
	}
	bq, _ := buildQuery(&q, false)
	words, _ := wordsToHighlight(bq, bi.Mapping())
	if err := highlightWords(context.Background(), bi, words, r); err != nil {
		t.Fatal(err)
	}
	if len(r.Hits[0].Fragments) != 0 {
		t.Errorf("the deleted hit has fragments %q", r.Hits[0].Fragments)
	}
	if len(r.Hits[1].Fragments) == 0 {
		t.Error("a hit still in the index has no fragments")
	}
}
