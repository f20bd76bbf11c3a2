package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// Filter selects releases for Releases. The zero Filter selects all.
type Filter struct {
	Sources []atalaya.SourceID // only these sources; empty means all
	Since   time.Time          // only releases published at or after Since; zero means no bound
}

// releasesBatch is how many releases Releases reads per state.db
// transaction: enough to amortize the transaction, few enough to keep memory
// small.
const releasesBatch = 256

// Release returns the latest version of release id, or ErrNotFound.
func (a *Archive) Release(ctx context.Context, id atalaya.ID) (atalaya.Release, error) {
	if err := checkCtx(ctx, "release "+string(id)); err != nil {
		return atalaya.Release{}, err
	}
	loc, err := a.latest(id)
	if err != nil {
		return atalaya.Release{}, err
	}
	r := a.newReader()
	defer r.close()
	return r.release(loc)
}

// ReleaseByURL returns the latest version of the release archived from url
// (its canonical URL or the URL its page was fetched from), or ErrNotFound.
func (a *Archive) ReleaseByURL(ctx context.Context, url string) (atalaya.Release, error) {
	id, err := a.idOf(url)
	if err != nil {
		return atalaya.Release{}, err
	}
	if id == "" {
		return atalaya.Release{}, fmt.Errorf("archive: release %s: %w", url, ErrNotFound)
	}
	return a.Release(ctx, id)
}

