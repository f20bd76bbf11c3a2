package index

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

func TestSearchSlotsBoundSearchesAtOnce(t *testing.T) {
	s := newSearchSlots(2)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			release, _, err := s.take(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			release()
		})
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d searches ran at once, want 2", m)
	}
}

func TestSearchSlotsSpare(t *testing.T) {
	s := newSearchSlots(3)
	var releases []func()
	for want := 2; want >= 0; want-- {
		release, spare, err := s.take(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if spare != want {
			t.Errorf("spare = %d, want %d", spare, want)
		}
		releases = append(releases, release)
	}
	releases[0]()
	if _, spare, _ := s.take(context.Background()); spare != 0 {
		t.Errorf("after a release and a take, spare = %d, want 0", spare)
	}
}

// A search that cannot get a slot before its deadline fails with ErrBusy
// (and the deadline), runs nothing, and leaves the slots as they were.
func TestSearchWaitsForASlotUntilItsDeadline(t *testing.T) {
	x, err := OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	x.slots = newSearchSlots(1)
	hold, _, err := x.slots.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = x.Search(ctx, Query{Text: "cartel"})
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("search with every slot taken: err = %v, want ErrBusy and DeadlineExceeded", err)
	}
	hold()
	if _, err := x.Search(context.Background(), Query{Text: "cartel"}); err != nil {
		t.Fatalf("search once the slot is free: %v", err)
	}
}

// TestSearchYieldingWhenSlotsFull checks that a search made while every
// other slot is taken (so that it yields as it goes) finds the same page,
// total and facets as one made alone, by relevance and by date.
func TestSearchYieldingWhenSlotsFull(t *testing.T) {
	x, _ := indexSynth(t, 400, Options{BatchSize: 100})
	for _, q := range []Query{
		{Text: "sanctions OR prevención", Facets: true},
		{Text: "fentanyl AND NOT label:neither", Sort: SortDate},
		{Sort: SortDate, Facets: true},
	} {
		alone, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		x.slots.lastWrite.Store(0) // written long ago: it yields
		var releases []func()
		for range cap(x.slots.slots) - 1 {
			release, _, err := x.slots.take(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, release)
		}
		crowded, err := x.Search(context.Background(), q)
		for _, release := range releases {
			release()
		}
		if err != nil {
			t.Fatal(err)
		}
		if alone.Total < yieldEvery {
			t.Errorf("%+v: %d matches, fewer than a yield's worth: the test does not test yielding", q, alone.Total)
		}
		alone.Took, crowded.Took = 0, 0
		if diff := gocmp.Diff(alone, crowded); diff != "" {
			t.Errorf("%+v: results differ (-alone +yielding):\n%s", q, diff)
		}
	}
}

// TestYieldNow checks that searches yield only while every slot is taken
// and the index was not written in the last writeQuiet.
func TestYieldNow(t *testing.T) {
	s := newSearchSlots(2)
	release, _, _ := s.take(context.Background())
	if s.yieldNow() {
		t.Error("yields with a slot free")
	}
	release2, _, _ := s.take(context.Background())
	defer release2()
	if !s.yieldNow() {
		t.Error("does not yield with every slot taken and no write")
	}
	s.writing()
	if s.yieldNow() {
		t.Error("yields while the index is written")
	}
	s.lastWrite.Store(time.Now().Add(-writeQuiet - time.Second).UnixNano())
	if !s.yieldNow() {
		t.Errorf("does not yield %s after the last write", writeQuiet+time.Second)
	}
	release()
}
