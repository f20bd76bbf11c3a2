package index

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bleveapi "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// phraseQuery matches a phrase in one text field: the words of text, as
// that field's analyzer splits them, at consecutive positions (a word the
// analyzer drops, such as a stop word, leaves a position any word may
// fill). It matches what bleve's match-phrase query matches, with the same
// scores, several times faster. Bleve decodes the positions of every word
// in every release that holds it, copies them into term vectors, and
// walks them as maps; phraseSearcher walks the releases of each word by
// number alone, segment by segment, and decodes positions only in the
// releases that hold every word of the phrase.
//
// Highlighting needs the positions of the phrase only, which bleve's query
// reports; so the highlighter uses bleve's query.
type phraseQuery struct {
	text  string
	field string
	cache *keptCache // keeps the phrase's matches (see keptSearcher); nil keeps none
	// partDocs is the fewest document numbers of one part of a walk for
	// the cache; 0 means minKeptPartDocs.
	partDocs uint64
}

// Searcher returns the searcher of q in the index i: over the phrase's
// kept matches (see keptSearcher) when q has a cache, else a walk of the
// index. A reader that is not a scorch snapshot, or a phrase with two
// words at one position (which our analyzers do not make), gets bleve's
// match-phrase searcher.
func (q *phraseQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	toks := m.AnalyzerNamed(m.AnalyzerNameForPath(q.field)).Analyze([]byte(q.text))
	snap, ok := i.(*scorch.IndexSnapshot)
	if len(toks) == 0 || !ok {
		return matchPhrase(q.text, q.field).Searcher(ctx, i, m, options)
	}
	first := toks[0].Position
	slots := make([]string, toks[len(toks)-1].Position-first+1)
	for _, t := range toks {
		if slots[t.Position-first] != "" {
			return matchPhrase(q.text, q.field).Searcher(ctx, i, m, options)
		}
		slots[t.Position-first] = string(t.Term)
	}
	docs, err := snap.DocCount()
	if err != nil {
		return nil, fmt.Errorf("phrase %q: counting releases: %v", q.text, err)
	}
	var words []phraseTerm
	for k, term := range slots {
		if term == "" {
			continue
		}
		lists, count, err := postingsOf(snap, q.field, []byte(term))
		if err != nil {
			return nil, fmt.Errorf("phrase %q: word %q in %s: %v", q.text, term, q.field, err)
		}
		words = append(words, phraseTerm{term: term, offset: uint64(k), lists: lists, count: count})
	}
	// The rarest word leads: the others are only moved to its releases.
	slices.SortStableFunc(words, func(a, b phraseTerm) int { return cmp.Compare(a.count, b.count) })
	scratch := phraseScratchOf(ctx)
	if q.cache != nil {
		return q.keptSearcher(ctx, snap, words, docs, min(searchCPUsOf(ctx), maxKeptParts), scratch)
	}
	return newPhraseSearcher(ctx, words, docs, options, scratch), nil
}

// phraseTerm is one word of a phrase and its postings in a snapshot,
// shared by the searchers of the phrase's parts.
type phraseTerm struct {
	term   string
	offset uint64 // the word's position in the phrase
	lists  []segmentPostings
	count  uint64 // the releases that hold the word
}

// segmentPostings is a word's postings in one segment.
type segmentPostings struct {
	seg    *scorch.SegmentSnapshot
	offset uint64 // the document number of the segment's first document
	list   segment.PostingsList
}

// postingsOf returns the postings of term in field in the segments of
// snap that hold it, leaving out deleted documents, and the number of
// releases they hold.
func postingsOf(snap *scorch.IndexSnapshot, field string, term []byte) ([]segmentPostings, uint64, error) {
	var lists []segmentPostings
	var count uint64
	offsets, _ := segmentOffsets(snap)
	for k, ss := range snap.Segments() {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			return nil, 0, err
		}
		list, err := dict.PostingsList(term, ss.Deleted(), nil)
		if err != nil {
			return nil, 0, err
		}
		if n := list.Count(); n > 0 {
			count += n
			lists = append(lists, segmentPostings{seg: ss, offset: offsets[k], list: list})
		}
	}
	return lists, count, nil
}

// newPhraseSearcher returns a searcher of words (their postings in one
// field), the rarest first, at their offsets, in an index of docs
// releases, with iterators from scratch. It stops with ctx's error once
// ctx is done.
func newPhraseSearcher(ctx context.Context, words []phraseTerm, docs uint64, options search.SearcherOptions, scratch *phraseScratch) *phraseSearcher {
	s := &phraseSearcher{scratch: scratch, ctx: ctx, end: math.MaxUint64}
	s.words = newPhraseWords(words, docs, options, scratch)
	for _, w := range s.words {
		s.scoring = append(s.scoring, w.tfidfWord)
	}
	s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // as bleve's conjunction does
	return s
}

