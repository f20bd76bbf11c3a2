package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bleveapi "github.com/blevesearch/bleve_index_api"
	bolterrors "go.etcd.io/bbolt/errors"

	"atalaya"
	"atalaya/classify"
)

// Errors returned by the index. Callers branch on them with errors.Is.
var (
	// ErrNotFound is returned by Get for an ID the index does not hold.
	ErrNotFound = errors.New("index: release not found")
	// ErrLocked is returned by Open when another process has the index open.
	ErrLocked = errors.New("index: index is in use by another process (is `atalaya serve` or another command running?)")
	// ErrIncompatible is returned by Open for a corrupt index or one built
	// by another version of Atalaya.
	ErrIncompatible = errors.New("index: index is corrupt or from another version of Atalaya; run `atalaya reindex` to rebuild it from the archive")
	// ErrBadQuery is returned by Search for a query that does not parse or
	// that has invalid filters, sizes or pages.
	ErrBadQuery = errors.New("index: bad query")
	// ErrRebuilding is returned by Rebuild while another rebuild of the
	// same index runs.
	ErrRebuilding = errors.New("index: the index is being rebuilt by another command (`atalaya reindex`); wait until it ends")
	// ErrClosed is returned by every method of a closed Index.
	ErrClosed = errors.New("index: index is closed")
	// ErrBusy is returned by Search when its context ended while it waited
	// for the searches ahead of it (see searchSlots): the service is
	// overloaded, and the search may be tried again.
	ErrBusy = errors.New("index: too many searches at once")
)

// Document is what the index holds for one release.
type Document struct {
	Release   atalaya.Release
	Verdict   classify.Verdict
	IndexedAt time.Time
}

// Options configure an Index. The zero value is ready to use.
type Options struct {
	// Logger receives lifecycle messages; nil means slog.Default().
	Logger *slog.Logger
	// BatchSize is the number of documents per bleve batch in Put and
	// Rebuild; 0 means DefaultBatchSize.
	BatchSize int
	// LockTimeout is how long Open waits for another process to release the
	// index before returning ErrLocked; 0 means one second.
	LockTimeout time.Duration
	// KnownLabels are the labels a Query may filter on beside the labels
	// already in the index, "mixed" and "neither": the labels the rules
	// declare.
	KnownLabels []classify.Label
}

// DefaultBatchSize is the batch size used when Options.BatchSize is 0.
const DefaultBatchSize = 200

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	return o
}

// Index is a searchable store of classified releases. Its methods are safe
// for concurrent use.
//
// An Index opened on a directory that Rebuild maintains follows the
// rebuilds: the first call after another process swapped in a new
// generation switches to it.
type Index struct {
	dir  string // "" for an in-memory index
	opts Options

	mu     sync.RWMutex
	bi     bleve.Index // nil once closed
	target string      // the generation dir links to, "" if dir is a plain directory

	scratch phraseScratch
	slots   *searchSlots
	facets  facetCache
	kept    keptCache
}

// OpenMem returns an empty index held in memory, for tests and demos.
func OpenMem() (*Index, error) {
	return OpenMemWith(Options{})
}

// OpenMemWith is OpenMem with options.
func OpenMemWith(opts Options) (*Index, error) {
	bi, err := bleve.NewUsing("", newMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("index: creating in-memory index: %v", err)
	}
	return &Index{opts: opts.withDefaults(), bi: bi, slots: defaultSearchSlots()}, nil
}

// Open opens the index in dir, creating it if dir does not exist or is an
// empty directory. A new index is created as a generation directory beside
// dir ("index.gen-…") with dir a symbolic link to it, the layout Rebuild
// swaps atomically. Leftovers of interrupted rebuilds are removed.
//
// Open returns ErrLocked when another process has the index open and
// ErrIncompatible when the index is corrupt or of another schema version.
func Open(dir string, opts Options) (*Index, error) {
	opts = opts.withDefaults()
	dir = filepath.Clean(dir)
	if err := removeEmptyDir(dir); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := create(dir, opts); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("index: opening %s: %v", dir, err)
	}
	target, _ := os.Readlink(dir)
	bi, err := openBleve(dir, opts)
	if err != nil {
		return nil, err
	}
	cleanLeftovers(dir, target, opts.Logger)
	return &Index{dir: dir, opts: opts, bi: bi, target: target, slots: defaultSearchSlots()}, nil
}

func removeEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) > 0 {
		return nil
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("index: replacing empty directory %s: %v", dir, err)
	}
	return nil
}

