package index

import (
	"context"
	"fmt"
	"runtime"
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
	slots chan struct{}
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

// searchCPUsKey is the context key of the CPUs one search may use.
type searchCPUsKey struct{}

// withSearchCPUs returns ctx telling the searchers that the search may use
// n CPUs at once.
func withSearchCPUs(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, searchCPUsKey{}, n)
}

// searchCPUsOf returns the CPUs a search may use, as withSearchCPUs set
// them, or else every CPU.
func searchCPUsOf(ctx context.Context) int {
	if n, ok := ctx.Value(searchCPUsKey{}).(int); ok {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
