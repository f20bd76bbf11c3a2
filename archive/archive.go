package archive

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	// ErrReadOnly is returned by the methods that write when the archive was
	// opened with Options.ReadOnly.
	ErrReadOnly = errors.New("archive: opened read-only")
	// ErrCorruptState is returned by Open when state.db is damaged.
	ErrCorruptState = errors.New("archive: state.db is damaged")
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
	// ReadOnly opens the archive for reading only: nothing in the directory
	// is created, written or truncated. state.db is opened with a shared
	// lock, so readers run side by side, but not while a process that
	// writes (a crawl, reindex, serve) holds it: Open then fails with
	// ErrLocked after LockTimeout. What state.db does not record (records
	// a crash left uncommitted, files it does not know) is not adopted but
	// reported by Problems. A state.db that is missing is rebuilt from the
	// WARC files in a temporary directory outside dir, removed by Close
	// (only a writing Open rebuilds it for good). Methods that write fail.
	ReadOnly bool
}

// Archive is an open store of raw pages, extracted releases and crawl state.
// Its methods are safe for concurrent use; Puts are serialized.
type Archive struct {
	dir     string
	db      *bolt.DB
	log     *slog.Logger
	maxSize int64

	readOnly bool      // nothing in dir is written (see Options.ReadOnly)
	scratch  string    // when read-only without state.db: where one is rebuilt, removed by Close
	problems []Problem // what Open found and left alone

	mu      sync.Mutex // guards writers and serializes Put
	writers map[atalaya.SourceID]*warcWriter
	gzw     *gzip.Writer // reused by Put under mu

	batch int // releases read per state.db transaction by Releases

	// beforeCommit, when set by a test, runs after the WARC records of a Put
	// are written and synced and before the state commit; an error aborts
	// the Put at that point, as a crash would.
	beforeCommit func() error
	// syncFile makes a WARC file durable; (*os.File).Sync unless a test
	// observes or fails it.
	syncFile func(*os.File) error
	// update runs a state.db write transaction; (*bolt.DB).Update unless a
	// test observes or fails the commit.
	update func(func(*bolt.Tx) error) error
}

// Problem is something in the WARC directory that Open found and left
// alone: a file not written by atalaya, or (when read-only) records that
// state.db does not record yet and a file it records that is missing or
// short. Nothing is changed because of a Problem; What says what to do.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	File   string      `json:"file"`
	Offset int64       `json:"offset"`
	What   string      `json:"problem"`
}

// ProblemKind says what kind of Problem Open left alone.
type ProblemKind string

// Kinds of Problem.
const (
	// ProblemForeign is a file not written by atalaya (or damaged at its
	// start): none of it is read.
	ProblemForeign ProblemKind = "foreign"
	// ProblemUncommitted is bytes from Offset on that state.db does not
	// record, which a read-only open does not read.
	ProblemUncommitted ProblemKind = "uncommitted"
	// ProblemDamaged is damage at Offset in a file a read-only open
	// rebuilds state.db from: the records before it are read.
	ProblemDamaged ProblemKind = "damaged"
	// ProblemMissing is a file state.db records that is not there.
	ProblemMissing ProblemKind = "missing"
	// ProblemShort is a file shorter (Offset bytes) than state.db records.
	ProblemShort ProblemKind = "short"
)

func (p Problem) String() string {
	return fmt.Sprintf("%s at %d: %s", p.File, p.Offset, p.What)
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
// truncated; no WARC file is removed. With Options.ReadOnly it changes
// nothing (see there). It fails with ErrLocked when another process has the
// store open for writing, and with ErrCorruptState when state.db is damaged.
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
	path := filepath.Join(dir, "state.db")
	scratch, err := prepareDir(dir, path, opts)
	if err != nil {
		return nil, err
	}
	stateOpts := opts
	if scratch != "" {
		path, stateOpts.ReadOnly = filepath.Join(scratch, "state.db"), false
	}
	db, err := openState(dir, path, stateOpts)
	if err != nil {
		os.RemoveAll(scratch)
		return nil, err
	}
	a := &Archive{
		dir:      dir,
		db:       db,
		log:      opts.Logger,
		maxSize:  opts.MaxFileSize,
		readOnly: opts.ReadOnly,
		scratch:  scratch,
		writers:  make(map[atalaya.SourceID]*warcWriter),
		gzw:      gzip.NewWriter(io.Discard),
		batch:    releasesBatch,
		syncFile: (*os.File).Sync,
		update:   db.Update,
	}
	if err := a.start(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// prepareDir creates the archive directories. A read-only open of an
// archive without state.db gets a scratch directory, outside dir, to
// rebuild one in for as long as it is open; prepareDir returns it.
func prepareDir(dir, statePath string, opts Options) (scratch string, err error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Join(dir, "warc"), 0o755); err != nil {
			return "", fmt.Errorf("archive: creating %s: %v", dir, err)
		}
		return "", nil
	}
	if _, err := os.Stat(filepath.Join(dir, "warc")); err != nil {
		return "", fmt.Errorf("archive: %v", err)
	}
	if _, err := os.Stat(statePath); !errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	scratch, err = os.MkdirTemp("", "atalaya-state-*")
	if err != nil {
		return "", fmt.Errorf("archive: %s is missing, and a temporary directory to rebuild it in for reading could not be made: %v", statePath, err)
	}
	opts.Logger.Warn("archive has no state.db: rebuilding one from the WARC files for this command only, in a temporary directory; `atalaya reindex` rebuilds it for good", "state", statePath, "scratch", scratch)
	return scratch, nil
}

