package archive

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	Size   int64            `json:"size"` // committed length: Open adopts or truncates the bytes past it
}

// Open opens the archive in dir, creating dir, dir/warc and dir/state.db if
// they are missing, and recovers from an interrupted run or a lost state.db:
// complete versions in the WARC files that state.db does not record are
// adopted into it, and an incomplete record at the end of a file is
// truncated; no WARC file is removed. It fails with ErrLocked when another
// process has the store open.
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
		return nil, fmt.Errorf("archive: open %s: not a valid state database (%v); move it aside and the next Open rebuilds it from the WARC files in %s (listing validators, walks, runs, issues and gone links are not in them and start empty, so the next crawl walks every listing in full)", path, err, filepath.Join(dir, "warc"))
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

// recover brings state.db and the WARC files into agreement before any Put,
// without removing a file. A file state.db does not record, and the bytes of
// a recorded file past its committed length, are adopted (see adopt): files
// are taken in source and number order, so that the versions of a release
// arrive oldest first. A recorded file that is missing or shorter than its
// committed length has lost records, which is reported.
func (a *Archive) recover() error {
	committed, err := a.committedFiles()
	if err != nil {
		return err
	}
	warcDir := filepath.Join(a.dir, "warc")
	entries, err := os.ReadDir(warcDir)
	if err != nil {
		return fmt.Errorf("archive: listing %s: %v", warcDir, err)
	}
	var pending []fileState // files with bytes to adopt, from Size on
	known := make(map[string]bool)
	unknown := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "atalaya-") || !strings.HasSuffix(name, ".warc.gz") {
			continue
		}
		fs, recorded := committed[name]
		delete(committed, name)
		known[name] = recorded
		if !recorded {
			var ok bool
			if fs, ok = parseFileName(name); !ok {
				a.log.Warn("archive ignoring WARC file with an unexpected name", "file", name)
				continue
			}
			unknown++
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("archive: recovering %s: %v", filepath.Join(warcDir, name), err)
		}
		switch {
		case info.Size() < fs.Size:
			return fmt.Errorf("archive: %s is %d bytes but %d are committed: records were lost; restore the file from backup", filepath.Join(warcDir, name), info.Size(), fs.Size)
		case info.Size() > fs.Size || !recorded:
			pending = append(pending, fs)
		}
	}
	for name := range committed {
		return fmt.Errorf("archive: WARC file %s is recorded in %s but missing; restore it from backup", filepath.Join(warcDir, name), a.db.Path())
	}
	if unknown > 0 {
		a.log.Info("archive adopting WARC files state.db does not record", "files", unknown, "state", a.db.Path())
	}
	slices.SortFunc(pending, func(x, y fileState) int {
		return cmp.Or(cmp.Compare(x.Source, y.Source), cmp.Compare(x.Seq, y.Seq))
	})
	for _, fs := range pending {
		if err := a.adopt(fs, known[fileName(fs.Source, fs.Seq)]); err != nil {
			return err
		}
	}
	return nil
}

// committedFiles returns what state.db records of each WARC file, by name.
func (a *Archive) committedFiles() (map[string]fileState, error) {
	committed := make(map[string]fileState)
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			var fs fileState
			if err := json.Unmarshal(v, &fs); err != nil {
				return fmt.Errorf("archive: state of WARC file %s in %s: %v", k, a.db.Path(), err)
			}
			committed[string(k)] = fs
			return nil
		})
	})
	return committed, err
}

// truncateTo cuts the file at path back to size, if it is longer, and syncs
// it.
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
	if fi.Size() <= size {
		return nil
	}
	log.Warn("archive discarding incomplete WARC record at the end of a file", "file", filepath.Base(path), "kept", size, "discarded", fi.Size()-size)
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
