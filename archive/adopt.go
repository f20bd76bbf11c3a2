package archive

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
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
	end      int64 // the file's new committed length
	releases int   // releases state.db did not know
	versions int   // versions recorded
	recorded int   // versions skipped because state.db has them
}

// adoptBatch is how many versions one state.db transaction adopts: bbolt
// splits its pages only when a transaction commits, so one transaction for a
// whole file of 100,000 releases would take minutes and hundreds of MB.
const adoptBatch = 2000

// errDamagedFile marks a WARC file whose bytes do not decode somewhere
// before complete records: damage, not a record cut short by a crash.
var errDamagedFile = errors.New("damaged WARC file")

// pendingPair is a complete response and metadata pair read from a file,
// waiting to be recorded.
type pendingPair struct {
	page atalaya.Page    // URL and fetch time only
	rel  atalaya.Release // without its body, which state.db does not hold
	loc  versionState
}

// adopt records in state.db the complete versions that WARC file fs holds
// past its committed length fs.Size, a batch at a time, commits the file's
// new length and truncates the incomplete record after it, if any.
//
// Undecodable bytes followed by decodable ones are damage, not a crash,
// and what follows them is not trusted (a torn record can hold a page
// whose body looks like records). adopt records the versions before the
// damage, then: in a file state.db records (recorded), whose bytes past
// the committed length belong to Puts that never committed, it truncates
// at the damage, as at a torn record; a file state.db does not know is
// read in full first, and if damaged it keeps every byte, nothing of it is
// recorded (else the next Open would take the bytes after the damage for
// a Put's) and adopt fails, for a person to decide. Read-only, adopt
// records what it can read, into a scratch state.db, reports the damage
// as a Problem and cuts nothing.
func (a *Archive) adopt(fs fileState, recorded bool) error {
	name := fileName(fs.Source, fs.Seq)
	path := filepath.Join(a.dir, "warc", name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("archive: adopting WARC file: %v", err)
	}
	defer f.Close()
	if !recorded && !a.readOnly {
		// Read the whole file before recording any of it: once recorded,
		// bytes past its committed length count as a Put's, which damage
		// would let the next Open cut.
		err := a.readPairs(f, fs, &adoption{}, func(pendingPair) error { return nil })
		if err != nil {
			return fmt.Errorf("archive: adopting the records of %s into %s: %w", path, a.db.Path(), err)
		}
	}
	ad := adoption{end: fs.Size}
	var batch []pendingPair
	flush := func(size int64) error {
		err := a.db.Update(func(tx *bolt.Tx) error {
			for _, p := range batch {
				if err := a.adoptPair(tx, fs, p, &ad); err != nil {
					return err
				}
			}
			return putJSON(tx.Bucket(bucketFiles), []byte(name), fileState{Source: fs.Source, Seq: fs.Seq, Size: size})
		})
		batch = batch[:0]
		return err
	}
	err = a.readPairs(f, fs, &ad, func(p pendingPair) error {
		if batch = append(batch, p); len(batch) == adoptBatch {
			return flush(p.loc.Offset + p.loc.RespLen + p.loc.MetaLen)
		}
		return nil
	})
	damaged := errors.Is(err, errDamagedFile)
	if err == nil || damaged {
		if ferr := flush(ad.end); ferr != nil {
			err, damaged = ferr, false
		}
	}
	switch {
	case damaged && a.readOnly:
		a.report(Problem{Kind: ProblemDamaged, File: name, Offset: ad.end, What: fmt.Sprintf("%v; the records before offset %d are read", err, ad.end)})
	case damaged && recorded:
		a.log.Warn("archive discarding WARC bytes past the committed length from undecodable ones on", "file", name, "committed", ad.end, "error", err)
	case err != nil:
		return fmt.Errorf("archive: adopting the records of %s into %s: %w", path, a.db.Path(), err)
	}
	a.log.Info("archive adopted WARC records", "file", name, "from", fs.Size, "releases", ad.releases, "versions", ad.versions, "already_recorded", ad.recorded)
	if a.readOnly {
		return nil
	}
	return truncateTo(path, ad.end, a.log)
}

