package archive

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"atalaya"
)

// Errors returned by the archive. Callers branch on them with errors.Is.
var (
	// ErrNotFound is returned when no release (or version) has the ID asked for.
	ErrNotFound = errors.New("archive: release not found")
	// ErrLocked is returned by Open when another process holds the store.
	ErrLocked = errors.New("archive: store is in use by another atalaya process")
)

// schemaVersion is the layout of state.db this code reads and writes.
const schemaVersion = 1

// Bucket names in state.db.
var (
	bucketMeta       = []byte("meta")       // "schema" → schemaVersion
	bucketFiles      = []byte("files")      // WARC file name → fileState (committed length)
	bucketReleases   = []byte("releases")   // ID → releaseState (latest version)
	bucketVersions   = []byte("versions")   // ID NUL version(4 bytes BE) → versionState
	bucketURLs       = []byte("urls")       // URL → ID
	bucketPublished  = []byte("published")  // pubKey(Published, URL) → source NUL ID
	bucketValidators = []byte("validators") // listing URL → validators
	bucketWalks      = []byte("walks")      // listing start URL → "1" when its last walk reached its end
	bucketUnindexed  = []byte("unindexed")  // release ID → "" while its latest version awaits indexing
	bucketCounts     = []byte("counts")     // source → number of releases (8 bytes BE)
	bucketRuns       = []byte("runs")       // source → last CrawlRun
	bucketIssues     = []byte("issues")     // source → open []SourceIssue
	bucketGone       = []byte("gone")       // article URL → when it last answered 404 or 410 (RFC 3339)
)

// allBuckets are created by Open when missing, so a state.db written before
// a bucket was added gains it empty, without a schema change.
var allBuckets = [][]byte{
	bucketMeta, bucketFiles, bucketReleases, bucketVersions, bucketURLs,
	bucketPublished, bucketValidators, bucketWalks, bucketUnindexed, bucketCounts, bucketRuns, bucketIssues,
	bucketGone,
}

// Options configures an Archive. The zero value is ready to use.
type Options struct {
	// Logger receives recovery and lifecycle messages; nil means slog.Default().
	Logger *slog.Logger
	// LockTimeout is how long Open waits for another process to release the
	// store before failing with ErrLocked; 0 means 1 s.
	LockTimeout time.Duration
	// MaxFileSize is the size past which a source's WARC file is closed and
	// the next one started; 0 means 1 GiB.
	MaxFileSize int64
}

// Archive is an open store of raw pages, extracted releases and crawl state.
// Its methods are safe for concurrent use; Puts are serialized.
type Archive struct {
	dir     string
	db      *bolt.DB
	log     *slog.Logger
	maxSize int64

	mu      sync.Mutex // guards writers and serializes Put
	writers map[atalaya.SourceID]*warcWriter
	gzw     *gzip.Writer // reused by Put under mu

	batch int // releases read per state.db transaction by Releases

	// beforeCommit, when set by a test, runs after the WARC records of a Put
	// are written and synced and before the state commit; an error aborts
	// the Put at that point, as a crash would.
	beforeCommit func() error
}

// fileState is what state.db records of one WARC file.
type fileState struct {
	Source atalaya.SourceID `json:"source"`
	Seq    int              `json:"seq"`
	Size   int64            `json:"size"` // committed length: bytes past it are discarded on Open
}

