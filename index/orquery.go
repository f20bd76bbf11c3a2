package index

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bleveapi "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// orQuery is bleve's disjunction query, searched faster when every
// operand is one word in one field or such a disjunction itself: a query
// word, which is a disjunction over the text fields, and ORs of words.
// Bleve passes every match of every word through a term searcher, a
// disjunction searcher per level and a document match per level; the
// orSearcher walks the words' postings together and scores each release
// once, as bleve would (tf-idf per word, each disjunction's sum times the
// share of its operands that match), about twice as fast. Other operands,
// unscored searches (which bleve turns into bitmap operations) and
// searches that want term vectors or explanations are bleve's.
type orQuery struct {
	operands []query.Query
	cache    *keptCache // keeps the postings read
}

// Searcher returns the orSearcher of q, or bleve's disjunction searcher.
func (q *orQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if ok && options.Score != "none" && !options.IncludeTermVectors && !options.Explain {
		docs, err := snap.DocCount()
		if err != nil {
			return nil, fmt.Errorf("counting releases: %v", err)
		}
		b := &orBuilder{snap: snap, m: m, docs: docs, cache: q.cache}
		if _, ok, err := b.node(q); err != nil || ok {
			if err != nil {
				return nil, err
			}
			s := &orSearcher{leaves: b.leaves, inner: b.inner, scratch: phraseScratchOf(ctx)}
			for _, l := range b.leaves {
				s.words = append(s.words, l.tfidfWord)
			}
			s.scores, s.matched = make([]float64, len(s.inner)), make([]bool, len(s.inner))
			s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // as bleve's disjunction does
			return s, nil
		}
	}
	return bleve.NewDisjunctionQuery(q.operands...).Searcher(ctx, i, m, options)
}

// orBuilder makes the tree of an orSearcher: its leaves, and its
// disjunctions with the operands before the disjunction they are in.
type orBuilder struct {
	cache  *keptCache
	snap   *scorch.IndexSnapshot
	m      mapping.IndexMapping
	docs   uint64
	leaves []*orLeaf
	inner  []orDisjunction
}

// orDisjunction is a disjunction of an orSearcher's tree.
type orDisjunction struct {
	// operands in the order bleve's disjunction searcher sums their
	// scores: by their number of matches, as sort.Sort orders them.
	operands []orOperand
	count    uint64    // the matches of its operands, added up, as bleve counts them
	coords   []float64 // coords[c] is c/len(operands), as bleve's scorer computes it
}

// orOperand is a leaf or a disjunction of an orSearcher's tree.
type orOperand struct {
	leaf  bool
	index int // in the leaves or the disjunctions
	count uint64
}

// byCount sorts operands as bleve's OrderedSearcherList sorts searchers.
type byCount []orOperand

func (o byCount) Len() int           { return len(o) }
func (o byCount) Less(i, j int) bool { return o[i].count < o[j].count }
func (o byCount) Swap(i, j int)      { o[i], o[j] = o[j], o[i] }

// node adds q to the tree and returns it as an operand, not ok if q or an
// operand of it is not one the orSearcher searches: they must be words
// or disjunctions of at most searcher.DisjunctionHeapTakeover operands,
// whose scores bleve sums in the order of their number of matches (more,
// and bleve's heap searcher sums them in another order).
func (b *orBuilder) node(q query.Query) (orOperand, bool, error) {
	switch q := q.(type) {
	case *orQuery:
		if len(q.operands) > searcher.DisjunctionHeapTakeover {
			return orOperand{}, false, nil
		}
		d := orDisjunction{coords: make([]float64, len(q.operands)+1)}
		for _, op := range q.operands {
			o, ok, err := b.node(op)
			if !ok || err != nil {
				return orOperand{}, false, err
			}
			d.operands = append(d.operands, o)
			d.count += o.count
		}
		sort.Sort(byCount(d.operands))
		for c := range d.coords {
			d.coords[c] = float64(c) / float64(len(q.operands))
		}
		b.inner = append(b.inner, d)
		return orOperand{index: len(b.inner) - 1, count: d.count}, true, nil
	case *wordsQuery:
		toks := b.m.AnalyzerNamed(b.m.AnalyzerNameForPath(q.field)).Analyze([]byte(q.text))
		if len(toks) != 1 {
			return orOperand{}, false, nil
		}
		return b.leaf(q.field, toks[0].Term)
	case *query.TermQuery:
		if q.Boost() != 1 {
			return orOperand{}, false, nil
		}
		return b.leaf(q.FieldVal, []byte(q.Term))
	}
	return orOperand{}, false, nil
}

// leaf adds term in field to the leaves and returns it as an operand.
func (b *orBuilder) leaf(field string, term []byte) (orOperand, bool, error) {
	lists, count, err := postingsOf(b.snap, field, term)
	if err != nil {
		return orOperand{}, false, fmt.Errorf("word %q in %s: %v", term, field, err)
	}
	b.leaves = append(b.leaves, &orLeaf{
		tfidfWord: newTFIDFWord(b.docs, count),
		key:       "word " + field + " " + string(term),
		segs:      lists,
		count:     count,
		cache:     b.cache,
		num:       math.MaxUint64,
	})
	return orOperand{leaf: true, index: len(b.leaves) - 1, count: count}, true, nil
}