// Versions returns every archived version of release id, oldest first, or
// ErrNotFound.
func (a *Archive) Versions(ctx context.Context, id atalaya.ID) ([]atalaya.Release, error) {
	if err := checkCtx(ctx, "versions of "+string(id)); err != nil {
		return nil, err
	}
	var locs []versionState
	err := a.db.View(func(tx *bolt.Tx) error {
		prefix := versionKey(id, 0)[:len(id)+1]
		c := tx.Bucket(bucketVersions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var loc versionState
			if err := json.Unmarshal(v, &loc); err != nil {
				return err
			}
			locs = append(locs, loc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive: versions of %s: reading %s: %v", id, a.db.Path(), err)
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("archive: versions of %s: %w", id, ErrNotFound)
	}
	r := a.newReader()
	defer r.close()
	rels := make([]atalaya.Release, 0, len(locs))
	for _, loc := range locs {
		rel, err := r.release(loc)
		if err != nil {
			return nil, err
		}
		rels = append(rels, rel)
	}
	return rels, nil
}

// Page returns the page archived with version of release id, read back from
// its WARC file; version 0 means the latest. It returns ErrNotFound when
// there is no such release or version.
func (a *Archive) Page(ctx context.Context, id atalaya.ID, version int) (atalaya.Page, error) {
	if err := checkCtx(ctx, "page of "+string(id)); err != nil {
		return atalaya.Page{}, err
	}
	var loc versionState
	var err error
	if version == 0 {
		loc, err = a.latest(id)
	} else {
		loc, err = a.version(id, version)
	}
	if err != nil {
		return atalaya.Page{}, err
	}
	r := a.newReader()
	defer r.close()
	return r.page(loc)
}

// Count returns the number of releases archived (each counted once, however
// many versions it has).
func (a *Archive) Count(ctx context.Context) (int, error) {
	if err := checkCtx(ctx, "count"); err != nil {
		return 0, err
	}
	var n uint64
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(_, v []byte) error {
			if len(v) == 8 {
				n += binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("archive: counting releases in %s: %v", a.db.Path(), err)
	}
	return int(n), nil
}

// Releases returns the latest version of each release that f selects, newest
// publication first, then by URL; releases without a date come last. It
// streams: releases are read in small batches, and no state.db transaction
// is open while the caller handles one, so the caller may Put. A release
// archived or revised during the iteration may be missed, or seen twice
// when a revision moves its date. A release whose record cannot be read
// yields a *RecordError, naming the file and offset, and the iteration goes
// on with the next release: everything readable is listed. Any other error
// ends the iteration.
func (a *Archive) Releases(ctx context.Context, f Filter) iter.Seq2[atalaya.Release, error] {
	return func(yield func(atalaya.Release, error) bool) {
		r := a.newReader()
		defer r.close()
		var after []byte
		for {
			if err := checkCtx(ctx, "listing releases"); err != nil {
				yield(atalaya.Release{}, err)
				return
			}
			locs, next, err := a.releasesBatch(after, f)
			if err != nil {
				yield(atalaya.Release{}, err)
				return
			}
			for _, loc := range locs {
				rel, err := r.release(loc)
				if !yield(rel, err) {
					return
				}
			}
			if next == nil {
				return
			}
			after = next
		}
	}
}

// releasesBatch returns the locations of up to a.batch latest versions
// whose publication key follows after, and the key to continue from (nil at
// the end).
func (a *Archive) releasesBatch(after []byte, f Filter) ([]versionState, []byte, error) {
	var locs []versionState
	var next []byte
	err := a.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPublished).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if !f.Since.IsZero() && pubTime(k).Before(f.Since) {
				return nil
			}
			src, id, _ := bytes.Cut(v, []byte{0})
			if len(f.Sources) > 0 && !slices.Contains(f.Sources, atalaya.SourceID(src)) {
				continue
			}
			loc, err := latestIn(tx, atalaya.ID(id))
			if err != nil {
				return err
			}
			locs = append(locs, loc)
			if len(locs) == a.batch {
				next = bytes.Clone(k)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("archive: listing releases in %s: %v", a.db.Path(), err)
	}
	return locs, next, nil
}

// idOf returns the ID of the release archived from url, or "".
func (a *Archive) idOf(url string) (atalaya.ID, error) {
	var id atalaya.ID
	err := a.db.View(func(tx *bolt.Tx) error {
		id = atalaya.ID(tx.Bucket(bucketURLs).Get([]byte(url)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("archive: looking up %s in %s: %v", url, a.db.Path(), err)
	}
	return id, nil
}

// latest returns the location of the latest version of id.
func (a *Archive) latest(id atalaya.ID) (versionState, error) {
	var loc versionState
	err := a.db.View(func(tx *bolt.Tx) error {
		var err error
		loc, err = latestIn(tx, id)
		return err
	})
	return loc, err
}

// version returns the location of version v of id.
func (a *Archive) version(id atalaya.ID, v int) (versionState, error) {
	var loc versionState
	err := a.db.View(func(tx *bolt.Tx) error {
		var err error
		loc, err = versionIn(tx, id, v)
		return err
	})
	return loc, err
}

// latestIn returns the location of the latest version of id within tx.
func latestIn(tx *bolt.Tx, id atalaya.ID) (versionState, error) {
	v := tx.Bucket(bucketReleases).Get([]byte(id))
	if v == nil {
		return versionState{}, fmt.Errorf("archive: release %s: %w", id, ErrNotFound)
	}
	var st releaseState
	if err := json.Unmarshal(v, &st); err != nil {
		return versionState{}, fmt.Errorf("archive: state of release %s: %v", id, err)
	}
	return versionIn(tx, id, st.Latest)
}

// versionIn returns the location of version v of id within tx.
func versionIn(tx *bolt.Tx, id atalaya.ID, version int) (versionState, error) {
	if version < 1 {
		return versionState{}, fmt.Errorf("archive: release %s version %d: %w", id, version, ErrNotFound)
	}
	v := tx.Bucket(bucketVersions).Get(versionKey(id, version))
	if v == nil {
		return versionState{}, fmt.Errorf("archive: release %s version %d: %w", id, version, ErrNotFound)
	}
	var loc versionState
	if err := json.Unmarshal(v, &loc); err != nil {
		return versionState{}, fmt.Errorf("archive: state of release %s version %d: %v", id, version, err)
	}
	loc.ID = id
	return loc, nil
}

// reader reads records back from WARC files, keeping the files it opened
// until close.
type reader struct {
	dir   string
	files map[string]*os.File
	gz    *gzip.Reader
	br    *bufio.Reader
}

func (a *Archive) newReader() *reader {
	return &reader{dir: filepath.Join(a.dir, "warc"), files: make(map[string]*os.File)}
}

// close closes the files r opened.
func (r *reader) close() {
	for _, f := range r.files {
		f.Close()
	}
}

// RecordError is a WARC record that could not be read back: its bytes do
// not decode, do not match their digest, or its file is missing. Readers
// skip the release it holds and go on; `atalaya archive verify` reports
// every such record.
type RecordError struct {
	File    string     // WARC file name
	Offset  int64      // of the record's gzip member
	Release atalaya.ID // the release whose version it holds
	Err     error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("archive: %s at %d (release %s): %v", e.File, e.Offset, e.Release, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// release reads the release stored in the metadata record at loc.
func (r *reader) release(loc versionState) (atalaya.Release, error) {
	off := loc.Offset + loc.RespLen
	rec, err := r.record(loc.File, off, loc.MetaLen)
	if err == nil && rec.get("WARC-Type") != typeMetadata {
		err = fmt.Errorf("WARC-Type %q, want %q", rec.get("WARC-Type"), typeMetadata)
	}
	var rel atalaya.Release
	if err == nil {
		if err = json.Unmarshal(rec.Block, &rel); err != nil {
			err = fmt.Errorf("decoding release: %v", err)
		}
	}
	if err != nil {
		return atalaya.Release{}, &RecordError{File: loc.File, Offset: off, Release: loc.ID, Err: err}
	}
	return rel, nil
}

// page reads the page stored in the response record at loc.
func (r *reader) page(loc versionState) (atalaya.Page, error) {
	p, err := r.readPage(loc)
	if err != nil {
		return atalaya.Page{}, &RecordError{File: loc.File, Offset: loc.Offset, Release: loc.ID, Err: err}
	}
	return p, nil
}

// readPage reads the page stored in the response record at loc.
func (r *reader) readPage(loc versionState) (atalaya.Page, error) {
	rec, err := r.record(loc.File, loc.Offset, loc.RespLen)
	if err != nil {
		return atalaya.Page{}, err
	}
	if t := rec.get("WARC-Type"); t != typeResponse {
		return atalaya.Page{}, fmt.Errorf("WARC-Type %q, want %q", t, typeResponse)
	}
	p, err := parseHTTPBlock(rec.Block)
	if err != nil {
		return atalaya.Page{}, err
	}
	p.URL = rec.get("WARC-Target-URI")
	p.FetchedAt, err = time.Parse(time.RFC3339Nano, rec.get("WARC-Date"))
	if err != nil {
		return atalaya.Page{}, fmt.Errorf("WARC-Date: %v", err)
	}
	return p, nil
}

// record reads the gzip member of length n at off in file name and parses
// the WARC record in it, reading the member to its end so that its CRC is
// checked.
func (r *reader) record(name string, off, n int64) (record, error) {
	f, err := r.file(name)
	if err != nil {
		return record{}, err
	}
	sr := io.NewSectionReader(f, off, n)
	if r.gz == nil {
		r.gz, err = gzip.NewReader(sr)
	} else {
		err = r.gz.Reset(sr)
	}
	if err != nil {
		return record{}, err
	}
	r.gz.Multistream(false)
	if r.br == nil {
		r.br = bufio.NewReader(r.gz)
	} else {
		r.br.Reset(r.gz)
	}
	rec, err := readRecord(r.br)
	if err == nil {
		var rest int64
		if rest, err = io.Copy(io.Discard, r.br); err == nil && rest > 0 {
			err = fmt.Errorf("%d bytes follow the record in its gzip member", rest)
		}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return rec, err
}

// file returns the open WARC file name.
func (r *reader) file(name string) (*os.File, error) {
	if f, ok := r.files[name]; ok {
		return f, nil
	}
	f, err := os.Open(filepath.Join(r.dir, name))
	if err != nil {
		return nil, fmt.Errorf("archive: opening WARC file: %v", err)
	}
	r.files[name] = f
	return f, nil
}
