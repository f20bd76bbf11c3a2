package index

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	gocmp "github.com/google/go-cmp/cmp"
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
				if diff := gocmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
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
	if len(x.kept.entries) == 0 {
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
		return scoresByID(t, context.Background(), bi, withKept(bq, &x.kept), 1000)
	}
	matches := scoresByID(t, context.Background(), bi, bleve.NewConjunctionQuery(f.text, f.filter), 1000)
	text := scoresByID(t, context.Background(), bi, f.text, 1000)
	for id := range matches {
		matches[id] = text[id]
	}
	return matches
}

// TestExclusionFilterMatchesBleve checks that an AND whose negated
// operands are keywords and dates, searched as a filter, matches what
// bleve's boolean query of the same operands matches, with the same
// ranks, first from an empty cache and then from the cache.
func TestExclusionFilterMatchesBleve(t *testing.T) {
	x, _ := indexSynth(t, 400, Options{BatchSize: 25})
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	matched := 0
	for _, text := range []string{
		"fentanyl NOT label:neither",
		"(sanctions OR prevención) AND NOT label:neither",
		`"arms trafficking" NOT (source:state OR country:mx)`,
		"rifles AND cartuchos NOT published:[2020-01-01 TO 2022-12-31] NOT label:kingpin",
	} {
		e, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		and, ok := e.(*And)
		if !ok {
			t.Fatalf("%q parses to a %T, want an And", text, e)
		}
		fast := translate(and, true)
		if _, ok := fast.(*filteredQuery); !ok {
			t.Fatalf("%q translates to a %T, want a filteredQuery", text, fast)
		}
		slow := bleve.NewBooleanQuery()
		for _, x := range and.X {
			if n, ok := x.(*Not); ok {
				slow.AddMustNot(translate(n.X, true))
			} else {
				slow.AddMust(translate(x, true))
			}
		}
		want := scoresByID(t, context.Background(), bi, slow, 1000)
		for _, pass := range []string{"empty cache", "from the cache"} {
			got := scoresByID(t, context.Background(), bi, withKept(fast, &x.kept), 1000)
			if diff := gocmp.Diff(ranks(want), ranks(got)); diff != "" {
				t.Errorf("%q, %s: ranks mismatch (-bleve +filtered):\n%s", text, pass, diff)
			}
		}
		if len(want) > 0 {
			matched++
		}
	}
	if matched < 3 {
		t.Errorf("%d queries matched anything, want most: the test does not test exclusion", matched)
	}
}

// ranks returns the IDs of scores, best first (ties by ID).
func ranks(scores map[string]float64) []string {
	ids := slices.Collect(maps.Keys(scores))
	slices.SortFunc(ids, func(a, b string) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}

// TestBitmapCacheEvicts checks that the cache drops the least recently
// used bitmaps beyond its bounds and keeps its count of bytes.
func TestBitmapCacheEvicts(t *testing.T) {
	x, _ := indexSynth(t, 100, Options{BatchSize: 50})
	snap := snapshotOf(t, x)
	seg := snap.Segments()[0].Segment()
	c := &keptCache{}
	for k := range maxKept + 10 {
		c.put(seg, fmt.Sprint("small ", k), roaring.BitmapOf(uint32(k)), 16)
	}
	if len(c.entries) != maxKept || c.lru.Len() != maxKept {
		t.Errorf("kept %d bitmaps, want at most %d", len(c.entries), maxKept)
	}
	if _, ok := c.get(seg, "small 0"); ok {
		t.Error("the least recently used bitmap is still kept")
	}
	if _, ok := c.get(seg, fmt.Sprint("small ", maxKept+9)); !ok {
		t.Error("the bitmap kept last is gone")
	}
	var sum uint64
	for _, e := range c.entries {
		sum += e.Value.(*keptEntry).bytes
	}
	if sum != c.bytes {
		t.Errorf("the cache counts %d bytes, its bitmaps hold %d", c.bytes, sum)
	}
}

// TestKeptCacheDropsGoneSegments checks that what is kept for segments no
// longer in the index (merged away, replaced) is dropped when the cache is
// retained to the index's segments, and not kept again after.
func TestKeptCacheDropsGoneSegments(t *testing.T) {
	x, _ := indexSynth(t, 100, Options{BatchSize: 25})
	segs := snapshotOf(t, x).Segments()
	if len(segs) < 2 {
		t.Fatalf("%d segments: the test needs two or more", len(segs))
	}
	c := &keptCache{}
	const what = "word body_en fentanyl"
	for _, s := range segs {
		c.put(s.Segment(), what, &keptPostings{}, 100)
	}
	c.retain(segs[1:])
	if _, ok := c.get(segs[0].Segment(), what); ok {
		t.Error("postings are still kept for a segment gone from the index")
	}
	for _, s := range segs[1:] {
		if _, ok := c.get(s.Segment(), what); !ok {
			t.Error("postings of a segment still in the index were dropped")
		}
	}
	if want := uint64(100 * (len(segs) - 1)); c.bytes != want {
		t.Errorf("the cache counts %d bytes, want %d", c.bytes, want)
	}
	c.put(segs[0].Segment(), "filter label:kingpin", bitset{1}, 32)
	if _, ok := c.get(segs[0].Segment(), "filter label:kingpin"); ok {
		t.Error("a value was kept for a segment gone from the index")
	}
}

// TestBitsetNext checks the next member at or after a number, across
// words and at the ends.
func TestBitsetNext(t *testing.T) {
	s := bitsetOf(roaring.BitmapOf(0, 5, 63, 64, 200), 260)
	for _, c := range []struct {
		from, want uint32
		ok         bool
	}{
		{0, 0, true}, {1, 5, true}, {6, 63, true}, {64, 64, true}, {65, 200, true}, {200, 200, true}, {201, 0, false}, {1000, 0, false},
	} {
		if got, ok := s.next(c.from); got != c.want || ok != c.ok {
			t.Errorf("next(%d) = %d, %v; want %d, %v", c.from, got, ok, c.want, c.ok)
		}
	}
}

// TestKeptWhileWriting searches words, phrases and filters while batches
// are written (segments added, merged away, releases deleted from them),
// then checks that the answers from what was kept are those of a search
// with nothing kept.
func TestKeptWhileWriting(t *testing.T) {
	x, docs := indexSynth(t, 600, Options{BatchSize: 50})
	queries := []Query{
		{Text: "sanctions OR prevención"}, {Text: "fentanyl AND NOT label:neither", Size: 30},
		{Text: `"arms trafficking" OR treatment`}, {Text: "rifles", Labels: []string{"kingpin"}},
	}
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := x.Search(ctx, queries[i%len(queries)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for round := range 6 {
		var batch []Document
		for k := round; k < len(docs); k += 7 {
			batch = append(batch, docs[k])
		}
		if err := x.Put(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for _, q := range queries {
		kept, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		forgetKept(&x.kept, "")
		fresh, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		kept.Took, fresh.Took = 0, 0
		if diff := gocmp.Diff(fresh, kept); diff != "" {
			t.Errorf("%+v: kept answers differ (-nothing kept +kept):\n%s", q, diff)
		}
	}
}