// orLeaf walks the postings of one word in one field, segment by segment,
// from the kept postings of each (see keptPostings).
type orLeaf struct {
	*tfidfWord
	key   string // what its kept postings are kept as
	segs  []segmentPostings
	count uint64
	cache *keptCache

	it     segment.PostingsIterator // reads the postings not kept
	seg    int
	kept   *keptPostings // those of segment seg
	pos    int           // the current release is kept.nums[pos]
	num    uint64        // the current release, math.MaxUint64 once done
	tfNorm float64
}

// start puts l on its first release, reading postings with an iterator
// from scratch.
func (l *orLeaf) start(scratch *phraseScratch) error {
	l.it = scratch.iterator()
	l.seg = -1
	return l.enter(0, 0)
}

// enter moves l to segment k, at or after the number from within it.
func (l *orLeaf) enter(k int, from uint64) error {
	for ; k < len(l.segs); k, from = k+1, 0 {
		if k != l.seg {
			kept, err := l.postingsIn(k)
			if err != nil {
				return err
			}
			l.seg, l.kept, l.pos = k, kept, 0
		}
		nums := l.kept.nums[l.pos:]
		l.pos += sort.Search(len(nums), func(i int) bool { return uint64(nums[i]) >= from })
		if l.pos < len(l.kept.nums) {
			l.set()
			return nil
		}
	}
	l.num = math.MaxUint64
	return nil
}

// postingsIn returns the postings of segment k: kept ones, or read and
// kept.
func (l *orLeaf) postingsIn(k int) (*keptPostings, error) {
	sp := l.segs[k]
	var deleted uint64
	if d := sp.seg.Deleted(); d != nil {
		deleted = d.GetCardinality()
	}
	v, ok := l.cache.get(sp.seg.Segment(), l.key)
	if ok && v.(*keptPostings).deleted == deleted {
		return v.(*keptPostings), nil
	}
	kept, it, err := readPostings(sp.list, deleted, l.it)
	l.it = it
	if err != nil {
		return nil, fmt.Errorf("reading the postings of %s: %w", strings.TrimPrefix(l.key, "word "), err)
	}
	// Releases deleted from a segment stay deleted: postings kept with
	// more deleted come from a newer snapshot than this search's.
	if !ok || v.(*keptPostings).deleted < deleted {
		l.cache.put(sp.seg.Segment(), l.key, kept, kept.bytes())
	}
	return kept, nil
}

func (l *orLeaf) set() {
	l.num = l.segs[l.seg].offset + uint64(l.kept.nums[l.pos])
	l.tfNorm = l.kept.tfNorms[l.pos]
}

// next moves l to its next release.
func (l *orLeaf) next() error {
	l.pos++
	if l.pos < len(l.kept.nums) {
		l.set()
		return nil
	}
	return l.enter(l.seg+1, 0)
}

// advance moves l to its first release at or after num.
func (l *orLeaf) advance(num uint64) error {
	if l.num >= num {
		return nil
	}
	k := l.seg
	for k+1 < len(l.segs) && l.segs[k+1].offset <= num {
		k++
	}
	return l.enter(k, num-min(num, l.segs[k].offset))
}

// leafScore returns l's score in its current release.
func (l *orLeaf) leafScore() float64 { return l.scoreTFNorm(l.tfNorm) }

// keptPostings are the postings of a word in one field of one segment,
// as an orLeaf scores them: the releases, by number within the segment,
// ascending, and the word's tf times its norm in each. Reading postings
// from the index (decoding them) was most of an OR search; segments never
// change once written, so the postings read are kept (see keptCache),
// and the words searched again and again (a team's saved searches, the
// feeds polled, the digests) are scored from memory. Releases deleted
// from the segment are left out; postings kept before more releases were
// deleted from it are read again.
type keptPostings struct {
	nums    []uint32
	tfNorms []float64
	deleted uint64 // the releases deleted from the segment when read
}

// readPostings reads list, the postings of a word in a segment with
// deleted releases deleted, with iterator it, and returns them and the
// iterator it became.
func readPostings(list segment.PostingsList, deleted uint64, it segment.PostingsIterator) (*keptPostings, segment.PostingsIterator, error) {
	n := list.Count()
	kept := &keptPostings{nums: make([]uint32, 0, n), tfNorms: make([]float64, 0, n), deleted: deleted}
	it = list.Iterator(true, true, false, it)
	for {
		p, err := it.Next()
		if err != nil || p == nil {
			return kept, it, err
		}
		kept.nums = append(kept.nums, uint32(p.Number()))
		kept.tfNorms = append(kept.tfNorms, termFrequency(p.Frequency())*postingNorm(p))
	}
}

// bytes is about the memory p holds.
func (p *keptPostings) bytes() uint64 { return 64 + 12*uint64(len(p.nums)) }

