package index

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writes: a log sink.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRebuildSwapStress rebuilds an index many times while readers search
// it through one open Index, as `atalaya serve` does while `reindex`
// swaps generations: every search must answer, every swap be followed,
// and the index must open afterwards with every release. Run it under
// -race.
func TestRebuildSwapStress(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	x, err := Open(dir, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	docs, _ := synthPhrases(120)
	if err := x.Put(ctx, docs[:10]...); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var searches atomic.Int64
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := x.Search(ctx, Query{Text: "border OR frontera", Sort: SortDate}); err != nil {
					t.Errorf("search during rebuilds: %v", err)
					return
				}
				searches.Add(1)
			}
		})
	}
	for i := range rounds {
		if err := Rebuild(ctx, dir, seqOf(docs), Options{BatchSize: 20, Logger: log}); err != nil {
			t.Fatalf("rebuild %d: %v", i, err)
		}
		if n, err := x.Count(); err != nil || n != uint64(len(docs)) {
			t.Fatalf("rebuild %d: Count() = %d, %v; want %d", i, n, err, len(docs))
		}
	}
	close(stop)
	readers.Wait()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); strings.Contains(s, "level=WARN") {
		t.Errorf("warnings during rebuilds:\n%s", s)
	}
	if got := generations(t, dir); len(got) != 1 {
		t.Errorf("generations after rebuilds and Close = %v, want one", got)
	}
	y, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopening after %d rebuilds and %d searches: %v", rounds, searches.Load(), err)
	}
	defer y.Close()
	if n, err := y.Count(); err != nil || n != uint64(len(docs)) {
		t.Errorf("Count() after reopening = %d, %v; want %d", n, err, len(docs))
	}
}

// TestLeftoversSpareRunningRebuild checks that an Index following a swap
// does not take the generation a running rebuild is building for a
// leftover: before its Bleve index exists and after it is closed, until it
// is swapped in, no process has it open. It used to be removed then, and
// the rebuild swapped in a directory with files missing.
func TestLeftoversSpareRunningRebuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	target, _ := os.Readlink(dir)
	lock, err := lockRebuild(dir) // a rebuild starts
	if err != nil {
		t.Fatal(err)
	}
	building, err := newGeneration(dir)
	if err != nil {
		t.Fatal(err)
	}
	cleanLeftovers(dir, target, slog.New(slog.DiscardHandler)) // what follow and Open do
	if _, err := os.Stat(building); err != nil {
		t.Fatalf("generation being built was removed: %v", err)
	}
	if err := Rebuild(context.Background(), dir, seqOf(corpus()), Options{}); !errors.Is(err, ErrRebuilding) {
		t.Errorf("second rebuild: got %v, want ErrRebuilding", err)
	}
	lock.Close() // the rebuild dies
	cleanLeftovers(dir, target, slog.New(slog.DiscardHandler))
	if _, err := os.Stat(building); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("generation of a dead rebuild was kept: %v", err)
	}
}
