package index

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"atalaya"
)

// Rebuild builds a new index in dir from docs and swaps it in atomically.
//
// The documents go into a fresh generation directory beside dir
// ("index.gen-…"), from two writer goroutines, with scorch's unsafe_batch
// (no fsync per batch) and a final merge of the small segments. Only when every document is in and the
// index is closed does Rebuild replace the symbolic link dir with one to
// the new generation, by rename(2), so searches keep using the old index
// until then, and an Index opened on dir switches to the new one on its next
// call. If ctx is done, docs yields an error, or the process dies, the old
// index stays as it was; what is left of the new generation is removed now
// or by the next Open or Rebuild. The old generation is removed once no
// process has it open.
//
// One Rebuild of a directory runs at a time: Rebuild holds a lock file
// beside dir ("index.rebuild.lock") while it runs, and returns
// ErrRebuilding if another holds it. Documents written with Put to the old
// generation during a rebuild are not in the new one.
func Rebuild(ctx context.Context, dir string, docs iter.Seq2[Document, error], opts Options) error {
	opts = opts.withDefaults()
	dir = filepath.Clean(dir)
	if err := removeEmptyDir(dir); err != nil {
		return err
	}
	lock, err := lockRebuild(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	oldTarget, _ := os.Readlink(dir)
	removeLeftovers(dir, oldTarget, opts.Logger)
	gen, err := newGeneration(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := build(ctx, gen, docs, opts)
	if err != nil {
		if rmErr := os.RemoveAll(gen); rmErr != nil {
			opts.Logger.Warn("index could not remove interrupted rebuild", "dir", gen, "error", rmErr)
		}
		return err
	}
	if err := swapLink(dir, gen); err != nil {
		os.RemoveAll(gen)
		return err
	}
	opts.Logger.Info("index rebuilt", "dir", dir, "generation", filepath.Base(gen),
		"releases", n, "duration", time.Since(start))
	removeLeftovers(dir, filepath.Base(gen), opts.Logger)
	return nil
}

// lockRebuild takes the rebuild lock of dir, a file beside it that holds no
// data and is never removed; closing the file releases the lock. A flock
// is held by an open file, so a rebuild in another goroutine of this
// process excludes too.
func lockRebuild(dir string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("index: creating %s: %v", filepath.Dir(dir), err)
	}
	f, err := os.OpenFile(rebuildLockPath(dir), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index: rebuild lock of %s: %v", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrRebuilding, dir)
		}
		return nil, fmt.Errorf("index: rebuild lock of %s: %v", dir, err)
	}
	return f, nil
}

func rebuildLockPath(dir string) string { return dir + ".rebuild.lock" }

// buildWorkers is the number of batches Rebuild writes at once: while one
// batch is turned into a segment, the next one is analysed.
const buildWorkers = 2

// build indexes docs into a new bleve index at gen and returns their number.
func build(ctx context.Context, gen string, docs iter.Seq2[Document, error], opts Options) (int, error) {
	bi, err := newBleve(gen, map[string]any{"unsafe_batch": true})
	if err != nil {
		return 0, err
	}
	n, err := func() (int, error) {
		w := startWriter(ctx, bi, buildWorkers)
		n, err := feed(w, docs, opts.BatchSize)
		if werr := w.wait(); err == nil {
			err = werr
		}
		if err != nil {
			return n, err
		}
		if err := forceMerge(ctx, bi); err != nil {
			return n, err
		}
		// The second persist lets scorch delete the segments the merge
		// replaced, which the snapshot before it still held.
		for range 2 {
			if err := persist(ctx, bi); err != nil {
				return n, err
			}
		}
		return n, nil
	}()
	if cerr := bi.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("index: rebuild: closing %s: %v", gen, cerr)
	}
	return n, err
}

// feed batches docs and hands the batches to w. A release that comes twice
// replaces the first: feed waits for the batches in flight before writing
// it again.
func feed(w *writer, docs iter.Seq2[Document, error], size int) (int, error) {
	n := 0
	seen := make(map[atalaya.ID]struct{})
	b := w.bi.NewBatch()
	for d, err := range docs {
		if err != nil {
			return n, fmt.Errorf("index: rebuild: reading release %d: %w", n+1, err)
		}
		if err := w.ctx.Err(); err != nil {
			return n, fmt.Errorf("index: rebuild interrupted after %d releases: %w", n, context.Cause(w.ctx))
		}
		id := docID(&d)
		if _, dup := seen[id]; dup {
			w.send(b)
			w.barrier()
			b = w.bi.NewBatch()
			clear(seen)
		}
		seen[id] = struct{}{}
		fields, err := fieldsOf(&d)
		if err != nil {
			return n, err
		}
		if err := b.Index(string(id), fields); err != nil {
			return n, fmt.Errorf("index: release %s: %v", id, err)
		}
		n++
		if b.Size() >= size {
			w.send(b)
			b = w.bi.NewBatch()
		}
	}
	w.send(b)
	return n, nil
}

// writer writes batches to a bleve index from a few goroutines.
type writer struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	bi      bleve.Index
	batches chan *bleve.Batch
	workers sync.WaitGroup
	pending sync.WaitGroup // batches sent and not yet written
}