// Open opens the archive in dir, creating dir, dir/warc and dir/state.db if
// they are missing, and recovers from an interrupted run: WARC bytes written
// after the last committed Put are truncated. It fails with ErrLocked when
// another process has the store open.
func Open(dir string, opts Options) (*Archive, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 1 << 30
	}
	if err := os.MkdirAll(filepath.Join(dir, "warc"), 0o755); err != nil {
		return nil, fmt.Errorf("archive: creating %s: %v", dir, err)
	}
	path := filepath.Join(dir, "state.db")
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: opts.LockTimeout, NoFreelistSync: true})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("archive: open %s: another atalaya process is using it (lock not obtained in %s); stop that process or use another data directory: %w", path, opts.LockTimeout, ErrLocked)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("archive: open %s: not a valid state database (%v); move it aside to start a new one (the WARC files in %s are kept)", path, err, filepath.Join(dir, "warc"))
	case err != nil:
		return nil, fmt.Errorf("archive: open %s: %v", path, err)
	}
	a := &Archive{
		dir:     dir,
		db:      db,
		log:     opts.Logger,
		maxSize: opts.MaxFileSize,
		writers: make(map[atalaya.SourceID]*warcWriter),
		gzw:     gzip.NewWriter(io.Discard),
		batch:   releasesBatch,
	}
	if err := a.init(); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.recover(); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// init creates the buckets of a new state.db and checks the schema version
// of an existing one.
func (a *Archive) init() error {
	err := a.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get([]byte("schema"))
		if v == nil {
			return meta.Put([]byte("schema"), []byte(strconv.Itoa(schemaVersion)))
		}
		if string(v) != strconv.Itoa(schemaVersion) {
			return fmt.Errorf("archive: %s has schema version %s, this atalaya reads version %d; use a matching atalaya release", a.db.Path(), v, schemaVersion)
		}
		return nil
	})
	if err != nil && !strings.HasPrefix(err.Error(), "archive:") {
		return fmt.Errorf("archive: initializing %s: %v", a.db.Path(), err)
	}
	return err
}

// recover brings every WARC file back to its committed length: bytes past it
// belong to a Put whose state commit never happened, and files state.db does
// not know were created by such a Put.
func (a *Archive) recover() error {
	committed := make(map[string]int64)
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			var fs fileState
			if err := json.Unmarshal(v, &fs); err != nil {
				return fmt.Errorf("archive: state of WARC file %s: %v", k, err)
			}
			committed[string(k)] = fs.Size
			return nil
		})
	})
	if err != nil {
		return err
	}
	warcDir := filepath.Join(a.dir, "warc")
	entries, err := os.ReadDir(warcDir)
	if err != nil {
		return fmt.Errorf("archive: listing %s: %v", warcDir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "atalaya-") || !strings.HasSuffix(name, ".warc.gz") {
			continue
		}
		size, ok := committed[name]
		if !ok {
			a.log.Warn("archive removing uncommitted WARC file", "file", name)
			if err := os.Remove(filepath.Join(warcDir, name)); err != nil {
				return fmt.Errorf("archive: removing uncommitted %s: %v", name, err)
			}
			continue
		}
		if err := truncateTo(filepath.Join(warcDir, name), size, a.log); err != nil {
			return err
		}
		delete(committed, name)
	}
	for name := range committed {
		return fmt.Errorf("archive: WARC file %s is recorded in %s but missing; restore it from backup", filepath.Join(warcDir, name), a.db.Path())
	}
	return nil
}

// truncateTo cuts the file at path back to size and syncs it. A file shorter
// than size has lost committed records, which is reported.
func truncateTo(path string, size int64, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("archive: recovering %s: %v", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("archive: recovering %s: %v", path, err)
	}
	switch {
	case fi.Size() < size:
		return fmt.Errorf("archive: %s is %d bytes but %d are committed: records were lost; restore the file from backup", path, fi.Size(), size)
	case fi.Size() == size:
		return nil
	}
	log.Warn("archive discarding uncommitted WARC bytes", "file", filepath.Base(path), "committed", size, "discarded", fi.Size()-size)
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("archive: truncating %s to %d bytes: %v", path, size, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("archive: syncing %s: %v", path, err)
	}
	return nil
}

// Close closes the WARC files and state.db. Puts must not be running.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for src, w := range a.writers {
		errs = append(errs, w.close())
		delete(a.writers, src)
	}
	if err := a.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("archive: closing %s: %v", a.db.Path(), err))
	}
	return errors.Join(errs...)
}

// checkCtx returns ctx's error, wrapped, once ctx is done.
func checkCtx(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("archive: %s: %w", op, err)
	}
	return nil
}
