package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	bleveapi "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zapx "github.com/blevesearch/zapx/v17"
)

// Keeping a phrase's matches: most of a phrase search is reading the
// positions of its words to check that they follow each other, and the
// answer for a segment never changes, since segments are never written
// again. So the releases of each segment that hold the phrase are kept
// (see keptCache), with each word's frequency and norm there: found once
// by walking the segment as phraseSearcher walks an index, several parts
// at once when CPUs are spare, and from then on scored without reading the
// index at all, whether the phrase is searched again, paged through,
// counted by date or sent in a digest. Releases deleted from a segment
// since are left out as the search meets them. A new segment (releases
// indexed since) is walked once in its turn.

const (
	// minKeptPartDocs is the fewest document numbers of one part of a
	// segment's walk: below it, the goroutine costs more than it saves.
	minKeptPartDocs = 8192
	// maxKeptParts bounds the goroutines that walk one phrase.
	maxKeptParts = 4
)

// phraseMatches are the releases of one segment that hold a phrase, and
// what scoring them needs: each word's frequency and norm in each.
type phraseMatches struct {
	nums  []uint32    // by number within the segment, ascending
	freqs [][]uint32  // freqs[w][i] is the frequency of word w in release nums[i]
	norms [][]float32 // norms[w][i] its norm (zap keeps norms as float32)
}

func newPhraseMatches(words int) *phraseMatches {
	return &phraseMatches{freqs: make([][]uint32, words), norms: make([][]float32, words)}
}

// add notes release num (within the segment), where words are loaded.
func (m *phraseMatches) add(num uint32, words phraseWords) {
	m.nums = append(m.nums, num)
	for w, word := range words {
		m.freqs[w] = append(m.freqs[w], uint32(word.postings.freq))
		m.norms[w] = append(m.norms[w], float32(word.postings.norm))
	}
}

// append adds the matches of o, all after m's.
func (m *phraseMatches) append(o *phraseMatches) {
	m.nums = append(m.nums, o.nums...)
	for w := range m.freqs {
		m.freqs[w] = append(m.freqs[w], o.freqs[w]...)
		m.norms[w] = append(m.norms[w], o.norms[w]...)
	}
}

// bytes is about the memory m holds.
func (m *phraseMatches) bytes() uint64 {
	return uint64(len(m.nums)) * (4 + 8*uint64(len(m.freqs)))
}

// keptSearcher returns the searcher of the phrase of words (with docs
// releases in snap) over its kept matches, first finding those of the
// segments not kept, in up to parts parts at once.
func (q *phraseQuery) keptSearcher(ctx context.Context, snap *scorch.IndexSnapshot, words []phraseTerm, docs uint64, parts int, scratch *phraseScratch) (search.Searcher, error) {
	what := phraseKey(q.field, words)
	segs := snap.Segments()
	offsets, _ := segmentOffsets(snap)
	matches := make([]*phraseMatches, len(segs))
	var missing []keptPart
	for k, ss := range segs {
		if !everyWordIn(words, offsets[k]) {
			continue // the phrase cannot be in it
		}
		if m, ok := q.cache.get(ss.Segment(), what); ok {
			matches[k] = m.(*phraseMatches)
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
		found, err := findPhrase(ctx, words, docs, missing, parts, scratch)
		if err != nil {
			return nil, err
		}
		for k, m := range found {
			matches[k] = m
			q.cache.put(segs[k].Segment(), what, m, m.bytes())
		}
	}
	s := &keptPhraseSearcher{ctx: ctx, offsets: offsets, matches: matches}
	for k, ss := range segs {
		s.deleted = append(s.deleted, ss.Deleted())
		if matches[k] != nil {
			s.count += uint64(len(matches[k].nums))
		}
	}
	for _, w := range words {
		s.words = append(s.words, newTFIDFWord(docs, w.count))
	}
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
// matches found in each segment walked.
func findPhrase(ctx context.Context, words []phraseTerm, docs uint64, parts []keptPart, workers int, scratch *phraseScratch) (map[int]*phraseMatches, error) {
	found := make([]*phraseMatches, len(parts))
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
				found[k], errs[k] = walkPart(ctx, words, docs, parts[k], scratch)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[int]*phraseMatches)
	for k, p := range parts { // a segment's parts come in order
		if m := out[p.seg]; m != nil {
			m.append(found[k])
		} else {
			out[p.seg] = found[k]
		}
	}
	return out, nil
}

// walkPart returns the releases of part that hold the phrase.
func walkPart(ctx context.Context, words []phraseTerm, docs uint64, part keptPart, scratch *phraseScratch) (*phraseMatches, error) {
	s := newPhraseSearcher(ctx, words, docs, search.SearcherOptions{}, scratch)
	defer s.Close()
	s.end = part.to
	m := newPhraseMatches(len(words))
	s.noted = func(num uint64) { m.add(uint32(num-part.offset), s.words) }
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0)}
	dm, err := s.Advance(sctx, bleveapi.NewIndexInternalID(nil, part.from))
	for err == nil && dm != nil {
		sctx.DocumentMatchPool.Put(dm)
		dm, err = s.Next(sctx)
	}
	return m, err
}

