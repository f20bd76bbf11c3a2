package index

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// phraseQuery matches a phrase in one text field: the words of text, as
// that field's analyzer splits them, at consecutive positions (a word the
// analyzer drops, such as a stop word, leaves a position any word may
// fill). It matches what bleve's match-phrase query matches, with the same
// scores, several times faster: bleve merges the positions of the words in
// every candidate release, turns them into maps and walks them
// recursively, while phraseSearcher looks them up in sorted slices it
// reuses.
//
// Highlighting needs the positions of the phrase only, which bleve's query
// reports; so the highlighter uses bleve's query.
type phraseQuery struct {
	text  string
	field string
}

// Searcher returns the searcher of q in the index i, split in as many
// parts as there are CPUs (up to maxSplitParts) for phrases whose words are
// in many releases.
func (q *phraseQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	return q.searcher(ctx, i, m, options, min(runtime.GOMAXPROCS(0), maxSplitParts), minSplitCount)
}

// searcher returns the searcher of q, split in parts if its rarest word is
// in at least minSplit releases (see splitPhrase).
func (q *phraseQuery) searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions, parts int, minSplit uint64) (search.Searcher, error) {
	toks := m.AnalyzerNamed(m.AnalyzerNameForPath(q.field)).Analyze([]byte(q.text))
	if len(toks) == 0 {
		return searcher.NewMatchNoneSearcher(i)
	}
	first := toks[0].Position
	slots := make([]string, toks[len(toks)-1].Position-first+1)
	for _, t := range toks {
		if slots[t.Position-first] != "" { // two words at one position: not made by our analyzers
			return matchPhrase(q.text, q.field).Searcher(ctx, i, m, options)
		}
		slots[t.Position-first] = string(t.Term)
	}
	s, err := newPhraseSearcher(ctx, i, q.field, slots, options)
	if err != nil {
		return nil, err
	}
	return splitPhrase(ctx, i, s, func() (*phraseSearcher, error) {
		return newPhraseSearcher(ctx, i, q.field, slots, options)
	}, parts, minSplit)
}

// newPhraseSearcher returns a searcher of the words of slots ("" for any
// word) at consecutive positions of field.
func newPhraseSearcher(ctx context.Context, i bleveapi.IndexReader, field string, slots []string, options search.SearcherOptions) (*phraseSearcher, error) {
	docs, err := i.DocCount()
	if err != nil {
		return nil, err
	}
	s := &phraseSearcher{}
	freqNorm := options.Score != "none"
	scoring := options
	scoring.IncludeTermVectors = false
	for k, term := range slots {
		if term == "" {
			continue
		}
		r, err := i.TermFieldReader(ctx, []byte(term), field, freqNorm, freqNorm, true)
		if err != nil {
			s.Close()
			return nil, err
		}
		sc := scorer.NewTermQueryScorer([]byte(term), field, 1, docs, r.Count(), 0, scoring)
		s.words = append(s.words, &phraseWord{reader: r, scorer: sc, offset: uint64(k)})
	}
	// The rarest word leads: the others are only moved to its matches.
	slices.SortStableFunc(s.words, func(a, b *phraseWord) int { return cmp.Compare(a.reader.Count(), b.reader.Count()) })
	s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // as bleve's conjunction does
	return s, nil
}

// phraseSearcher finds the releases that hold the words of a phrase in
// order: it walks the term field readers of the words together, as bleve's
// conjunction searcher walks term searchers, and checks the positions of
// each word in sorted slices it reuses. Only the releases that match are
// scored: each word by a term scorer built as bleve's term searcher builds
// it (tf-idf), and the phrase by the sum of the words' scores, as in
// bleve's phrase searcher. Text fields hold one value each, so positions
// are compared without array positions.
type phraseSearcher struct {
	words       []*phraseWord // the rarest first
	initialized bool
}

// phraseWord is one word of a phrase being searched.
type phraseWord struct {
	reader bleveapi.TermFieldReader
	scorer *scorer.TermQueryScorer
	offset uint64                 // the word's position in the phrase
	doc    *bleveapi.TermFieldDoc // the current release of reader; nil once done
	buf    bleveapi.TermFieldDoc  // what doc points to, reused
	pos    []uint64               // scratch: the word's positions in a release
}

// next moves w to its next release.
func (w *phraseWord) next() error {
	doc, err := w.reader.Next(w.buf.Reset())
	w.doc = doc
	return err
}