// create makes an empty index generation and links dir to it.
func create(dir string, opts Options) error {
	lock, err := lockRebuild(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	gen, err := newGeneration(dir)
	if err != nil {
		return err
	}
	bi, err := newBleve(gen, nil)
	if err != nil {
		os.RemoveAll(gen)
		return err
	}
	if err := bi.Close(); err != nil {
		os.RemoveAll(gen)
		return fmt.Errorf("index: creating %s: %v", gen, err)
	}
	if err := swapLink(dir, gen); err != nil {
		os.RemoveAll(gen)
		return err
	}
	opts.Logger.Info("index created", "dir", dir, "generation", filepath.Base(gen))
	return nil
}

// maxSegmentDocs caps the size of the segments scorch merges, which bounds
// the memory a merge takes: merging everything into one segment of 100,000
// releases takes gigabytes.
const maxSegmentDocs = 20000

// newBleve creates a bleve index at path with the schema version recorded.
// The merge plan in config is stored with the index; extra adds to it.
func newBleve(path string, extra map[string]any) (bleve.Index, error) {
	config := map[string]any{
		"scorchMergePlanOptions": map[string]any{"MaxSegmentSize": maxSegmentDocs},
	}
	for k, v := range extra {
		config[k] = v
	}
	bi, err := bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, config)
	if err != nil {
		return nil, fmt.Errorf("index: creating %s: %v", path, err)
	}
	if err := bi.SetInternal(schemaKey, []byte(schemaVersion)); err != nil {
		bi.Close()
		return nil, fmt.Errorf("index: creating %s: recording schema version: %v", path, err)
	}
	return bi, nil
}

// openBleve opens an existing bleve index and checks its schema version.
func openBleve(path string, opts Options) (bleve.Index, error) {
	bi, err := bleve.OpenUsing(path, map[string]any{
		"bolt_timeout": opts.LockTimeout.String(),
		"unsafe_batch": false, // Rebuild's setting is stored with the index
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrIncompatible, path, err)
	}
	v, err := bi.GetInternal(schemaKey)
	if err != nil || string(v) != schemaVersion {
		bi.Close()
		if err == nil {
			err = fmt.Errorf("schema %q, want %q", v, schemaVersion)
		}
		return nil, fmt.Errorf("%w (%s: %v)", ErrIncompatible, path, err)
	}
	return bi, nil
}

// Close closes the index. Further calls of its methods return ErrClosed.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.bi == nil {
		return nil
	}
	err := x.bi.Close()
	x.bi = nil
	if err != nil {
		return fmt.Errorf("index: closing %s: %v", x.dir, err)
	}
	return nil
}

// acquire returns the bleve index to use and the function that releases it,
// first switching to a generation that a rebuild swapped in.
func (x *Index) acquire() (bleve.Index, func(), error) {
	x.follow()
	x.mu.RLock()
	if x.bi == nil {
		x.mu.RUnlock()
		return nil, nil, ErrClosed
	}
	x.retainKept(x.bi)
	return x.bi, x.mu.RUnlock, nil
}

// retainKept drops what x keeps for segments no longer in bi. It logs
// why it could not see bi's segments, which leaves the cache as it was.
func (x *Index) retainKept(bi bleve.Index) {
	if err := x.kept.retainIndex(bi); err != nil {
		x.opts.Logger.Warn("index: reading the segments to drop what searches kept for those gone", "err", err)
	}
}

// follow switches to the generation that x.dir links to, if it changed.
// If the new generation cannot be opened, x keeps the old one.
// maxFollowTries bounds how many times follow reads the link again when
// the generation it named is gone (rebuilds in quick succession).
const maxFollowTries = 5