// newPhraseWords returns the words of a phrase in field, in an index of
// docs releases, scored if options ask for it (else their frequencies
// and norms are not read, and they score 0), with iterators from scratch.
func newPhraseWords(words []phraseTerm, docs uint64, options search.SearcherOptions, scratch *phraseScratch) phraseWords {
	var out phraseWords
	for _, t := range words {
		out = append(out, &phraseWord{
			postings:  newWordPostings(t.lists, options.Score != "none", scratch),
			tfidfWord: newTFIDFWord(docs, t.count),
			offset:    t.offset,
			count:     t.count,
		})
	}
	return out
}

// wordPostings walks the releases that hold one word in one field of a
// scorch snapshot, in order of document number, segment after segment,
// with two iterators over the current segment's postings: one that reads
// document numbers only, to walk with, and one that also reads
// frequencies, norms and positions, moved only to the releases where they
// are needed (see load). A segment's iterators are reused for the next
// one, with their buffers.
type wordPostings struct {
	segs    []segmentPostings
	freqs   bool // read frequencies and norms too
	seg     int  // the segment of the current release
	walk    segment.PostingsIterator
	full    segment.PostingsIterator
	fullSeg int    // the segment full is on, or -1
	num     uint64 // the document number of the current release
	done    bool   // no more releases

	freq uint64   // in the current release, once loaded
	norm float64  // of the current release, once loaded
	pos  []uint64 // the word's positions in the current release, sorted, once loaded
}

// newWordPostings returns a walk over segs, before its first release,
// with iterators from scratch.
func newWordPostings(segs []segmentPostings, freqs bool, scratch *phraseScratch) *wordPostings {
	w := &wordPostings{segs: segs, freqs: freqs, fullSeg: -1, walk: scratch.iterator(), full: scratch.iterator()}
	w.enter(0)
	return w
}

// enter moves w's walk to the start of segment k.
func (w *wordPostings) enter(k int) {
	w.seg = k
	if k < len(w.segs) {
		w.walk = w.segs[k].list.Iterator(false, false, false, w.walk)
	}
}

// next moves w to its next release.
func (w *wordPostings) next() error {
	for w.seg < len(w.segs) {
		p, err := w.walk.Next()
		if err != nil {
			return err
		}
		if p != nil {
			w.num = w.segs[w.seg].offset + p.Number()
			return nil
		}
		w.enter(w.seg + 1)
	}
	w.done = true
	return nil
}

// advance moves w to its first release at or after document number num.
func (w *wordPostings) advance(num uint64) error {
	k := w.seg
	for k+1 < len(w.segs) && w.segs[k+1].offset <= num {
		k++
	}
	if k != w.seg {
		w.enter(k)
	}
	if w.seg < len(w.segs) && num > w.segs[w.seg].offset {
		offset := w.segs[w.seg].offset
		p, err := w.walk.Advance(num - offset)
		if err != nil {
			return err
		}
		if p != nil {
			w.num = offset + p.Number()
			return nil
		}
		w.enter(w.seg + 1)
	}
	return w.next()
}

// load reads the frequency, norm and positions of the word in the current
// release.
func (w *wordPostings) load() error {
	if w.fullSeg != w.seg {
		w.full = w.segs[w.seg].list.Iterator(w.freqs, w.freqs, true, w.full)
		w.fullSeg = w.seg
	}
	offset := w.segs[w.seg].offset
	p, err := w.full.Advance(w.num - offset)
	if err != nil {
		return err
	}
	w.pos = w.pos[:0]
	if p == nil || offset+p.Number() != w.num {
		return fmt.Errorf("release %d is in the postings walked but not in those read", w.num)
	}
	w.freq, w.norm = p.Frequency(), postingNorm(p)
	for _, l := range p.Locations() {
		w.pos = append(w.pos, l.Pos())
	}
	if !slices.IsSorted(w.pos) { // they are, in segments written by zap
		slices.Sort(w.pos)
	}
	return nil
}

// phraseSearcher finds the releases that hold the words of a phrase in
// order: it walks the postings of the words together, as bleve's
// conjunction searcher walks term searchers, and checks the positions of
// each word in the releases that hold them all. Only the releases that
// match are scored: each word as bleve's tf-idf term scorer scores it
// (tfidfWord), and the phrase by the sum of the words' scores, as in
// bleve's phrase searcher. Text fields hold one value each,
// so positions are compared without array positions.
type phraseSearcher struct {
	words       phraseWords // the rarest first
	scoring     tfidfWords  // the words' scoring
	initialized bool
	scratch     *phraseScratch  // takes the iterators back on Close
	ctx         context.Context // checked every checkEvery releases walked
	walked      int
	end         uint64           // no match at or past this document number
	noted       func(num uint64) // if set, is told of each match, its words loaded
}

// checkEvery is how many releases a phrase searcher walks between looks at
// its context.
const checkEvery = 1024

// phraseWord is one word of a phrase being searched.
type phraseWord struct {
	*tfidfWord
	postings *wordPostings
	offset   uint64 // the word's position in the phrase
	count    uint64 // the releases that hold the word
}

