package index

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// Splitting a phrase search: a phrase whose words are in many releases
// costs most of its search in reading their positions, one release after
// another. Bleve walks a query on one goroutine; splitSearcher walks the
// phrase on several, each over its own range of the index's document
// numbers, and hands the matches on in order, with the same scores.
const (
	// minSplitCount is how many releases the phrase's rarest word must be
	// in for its search to be split: below it, the goroutines cost more
	// than they save.
	minSplitCount = 2000
	// maxSplitParts bounds the goroutines of one phrase search.
	maxSplitParts = 4
)

// splitPhrase returns s, or a searcher that runs s's phrase in up to
// parts parts at once when it is worth it: the snapshot has at least parts
// document numbers, and the phrase's rarest word is in at least minCount
// releases. more makes another searcher of the phrase.
func splitPhrase(ctx context.Context, snap *scorch.IndexSnapshot, s *phraseSearcher, more func() *phraseSearcher, parts int, minCount uint64) search.Searcher {
	_, docs := segmentOffsets(snap)
	if parts < 2 || s.Count() < minCount || docs < uint64(parts) {
		return s
	}
	p := &splitSearcher{ctx: ctx, parts: []*phraseSearcher{s}}
	for range parts - 1 {
		p.parts = append(p.parts, more())
	}
	for k := range parts {
		p.starts = append(p.starts, docs*uint64(k)/uint64(parts))
	}
	for k := range parts - 1 {
		p.parts[k].end = p.starts[k+1]
	}
	return p
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

// splitSearcher matches a phrase with several phraseSearchers, part k from
// document number starts[k] up to starts[k+1] (the last part to the end).
// The first part runs on the caller's goroutine as the caller asks for
// matches; the others run on goroutines of their own from the first call
// on, and their matches wait in memory until the caller reaches them.
// Term vectors are not passed on: the fast path does not highlight.
type splitSearcher struct {
	ctx    context.Context // of the search
	parts  []*phraseSearcher
	starts []uint64

	cancel    context.CancelFunc // stops the other parts; nil until they start
	wg        sync.WaitGroup     // the other parts' goroutines
	found     [][]splitMatch     // found[k-1] holds the matches of part k, once wg is done
	errs      []error            // errs[k-1] is the error of part k
	err       error              // of the other parts, once waited for
	waited    bool
	firstDone bool // the first part has no more matches
	part      int  // the next match of the other parts is found[part][next]
	next      int
}

// splitMatch is one match of a splitSearcher's phrase.
type splitMatch struct {
	num   uint64 // the document number
	score float64
}

// Next returns the next matching release.
func (s *splitSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	s.start()
	if !s.firstDone {
		dm, err := s.parts[0].Next(ctx)
		if err != nil || s.inFirst(dm) {
			return dm, err
		}
	}
	return s.other(ctx, 0)
}

// Advance returns the first matching release at or after id.
func (s *splitSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	s.start()
	if !s.firstDone {
		dm, err := s.parts[0].Advance(ctx, id)
		if err != nil || s.inFirst(dm) {
			return dm, err
		}
	}
	return s.other(ctx, id.Value())
}

// inFirst reports whether the first part found dm, which it stops short
// of the second part's range; if not, the first part is done.
func (s *splitSearcher) inFirst(dm *search.DocumentMatch) bool {
	if dm == nil {
		s.firstDone = true
	}
	return dm != nil
}

// other returns the first match of the other parts at or after document
// number num from the next one on.
func (s *splitSearcher) other(ctx *search.SearchContext, num uint64) (*search.DocumentMatch, error) {
	if err := s.wait(); err != nil {
		return nil, err
	}
	for ; s.part < len(s.found); s.part, s.next = s.part+1, 0 {
		part := s.found[s.part]
		k, _ := slices.BinarySearchFunc(part[s.next:], num, func(m splitMatch, num uint64) int {
			return cmp.Compare(m.num, num)
		})
		if s.next += k; s.next < len(part) {
			break
		}
	}
	if s.part >= len(s.found) {
		return nil, nil
	}
	m := s.found[s.part][s.next]
	s.next++
	dm := ctx.DocumentMatchPool.Get()
	dm.IndexInternalID = bleveapi.NewIndexInternalID(dm.IndexInternalID, m.num)
	dm.Score = m.score
	return dm, nil
}

// start starts the other parts, once.
func (s *splitSearcher) start() {
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.cancel = cancel
	s.found = make([][]splitMatch, len(s.parts)-1)
	s.errs = make([]error, len(s.parts)-1)
	for k := 1; k < len(s.parts); k++ {
		s.wg.Go(func() { s.found[k-1], s.errs[k-1] = s.walk(ctx, k) })
	}
}

// wait waits for the other parts, once, and returns their error.
func (s *splitSearcher) wait() error {
	if !s.waited {
		s.wg.Wait()
		s.waited = true
		s.err = errors.Join(s.errs...)
	}
	return s.err
}

// walk returns the matches of part k, stopping with ctx's error once ctx
// is done. The part has a search context of its own, as document match
// pools are not safe for concurrent use.
func (s *splitSearcher) walk(ctx context.Context, k int) ([]splitMatch, error) {
	p := s.parts[k]
	p.ctx = ctx
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(p.DocumentMatchPoolSize()+1, 0)}
	out := p.scratch.matchBuffer(int(p.Count() / uint64(len(s.parts))))
	dm, err := p.Advance(sctx, bleveapi.NewIndexInternalID(nil, s.starts[k]))
	for err == nil && dm != nil {
		out = append(out, splitMatch{num: dm.IndexInternalID.Value(), score: dm.Score})
		sctx.DocumentMatchPool.Put(dm)
		dm, err = p.Next(sctx)
	}
	return out, err
}

// Weight is the phrase's weight.
func (s *splitSearcher) Weight() float64 { return s.parts[0].Weight() }

// SetQueryNorm passes the norm on to every part.
func (s *splitSearcher) SetQueryNorm(norm float64) {
	for _, p := range s.parts {
		p.SetQueryNorm(norm)
	}
}

// Count estimates the matches: those of the rarest word in the whole index.
func (s *splitSearcher) Count() uint64 { return s.parts[0].Count() }

// Close stops the other parts and closes all, giving the match buffers
// back to the scratch they came from.
func (s *splitSearcher) Close() error {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
	for _, m := range s.found {
		s.parts[0].scratch.keepMatchBuffer(m)
	}
	s.found = nil
	var err error
	for _, p := range s.parts {
		if cerr := p.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *splitSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds.
func (s *splitSearcher) Size() int {
	n := 0
	for _, m := range s.found {
		n += 16 * cap(m)
	}
	for _, p := range s.parts {
		n += p.Size()
	}
	return n
}

// DocumentMatchPoolSize is that of the first part, which uses the
// caller's pool, and one for the matches of the others, which use pools of
// their own.
func (s *splitSearcher) DocumentMatchPoolSize() int { return s.parts[0].DocumentMatchPoolSize() + 1 }
