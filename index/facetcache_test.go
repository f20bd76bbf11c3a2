package index

import (
	"context"
	"testing"

	"atalaya/classify"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/google/go-cmp/cmp"
)

// TestFacetsAfterRevisions checks facet counts searched, then searched
// again after releases were revised (new segments, documents deleted
// from the cached ones, merges): the cached values of old segments never
// count a revised release twice or with its old values.
func TestFacetsAfterRevisions(t *testing.T) {
	x, docs := indexSynth(t, 300, Options{BatchSize: 30})
	for round := range 3 {
		r, err := x.Search(context.Background(), Query{Facets: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bruteFacets(docs), r.Facets); diff != "" {
			t.Fatalf("round %d: facets mismatch (-want +got):\n%s", round, diff)
		}
		for k := round; k < len(docs); k += 4 {
			docs[k].Verdict.Label = []classify.Label{"neither", "kingpin", "root_cause"}[round]
			docs[k].Verdict.Themes = docs[k].Verdict.Themes[:len(docs[k].Verdict.Themes)/2]
			docs[k].Release.Published = docs[k].Release.Published.AddDate(-round-1, 0, 0)
		}
		var revised []Document
		for k := round; k < len(docs); k += 4 {
			revised = append(revised, docs[k])
		}
		if err := x.Put(context.Background(), revised...); err != nil {
			t.Fatal(err)
		}
	}
}

// bruteFacets counts the facets of every document.
func bruteFacets(docs []Document) map[string][]FacetCount {
	counts := make(map[string]map[string]int)
	for _, f := range facetFields {
		counts[f] = make(map[string]int)
	}
	for k := range docs {
		addFacets(counts, &docs[k])
	}
	return facetCounts(counts)
}

// TestFacetCacheEvicts checks that the cache keeps the segments of the
// snapshot being counted and at most its extra documents beyond them, the
// least recently used going first.
func TestFacetCacheEvicts(t *testing.T) {
	x, _ := indexSynth(t, 200, Options{BatchSize: 20})
	segs := snapshotOf(t, x).Segments()
	if len(segs) < 3 {
		t.Skipf("the index has %d segments; the test needs 3", len(segs))
	}
	c := &facetCache{extra: 1}
	for _, s := range segs {
		if _, err := c.facets(s.Segment(), s.Segment().Count()); err != nil {
			t.Fatal(err)
		}
		if len(c.segs) != 1 || c.segs[s.Segment()] == nil {
			t.Fatalf("with room for one segment, the cache holds %d, want the one just read", len(c.segs))
		}
	}
	c = &facetCache{}
	for _, s := range segs {
		if _, err := c.facets(s.Segment(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.segs) != len(segs) {
		t.Errorf("with room for all, the cache holds %d segments of %d", len(c.segs), len(segs))
	}
}

// snapshotOf returns the scorch snapshot x searches now, let go when t
// ends.
func snapshotOf(t *testing.T, x *Index) *scorch.IndexSnapshot {
	t.Helper()
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	ir, err := bi.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ir.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.(*scorch.IndexSnapshot)
}
