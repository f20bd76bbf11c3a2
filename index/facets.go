package index

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facets are counted from postings, not from doc values. Bleve's facets
// read every match's values of the field from its doc values, which are
// compressed in chunks: with matches spread over the index, nearly every
// chunk is decompressed, and that was half the time of a faceted search.
// Here the search only notes the document number of each match, per
// segment; afterwards each match's values are looked up in the segment's
// facet values, read from its postings once per segment (see
// facetcache.go).

// facetQuery matches what q matches and notes each match in c.
type facetQuery struct {
	q query.Query
	c *facetCounter
}

// Searcher returns q's searcher, wrapped to note its matches. The snapshot
// it searches is kept (c.close lets it go) so that the matches can be
// counted after the search.
func (f *facetQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("counting facets: index reader is a %T, not a scorch snapshot", i)
	}
	if f.c.snap != nil {
		return nil, errors.New("counting facets: a facet query can be searched only once")
	}
	s, err := f.q.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	f.c.start(snap)
	return &notingSearcher{Searcher: s, c: f.c}, nil
}

// notingSearcher notes in c every match its searcher returns.
type notingSearcher struct {
	search.Searcher
	c *facetCounter
}

// Next returns the next match, noted.
func (n *notingSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	dm, err := n.Searcher.Next(ctx)
	if dm != nil {
		n.c.add(dm.IndexInternalID.Value())
	}
	return dm, err
}

// Advance returns the first match at or after id, noted.
func (n *notingSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := n.Searcher.Advance(ctx, id)
	if dm != nil {
		n.c.add(dm.IndexInternalID.Value())
	}
	return dm, err
}

// facetCounter holds the matches of one search, by segment of the
// snapshot searched, and counts them by facet value.
type facetCounter struct {
	snap    *scorch.IndexSnapshot // referenced from start to close
	offsets []uint64              // the first document number of each segment
	nums    [][]uint32            // the matches in each segment, by number within it
	seg     int                   // the segment of the last match
	cache   *facetCache           // the facet values of segments; nil reads them for this search only
}

// start takes a reference to snap, whose matches c will note.
func (c *facetCounter) start(snap *scorch.IndexSnapshot) {
	snap.AddRef()
	c.snap = snap
	c.offsets, _ = segmentOffsets(snap)
	c.nums = make([][]uint32, len(c.offsets))
}

// add notes the match with document number num. Matches come in order of
// number, so the segment is usually the last one's.
func (c *facetCounter) add(num uint64) {
	c.seg = segmentOf(c.offsets, c.seg, num)
	c.nums[c.seg] = append(c.nums[c.seg], uint32(num-c.offsets[c.seg]))
}

// close lets the snapshot go.
func (c *facetCounter) close() {
	if c.snap != nil {
		c.snap.DecRef()
		c.snap = nil
	}
}

// counts returns the matches noted by facet field and value. A search
// that matched nothing, or was not run, has none.
func (c *facetCounter) counts() (map[string]map[string]int, error) {
	out := make(map[string]map[string]int, len(facetFields))
	for _, field := range facetFields {
		out[field] = make(map[string]int)
	}
	if c.snap == nil {
		return out, nil
	}
	_, docs := segmentOffsets(c.snap)
	for k, s := range c.snap.Segments() {
		if len(c.nums[k]) == 0 {
			continue
		}
		sf, err := c.cache.facets(s.Segment(), docs)
		if err != nil {
			return nil, fmt.Errorf("counting facets: %v", err)
		}
		sf.count(c.nums[k], out)
	}
	return out, nil
}

// allTerms iterates over the terms of dict, without reading each one's
// postings to count them when the dictionary can (zap's can): the callers
// read them anyway.
func allTerms(dict segment.TermDictionary) segment.DictionaryIterator {
	type omitCounter interface {
		AutomatonIteratorOmitCount(a segment.Automaton, startKeyInclusive, endKeyExclusive []byte) segment.DictionaryIterator
	}
	if d, ok := dict.(omitCounter); ok {
		return d.AutomatonIteratorOmitCount(nil, nil, nil)
	}
	return dict.AutomatonIterator(nil, nil, nil)
}

// facetCounts turns counts by field and value into Result.Facets: each
// facet lists its values by count, most first (years newest first), up to
// its size in facetSizes. Countries are reported upper-case, as
// atalaya.Country.
func facetCounts(counts map[string]map[string]int) map[string][]FacetCount {
	out := make(map[string][]FacetCount, len(facetFields))
	for _, name := range facetFields {
		list := []FacetCount{}
		for v, n := range counts[name] {
			if name == fieldCountry {
				v = strings.ToUpper(v)
			}
			list = append(list, FacetCount{Value: v, Count: n})
		}
		slices.SortFunc(list, func(a, b FacetCount) int {
			if name == fieldYear {
				return strings.Compare(b.Value, a.Value)
			}
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		out[name] = list[:min(len(list), facetSizes[name])]
	}
	return out
}

// segmentOffsets returns, as scorch numbers documents, the number of the
// first document of each segment of snap, and how many numbers the
// segments span in all, deleted documents included.
func segmentOffsets(snap *scorch.IndexSnapshot) (offsets []uint64, total uint64) {
	for _, s := range snap.Segments() {
		offsets = append(offsets, total)
		total += s.Segment().Count()
	}
	return offsets, total
}

// segmentOf returns the segment, of those starting at offsets, that
// document number num is in. Numbers are mostly looked up in order, so
// seg, the segment of the number before, is tried first.
func segmentOf(offsets []uint64, seg int, num uint64) int {
	if num >= offsets[seg] && (seg+1 == len(offsets) || num < offsets[seg+1]) {
		return seg
	}
	return sort.Search(len(offsets), func(k int) bool { return offsets[k] > num }) - 1
}