func (x *Index) follow() {
	if x.dir == "" {
		return
	}
	target, err := os.Readlink(x.dir)
	if err != nil {
		return
	}
	x.mu.RLock()
	same := target == x.target || x.bi == nil
	x.mu.RUnlock()
	if same {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if target == x.target || x.bi == nil {
		return
	}
	bi, err := openBleve(filepath.Join(filepath.Dir(x.dir), target), x.opts)
	for tries := 0; err != nil && tries < maxFollowTries; tries++ {
		// A rebuild that swapped in after the link was read may have
		// removed the generation it named: follow the link again.
		next, lerr := os.Readlink(x.dir)
		if lerr != nil || next == target {
			break
		}
		target = next
		if target == x.target {
			return
		}
		bi, err = openBleve(filepath.Join(filepath.Dir(x.dir), target), x.opts)
	}
	if err != nil {
		x.opts.Logger.Warn("index keeps its old generation", "dir", x.dir, "generation", target, "error", err)
		return
	}
	if err := x.bi.Close(); err != nil {
		x.opts.Logger.Warn("index could not close its old generation", "dir", x.dir, "error", err)
	}
	x.opts.Logger.Info("index switched to rebuilt generation", "dir", x.dir, "generation", target)
	x.bi, x.target = bi, target
	cleanLeftovers(x.dir, target, x.opts.Logger)
}

// Put indexes docs in batches of Options.BatchSize. A document replaces the
// one with the same ID (the ID derived from the canonical URL when
// Release.ID is empty). Put checks every document before writing any, and
// stops between batches when ctx is done.
func (x *Index) Put(ctx context.Context, docs ...Document) error {
	bi, release, err := x.acquire()
	if err != nil {
		return err
	}
	defer release()
	x.slots.writing()
	defer x.slots.writing()
	for i := range docs {
		if err := check(&docs[i]); err != nil {
			return err
		}
	}
	b := newBatcher(bi, x.opts.BatchSize)
	for i := range docs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("index: put: %w", err)
		}
		if err := b.add(&docs[i]); err != nil {
			return err
		}
	}
	return b.flush()
}

// check reports whether d can be indexed: it needs an ID or a URL, and a
// language with an analyzer.
func check(d *Document) error {
	r := &d.Release
	if r.ID == "" && r.URL == "" {
		return fmt.Errorf("index: release %q has neither an ID nor a URL", r.Title)
	}
	if r.Language != atalaya.English && r.Language != atalaya.Spanish {
		return fmt.Errorf("index: release %s (%s): unknown language %q; want en or es", docID(d), r.URL, r.Language)
	}
	return nil
}

// batcher collects documents into bleve batches of a given size.
type batcher struct {
	bi    bleve.Index
	size  int
	batch *bleve.Batch
}

func newBatcher(bi bleve.Index, size int) *batcher {
	return &batcher{bi: bi, size: size, batch: bi.NewBatch()}
}

func (b *batcher) add(d *Document) error {
	fields, err := fieldsOf(d)
	if err != nil {
		return err
	}
	if err := b.batch.Index(string(docID(d)), fields); err != nil {
		return fmt.Errorf("index: release %s: %v", docID(d), err)
	}
	if b.batch.Size() >= b.size {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if b.batch.Size() == 0 {
		return nil
	}
	if err := b.bi.Batch(b.batch); err != nil {
		return fmt.Errorf("index: writing batch of %d releases: %v", b.batch.Size(), err)
	}
	b.batch.Reset()
	return nil
}

// Delete removes the releases with these IDs; IDs the index does not hold
// are ignored.
func (x *Index) Delete(ctx context.Context, ids ...atalaya.ID) error {
	bi, release, err := x.acquire()
	if err != nil {
		return err
	}
	defer release()
	x.slots.writing()
	defer x.slots.writing()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index: delete: %w", err)
	}
	b := bi.NewBatch()
	for _, id := range ids {
		b.Delete(string(id))
	}
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("index: deleting %d releases: %v", len(ids), err)
	}
	return nil
}

// Get returns the document with this ID, rebuilt in full from what the index
// stores (the release, its body and the whole verdict with evidence), or
// ErrNotFound.
func (x *Index) Get(ctx context.Context, id atalaya.ID) (Document, error) {
	bi, release, err := x.acquire()
	if err != nil {
		return Document{}, err
	}
	defer release()
	if err := ctx.Err(); err != nil {
		return Document{}, fmt.Errorf("index: get %s: %w", id, err)
	}
	doc, err := bi.Document(string(id))
	if err != nil {
		return Document{}, fmt.Errorf("index: get %s: %v", id, err)
	}
	if doc == nil {
		return Document{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var meta, body []byte
	doc.VisitFields(func(f bleveapi.Field) {
		switch f.Name() {
		case fieldMeta:
			meta = f.Value()
		case fieldBodyEN, fieldBodyES:
			body = f.Value()
		}
	})
	return decodeStored(id, meta, string(body))
}

// Count returns the number of releases in the index.
func (x *Index) Count() (uint64, error) {
	bi, release, err := x.acquire()
	if err != nil {
		return 0, err
	}
	defer release()
	n, err := bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("index: counting releases: %v", err)
	}
	return n, nil
}