// readPairs passes to add, in order, every complete response and metadata
// pair that f, WARC file fs, holds past fs.Size, and moves ad.end past each
// (and past the opening warcinfo record). It fails with errDamagedFile when
// bytes that do not decode are followed by a record that does: a crash
// leaves undecodable bytes at the end of a file only.
func (a *Archive) readPairs(f io.ReadSeeker, fs fileState, ad *adoption, add func(pendingPair) error) error {
	name := fileName(fs.Source, fs.Seq)
	var resp *member // a response record awaiting its metadata record
	for m, err := range newMemberScanner(f).members(fs.Size) {
		if err != nil {
			return err
		}
		if m.skipped > 0 {
			return fmt.Errorf("%w: bytes %d to %d do not decode, and records follow them; restore the file from a backup, or move it out of the warc directory to open the archive without it", errDamagedFile, m.off-m.skipped, m.off)
		}
		switch m.rec.get("WARC-Type") {
		case typeResponse:
			resp = &m
			continue
		case typeMetadata:
			if resp != nil && m.rec.get("WARC-Refers-To") == resp.rec.get("WARC-Record-ID") {
				page, rel, err := pairContents(fs, resp.rec, m.rec)
				if err != nil {
					a.log.Warn("archive not adopting WARC records that hold no valid release", "file", name, "offset", resp.off, "error", err)
					break
				}
				rel.Body = ""
				loc := versionState{Hash: rel.Hash, File: name, Offset: resp.off, RespLen: resp.end - resp.off, MetaLen: m.end - m.off, FetchedAt: page.FetchedAt}
				if err := add(pendingPair{page: page, rel: rel, loc: loc}); err != nil {
					return err
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
	return nil
}

// adoptPair records pair p of file fs within tx, counting it in ad.
func (a *Archive) adoptPair(tx *bolt.Tx, fs fileState, p pendingPair, ad *adoption) error {
	rel := p.rel
	prev, err := releaseStateIn(tx, rel.ID)
	if err != nil {
		return fmt.Errorf("state of release %s: %v", rel.ID, err)
	}
	if prev == nil || rel.Version > prev.Latest {
		if prev == nil {
			ad.releases++
		}
		ad.versions++
		fs.Size = p.loc.Offset + p.loc.RespLen + p.loc.MetaLen
		return commitPut(tx, p.page, rel, prev, p.loc, fs)
	}
	versions := tx.Bucket(bucketVersions)
	key := versionKey(rel.ID, rel.Version)
	if versions.Get(key) != nil {
		ad.recorded++
		return nil
	}
	ad.versions++
	if err := putJSON(versions, key, p.loc); err != nil {
		return err
	}
	return putURLs(tx, rel.ID, rel.URL, p.page.URL)
}

// pairContents returns the page (its URL and fetch time) of response record
// resp and the release in metadata record meta, as Put wrote them in file
// fs: a release of another source, or with a version Put cannot have
// written, is refused.
func pairContents(fs fileState, resp, meta record) (atalaya.Page, atalaya.Release, error) {
	var rel atalaya.Release
	if err := json.Unmarshal(meta.Block, &rel); err != nil {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("decoding release: %v", err)
	}
	if rel.ID == "" || strings.ContainsRune(string(rel.ID), 0) || rel.URL == "" || rel.Hash == "" || rel.Version < 1 || rel.Version > math.MaxUint32 || !validSource(rel.Source) {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("release %q of %q lacks a valid ID, URL, source, hash or version", rel.ID, rel.URL)
	}
	if rel.Source != fs.Source {
		return atalaya.Page{}, atalaya.Release{}, fmt.Errorf("release %q is of source %s, in a file of source %s", rel.ID, rel.Source, fs.Source)
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
	why     error // why the first of those bytes do not decode
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
	// tail is where undecodable bytes that end the file start (-1 when
	// none), and tailWhy why, once members has ended.
	tail    int64
	tailWhy error

	f    io.ReadSeeker
	base int64          // offset of the last seek
	cr   countingReader // over f
	br   *bufio.Reader  // over cr
	gz   gzip.Reader    // over br, one member at a time
	rb   *bufio.Reader  // over gz
}

func newMemberScanner(f io.ReadSeeker) *memberScanner {
	s := &memberScanner{f: f, tail: -1}
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
		var why error
		for {
			m, err := s.next()
			if errors.Is(err, errDamaged) {
				if damagedAt < 0 {
					damagedAt, why = m.off, err
				}
				if err = s.resync(m.off + 1); err == nil {
					continue
				}
			}
			if errors.Is(err, io.EOF) {
				s.tail, s.tailWhy = damagedAt, why
				return
			}
			if err != nil {
				yield(m, err)
				return
			}
			if damagedAt >= 0 {
				m.skipped, m.why, damagedAt = m.off-damagedAt, why, -1
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
