package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// Keeping a phrase's matches: most of a phrase search is reading the
// positions of its words to check that they follow each other, and the
// answer for a segment never changes, since segments are never written
// again. So the releases of each segment that hold the phrase are kept
// (see bitmapCache), found once by walking the segment as phraseSearcher
// walks an index, several parts at once when CPUs are spare; later
// searches of the phrase, paging through its matches, counting them by
// date or feeding a digest, only score them, reading the words'
// frequencies and norms but no positions. Releases deleted from a
// segment since are left out as the search meets them. A new segment
// (releases indexed since) is walked once in its turn.

const (
	// minKeptPartDocs is the fewest document numbers of one part of a
	// segment's walk: below it, the goroutine costs more than it saves.
	minKeptPartDocs = 8192
	// maxKeptParts bounds the goroutines that walk one phrase.
	maxKeptParts = 4
)

// keptSearcher returns the searcher of the phrase of words (with docs
// releases in snap) over its kept matches, first finding those of the
// segments not kept, in up to parts parts at once.
func (q *phraseQuery) keptSearcher(ctx context.Context, snap *scorch.IndexSnapshot, words []phraseTerm, docs uint64, options search.SearcherOptions, parts int, scratch *phraseScratch) (search.Searcher, error) {
	what := phraseKey(q.field, words)
	segs := snap.Segments()
	offsets, _ := segmentOffsets(snap)
	matches := make([]*roaring.Bitmap, len(segs))
	var missing []keptPart
	for k, ss := range segs {
		if !everyWordIn(words, offsets[k]) {
			continue // the phrase cannot be in it
		}
		if b, ok := q.cache.get(ss.Segment(), what); ok {
			matches[k] = b
			continue
		}
		n := ss.Segment().Count()
		partDocs := q.partDocs
		if partDocs == 0 {
			partDocs = minKeptPartDocs
		}
		pieces := max(1, min(uint64(parts), n/partDocs))
		for p := range pieces {
			missing = append(missing, keptPart{seg: k, offset: offsets[k], from: offsets[k] + n*p/pieces, to: offsets[k] + n*(p+1)/pieces})
		}
	}
	if len(missing) > 0 {
		found, err := findPhrase(ctx, q.field, words, docs, missing, parts, scratch)
		if err != nil {
			return nil, err
		}
		for k, b := range found {
			b.RunOptimize()
			matches[k] = b
			q.cache.put(segs[k].Segment(), what, b)
		}
	}
	s := &keptPhraseSearcher{ctx: ctx, scratch: scratch, offsets: offsets, matches: matches, itSeg: -1}
	for k, ss := range segs {
		s.deleted = append(s.deleted, ss.Deleted())
		if matches[k] != nil {
			s.count += matches[k].GetCardinality()
		}
	}
	s.words = newPhraseWords(q.field, words, docs, options, false, scratch)
	s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // as newPhraseSearcher does
	return s, nil
}

// phraseKey names the kept matches of the phrase of words in field.
func phraseKey(field string, words []phraseTerm) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phrase %s", field)
	for _, w := range words {
		fmt.Fprintf(&b, " %d:%s", w.offset, w.term)
	}
	return b.String()
}

// everyWordIn reports whether every word is in the segment whose first
// document number is offset.
func everyWordIn(words []phraseTerm, offset uint64) bool {
	for _, w := range words {
		in := false
		for _, sp := range w.lists {
			in = in || sp.offset == offset
		}
		if !in {
			return false
		}
	}
	return true
}

// keptPart is a range of document numbers of one segment to walk.
type keptPart struct {
	seg      int    // the segment's place in the snapshot
	offset   uint64 // the segment's first document number
	from, to uint64
}

