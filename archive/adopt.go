package archive

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// Adopting is how Open records what state.db lacks from the WARC files: a
// file it does not record, and the bytes of a recorded file past its
// committed length. The rules (version numbers, idempotence, what is
// truncated and what is kept) are in the package documentation, under
// "Rebuilding state.db".

// adoption is what adopting the records of one file found.
type adoption struct {
	end      int64       // the file's new committed length
	releases int         // releases state.db did not know
	versions int         // versions recorded
	recorded int         // versions skipped because state.db has them
	damaged  []byteRange // undecodable bytes passed over
}

// byteRange is the part [off, end) of a file.
type byteRange struct{ off, end int64 }

// adopt records in state.db the complete versions that WARC file fs holds
// past its committed length fs.Size, commits the file's new length and
// truncates the incomplete record after it, if any.
func (a *Archive) adopt(fs fileState) error {
	name := fileName(fs.Source, fs.Seq)
	path := filepath.Join(a.dir, "warc", name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("archive: adopting WARC file: %v", err)
	}
	defer f.Close()
	var ad adoption
	err = a.db.Update(func(tx *bolt.Tx) error {
		var err error
		if ad, err = a.adoptRecords(tx, f, fs); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketFiles), []byte(name), fileState{Source: fs.Source, Seq: fs.Seq, Size: ad.end})
	})
	if err != nil {
		return fmt.Errorf("archive: adopting the records of %s into %s: %v; fix the cause, or move the file out of %s to open the archive without it", path, a.db.Path(), err, filepath.Dir(path))
	}
	a.log.Info("archive adopted WARC records", "file", name, "from", fs.Size, "releases", ad.releases, "versions", ad.versions, "already_recorded", ad.recorded)
	for _, d := range ad.damaged {
		if d.end <= ad.end {
			a.log.Warn("archive keeping undecodable WARC bytes followed by complete records", "file", name, "offset", d.off, "bytes", d.end-d.off)
		}
	}
	return truncateTo(path, ad.end, a.log)
}

// adoptRecords records within tx every complete response and metadata pair
// that f, WARC file fs, holds past fs.Size.
func (a *Archive) adoptRecords(tx *bolt.Tx, f io.ReadSeeker, fs fileState) (adoption, error) {
	ad := adoption{end: fs.Size}
	var resp *member // a response record awaiting its metadata record
	for m, err := range newMemberScanner(f).members(fs.Size) {
		if err != nil {
			return ad, err
		}
		if m.skipped > 0 {
			ad.damaged = append(ad.damaged, byteRange{m.off - m.skipped, m.off})
			resp = nil
		}
		switch m.rec.get("WARC-Type") {
		case typeResponse:
			resp = &m
			continue
		case typeMetadata:
			if resp != nil && m.rec.get("WARC-Refers-To") == resp.rec.get("WARC-Record-ID") {
				if err := a.adoptPair(tx, fs, *resp, m, &ad); err != nil {
					return ad, err
				}
				ad.end = m.end
			}
		case typeWarcinfo:
			if m.off == 0 {
				ad.end = m.end
			}
		}
		resp = nil
	}
	return ad, nil
}

// adoptPair records the version held by the response record resp and the
// metadata record meta that follows it in file fs, counting it in ad. A pair
// that holds no valid release is logged and left unrecorded in the file.
func (a *Archive) adoptPair(tx *bolt.Tx, fs fileState, resp, meta member, ad *adoption) error {
	name := fileName(fs.Source, fs.Seq)
	page, rel, err := pairContents(resp.rec, meta.rec)
	if err != nil {
		a.log.Warn("archive not adopting WARC records that hold no valid release", "file", name, "offset", resp.off, "error", err)
		return nil
	}
	loc := versionState{Hash: rel.Hash, File: name, Offset: resp.off, RespLen: resp.end - resp.off, MetaLen: meta.end - meta.off, FetchedAt: page.FetchedAt}
	prev, err := releaseStateIn(tx, rel.ID)
	if err != nil {
		return fmt.Errorf("state of release %s: %v", rel.ID, err)
	}
	if prev == nil || rel.Version > prev.Latest {
		if prev == nil {
			ad.releases++
		}
		ad.versions++
		fs.Size = meta.end
		return commitPut(tx, page, rel, prev, loc, fs)
	}
	versions := tx.Bucket(bucketVersions)
	key := versionKey(rel.ID, rel.Version)
	if versions.Get(key) != nil {
		ad.recorded++
		return nil
	}
	ad.versions++
	if err := putJSON(versions, key, loc); err != nil {
		return err
	}
	return putURLs(tx, rel.ID, rel.URL, page.URL)
}

// pairContents returns the page (its URL and fetch time) of response record
// resp and the release in metadata record meta, as Put wrote them.
func pairContents(resp, meta record) (atalaya.Page, atalaya.Release, error) {
	var rel atalaya.Release
	if err := json.Unmarshal(meta.Block, &rel); err != nil {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("decoding release: %v", err)
	}
	if rel.ID == "" || strings.ContainsRune(string(rel.ID), 0) || rel.URL == "" || rel.Hash == "" || rel.Version < 1 || !validSource(rel.Source) {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("release %q of %q lacks a valid ID, URL, source, hash or version", rel.ID, rel.URL)
	}
	page := atalaya.Page{URL: resp.get("WARC-Target-URI")}
	if page.URL == "" {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("response record has no WARC-Target-URI")
	}
	var err error
	if page.FetchedAt, err = time.Parse(time.RFC3339Nano, resp.get("WARC-Date")); err != nil {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("response WARC-Date: %v", err)
	}
	return page, rel, nil
}

