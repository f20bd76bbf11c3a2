package archive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// Report is what Verify found in an archive. It is clean when Damaged and
// Problems are empty and State is.
type Report struct {
	Files      int `json:"files"`                  // WARC files read
	Records    int `json:"records"`                // records that decode and match their digests
	Undigested int `json:"records_without_digest"` // of those, records written before atalaya wrote digests
	Versions   int `json:"versions"`               // versions state.db records
	// Damaged are the byte ranges that do not decode or do not match their
	// digests, and the versions state.db records where no record is.
	Damaged []Damage `json:"damaged"`
	// Problems are what a read-only Open leaves alone: files not written by
	// atalaya, records state.db does not record yet, missing files.
	Problems []Problem `json:"problems"`
	// State says why state.db could not be read, when it could not; the
	// WARC files are checked without it.
	State string `json:"state_error,omitempty"`
}

// Clean reports whether Verify found nothing wrong.
func (r Report) Clean() bool {
	return len(r.Damaged) == 0 && len(r.Problems) == 0 && r.State == ""
}

// Damage is a damaged range of a WARC file.
type Damage struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Error  string `json:"error"`
	// Releases have a version recorded in these bytes: readers skip them.
	Releases []atalaya.ID `json:"release_ids,omitempty"`
}

// Verify reads every record of every WARC file in the archive in dir,
// checking its framing, gzip CRC and digests, and checks that every version
// state.db records is a record that reads. It changes nothing: state.db is
// opened read-only (opts.ReadOnly is implied), and when it cannot be, the
// WARC files are checked without it and Report.State says why. It fails
// only when the archive cannot be read at all (no directory, state.db
// locked by a writer, ctx done).
func Verify(ctx context.Context, dir string, opts Options) (Report, error) {
	var rep Report
	warcDir := filepath.Join(dir, "warc")
	entries, err := os.ReadDir(warcDir)
	if err != nil {
		return rep, fmt.Errorf("archive: verify: %v", err)
	}
	opts.ReadOnly = true
	versions := make(map[string][]versionState) // by file
	leftAlone := make(map[string]bool)          // files not read at all
	uncommitted := make(map[string]int64)       // where bytes state.db does not record start
	a, err := Open(dir, opts)
	switch {
	case errors.Is(err, ErrLocked):
		return rep, err
	case err != nil:
		rep.State = err.Error()
	default:
		rep.Problems = a.Problems()
		for _, p := range rep.Problems {
			switch p.Kind {
			case ProblemForeign, ProblemMissing:
				leftAlone[p.File] = true
			case ProblemUncommitted:
				uncommitted[p.File] = p.Offset
			}
		}
		err = a.eachVersion(func(loc versionState) {
			versions[loc.File] = append(versions[loc.File], loc)
			rep.Versions++
		})
		a.Close()
		if err != nil {
			return rep, err
		}
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "atalaya-") || !strings.HasSuffix(name, ".warc.gz") || leftAlone[name] {
			continue
		}
		if err := checkCtx(ctx, "verify"); err != nil {
			return rep, err
		}
		end, ok := uncommitted[name]
		if !ok {
			end = -1
		}
		if err := rep.verifyFile(filepath.Join(warcDir, name), end, versions[name]); err != nil {
			return rep, err
		}
		delete(versions, name)
	}
	for name, locs := range versions {
		rep.Damaged = append(rep.Damaged, Damage{File: name, Error: "file missing", Releases: releaseIDs(locs)})
	}
	slices.SortFunc(rep.Damaged, func(x, y Damage) int { return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Offset, y.Offset)) })
	return rep, nil
}

// eachVersion calls fn with the location of every version state.db records.
func (a *Archive) eachVersion(fn func(versionState)) error {
	err := a.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVersions).ForEach(func(k, v []byte) error {
			var loc versionState
			if err := json.Unmarshal(v, &loc); err != nil {
				return fmt.Errorf("version %q: %v", k, err)
			}
			id, _, _ := strings.Cut(string(k), "\x00")
			loc.ID = atalaya.ID(id)
			fn(loc)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("archive: verify: reading %s: %v", a.db.Path(), err)
	}
	return nil
}

// verifyFile reads every record of the WARC file at path and checks that
// each version in locs (state.db's versions in that file) is a response
// and a metadata record that read. Undecodable bytes from uncommitted on
// (when it is not -1) are an interrupted write that Problems reports, not
// damage.
func (rep *Report) verifyFile(path string, uncommitted int64, locs []versionState) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("archive: verify: %v", err)
	}
	defer f.Close()
	name := filepath.Base(path)
	rep.Files++
	starts := make(map[int64]int64) // record start → end
	var damaged []Damage
	s := newMemberScanner(f)
	for m, err := range s.members(0) {
		if err != nil {
			return fmt.Errorf("archive: verify %s: %v", path, err)
		}
		if m.skipped > 0 {
			damaged = append(damaged, Damage{File: name, Offset: m.off - m.skipped, Length: m.skipped, Error: whyText(m.why)})
		}
		rep.Records++
		if m.rec.get(headerBlockDigest) == "" {
			rep.Undigested++
		}
		starts[m.off] = m.end
	}
	if s.tail >= 0 && (uncommitted < 0 || s.tail < uncommitted) {
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("archive: verify: %v", err)
		}
		damaged = append(damaged, Damage{File: name, Offset: s.tail, Length: info.Size() - s.tail, Error: whyText(s.tailWhy)})
	}
	for _, loc := range locs {
		respEnd, ok := starts[loc.Offset]
		metaEnd, ok2 := starts[loc.Offset+loc.RespLen]
		if ok && ok2 && respEnd == loc.Offset+loc.RespLen && metaEnd == respEnd+loc.MetaLen {
			continue
		}
		i := slices.IndexFunc(damaged, func(d Damage) bool {
			return d.Offset < loc.Offset+loc.RespLen+loc.MetaLen && loc.Offset < d.Offset+d.Length
		})
		if i < 0 {
			damaged = append(damaged, Damage{File: name, Offset: loc.Offset, Length: loc.RespLen + loc.MetaLen, Error: "state.db records a version here, but these bytes are not its two records"})
			i = len(damaged) - 1
		}
		damaged[i].Releases = append(damaged[i].Releases, loc.ID)
	}
	rep.Damaged = append(rep.Damaged, damaged...)
	return nil
}

// whyText returns the reason bytes did not decode, without the package's
// prefixes.
func whyText(err error) string {
	if err == nil {
		return "does not decode"
	}
	return strings.ReplaceAll(err.Error(), "archive: ", "")
}

// releaseIDs returns the releases of locs, each once.
func releaseIDs(locs []versionState) []atalaya.ID {
	ids := make([]atalaya.ID, 0, len(locs))
	for _, loc := range locs {
		ids = append(ids, loc.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
