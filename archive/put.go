package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// releaseState is what state.db records of a release: its latest version.
type releaseState struct {
	URL    string           `json:"url"`
	Source atalaya.SourceID `json:"source"`
	Latest int              `json:"latest"`
	Hash   string           `json:"hash"`
	PubKey []byte           `json:"pub_key"` // key in bucketPublished
}

// versionState locates one version of a release in the WARC files.
type versionState struct {
	Hash      string    `json:"hash"`
	File      string    `json:"file"`
	Offset    int64     `json:"offset"`   // of the response record's gzip member
	RespLen   int64     `json:"resp_len"` // length of that member
	MetaLen   int64     `json:"meta_len"` // length of the metadata member that follows it
	FetchedAt time.Time `json:"fetched_at"`

	ID atalaya.ID `json:"-"` // the release, filled in when read from state.db
}

// Put archives page and the release extracted from it, and returns the
// version stored: 1 for a release not seen before, 2, 3, … when its content
// hash differs from the latest archived version, and 0 when it is unchanged
// (nothing is written). When rel.ID or rel.Hash are empty they are derived
// with atalaya.NewID and atalaya.ContentHash. Once Put returns a version,
// the page and release are on disk and survive a crash.
func (a *Archive) Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (int, error) {
	if err := checkCtx(ctx, "put "+rel.URL); err != nil {
		return 0, err
	}
	if a.readOnly {
		return 0, fmt.Errorf("archive: put %s: %w", rel.URL, ErrReadOnly)
	}
	page, rel, err := prepare(page, rel)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	prev, err := a.releaseState(rel.ID)
	if err != nil {
		return 0, err
	}
	if prev != nil && prev.Hash == rel.Hash {
		return 0, nil
	}
	rel.Version = 1
	if prev != nil {
		rel.Version = prev.Latest + 1
	}
	w, err := a.writer(rel.Source)
	if err != nil {
		return 0, err
	}
	loc, end, err := w.append(a.gzw, a.syncFile, page, rel)
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("archive: put %s: %v", rel.URL, err)
	}
	if a.beforeCommit != nil {
		if err := a.beforeCommit(); err != nil {
			return 0, err
		}
	}
	err = a.update(func(tx *bolt.Tx) error {
		return commitPut(tx, page, rel, prev, loc, w.state(end))
	})
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("archive: put %s: recording in %s: %v", rel.URL, a.db.Path(), err)
	}
	w.size = end
	a.log.Debug("archive stored release", "release_id", rel.ID, "url", rel.URL, "version", rel.Version)
	return rel.Version, nil
}

// prepare fills the derived fields of page and rel and checks that they can
// be archived.
func prepare(page atalaya.Page, rel atalaya.Release) (atalaya.Page, atalaya.Release, error) {
	if rel.URL == "" {
		return page, rel, fmt.Errorf("archive: put: release has no URL")
	}
	if !validSource(rel.Source) {
		return page, rel, fmt.Errorf("archive: put %s: source %q is not a valid name (letters, digits, '_', '-', '.')", rel.URL, rel.Source)
	}
	if rel.ID == "" {
		rel.ID = atalaya.NewID(rel.URL)
	}
	if strings.ContainsRune(string(rel.ID), 0) {
		return page, rel, fmt.Errorf("archive: put %s: release ID contains a NUL byte", rel.URL)
	}
	if rel.Hash == "" {
		rel.Hash = atalaya.ContentHash(rel.Title, rel.Published, rel.Body)
	}
	if page.URL == "" {
		page.URL = rel.URL
	}
	if page.FetchedAt.IsZero() {
		page.FetchedAt = rel.FetchedAt
	}
	if page.FetchedAt.IsZero() {
		return page, rel, fmt.Errorf("archive: put %s: page has no fetch time", rel.URL)
	}
	if page.Status < 100 || page.Status > 999 {
		return page, rel, fmt.Errorf("archive: put %s: HTTP status %d out of range", rel.URL, page.Status)
	}
	if !validField("WARC-Target-URI", page.URL) {
		return page, rel, fmt.Errorf("archive: put %s: page URL %q cannot be a WARC header", rel.URL, page.URL)
	}
	return page, rel, nil
}