func startWriter(ctx context.Context, bi bleve.Index, workers int) *writer {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &writer{ctx: ctx, cancel: cancel, bi: bi, batches: make(chan *bleve.Batch)}
	for range workers {
		w.workers.Go(func() {
			for b := range w.batches {
				if w.ctx.Err() == nil {
					if err := bi.Batch(b); err != nil {
						w.cancel(fmt.Errorf("index: writing batch of %d releases: %v", b.Size(), err))
					}
				}
				w.pending.Done()
			}
		})
	}
	return w
}

// send queues b for writing, unless it is empty or the writer failed.
func (w *writer) send(b *bleve.Batch) {
	if b.Size() == 0 {
		return
	}
	w.pending.Add(1)
	select {
	case w.batches <- b:
	case <-w.ctx.Done():
		w.pending.Done()
	}
}

// barrier waits until every batch sent is written.
func (w *writer) barrier() { w.pending.Wait() }

// wait stops the workers once every batch is written and returns the first
// error, or the cause of the context's end.
func (w *writer) wait() error {
	close(w.batches)
	w.workers.Wait()
	err := w.ctx.Err()
	cause := context.Cause(w.ctx)
	w.cancel(nil)
	if err != nil {
		if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("index: rebuild interrupted: %w", cause)
		}
		return cause
	}
	return nil
}

// forceMerge merges the small segments of the index into segments of up to
// maxSegmentDocs releases, which makes searches faster and the index
// smaller; merging everything into one segment would take too much memory.
func forceMerge(ctx context.Context, bi bleve.Index) error {
	adv, err := bi.Advanced()
	if err != nil {
		return fmt.Errorf("index: rebuild: merging: %v", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	opts := mergeplan.DefaultMergePlanOptions
	opts.MaxSegmentSize = maxSegmentDocs
	opts.SegmentsPerMergeTask = 20
	opts.MaxSegmentsPerTier = 1
	if err := s.ForceMerge(ctx, &opts); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("index: rebuild interrupted while merging: %w", ctx.Err())
		}
		return fmt.Errorf("index: rebuild: merging: %v", err)
	}
	return nil
}

// persist waits until everything written to bi is on disk. With
// unsafe_batch, batches return before they are persisted and Close does not
// wait for them: so write the schema version once more, in a batch whose
// persisted callback says when it, and everything before it, is on disk.
func persist(ctx context.Context, bi bleve.Index) error {
	b := bi.NewBatch()
	b.SetInternal(schemaKey, []byte(schemaVersion))
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("index: rebuild: writing schema version: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("index: rebuild: persisting: %v", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("index: rebuild interrupted while persisting: %w", ctx.Err())
	}
}

// newGeneration creates an empty generation directory for dir.
func newGeneration(dir string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("index: creating %s: %v", filepath.Dir(dir), err)
	}
	gen, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".gen-")
	if err != nil {
		return "", fmt.Errorf("index: creating a generation for %s: %v", dir, err)
	}
	return gen, nil
}

// swapLink points the symbolic link dir at gen atomically: it makes a
// temporary link and renames it over dir. A plain directory at dir (an index
// made by hand) is first moved aside as an old generation.
func swapLink(dir, gen string) error {
	base := filepath.Base(gen)
	tmp := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".tmp-"+strings.TrimPrefix(base, filepath.Base(dir)+".gen-"))
	if err := os.Symlink(base, tmp); err != nil {
		return fmt.Errorf("index: linking %s: %v", dir, err)
	}
	if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
		if err := os.Rename(dir, gen+"-old"); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("index: moving aside %s: %v", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("index: switching %s to %s: %v", dir, base, err)
	}
	if d, err := os.Open(filepath.Dir(dir)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// cleanLeftovers removes what removeLeftovers removes, unless a rebuild of
// dir is running: the generation it builds is open by no process before its
// index is created and after it is closed, until it is swapped in, and must
// not be taken for a leftover then.
func cleanLeftovers(dir, target string, log *slog.Logger) {
	lock, err := lockRebuild(dir)
	if err != nil {
		return // a rebuild is running (or the lock cannot be had): clean next time
	}
	defer lock.Close()
	removeLeftovers(dir, target, log)
}

// removeLeftovers removes the generations of dir other than target that no
// process has open, and stray temporary links. The caller holds the rebuild
// lock.
func removeLeftovers(dir, target string, log *slog.Logger) {
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(parent, name)
		switch {
		case strings.HasPrefix(name, base+".tmp-") && e.Type()&os.ModeSymlink != 0:
			os.Remove(path)
		case strings.HasPrefix(name, base+".gen-") && name != target && e.IsDir() && !inUse(path):
			if err := os.RemoveAll(path); err != nil {
				log.Warn("index could not remove old generation", "dir", path, "error", err)
				continue
			}
			log.Debug("index removed old generation", "dir", path)
		}
	}
}

// inUse reports whether a process holds the lock of the index at gen.
func inUse(gen string) bool {
	f, err := os.OpenFile(filepath.Join(gen, "store", "root.bolt"), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true
	}
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return false
}
