package index

import (
	"context"
	"fmt"
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
// scored by text alone (bleve's conjunction of text and an unscored
// filter scales every score by one factor, its norm counting the filter's
// weight).
type filteredQuery struct {
	text   query.Query
	filter query.Query // unscored
	key    string      // what filter matches, as text: the cache key
	cache  *keptCache
}

// Searcher returns text's searcher, filtered by filter's matches in i.
func (q *filteredQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("filtering: index reader is a %T, not a scorch snapshot", i)
	}
	bitmaps, err := q.cache.filterBitmaps(ctx, snap, m, q.key, q.filter)
	if err != nil {
		return nil, err
	}
	text, err := q.text.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	offsets, _ := segmentOffsets(snap)
	filter := &keptFilter{offsets: offsets, bitmaps: bitmaps, itSeg: -1}
	if or, ok := text.(*orSearcher); ok {
		// The OR searcher skips what the filter refuses before scoring it.
		or.filters = append(or.filters, filter)
		return or, nil
	}
	return &filteredSearcher{Searcher: text, keptFilter: filter}, nil
}

// filteredSearcher returns the matches of its searcher that a keptFilter
// passes.
type filteredSearcher struct {
	search.Searcher
	*keptFilter
	id bleveapi.IndexInternalID
}

// keptFilter is a filter's matches, kept per segment.
type keptFilter struct {
	offsets []uint64          // the first document number of each segment
	bitmaps []*roaring.Bitmap // the filter's matches in each segment, by number within it
	seg     int               // the segment of the last match
	it      roaring.IntPeekable
	itSeg   int    // the segment it walks, or -1
	itAt    uint32 // where it was last moved to
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
func (f *keptFilter) nextAtOrAfter(num uint64) (uint64, bool) {
	f.seg = segmentOf(f.offsets, f.seg, num)
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

// keptCache keeps what searches found in each segment: the matches of the
// filters (bitmaps) and of the phrases (phraseMatches) searched last, at
// most maxKept of them and maxKeptBytes in all, the least recently used
// going first. A nil cache keeps nothing.
type keptCache struct {
	mu      sync.Mutex
	entries map[keptKey]*keptEntry
	tick    uint64
	bytes   uint64 // held by the values kept
}

// Bounds on what is kept: a few hundred filters and phrases over an index
// of a few dozen segments.
const (
	maxKept      = 4096
	maxKeptBytes = 32 << 20
)

// keptKey names a value kept: its segment, and what it holds as text.
type keptKey struct {
	seg  segment.Segment
	what string
}

type keptEntry struct {
	value any
	bytes uint64
	used  uint64
}

// get returns the value kept as what in seg, if any.
func (c *keptCache) get(seg segment.Segment, what string) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[keptKey{seg, what}]
	if !ok {
		return nil, false
	}
	c.tick++
	e.used = c.tick
	return e.value, true
}

// put keeps v, which holds about bytes bytes, as what in seg, evicting the
// least recently used beyond the bounds. Nothing may change v after.
func (c *keptCache) put(seg segment.Segment, what string, v any, bytes uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[keptKey]*keptEntry)
	}
	c.tick++
	key := keptKey{seg, what}
	if old, ok := c.entries[key]; ok {
		c.bytes -= old.bytes
	}
	c.entries[key] = &keptEntry{value: v, bytes: bytes, used: c.tick}
	c.bytes += bytes
	for len(c.entries) > maxKept || (c.bytes > maxKeptBytes && len(c.entries) > 1) {
		var oldest keptKey
		used := c.tick + 1
		for k, e := range c.entries {
			if e.used < used {
				oldest, used = k, e.used
			}
		}
		c.bytes -= c.entries[oldest].bytes
		delete(c.entries, oldest)
	}
}

// filterBitmaps returns the matches of filter (key says what it matches)
// in each segment of snap: kept ones, and for the segments whose matches
// are not kept (written since), those of a search of these segments, which
// are kept.
func (c *keptCache) filterBitmaps(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, key string, filter query.Query) ([]*roaring.Bitmap, error) {
	segs := snap.Segments()
	what := "filter " + key
	out := make([]*roaring.Bitmap, len(segs))
	var missing []int
	for k, s := range segs {
		if b, ok := c.get(s.Segment(), what); ok {
			out[k] = b.(*roaring.Bitmap)
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := searchFilter(ctx, snap, m, filter, missing, out); err != nil {
		return nil, err
	}
	// Not run-optimized: a filter's bitmap is asked whether it holds each
	// match of the text, which a run container answers by binary search.
	for _, k := range missing {
		c.put(segs[k].Segment(), what, out[k], out[k].GetSizeInBytes())
	}
	return out, nil
}

// searchFilter sets out[k], for each segment k of missing (in order), to
// the matches of filter in that segment, by number within it: the
// filter's searcher skips to each segment's first document.
func searchFilter(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, filter query.Query, missing []int, out []*roaring.Bitmap) error {
	s, err := filter.Searcher(ctx, snap, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return fmt.Errorf("filtering: %v", err)
	}
	defer s.Close()
	offsets, total := segmentOffsets(snap)
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	var dm *search.DocumentMatch // the next match, once the search started
	started := false
	for _, k := range missing {
		out[k] = roaring.New()
		end := total
		if k+1 < len(offsets) {
			end = offsets[k+1]
		}
		if !started || (dm != nil && dm.IndexInternalID.Value() < offsets[k]) {
			if dm != nil {
				sctx.DocumentMatchPool.Put(dm)
			}
			if dm, err = s.Advance(sctx, bleveapi.NewIndexInternalID(nil, offsets[k])); err != nil {
				return fmt.Errorf("filtering: %v", err)
			}
			started = true
		}
		for dm != nil && dm.IndexInternalID.Value() < end {
			out[k].Add(uint32(dm.IndexInternalID.Value() - offsets[k]))
			sctx.DocumentMatchPool.Put(dm)
			if dm, err = s.Next(sctx); err != nil {
				return fmt.Errorf("filtering: %v", err)
			}
		}
	}
	return ctx.Err()
}