// validSource reports whether src can be part of a WARC file name.
func validSource(src atalaya.SourceID) bool {
	if src == "" || src[0] == '.' {
		return false
	}
	for _, r := range src {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// releaseState returns the recorded state of release id, or nil.
func (a *Archive) releaseState(id atalaya.ID) (*releaseState, error) {
	var st *releaseState
	err := a.db.View(func(tx *bolt.Tx) error {
		var err error
		st, err = releaseStateIn(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("archive: reading state of release %s: %v", id, err)
	}
	return st, nil
}

// releaseStateIn returns the recorded state of release id within tx, or nil.
func releaseStateIn(tx *bolt.Tx, id atalaya.ID) (*releaseState, error) {
	v := tx.Bucket(bucketReleases).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	st := new(releaseState)
	if err := json.Unmarshal(v, st); err != nil {
		return nil, err
	}
	return st, nil
}

// commitPut records one stored version in state.db.
func commitPut(tx *bolt.Tx, page atalaya.Page, rel atalaya.Release, prev *releaseState, loc versionState, file fileState) error {
	fileJSON, err := json.Marshal(file)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketFiles).Put([]byte(loc.File), fileJSON); err != nil {
		return err
	}
	pub := tx.Bucket(bucketPublished)
	if prev != nil {
		if err := pub.Delete(prev.PubKey); err != nil {
			return err
		}
	} else if err := addCount(tx.Bucket(bucketCounts), rel.Source, 1); err != nil {
		return err
	}
	st := releaseState{URL: rel.URL, Source: rel.Source, Latest: rel.Version, Hash: rel.Hash, PubKey: pubKey(rel.Published, rel.URL, rel.ID)}
	if err := pub.Put(st.PubKey, pubValue(rel.Source, rel.ID)); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bucketReleases), []byte(rel.ID), st); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bucketVersions), versionKey(rel.ID, rel.Version), loc); err != nil {
		return err
	}
	if err := tx.Bucket(bucketUnindexed).Put([]byte(rel.ID), []byte{}); err != nil {
		return err
	}
	return putURLs(tx, rel.ID, rel.URL, page.URL)
}