// openState opens state.db, with a shared lock when read-only. An existing
// state.db is first opened read-only and every page read (checkPages): a
// writing open of a damaged one would panic in a goroutine of bbolt's,
// where no recover can catch it.
func openState(dir, path string, opts Options) (*bolt.DB, error) {
	_, statErr := os.Stat(path)
	if statErr == nil || opts.ReadOnly {
		db, err := openBolt(dir, path, opts, true)
		if err != nil {
			return nil, err
		}
		if err := checkPages(dir, db); err != nil {
			db.Close()
			return nil, err
		}
		if opts.ReadOnly {
			return db, nil
		}
		if err := db.Close(); err != nil {
			return nil, fmt.Errorf("archive: closing %s: %v", path, err)
		}
	}
	return openBolt(dir, path, opts, false)
}

// openBolt opens the bbolt database at path and says what to do when that
// fails.
func openBolt(dir, path string, opts Options, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, corruptState(dir, fmt.Errorf("%v", r))
		}
	}()
	db, err = bolt.Open(path, 0o644, &bolt.Options{Timeout: opts.LockTimeout, NoFreelistSync: true, ReadOnly: readOnly})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout) && opts.ReadOnly:
		return nil, fmt.Errorf("archive: open %s: another atalaya process is writing the archive (a crawl, reindex or reclassify, or `atalaya serve`; lock not obtained in %s): wait until it ends, or ask `atalaya serve` through its API: %w", path, opts.LockTimeout, ErrLocked)
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("archive: open %s: another atalaya process is using the archive (a crawl, reindex or reclassify, `atalaya serve`, or a command reading it; lock not obtained in %s): stop that process or use another data directory: %w", path, opts.LockTimeout, ErrLocked)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("archive: open %s: %v", path, err)
	case err != nil: // bbolt's errors for a file that is not a database vary
		return nil, corruptState(dir, err)
	}
	return db, nil
}

// checkPages reads every page of state.db, after checking that the file
// holds every page its header counts. bbolt panics on a damaged page; the
// panic, in this goroutine, becomes ErrCorruptState.
func checkPages(dir string, db *bolt.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corruptState(dir, fmt.Errorf("%v", r))
		}
	}()
	info, err := os.Stat(db.Path())
	if err != nil {
		return fmt.Errorf("archive: %v", err)
	}
	return db.View(func(tx *bolt.Tx) error {
		if tx.Size() > info.Size() {
			return corruptState(dir, fmt.Errorf("the file is %d bytes but its pages need %d: it was cut short", info.Size(), tx.Size()))
		}
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return readBucket(b) })
	})
}

// readBucket reads every key of b and of the buckets nested in it.
func readBucket(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v != nil {
			return nil
		}
		if nested := b.Bucket(k); nested != nil {
			return readBucket(nested)
		}
		return nil
	})
}

// corruptState is the error for a damaged state.db, saying what to do.
func corruptState(dir string, cause error) error {
	return fmt.Errorf("%w: %s is not a valid state database (%v); move it aside and the next command that writes the archive (atalaya reindex, crawl) rebuilds it from the WARC files in %s (listing validators, walks, runs, issues and gone links are not in them and start empty, so the next crawl walks every listing in full)",
		ErrCorruptState, filepath.Join(dir, "state.db"), cause, filepath.Join(dir, "warc"))
}

