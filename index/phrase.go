package index

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
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

// Searcher returns the searcher of q in the index i.
func (q *phraseQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
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
	return newPhraseSearcher(ctx, i, q.field, slots, options)
}

// newPhraseSearcher returns a searcher of the words of slots ("" for any
// word) at consecutive positions of field.
func newPhraseSearcher(ctx context.Context, i bleveapi.IndexReader, field string, slots []string, options search.SearcherOptions) (*phraseSearcher, error) {
	type word struct {
		t      search.Searcher
		offset uint64
	}
	var words []word
	options.IncludeTermVectors = true
	for k, term := range slots {
		if term == "" {
			continue
		}
		t, err := searcher.NewTermSearcher(ctx, i, term, field, 1, options)
		if err != nil {
			for _, w := range words {
				w.t.Close()
			}
			return nil, err
		}
		words = append(words, word{t, uint64(k)})
	}
	// The rarest word leads: the others are only moved to its matches.
	slices.SortStableFunc(words, func(a, b word) int { return cmp.Compare(a.t.Count(), b.t.Count()) })
	s := &phraseSearcher{currs: make([]*search.DocumentMatch, len(words)), pos: make([][]uint64, len(words))}
	for _, w := range words {
		s.terms = append(s.terms, w.t)
		s.offsets = append(s.offsets, w.offset)
	}
	s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // as bleve's conjunction does
	return s, nil
}

// phraseSearcher finds the releases that hold the words of a phrase in
// order: it walks the term searchers of the words together, as bleve's
// conjunction searcher does, and checks the positions of each word, which
// its term searcher reports, in sorted slices it reuses. Scores are the sum
// of the words' scores, as in bleve's phrase searcher. Text fields hold one
// value each, so positions are compared without array positions.
type phraseSearcher struct {
	terms       []search.Searcher       // one per word of the phrase
	offsets     []uint64                // the position of each word in the phrase
	currs       []*search.DocumentMatch // the current match of each term searcher; nil once done
	pos         [][]uint64              // scratch: the positions of each word in a release
	initialized bool
}

// Next returns the next matching release.
func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !s.initialized {
		for k, t := range s.terms {
			dm, err := t.Next(ctx)
			if err != nil {
				return nil, err
			}
			s.currs[k] = dm
		}
		s.initialized = true
	}
	return s.find(ctx)
}

// Advance returns the first matching release at or after id.
func (s *phraseSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	for k, t := range s.terms {
		if s.initialized && (s.currs[k] == nil || s.currs[k].IndexInternalID.Compare(id) >= 0) {
			continue
		}
		if s.currs[k] != nil {
			ctx.DocumentMatchPool.Put(s.currs[k])
		}
		dm, err := t.Advance(ctx, id)
		if err != nil {
			return nil, err
		}
		s.currs[k] = dm
	}
	s.initialized = true
	return s.find(ctx)
}

// find returns the first matching release from the current matches of the
// term searchers on, and moves them all past it.
func (s *phraseSearcher) find(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for {
		maxK, done := s.max()
		if done {
			return nil, nil
		}
		maxID := s.currs[maxK].IndexInternalID
		behind := false
		for k, t := range s.terms {
			if k == maxK || s.currs[k].IndexInternalID.Compare(maxID) == 0 {
				continue
			}
			ctx.DocumentMatchPool.Put(s.currs[k])
			dm, err := t.Advance(ctx, maxID)
			if err != nil {
				return nil, err
			}
			s.currs[k] = dm
			behind = true
		}
		if behind {
			continue // some searcher may have gone past maxID
		}
		var rv *search.DocumentMatch
		if s.inOrder() {
			rv = s.currs[0]
			for _, dm := range s.currs[1:] {
				rv.Score += dm.Score
			}
		}
		if rv == nil {
			ctx.DocumentMatchPool.Put(s.currs[0])
		}
		// Only the leading word moves on; the others follow it above.
		dm, err := s.terms[0].Next(ctx)
		if err != nil {
			return nil, err
		}
		s.currs[0] = dm
		if rv != nil {
			return rv, nil
		}
	}
}

// max returns the index of the current match with the highest ID, or done
// when a term searcher has no more matches.
func (s *phraseSearcher) max() (k int, done bool) {
	for i, dm := range s.currs {
		if dm == nil {
			return 0, true
		}
		if dm.IndexInternalID.Compare(s.currs[k].IndexInternalID) > 0 {
			k = i
		}
	}
	return k, false
}

// inOrder reports whether the words of the phrase are in order in the
// release all term searchers are on.
func (s *phraseSearcher) inOrder() bool {
	for k, dm := range s.currs {
		s.pos[k] = s.pos[k][:0]
		for _, l := range dm.FieldTermLocations {
			s.pos[k] = append(s.pos[k], l.Location.Pos)
		}
		slices.Sort(s.pos[k])
	}
	for _, p := range s.pos[0] {
		if p >= s.offsets[0] && s.startsAt(p-s.offsets[0]) {
			return true
		}
	}
	return false
}

// startsAt reports whether the phrase starts at position p.
func (s *phraseSearcher) startsAt(p uint64) bool {
	for k := 1; k < len(s.pos); k++ {
		if _, found := slices.BinarySearch(s.pos[k], p+s.offsets[k]); !found {
			return false
		}
	}
	return true
}

// Weight is the sum of the words' weights.
func (s *phraseSearcher) Weight() float64 {
	var w float64
	for _, t := range s.terms {
		w += t.Weight()
	}
	return w
}

// SetQueryNorm passes the norm on to the words' searchers.
func (s *phraseSearcher) SetQueryNorm(norm float64) {
	for _, t := range s.terms {
		t.SetQueryNorm(norm)
	}
}

// Count estimates the matches: those of the rarest word.
func (s *phraseSearcher) Count() uint64 {
	var n uint64
	for k, t := range s.terms {
		if c := t.Count(); k == 0 || c < n {
			n = c
		}
	}
	return n
}

// Close closes the words' searchers.
func (s *phraseSearcher) Close() error {
	var err error
	for _, t := range s.terms {
		if cerr := t.Close(); err == nil {
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
	for k, t := range s.terms {
		n += t.Size() + 8*cap(s.pos[k])
	}
	return n
}

// DocumentMatchPoolSize is the number of matches the searcher and its
// words' searchers hold at once.
func (s *phraseSearcher) DocumentMatchPoolSize() int {
	n := len(s.currs)
	for _, t := range s.terms {
		n += t.DocumentMatchPoolSize()
	}
	return n
}