// putURLs records that release id is known by urls.
func putURLs(tx *bolt.Tx, id atalaya.ID, urls ...string) error {
	b := tx.Bucket(bucketURLs)
	for _, u := range urls {
		if err := b.Put([]byte(u), []byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// putJSON stores v as JSON under key in b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// addCount adds n to the release count of src.
func addCount(b *bolt.Bucket, src atalaya.SourceID, n uint64) error {
	var c uint64
	if v := b.Get([]byte(src)); len(v) == 8 {
		c = binary.BigEndian.Uint64(v)
	}
	return b.Put([]byte(src), binary.BigEndian.AppendUint64(nil, c+n))
}

// versionKey is the bucketVersions key of version v of release id; the
// versions of a release sort together and in order.
func versionKey(id atalaya.ID, v int) []byte {
	k := append([]byte(id), 0)
	return binary.BigEndian.AppendUint32(k, uint32(v))
}

// pubKey orders releases by publication time, newest first, then by URL;
// the ID keeps keys unique.
func pubKey(published time.Time, url string, id atalaya.ID) []byte {
	sec := uint64(published.Unix()) ^ 1<<63 // order-preserving for signed values
	k := binary.BigEndian.AppendUint64(nil, ^sec)
	k = binary.BigEndian.AppendUint32(k, ^uint32(published.Nanosecond()))
	k = append(k, url...)
	k = append(k, 0)
	return append(k, id...)
}

// pubTime returns the publication time encoded in a pubKey, in UTC.
func pubTime(k []byte) time.Time {
	sec := int64(^binary.BigEndian.Uint64(k) ^ 1<<63)
	nsec := int64(^binary.BigEndian.Uint32(k[8:]))
	return time.Unix(sec, nsec).UTC()
}

// pubValue is the bucketPublished value: the source, a NUL and the ID.
func pubValue(src atalaya.SourceID, id atalaya.ID) []byte {
	return []byte(string(src) + "\x00" + string(id))
}

// warcWriter appends records to the current WARC file of one source.
type warcWriter struct {
	source atalaya.SourceID
	dir    string
	seq    int
	f      *os.File // nil until the first append
	size   int64    // committed length of f
	max    int64
	exists bool // the file seq exists: state.db records it, or this writer created it
}

// writer returns the writer of src, positioned at the end of its latest
// committed WARC file.
func (a *Archive) writer(src atalaya.SourceID) (*warcWriter, error) {
	if w, ok := a.writers[src]; ok {
		return w, nil
	}
	w := &warcWriter{source: src, dir: filepath.Join(a.dir, "warc"), seq: 1, max: a.maxSize}
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			var fs fileState
			if err := json.Unmarshal(v, &fs); err != nil {
				return fmt.Errorf("state of WARC file %s: %v", k, err)
			}
			if fs.Source == src && fs.Seq >= w.seq {
				w.seq, w.size, w.exists = fs.Seq, fs.Size, true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("archive: finding WARC file of source %s: %v", src, err)
	}
	a.writers[src] = w
	return w, nil
}

// name returns the file name of the writer's current file.
func (w *warcWriter) name() string {
	return fileName(w.source, w.seq)
}

// fileName returns the name of WARC file number seq of source src.
func fileName(src atalaya.SourceID, seq int) string {
	return fmt.Sprintf("atalaya-%s-%05d.warc.gz", src, seq)
}

// parseFileName returns the source and number of the WARC file called name,
// and reports whether name is one that fileName returns.
func parseFileName(name string) (fileState, bool) {
	rest, ok := strings.CutPrefix(name, "atalaya-")
	rest, ok2 := strings.CutSuffix(rest, ".warc.gz")
	i := strings.LastIndexByte(rest, '-')
	if !ok || !ok2 || i < 0 {
		return fileState{}, false
	}
	src := atalaya.SourceID(rest[:i])
	seq, err := strconv.Atoi(rest[i+1:])
	if err != nil || seq < 1 || !validSource(src) || fileName(src, seq) != name {
		return fileState{}, false
	}
	return fileState{Source: src, Seq: seq}, true
}

// state returns the fileState to commit once the file is end bytes long.
func (w *warcWriter) state(end int64) fileState {
	return fileState{Source: w.source, Seq: w.seq, Size: end}
}

// open makes f the file to append to, starting the next file when the
// current one is full.
func (w *warcWriter) open(gzw *gzip.Writer, sync func(*os.File) error, at time.Time) error {
	if w.size >= w.max {
		if err := w.close(); err != nil {
			return err
		}
		w.seq, w.size, w.exists = w.seq+1, 0, false
	}
	if w.f != nil {
		return nil
	}
	if !w.exists {
		return w.create(gzw, sync, at)
	}
	path := filepath.Join(w.dir, w.name())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening WARC file: %v", err)
	}
	// Bytes past the committed size are left by a failed Put: drop them.
	if err := f.Truncate(w.size); err != nil {
		f.Close()
		return fmt.Errorf("truncating %s: %v", path, err)
	}
	w.f = f
	if w.size > 0 {
		return nil
	}
	// An empty file (an older atalaya crashed as it created it) opens with
	// its warcinfo record too.
	var buf bytes.Buffer
	if err := gzipRecord(&buf, gzw, warcinfo(w.name(), at)); err != nil {
		return err
	}
	if _, err := f.WriteAt(buf.Bytes(), 0); err != nil {
		return fmt.Errorf("writing %s: %v", w.name(), err)
	}
	w.size = int64(buf.Len())
	return nil
}

// create starts a new WARC file holding its warcinfo record, whole or not
// at all: the record is written and synced under a temporary name, then
// linked to the file's name, which never replaces a file. A name that is
// taken (by a file state.db does not record, which Open reported) is passed
// over for the next number. A crash may leave the temporary file, which
// nothing reads.
func (w *warcWriter) create(gzw *gzip.Writer, sync func(*os.File) error, at time.Time) error {
	var buf bytes.Buffer
	for {
		buf.Reset()
		if err := gzipRecord(&buf, gzw, warcinfo(w.name(), at)); err != nil {
			return err
		}
		tmp, err := os.CreateTemp(w.dir, ".atalaya-new-*.tmp")
		if err != nil {
			return fmt.Errorf("creating WARC file: %v", err)
		}
		_, err = tmp.Write(buf.Bytes())
		if err == nil {
			err = tmp.Chmod(0o644) // CreateTemp makes files only their owner reads
		}
		if err == nil {
			err = sync(tmp)
		}
		if err == nil {
			err = os.Link(tmp.Name(), filepath.Join(w.dir, w.name()))
		}
		tmp.Close()
		os.Remove(tmp.Name())
		if errors.Is(err, fs.ErrExist) {
			w.seq++
			continue
		}
		if err == nil {
			err = syncDir(w.dir)
		}
		var f *os.File
		if err == nil {
			f, err = os.OpenFile(filepath.Join(w.dir, w.name()), os.O_RDWR, 0)
		}
		if err != nil {
			return fmt.Errorf("creating %s: %v", w.name(), err)
		}
		w.f, w.size, w.exists = f, int64(buf.Len()), true
		return nil
	}
}

// append writes the response and metadata records of one version past the
// committed end of the file, and syncs the file with sync. It returns where
// the records are and the file's new end; the caller commits that end.
func (w *warcWriter) append(gzw *gzip.Writer, sync func(*os.File) error, page atalaya.Page, rel atalaya.Release) (versionState, int64, error) {
	if err := w.open(gzw, sync, page.FetchedAt); err != nil {
		return versionState{}, 0, err
	}
	resp, meta, err := versionRecords(page, rel)
	if err != nil {
		return versionState{}, 0, err
	}
	var buf bytes.Buffer
	loc := versionState{Hash: rel.Hash, File: w.name(), Offset: w.size, FetchedAt: page.FetchedAt}
	if err := gzipRecord(&buf, gzw, resp); err != nil {
		return versionState{}, 0, err
	}
	loc.RespLen = int64(buf.Len())
	if err := gzipRecord(&buf, gzw, meta); err != nil {
		return versionState{}, 0, err
	}
	loc.MetaLen = int64(buf.Len()) - loc.RespLen
	if _, err := w.f.WriteAt(buf.Bytes(), w.size); err != nil {
		return versionState{}, 0, fmt.Errorf("writing %s: %v", w.name(), err)
	}
	if err := sync(w.f); err != nil {
		return versionState{}, 0, fmt.Errorf("syncing %s: %v", w.name(), err)
	}
	return loc, w.size + int64(buf.Len()), nil
}

// rollback drops bytes written past the committed end after a failed
// commit. If that fails the file is closed, and the next append reopens and
// truncates it.
func (w *warcWriter) rollback() {
	if w.f == nil {
		return
	}
	if err := w.f.Truncate(w.size); err != nil {
		w.close()
	}
}

// close closes the current file, if any.
func (w *warcWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("archive: closing %s: %v", w.name(), err)
	}
	return nil
}

// syncDir syncs directory dir so that a file created in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %v", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %v", dir, err)
	}
	return nil
}

