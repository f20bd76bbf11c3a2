package index

import (
	"container/list"
	"context"
	"fmt"
	"math/bits"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
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
// kept as a bitset per segment, and the text's matches are checked
// against it, skipping to the filter's next match where the text's does
// not pass. Segments never gain documents once written, and a document
// deleted from one is never matched by the text, so a segment's bitset
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
	sets, err := q.cache.filterSets(ctx, snap, m, q.key, q.filter)
	if err != nil {
		return nil, err
	}
	text, err := q.text.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	offsets, _ := segmentOffsets(snap)
	filter := &keptFilter{offsets: offsets, sets: sets}
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
	offsets []uint64 // the first document number of each segment
	sets    []bitset // the filter's matches in each segment, by number within it
	seg     int      // the segment of the last match
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
// so the segment is usually the last one's.
func (f *keptFilter) nextAtOrAfter(num uint64) (uint64, bool) {
	f.seg = segmentOf(f.offsets, f.seg, num)
	local := uint32(num - f.offsets[f.seg])
	for k := f.seg; k < len(f.offsets); k, local = k+1, 0 {
		if n, ok := f.sets[k].next(local); ok {
			return f.offsets[k] + uint64(n), true
		}
	}
	return 0, false
}

// bitset is a set of document numbers within a segment, a bit each: the
// text's matches are checked against a filter's one by one, and a bit
// answers faster than a bitmap's containers (an eighth of a byte per
// release of the segment, kept once per filter).
type bitset []uint64

// bitsetOf returns the members of b, of a segment of docs releases.
func bitsetOf(b *roaring.Bitmap, docs uint64) bitset {
	s := make(bitset, (docs+63)/64)
	it := b.Iterator()
	for it.HasNext() {
		n := it.Next()
		s[n/64] |= 1 << (n % 64)
	}
	return s
}

// next returns the first member at or after n, not ok when there is none.
func (s bitset) next(n uint32) (uint32, bool) {
	w := int(n / 64)
	if w >= len(s) {
		return 0, false
	}
	if word := s[w] >> (n % 64); word != 0 {
		return n + uint32(bits.TrailingZeros64(word)), true
	}
	for w++; w < len(s); w++ {
		if s[w] != 0 {
			return uint32(w*64 + bits.TrailingZeros64(s[w])), true
		}
	}
	return 0, false
}

// bytes is about the memory s holds.
func (s bitset) bytes() uint64 { return 24 + 8*uint64(len(s)) }

// keptCache keeps what searches found in each segment: the matches of the
// filters (bitsets), of the phrases (phraseMatches) and the postings of the
// words (keptPostings) searched last, at most maxKept of them and
// maxKeptBytes in all, the least recently used going first. It keeps them
// only for the segments of the index as it was last retained: segments
// merged away or replaced are dropped, with what was kept for them, as
// the index moves on. A nil cache keeps nothing.
type keptCache struct {
	mu      sync.Mutex
	entries map[keptKey]*list.Element // of lru
	lru     list.List                 // of *keptEntry, the most recently used first
	bytes   uint64                    // held by the values kept
	live    map[segment.Segment]bool  // the segments of the index, once retained
}

// Bounds on what is kept: a few hundred filters, phrases and words over
// an index of a few dozen segments.
const (
	maxKept      = 16384
	maxKeptBytes = 64 << 20
)

// keptKey names a value kept: its segment, and what it holds as text.
type keptKey struct {
	seg  segment.Segment
	what string
}

type keptEntry struct {
	key   keptKey
	value any
	bytes uint64
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
	c.lru.MoveToFront(e)
	return e.Value.(*keptEntry).value, true
}

// put keeps v, which holds about bytes bytes, as what in seg, evicting the
// least recently used beyond the bounds. Nothing may change v after. It
// keeps nothing for a segment no longer in the index, nor a value of more
// than an eighth of maxKeptBytes, which would push out most others.
func (c *keptCache) put(seg segment.Segment, what string, v any, bytes uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if (c.live != nil && !c.live[seg]) || bytes > maxKeptBytes/8 {
		return
	}
	if c.entries == nil {
		c.entries = make(map[keptKey]*list.Element)
	}
	key := keptKey{seg, what}
	if old, ok := c.entries[key]; ok {
		c.remove(old)
	}
	c.entries[key] = c.lru.PushFront(&keptEntry{key: key, value: v, bytes: bytes})
	c.bytes += bytes
	for c.lru.Len() > maxKept || (c.bytes > maxKeptBytes && c.lru.Len() > 1) {
		c.remove(c.lru.Back())
	}
}

// remove drops e. c.mu is held.
func (c *keptCache) remove(e *list.Element) {
	entry := c.lru.Remove(e).(*keptEntry)
	delete(c.entries, entry.key)
	c.bytes -= entry.bytes
}

// retainIndex drops what is kept for segments no longer in bi, as it is
// now, and keeps nothing for them from then on. Reading bi's segments
// under c's lock, calls see the index in the order it changes, so that a
// later call never brings back segments an earlier one dropped.
func (c *keptCache) retainIndex(bi bleve.Index) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	adv, err := bi.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	if snap, ok := r.(*scorch.IndexSnapshot); ok {
		c.retain(snap.Segments())
	}
	return nil
}

// retain drops what is kept for segments not in segs, the segments of the
// index now, and keeps nothing for them from then on. c.mu is held.
func (c *keptCache) retain(segs []*scorch.SegmentSnapshot) {
	if len(c.live) == len(segs) {
		same := true
		for _, s := range segs {
			same = same && c.live[s.Segment()]
		}
		if same {
			return
		}
	}
	c.live = make(map[segment.Segment]bool, len(segs))
	for _, s := range segs {
		c.live[s.Segment()] = true
	}
	for key, e := range c.entries {
		if !c.live[key.seg] {
			c.remove(e)
		}
	}
}

// filterSets returns the matches of filter (key says what it matches)
// in each segment of snap: kept ones, and for the segments whose matches
// are not kept (written since), those of a search of these segments, which
// are kept.
func (c *keptCache) filterSets(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, key string, filter query.Query) ([]bitset, error) {
	segs := snap.Segments()
	what := "filter " + key
	out := make([]bitset, len(segs))
	var missing []int
	for k, s := range segs {
		if b, ok := c.get(s.Segment(), what); ok {
			out[k] = b.(bitset)
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found := make([]*roaring.Bitmap, len(segs))
	if err := searchFilter(ctx, snap, m, filter, missing, found); err != nil {
		return nil, err
	}
	for _, k := range missing {
		out[k] = bitsetOf(found[k], segs[k].Segment().Count())
		c.put(segs[k].Segment(), what, out[k], out[k].bytes())
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