// advance moves w to its first release at or after id.
func (w *phraseWord) advance(id bleveapi.IndexInternalID) error {
	doc, err := w.reader.Advance(id, w.buf.Reset())
	w.doc = doc
	return err
}

// score returns w's score in its current release.
func (w *phraseWord) score(ctx *search.SearchContext) float64 {
	doc := *w.doc
	doc.Vectors = nil // not copied into the match
	dm := w.scorer.Score(ctx, &doc)
	score := dm.Score
	ctx.DocumentMatchPool.Put(dm)
	return score
}

// Next returns the next matching release.
func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !s.initialized {
		for _, w := range s.words {
			if err := w.next(); err != nil {
				return nil, err
			}
		}
		s.initialized = true
	}
	return s.find(ctx)
}

// Advance returns the first matching release at or after id.
func (s *phraseSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	for _, w := range s.words {
		if s.initialized && (w.doc == nil || w.doc.ID.Compare(id) >= 0) {
			continue
		}
		if err := w.advance(id); err != nil {
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
		maxK, done := s.max()
		if done {
			return nil, nil
		}
		maxID := s.words[maxK].doc.ID
		behind := false
		for k, w := range s.words {
			if k == maxK || w.doc.ID.Compare(maxID) == 0 {
				continue
			}
			if err := w.advance(maxID); err != nil {
				return nil, err
			}
			behind = true
		}
		if behind {
			continue // some word may have gone past maxID
		}
		var rv *search.DocumentMatch
		if s.inOrder() {
			rv = s.match(ctx)
		}
		// Only the leading word moves on; the others follow it above.
		if err := s.words[0].next(); err != nil {
			return nil, err
		}
		if rv != nil {
			return rv, nil
		}
	}
}

// match returns the match of the release all words are on.
func (s *phraseSearcher) match(ctx *search.SearchContext) *search.DocumentMatch {
	rv := ctx.DocumentMatchPool.Get()
	rv.IndexInternalID = bleveapi.NewIndexInternalIDFrom(rv.IndexInternalID, s.words[0].doc.ID)
	for _, w := range s.words {
		rv.Score += w.score(ctx)
	}
	return rv
}

// max returns the index of the word on the release with the highest ID, or
// done when a word has no more releases.
func (s *phraseSearcher) max() (k int, done bool) {
	for i, w := range s.words {
		if w.doc == nil {
			return 0, true
		}
		if w.doc.ID.Compare(s.words[k].doc.ID) > 0 {
			k = i
		}
	}
	return k, false
}

// inOrder reports whether the words of the phrase are in order in the
// release they are all on.
func (s *phraseSearcher) inOrder() bool {
	for _, w := range s.words {
		w.pos = w.pos[:0]
		for _, v := range w.doc.Vectors {
			w.pos = append(w.pos, v.Pos)
		}
		slices.Sort(w.pos)
	}
	lead := s.words[0]
	for _, p := range lead.pos {
		if p >= lead.offset && s.startsAt(p-lead.offset) {
			return true
		}
	}
	return false
}

// startsAt reports whether the phrase starts at position p.
func (s *phraseSearcher) startsAt(p uint64) bool {
	for _, w := range s.words[1:] {
		if _, found := slices.BinarySearch(w.pos, p+w.offset); !found {
			return false
		}
	}
	return true
}

// Weight is the sum of the words' weights.
func (s *phraseSearcher) Weight() float64 {
	var weight float64
	for _, w := range s.words {
		weight += w.scorer.Weight()
	}
	return weight
}

// SetQueryNorm passes the norm on to the words' scorers.
func (s *phraseSearcher) SetQueryNorm(norm float64) {
	for _, w := range s.words {
		w.scorer.SetQueryNorm(norm)
	}
}

// Count estimates the matches: those of the rarest word.
func (s *phraseSearcher) Count() uint64 {
	var n uint64
	for k, w := range s.words {
		if c := w.reader.Count(); k == 0 || c < n {
			n = c
		}
	}
	return n
}

// Close closes the words' readers.
func (s *phraseSearcher) Close() error {
	var err error
	for _, w := range s.words {
		if cerr := w.reader.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *phraseSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds.
func (s *phraseSearcher) Size() int {
	n := 0
	for _, w := range s.words {
		n += w.reader.Size() + w.scorer.Size() + 8*cap(w.pos)
	}
	return n
}

// DocumentMatchPoolSize is 2: the match Next returns, and one to score a
// word with.
func (s *phraseSearcher) DocumentMatchPoolSize() int { return 2 }