// loadedScore returns w's score in its current release, whose frequency
// and norm are loaded.
func (w *phraseWord) loadedScore() float64 { return w.score(w.postings.freq, w.postings.norm) }

// Next returns the next matching release.
func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !s.initialized {
		for _, w := range s.words {
			if err := w.postings.next(); err != nil {
				return nil, err
			}
		}
		s.initialized = true
	}
	return s.find(ctx)
}

// Advance returns the first matching release at or after id.
func (s *phraseSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	num := id.Value()
	for _, w := range s.words {
		p := w.postings
		if s.initialized && (p.done || p.num >= num) {
			continue
		}
		if err := p.advance(num); err != nil {
			return nil, err
		}
	}
	s.initialized = true
	return s.find(ctx)
}

// find returns the first matching release from the current releases of
// the words on, and moves them all past it.
func (s *phraseSearcher) find(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for {
		maxNum, done := s.max()
		if done || maxNum >= s.end {
			return nil, nil
		}
		if s.walked++; s.walked%checkEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				return nil, err
			}
		}
		behind := false
		for _, w := range s.words {
			if w.postings.num == maxNum {
				continue
			}
			if err := w.postings.advance(maxNum); err != nil {
				return nil, err
			}
			behind = true
		}
		if behind {
			continue // some word may have gone past maxNum
		}
		found, err := s.inOrder()
		if err != nil {
			return nil, err
		}
		var rv *search.DocumentMatch
		if found {
			rv = s.match(ctx)
		}
		// Only the leading word moves on; the others follow it above.
		if err := s.words[0].postings.next(); err != nil {
			return nil, err
		}
		if rv != nil {
			return rv, nil
		}
	}
}

// match returns the match of the release all words are on.
func (s *phraseSearcher) match(ctx *search.SearchContext) *search.DocumentMatch {
	if s.noted != nil {
		s.noted(s.words[0].postings.num)
	}
	rv := ctx.DocumentMatchPool.Get()
	rv.IndexInternalID = bleveapi.NewIndexInternalID(rv.IndexInternalID, s.words[0].postings.num)
	for _, w := range s.words {
		rv.Score += w.loadedScore()
	}
	return rv
}

// max returns the highest document number the words are on, or done when
// a word has no more releases.
func (s *phraseSearcher) max() (num uint64, done bool) {
	for _, w := range s.words {
		if w.postings.done {
			return 0, true
		}
		num = max(num, w.postings.num)
	}
	return num, false
}

// inOrder reports whether the words of the phrase are in order in the
// release they are all on, loading their positions there.
func (s *phraseSearcher) inOrder() (bool, error) {
	for _, w := range s.words {
		if err := w.postings.load(); err != nil {
			return false, err
		}
	}
	lead := s.words[0]
	for _, p := range lead.postings.pos {
		if p >= lead.offset && s.startsAt(p-lead.offset) {
			return true, nil
		}
	}
	return false, nil
}

// startsAt reports whether the phrase starts at position p.
func (s *phraseSearcher) startsAt(p uint64) bool {
	for _, w := range s.words[1:] {
		if _, found := slices.BinarySearch(w.postings.pos, p+w.offset); !found {
			return false
		}
	}
	return true
}

// phraseWords are the words of a phrase being searched.
type phraseWords []*phraseWord

// keepIterators gives the words' iterators back to scratch.
func (ws phraseWords) keepIterators(scratch *phraseScratch) {
	for _, w := range ws {
		scratch.keepIterator(w.postings.walk)
		scratch.keepIterator(w.postings.full)
		w.postings.walk, w.postings.full, w.postings.fullSeg = nil, nil, -1
	}
}

// Weight is the sum of the words' weights.
func (s *phraseSearcher) Weight() float64 { return s.scoring.weight() }

// SetQueryNorm passes the norm on to the words.
func (s *phraseSearcher) SetQueryNorm(norm float64) { s.scoring.setQueryNorm(norm) }

// Count estimates the matches: those of the rarest word.
func (s *phraseSearcher) Count() uint64 {
	var n uint64
	for k, w := range s.words {
		if c := w.count; k == 0 || c < n {
			n = c
		}
	}
	return n
}

// Close gives the words' iterators back to the scratch they came from.
func (s *phraseSearcher) Close() error {
	s.words.keepIterators(s.scratch)
	return nil
}

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *phraseSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds. Bleve asks before the
// search starts, while no other goroutine uses the searcher.
func (s *phraseSearcher) Size() int {
	n := 0
	for _, w := range s.words {
		p := w.postings
		n += 16 + 8*cap(p.pos)
		for _, sp := range p.segs {
			n += sp.list.Size()
		}
		for _, it := range []segment.PostingsIterator{p.walk, p.full} {
			if it != nil {
				n += it.Size()
			}
		}
	}
	return n
}

// DocumentMatchPoolSize is 2: the match Next returns, and one to score a
// word with.
func (s *phraseSearcher) DocumentMatchPoolSize() int { return 2 }