// start brings state.db into agreement with the WARC files. bbolt panics
// on a damaged page; one that checkPages missed becomes ErrCorruptState.
func (a *Archive) start() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corruptState(a.dir, fmt.Errorf("%v", r))
		}
	}()
	if err := a.init(); err != nil {
		return err
	}
	return a.recover()
}

// init creates the buckets of a new state.db and checks the schema version
// of an existing one. Read-only, it only checks.
func (a *Archive) init() error {
	check := func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) != nil {
				continue
			}
			if a.db.IsReadOnly() {
				return fmt.Errorf("archive: %s was written by an older atalaya and lacks its %q part; run a command that writes the archive (atalaya crawl or reindex) once to add it", a.db.Path(), name)
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get([]byte("schema"))
		if v == nil && !a.db.IsReadOnly() {
			return meta.Put([]byte("schema"), []byte(strconv.Itoa(schemaVersion)))
		}
		if string(v) != strconv.Itoa(schemaVersion) {
			return fmt.Errorf("archive: %s has schema version %q, this atalaya reads version %d; use a matching atalaya release", a.db.Path(), v, schemaVersion)
		}
		return nil
	}
	var err error
	if a.db.IsReadOnly() {
		err = a.db.View(check)
	} else {
		err = a.db.Update(check)
	}
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
// committed length has lost records, which is reported. A file state.db does
// not record that atalaya did not write is left alone and reported (see
// Problems). Read-only, nothing is adopted: what would be is reported.
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
			if err := a.checkWrittenByAtalaya(fs); err != nil {
				a.report(Problem{Kind: ProblemForeign, File: name, What: err.Error()})
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
			err := fmt.Errorf("archive: %s is %d bytes but %d are committed: records were lost; restore the file from backup", filepath.Join(warcDir, name), info.Size(), fs.Size)
			if !a.readOnly {
				return err
			}
			a.report(Problem{Kind: ProblemShort, File: name, Offset: info.Size(), What: err.Error()})
		case a.db.IsReadOnly():
			if info.Size() > fs.Size {
				a.report(Problem{Kind: ProblemUncommitted, File: name, Offset: fs.Size, What: fmt.Sprintf("%d bytes that state.db does not record (left by an interrupted crawl, or a state.db older than the file): not read; the next command that writes the archive (atalaya crawl or reindex) records them", info.Size()-fs.Size)})
			}
		case info.Size() > fs.Size || !recorded:
			pending = append(pending, fs)
		}
	}
	for name := range committed {
		err := fmt.Errorf("archive: WARC file %s is recorded in %s but missing; restore it from backup", filepath.Join(warcDir, name), a.db.Path())
		if !a.readOnly {
			return err
		}
		a.report(Problem{Kind: ProblemMissing, File: name, What: err.Error()})
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

// report records and logs a problem Open leaves alone.
func (a *Archive) report(p Problem) {
	a.problems = append(a.problems, p)
	a.log.Warn("archive leaving a WARC file alone", "file", p.File, "offset", p.Offset, "problem", p.What)
}

// Problems returns what Open found in the WARC directory and left alone,
// each saying what to do; nil when there was nothing.
func (a *Archive) Problems() []Problem {
	return slices.Clone(a.problems)
}

// checkWrittenByAtalaya returns an error saying what to do when WARC file
// fs, which state.db does not record, was not written by atalaya: every
// file atalaya writes is created holding its warcinfo record, which names
// the file (see warcWriter.create). An empty file is one a crash left
// before anything was written in it (by an atalaya that wrote the warcinfo
// record with the first release).
func (a *Archive) checkWrittenByAtalaya(fs fileState) error {
	name := fileName(fs.Source, fs.Seq)
	path := filepath.Join(a.dir, "warc", name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("archive: reading %s: %v", path, err)
	}
	defer f.Close()
	m, err := newMemberScanner(f).next()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil && m.rec.get("WARC-Type") == typeWarcinfo && m.rec.get("WARC-Filename") == name:
		return nil
	case err == nil:
		err = fmt.Errorf("its first record is a %q record, not the warcinfo record atalaya opens %s with", m.rec.get("WARC-Type"), name)
	}
	return fmt.Errorf("not written by atalaya, or damaged at its start (%v); nothing in it was read or changed: move it out of %s (keep it if it matters), or restore the file atalaya wrote from a backup", err, filepath.Dir(path))
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
	if a.scratch != "" {
		errs = append(errs, os.RemoveAll(a.scratch))
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
