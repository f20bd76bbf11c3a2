package index

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// searchSlots bounds the searches of one Index that run at once, to one
// per CPU; the others wait their turn in order of arrival. Eight searches
// run at once on two CPUs each take four times as long, and the slowest
// of them (a phrase in many releases) holds everyone's CPU the longest; run
// two at a time, each takes its own time plus its wait, so the slow
// searches no longer set the latency of the quick ones. Goroutines blocked
// sending on a channel are woken in order, so the queue is first come,
// first served.
type searchSlots struct {
	slots     chan struct{}
	lastWrite atomic.Int64 // when the index was last being written, in Unix nanoseconds
}

func newSearchSlots(n int) *searchSlots {
	return &searchSlots{slots: make(chan struct{}, max(1, n))}
}

// defaultSearchSlots is one slot per CPU the Go scheduler uses.
func defaultSearchSlots() *searchSlots { return newSearchSlots(runtime.GOMAXPROCS(0)) }

// take waits for a slot and returns its release, or ctx's error if ctx is
// done first. spare is how many other slots were free when it got its
// own: the CPUs a search may use beside its own (see phraseQuery).
func (s *searchSlots) take(ctx context.Context) (release func(), spare int, err error) {
	select {
	case s.slots <- struct{}{}:
	default:
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("%w: waited for one of %d searches to end: %w", ErrBusy, cap(s.slots), ctx.Err())
		}
	}
	return func() { <-s.slots }, cap(s.slots) - len(s.slots), nil
}

// writeQuiet is how long after the index was last written searches yield
// again (see yieldingQuery): a batch, and the merges that follow it.
const writeQuiet = 5 * time.Second

// writing notes that the index is being written.
func (s *searchSlots) writing() { s.lastWrite.Store(time.Now().UnixNano()) }

// yieldNow reports whether a search should yield its CPU: every slot is
// taken (the CPUs are all searching, and another request's step may be
// waiting), and the index has not been written for writeQuiet (a yield
// would hand the CPU to the writer, and searches come first).
func (s *searchSlots) yieldNow() bool {
	return len(s.slots) == cap(s.slots) && time.Now().UnixNano()-s.lastWrite.Load() > int64(writeQuiet)
}

// searchTurnKey is the context key of a search's searchTurn.
type searchTurnKey struct{}

// searchTurn is what the searchers of one search know of its turn: the
// slots it took one of (nil: none), and the CPUs it may use at once.
type searchTurn struct {
	slots *searchSlots
	cpus  int
}

// withSearchTurn returns ctx telling the searchers that the search runs in
// one of slots (nil: in none) and may use cpus CPUs at once.
func withSearchTurn(ctx context.Context, slots *searchSlots, cpus int) context.Context {
	return context.WithValue(ctx, searchTurnKey{}, searchTurn{slots: slots, cpus: cpus})
}

// searchCPUsOf returns the CPUs a search may use, as withSearchTurn set
// them, or else every CPU.
func searchCPUsOf(ctx context.Context) int {
	if t, ok := ctx.Value(searchTurnKey{}).(searchTurn); ok {
		return t.cpus
	}
	return runtime.GOMAXPROCS(0)
}

// yieldEvery is how many matches a search goes through between two
// yields of its CPU, when it yields (see yieldingQuery): a few
// microseconds' work.
const yieldEvery = 64

// yieldingQuery is a query whose search yields its CPU every yieldEvery
// matches while every search slot is taken and the index is not being
// written (see searchSlots.yieldNow and withSearchTurn).
// Go runs a goroutine until it blocks or has run for 10 ms, so while the
// searches of the slots keep every CPU busy for milliseconds each, the
// short steps of the other requests (reading a request, writing an
// answer) wait behind them, several times per request, and requests are
// answered in no set order rather than in the order of the slots' queue.
// Yielding often lets those steps run in between: at 8 clients on 2 CPUs,
// the p99 of the highlighted query string of BenchmarkAPISearch went from
// 23–29 ms to 16–19 ms, and a yield every 50 µs gave 20–23 ms. With a
// slot free, a CPU is too, and a yield would only cost the time to wake
// it. While batches are written, yields gave the writer the CPU instead:
// the p99 with batches written back to back doubled.
type yieldingQuery struct {
	q query.Query
}

// Searcher returns q's searcher, yielding.
func (q *yieldingQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := q.q.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	turn, _ := ctx.Value(searchTurnKey{}).(searchTurn)
	return &yieldingSearcher{Searcher: s, slots: turn.slots}, nil
}

type yieldingSearcher struct {
	search.Searcher
	slots   *searchSlots // yields when they say so; nil: never
	matches int
}

// Next returns the next match, after a yield every yieldEvery.
func (s *yieldingSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	s.yield()
	return s.Searcher.Next(ctx)
}

// Advance returns the first match at or after id, after a yield every
// yieldEvery.
func (s *yieldingSearcher) Advance(ctx *search.SearchContext, id bleveapi.IndexInternalID) (*search.DocumentMatch, error) {
	s.yield()
	return s.Searcher.Advance(ctx, id)
}

func (s *yieldingSearcher) yield() {
	if s.matches++; s.matches%yieldEvery == 0 && s.slots != nil && s.slots.yieldNow() {
		runtime.Gosched()
	}
}