// findPhrase walks the parts, up to workers at once, and returns the
// matches found in each segment walked, by number within the segment.
func findPhrase(ctx context.Context, field string, words []phraseTerm, docs uint64, parts []keptPart, workers int, scratch *phraseScratch) (map[int]*roaring.Bitmap, error) {
	found := make([][]uint64, len(parts))
	errs := make([]error, len(parts))
	next := make(chan int, len(parts))
	for k := range parts {
		next <- k
	}
	close(next)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(parts))) {
		wg.Go(func() {
			for k := range next {
				found[k], errs[k] = walkPart(ctx, field, words, docs, parts[k], scratch)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[int]*roaring.Bitmap)
	for k, p := range parts {
		b := out[p.seg]
		if b == nil {
			b = roaring.New()
			out[p.seg] = b
		}
		for _, num := range found[k] {
			b.Add(uint32(num - p.offset))
		}
	}
	return out, nil
}

// walkPart returns the document numbers of the releases of part that hold
// the phrase.
func walkPart(ctx context.Context, field string, words []phraseTerm, docs uint64, part keptPart, scratch *phraseScratch) ([]uint64, error) {
	s := newPhraseSearcher(ctx, field, words, docs, search.SearcherOptions{Score: "none"}, scratch)
	defer s.Close()
	s.end = part.to
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0)}
	var out []uint64
	dm, err := s.Advance(sctx, bleveapi.NewIndexInternalID(nil, part.from))
	for err == nil && dm != nil {
		out = append(out, dm.IndexInternalID.Value())
		sctx.DocumentMatchPool.Put(dm)
		dm, err = s.Next(sctx)
	}
	return out, err
}

// keptPhraseSearcher returns the kept matches of a phrase, in order of
// document number, each scored as phraseSearcher scores it.
type keptPhraseSearcher struct {
	ctx     context.Context // checked every checkEvery matches
	scratch *phraseScratch  // takes the iterators back on Close
	words   phraseWords     // reading frequencies and norms, no positions
	offsets []uint64        // the first document number of each segment
	matches []*roaring.Bitmap
	deleted []*roaring.Bitmap // the releases deleted from each segment, or nil
	count   uint64
	seen    int

	seg   int // the segment of the next match
	it    roaring.IntPeekable
	itSeg int // the segment it walks, or -1
}

// Next returns the next match.
func (s *keptPhraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	return s.atOrAfter(ctx, 0)
}

// Advance returns the first match at or after id.
func (s *keptPhraseSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	return s.atOrAfter(ctx, id.Value())
}

// atOrAfter returns the first match from where s is on, at or after
// document number num.
func (s *keptPhraseSearcher) atOrAfter(ctx *search.SearchContext, num uint64) (*search.DocumentMatch, error) {
	for ; s.seg < len(s.offsets); s.seg++ {
		b := s.matches[s.seg]
		if b == nil {
			continue
		}
		if s.itSeg != s.seg {
			s.it, s.itSeg = b.Iterator(), s.seg
		}
		if num > s.offsets[s.seg] {
			s.it.AdvanceIfNeeded(uint32(num - s.offsets[s.seg]))
		}
		for s.it.HasNext() {
			local := s.it.Next()
			if d := s.deleted[s.seg]; d != nil && d.Contains(local) {
				continue
			}
			if s.seen++; s.seen%checkEvery == 0 {
				if err := s.ctx.Err(); err != nil {
					return nil, err
				}
			}
			return s.match(ctx, s.offsets[s.seg]+uint64(local))
		}
	}
	return nil, nil
}

// match returns the match of release num, scored.
func (s *keptPhraseSearcher) match(ctx *search.SearchContext, num uint64) (*search.DocumentMatch, error) {
	rv := ctx.DocumentMatchPool.Get()
	rv.IndexInternalID = bleveapi.NewIndexInternalID(rv.IndexInternalID, num)
	for _, w := range s.words {
		if err := w.postings.loadAt(num); err != nil {
			return nil, err
		}
		rv.Score += w.score(ctx)
	}
	return rv, nil
}

// Weight is the sum of the words' weights.
func (s *keptPhraseSearcher) Weight() float64 { return s.words.weight() }

// SetQueryNorm passes the norm on to the words' scorers.
func (s *keptPhraseSearcher) SetQueryNorm(norm float64) { s.words.setQueryNorm(norm) }

// Count is the number of kept matches, deleted releases included.
func (s *keptPhraseSearcher) Count() uint64 { return s.count }

// Close gives the words' iterators back to the scratch they came from.
func (s *keptPhraseSearcher) Close() error {
	s.words.keepIterators(s.scratch)
	return nil
}

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *keptPhraseSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds, the kept matches aside.
func (s *keptPhraseSearcher) Size() int {
	n := 0
	for _, w := range s.words {
		n += w.scorer.Size()
	}
	return n
}

// DocumentMatchPoolSize is 2: the match returned, and one to score a word
// with.
func (s *keptPhraseSearcher) DocumentMatchPoolSize() int { return 2 }