// orSearcher returns the releases that match its tree, in order. A
// release's score is summed from the leaves on it up: each disjunction's
// score is the sum of its matching operands' times the share of its
// operands that match, as bleve's disjunction scorer makes it, operation
// for operation and in the same order, so that the scores are bleve's to
// the bit.
type orSearcher struct {
	leaves  []*orLeaf
	words   tfidfWords      // the leaves' words
	walking []*orLeaf       // the leaves with releases: the others never match, but weigh
	inner   []orDisjunction // operands before the disjunctions they are in; the root last
	scores  []float64       // per disjunction, for the release being scored
	matched []bool
	filters []*keptFilter // the releases one of them refuses are skipped unscored
	scratch *phraseScratch
	started bool
}

func (s *orSearcher) start() error {
	if s.started {
		return nil
	}
	s.started = true
	for _, l := range s.leaves {
		if l.count == 0 {
			continue
		}
		if err := l.start(s.scratch); err != nil {
			return err
		}
		s.walking = append(s.walking, l)
	}
	return nil
}

// Next returns the next match.
func (s *orSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if err := s.start(); err != nil {
		return nil, err
	}
	return s.match(ctx)
}

// Advance returns the first match at or after id.
func (s *orSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	if err := s.start(); err != nil {
		return nil, err
	}
	num := id.Value()
	for _, l := range s.walking {
		if err := l.advance(num); err != nil {
			return nil, err
		}
	}
	return s.match(ctx)
}

// match returns the match of the lowest release the leaves are on, and
// moves those leaves on.
func (s *orSearcher) match(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	num, err := s.lowest()
	if err != nil || num == math.MaxUint64 {
		return nil, err
	}
	for k := range s.inner {
		s.scores[k], s.matched[k] = s.inner[k].score(s, num)
	}
	for _, l := range s.walking {
		if l.num == num {
			if err := l.next(); err != nil {
				return nil, err
			}
		}
	}
	score := s.scores[len(s.scores)-1]
	dm := ctx.DocumentMatchPool.Get()
	dm.IndexInternalID = bleveapi.NewIndexInternalID(dm.IndexInternalID, num)
	dm.Score = score
	return dm, nil
}

// score returns d's score in release num, where the leaves are and whose
// scores s holds for the disjunctions before d; not ok if d does not match.
func (d *orDisjunction) score(s *orSearcher, num uint64) (float64, bool) {
	var sum float64
	n := 0
	for _, op := range d.operands {
		switch {
		case op.leaf && s.leaves[op.index].num == num:
			sum += s.leaves[op.index].leafScore()
		case !op.leaf && s.matched[op.index]:
			sum += s.scores[op.index]
		default:
			continue
		}
		n++
	}
	return sum * d.coords[n], n > 0
}

// lowest returns the lowest release the leaves are on that the filters
// pass, moving them past the ones a filter refuses; math.MaxUint64 when
// none is left.
func (s *orSearcher) lowest() (uint64, error) {
	for {
		num := uint64(math.MaxUint64)
		for _, l := range s.walking {
			num = min(num, l.num)
		}
		next := num
		for _, f := range s.filters {
			if next == math.MaxUint64 {
				break
			}
			if n, ok := f.nextAtOrAfter(next); ok {
				next = n
			} else {
				next = math.MaxUint64
			}
		}
		if next == num {
			return num, nil
		}
		for _, l := range s.walking {
			if err := l.advance(next); err != nil {
				return 0, err
			}
		}
	}
}

// Weight is the sum of the words' weights, summed as bleve's disjunctions
// sum their operands', in their order.
func (s *orSearcher) Weight() float64 { return s.weightOf(len(s.inner) - 1) }

// weightOf returns the weight of disjunction k.
func (s *orSearcher) weightOf(k int) float64 {
	var sum float64
	for _, op := range s.inner[k].operands {
		if op.leaf {
			sum += tfidfWords{s.leaves[op.index].tfidfWord}.weight()
		} else {
			sum += s.weightOf(op.index)
		}
	}
	return sum
}

// SetQueryNorm passes the norm on to every word.
func (s *orSearcher) SetQueryNorm(norm float64) { s.words.setQueryNorm(norm) }

// Count estimates the matches: those of every word.
func (s *orSearcher) Count() uint64 {
	var n uint64
	for _, l := range s.leaves {
		n += l.count
	}
	return n
}

// Min is 0: the searcher takes no part in a minimum-should-match.
func (s *orSearcher) Min() int { return 0 }

// Size estimates the memory the searcher holds.
func (s *orSearcher) Size() int {
	n := 0
	for _, l := range s.leaves {
		n += 64
		if l.it != nil {
			n += l.it.Size()
		}
	}
	return n
}

// DocumentMatchPoolSize is 1: the match returned.
func (s *orSearcher) DocumentMatchPoolSize() int { return 1 }

// Close gives the iterators back to the scratch they came from.
func (s *orSearcher) Close() error {
	for _, l := range s.walking {
		s.scratch.keepIterator(l.it)
		l.it = nil
	}
	return nil
}