// errDamaged marks bytes of a WARC file that are not a gzip member holding
// one WARC record.
var errDamaged = errors.New("archive: undecodable WARC bytes")

// gzipMagic opens every gzip member: ID1, ID2 and the deflate method.
const gzipMagic = "\x1f\x8b\x08"

// member is one gzip member of a WARC file and the record it holds.
type member struct {
	rec     record
	off     int64 // offset of the member's first byte
	end     int64 // offset of the byte after it
	skipped int64 // length of the undecodable bytes just before it
}

// countingReader counts the bytes read through it, and keeps the first
// error other than io.EOF to tell a failing read from damaged bytes.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}

// memberScanner reads the gzip members of a WARC file one at a time and
// knows where each starts and ends: a gzip.Reader reads byte-exactly from an
// io.ByteReader, so its position in the file is what was read from the file
// minus what the bufio.Reader still buffers.
type memberScanner struct {
	f    io.ReadSeeker
	base int64          // offset of the last seek
	cr   countingReader // over f
	br   *bufio.Reader  // over cr
	gz   gzip.Reader    // over br, one member at a time
	rb   *bufio.Reader  // over gz
}

func newMemberScanner(f io.ReadSeeker) *memberScanner {
	s := &memberScanner{f: f}
	s.cr.r = f
	s.br = bufio.NewReader(&s.cr)
	s.rb = bufio.NewReader(&s.gz)
	return s
}

// members yields the members of the file from offset off on, in order.
// Bytes that are not a gzip member holding one WARC record are passed over:
// the next member yielded is the first that decodes after them, with skipped
// set to their length, and at the end of the file they end the iteration.
// When the file cannot be read, members yields the error and stops.
func (s *memberScanner) members(off int64) iter.Seq2[member, error] {
	return func(yield func(member, error) bool) {
		if err := s.seek(off); err != nil {
			yield(member{}, err)
			return
		}
		damagedAt := int64(-1)
		for {
			m, err := s.next()
			if errors.Is(err, errDamaged) {
				if damagedAt < 0 {
					damagedAt = m.off
				}
				if err = s.resync(m.off + 1); err == nil {
					continue
				}
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(m, err)
				return
			}
			if damagedAt >= 0 {
				m.skipped, damagedAt = m.off-damagedAt, -1
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

// seek moves to offset off of the file.
func (s *memberScanner) seek(off int64) error {
	if _, err := s.f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("seeking to %d: %v", off, err)
	}
	s.base, s.cr.n, s.cr.err = off, 0, nil
	s.br.Reset(&s.cr)
	return nil
}

// pos returns the offset of the next byte to decode.
func (s *memberScanner) pos() int64 {
	return s.base + s.cr.n - int64(s.br.Buffered())
}

// next reads the member at the current offset. It returns io.EOF at the end
// of the file, and an error wrapping errDamaged when the bytes there are not
// a gzip member holding one WARC record.
func (s *memberScanner) next() (member, error) {
	m := member{off: s.pos()}
	if _, err := s.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return m, io.EOF
		}
		return m, fmt.Errorf("reading at %d: %v", m.off, err)
	}
	rec, err := s.decode()
	if s.cr.err != nil {
		return m, fmt.Errorf("reading at %d: %v", m.off, s.cr.err)
	}
	if err != nil {
		return m, fmt.Errorf("%w at %d: %v", errDamaged, m.off, err)
	}
	m.rec, m.end = rec, s.pos()
	return m, nil
}

// decode reads one gzip member and the WARC record it holds.
func (s *memberScanner) decode() (record, error) {
	if err := s.gz.Reset(s.br); err != nil {
		return record{}, err
	}
	s.gz.Multistream(false)
	s.rb.Reset(&s.gz)
	rec, err := readRecord(s.rb)
	if err != nil {
		return record{}, err
	}
	// Reading to the end of the member checks its CRC and length.
	n, err := io.Copy(io.Discard, s.rb)
	if err != nil {
		return record{}, err
	}
	if n > 0 {
		return record{}, fmt.Errorf("%d bytes follow the record in its gzip member", n)
	}
	return rec, nil
}

// resync moves to the first offset at or after off where a gzip member may
// start. It returns io.EOF when there is none.
func (s *memberScanner) resync(off int64) error {
	if err := s.seek(off); err != nil {
		return err
	}
	for {
		b, err := s.br.Peek(len(gzipMagic))
		switch {
		case string(b) == gzipMagic:
			return nil
		case errors.Is(err, io.EOF):
			return io.EOF
		case err != nil:
			return fmt.Errorf("reading at %d: %v", s.pos(), err)
		}
		s.br.Discard(1)
		if err := s.skipTo(gzipMagic[0]); err != nil {
			return err
		}
	}
}

// skipTo moves to the next byte c, or to the end of the file (io.EOF).
func (s *memberScanner) skipTo(c byte) error {
	for {
		_, err := s.br.ReadSlice(c)
		switch {
		case err == nil:
			return s.br.UnreadByte()
		case errors.Is(err, io.EOF):
			return io.EOF
		case !errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("reading at %d: %v", s.pos(), err)
		}
	}
}
