package index

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The filters of a Query (labels, sources, dates…) come back search after
// search: a monitoring team's views, the facets clicked in the web UI, a
// digest's query. Bleve intersects a query's text with its filters by
// moving a searcher of each along the other, match by match; that walk
// was most of the time of a filtered search. Here a filter's matches are
// kept as a bitmap per segment, and the text's matches are checked
// against it, skipping to the filter's next match where the text's does
// not pass. Segments never gain documents once written, and a document
// deleted from one is never matched by the text, so a segment's bitmap
// stays right for as long as the segment lives (Lucene's query cache does
// the same).

// filteredQuery matches the releases text matches that filter matches,
// scored by text alone, as bleve's conjunction of text and an unscored
// filter scores them.
type filteredQuery struct {
	text   query.Query
	filter query.Query // unscored
	key    string      // what filter matches, as text: the cache key
	cache  *filterCache
}

// Searcher returns text's searcher, filtered by filter's matches in i.
func (q *filteredQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("filtering: index reader is a %T, not a scorch snapshot", i)
	}
	bitmaps, err := q.cache.bitmaps(ctx, snap, m, q.key, q.filter)
	if err != nil {
		return nil, err
	}
	text, err := q.text.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	offsets, _ := segmentOffsets(snap)
	return &filteredSearcher{Searcher: text, offsets: offsets, bitmaps: bitmaps, itSeg: -1}, nil
}

// filteredSearcher returns the matches of its searcher in bitmaps.
type filteredSearcher struct {
	search.Searcher
	offsets []uint64          // the first document number of each segment
	bitmaps []*roaring.Bitmap // the filter's matches in each segment, by number within it
	seg     int               // the segment of the last match
	it      roaring.IntPeekable
	itSeg   int    // the segment it walks, or -1
	itAt    uint32 // where it was last moved to
	id      bleveapi.IndexInternalID
}

// Next returns the next match that passes the filter.
func (f *filteredSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	dm, err := f.Searcher.Next(ctx)
	return f.pass(ctx, dm, err)
}

// Advance returns the first match at or after id that passes the filter.
func (f *filteredSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := f.Searcher.Advance(ctx, id)
	return f.pass(ctx, dm, err)
}

// pass returns dm if it passes the filter, else the first match after it
// that does: the searcher skips to the filter's next match each time.
func (f *filteredSearcher) pass(ctx *search.SearchContext, dm *search.DocumentMatch, err error) (*search.DocumentMatch, error) {
	for dm != nil && err == nil {
		num := dm.IndexInternalID.Value()
		next, ok := f.nextAtOrAfter(num)
		if !ok {
			ctx.DocumentMatchPool.Put(dm)
			return nil, nil
		}
		if next == num {
			return dm, nil
		}
		ctx.DocumentMatchPool.Put(dm)
		f.id = bleveapi.NewIndexInternalID(f.id, next)
		dm, err = f.Searcher.Advance(ctx, f.id)
	}
	return dm, err
}

// nextAtOrAfter returns the filter's first match at or after document
// number num, not ok when there is none. Matches come in order of number,
// so the segment is usually the last one's, and one iterator per segment
// only moves forward.
func (f *filteredSearcher) nextAtOrAfter(num uint64) (uint64, bool) {
	if num < f.offsets[f.seg] || (f.seg+1 < len(f.offsets) && num >= f.offsets[f.seg+1]) {
		f.seg = sort.Search(len(f.offsets), func(k int) bool { return f.offsets[k] > num }) - 1
	}
	local := uint32(num - f.offsets[f.seg])
	if f.bitmaps[f.seg].Contains(local) {
		return num, true
	}
	for k := f.seg; k < len(f.offsets); k++ {
		if k > f.seg {
			local = 0
		}
		if k != f.itSeg || local < f.itAt {
			f.it, f.itSeg = f.bitmaps[k].Iterator(), k
		}
		f.it.AdvanceIfNeeded(local)
		f.itAt = local
		if f.it.HasNext() {
			return f.offsets[k] + uint64(f.it.PeekNext()), true
		}
	}
	return 0, false
}

// filterCache keeps the bitmaps of the filters searched last, per segment
// and filter, at most maxCachedFilters of them, the least recently used
// going first. A nil cache keeps nothing.
type filterCache struct {
	mu      sync.Mutex
	entries map[filterCacheKey]*cachedFilter
	tick    uint64
}

// maxCachedFilters bounds the bitmaps kept: a few dozen filters over an
// index of a few dozen segments.
const maxCachedFilters = 2048

type filterCacheKey struct {
	seg    segment.Segment
	filter string
}

type cachedFilter struct {
	bitmap *roaring.Bitmap
	used   uint64
}

// bitmaps returns the matches of filter (whose cache key is key) in each
// segment of snap, from the cache, or from a search of the whole
// snapshot when a segment's are not kept.
func (c *filterCache) bitmaps(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, key string, filter query.Query) ([]*roaring.Bitmap, error) {
	segs := snap.Segments()
	if c != nil {
		if kept, ok := c.lookup(segs, key); ok {
			return kept, nil
		}
	}
	bitmaps, err := searchFilter(ctx, snap, m, filter)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.keep(segs, key, bitmaps)
	}
	return bitmaps, nil
}

// lookup returns the kept bitmaps of every segment of segs, not ok unless
// all are kept.
func (c *filterCache) lookup(segs []*scorch.SegmentSnapshot, key string) ([]*roaring.Bitmap, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	out := make([]*roaring.Bitmap, len(segs))
	for k, s := range segs {
		e, ok := c.entries[filterCacheKey{s.Segment(), key}]
		if !ok {
			return nil, false
		}
		e.used = c.tick
		out[k] = e.bitmap
	}
	return out, true
}

// keep keeps the bitmaps of segs, evicting the least recently used beyond
// maxCachedFilters.
func (c *filterCache) keep(segs []*scorch.SegmentSnapshot, key string, bitmaps []*roaring.Bitmap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[filterCacheKey]*cachedFilter)
	}
	c.tick++
	for k, s := range segs {
		c.entries[filterCacheKey{s.Segment(), key}] = &cachedFilter{bitmap: bitmaps[k], used: c.tick}
	}
	for len(c.entries) > maxCachedFilters {
		var oldest filterCacheKey
		used := c.tick + 1
		for k, e := range c.entries {
			if e.used < used {
				oldest, used = k, e.used
			}
		}
		delete(c.entries, oldest)
	}
}

// searchFilter returns the matches of filter in each segment of snap.
func searchFilter(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, filter query.Query) ([]*roaring.Bitmap, error) {
	s, err := filter.Searcher(ctx, snap, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, fmt.Errorf("filtering: %v", err)
	}
	defer s.Close()
	offsets, _ := segmentOffsets(snap)
	bitmaps := make([]*roaring.Bitmap, len(offsets))
	for k := range bitmaps {
		bitmaps[k] = roaring.New()
	}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	seg := 0
	for {
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, fmt.Errorf("filtering: %v", err)
		}
		if dm == nil {
			break
		}
		num := dm.IndexInternalID.Value()
		for seg+1 < len(offsets) && num >= offsets[seg+1] {
			seg++
		}
		bitmaps[seg].Add(uint32(num - offsets[seg]))
		sctx.DocumentMatchPool.Put(dm)
	}
	for _, b := range bitmaps {
		b.RunOptimize()
	}
	return bitmaps, ctx.Err()
}