// tfidfWord scores one word as bleve's tf-idf term scorer scores it.
type tfidfWord struct {
	idf    float64
	weight float64 // the query weight: idf times the query norm
}

func newTFIDFWord(docs, count uint64) *tfidfWord {
	return &tfidfWord{idf: 1 + math.Log(float64(docs)/float64(count+1))}
}

// score returns the word's score in a release where it has frequency freq
// and norm, computed as bleve's tf-idf term scorer (scorer.TermQueryScorer
// with a boost of 1) computes it, operation for operation.
func (w *tfidfWord) score(freq uint64, norm float64) float64 {
	return w.scoreTFNorm(termFrequency(freq) * norm)
}

// scoreTFNorm returns the word's score in a release where its term
// frequency times its norm is tfNorm: bleve multiplies them first.
func (w *tfidfWord) scoreTFNorm(tfNorm float64) float64 {
	score := tfNorm * w.idf
	if w.weight != 1 {
		score *= w.weight
	}
	return score
}

// termFrequency returns the tf of a word found freq times, as bleve's
// tf-idf scorer computes it.
func termFrequency(freq uint64) float64 {
	if freq < scorer.MaxSqrtCache {
		return scorer.SqrtCache[freq]
	}
	return math.Sqrt(float64(freq))
}

// fieldLengthNorms holds the norm of a word in a field of each length
// below 8192 words, as zap computes it from the length it stores.
var fieldLengthNorms = func() (norms [8192]float64) {
	for n := range norms {
		norms[n] = float64(float32(1 / math.Sqrt(float64(n))))
	}
	return norms
}()

// postingNorm returns p.Norm(), looked up in fieldLengthNorms when p is
// zap's: computing it was a tenth of an OR search's time.
func postingNorm(p segment.Posting) float64 {
	if zp, ok := p.(*zapx.Posting); ok {
		if n := zp.NormUint64(); n < uint64(len(fieldLengthNorms)) {
			return fieldLengthNorms[n]
		}
	}
	return p.Norm()
}

// tfidfWords are the words of a query, weighed together.
type tfidfWords []*tfidfWord

// weight is the sum of the words' weights, as bleve's disjunctions and
// conjunctions sum their operands'.
func (ws tfidfWords) weight() float64 {
	var w float64
	for _, word := range ws {
		w += word.idf * word.idf
	}
	return w
}

// setQueryNorm passes the norm on to every word.
func (ws tfidfWords) setQueryNorm(norm float64) {
	for _, word := range ws {
		word.weight = word.idf * norm
	}
}

// keptPhraseSearcher returns the kept matches of a phrase, in order of
// document number, each scored as phraseSearcher scores it: the sum of its
// words' tf-idf scores.
type keptPhraseSearcher struct {
	ctx     context.Context // checked every checkEvery matches
	words   tfidfWords
	offsets []uint64 // the first document number of each segment
	matches []*phraseMatches
	deleted []*roaring.Bitmap // the releases deleted from each segment, or nil
	count   uint64
	seen    int

	seg, next int // the next match is matches[seg].nums[next]
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
	for ; s.seg < len(s.offsets); s.seg, s.next = s.seg+1, 0 {
		m := s.matches[s.seg]
		if m == nil {
			continue
		}
		if num > s.offsets[s.seg] {
			local := num - s.offsets[s.seg]
			s.next += sort.Search(len(m.nums)-s.next, func(i int) bool { return uint64(m.nums[s.next+i]) >= local })
		}
		for ; s.next < len(m.nums); s.next++ {
			if d := s.deleted[s.seg]; d != nil && d.Contains(m.nums[s.next]) {
				continue
			}
			if s.seen++; s.seen%checkEvery == 0 {
				if err := s.ctx.Err(); err != nil {
					return nil, err
				}
			}
			dm := ctx.DocumentMatchPool.Get()
			dm.IndexInternalID = bleveapi.NewIndexInternalID(dm.IndexInternalID, s.offsets[s.seg]+uint64(m.nums[s.next]))
			for w, word := range s.words {
				dm.Score += word.score(uint64(m.freqs[w][s.next]), float64(m.norms[w][s.next]))
			}
			s.next++
			return dm, nil
		}
	}
	return nil, nil
}

// Weight is the sum of the words' weights.
func (s *keptPhraseSearcher) Weight() float64 { return s.words.weight() }

// SetQueryNorm passes the norm on to the words.
func (s *keptPhraseSearcher) SetQueryNorm(norm float64) { s.words.setQueryNorm(norm) }

// Count is the number of kept matches, deleted releases included.
func (s *keptPhraseSearcher) Count() uint64 { return s.count }

// Close does nothing: the searcher reads nothing but what is kept.
func (s *keptPhraseSearcher) Close() error { return nil }

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *keptPhraseSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds, the kept matches aside.
func (s *keptPhraseSearcher) Size() int { return 64 + 16*len(s.words) + 32*len(s.offsets) }

// DocumentMatchPoolSize is 1: the match returned.
func (s *keptPhraseSearcher) DocumentMatchPoolSize() int { return 1 }