// gzipRecord appends r to buf as one gzip member.
func gzipRecord(buf *bytes.Buffer, gzw *gzip.Writer, r record) error {
	gzw.Reset(buf)
	if err := writeRecord(gzw, r); err != nil {
		return err
	}
	return gzw.Close()
}

// warcinfo returns the record that opens a WARC file.
func warcinfo(name string, at time.Time) record {
	return withDigests(record{
		Header: []field{
			{"WARC-Type", typeWarcinfo},
			{"WARC-Record-ID", newRecordID()},
			{"WARC-Date", warcDate(at)},
			{"WARC-Filename", name},
			{"Content-Type", "application/warc-fields"},
		},
		Block: []byte("software: atalaya\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"),
	})
}

// versionRecords returns the response record of page and the metadata
// record holding rel as JSON.
func versionRecords(page atalaya.Page, rel atalaya.Release) (resp, meta record, err error) {
	relJSON, err := json.Marshal(rel)
	if err != nil {
		return record{}, record{}, fmt.Errorf("encoding release: %v", err)
	}
	respID := newRecordID()
	resp = record{
		Header: []field{
			{"WARC-Type", typeResponse},
			{"WARC-Record-ID", respID},
			{"WARC-Date", warcDate(page.FetchedAt)},
			{"WARC-Target-URI", page.URL},
			{"Content-Type", "application/http;msgtype=response"},
		},
		Block: httpBlock(page),
	}
	resp = withDigests(resp)
	meta = record{
		Header: []field{
			{"WARC-Type", typeMetadata},
			{"WARC-Record-ID", newRecordID()},
			{"WARC-Date", warcDate(page.FetchedAt)},
			{"WARC-Target-URI", page.URL},
			{"WARC-Refers-To", respID},
			{"Content-Type", "application/json"},
		},
		Block: relJSON,
	}
	return resp, withDigests(meta), nil
}
