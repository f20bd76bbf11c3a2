// Package rulestore keeps, in the data directory, a copy of every rules
// file ever applied to the index, named by its version (a hash of its
// bytes), which rules version the whole index was last classified with,
// and whether a reclassification is under way. Verdicts can then always be
// explained with the rules that set them, and an interrupted
// reclassification is known and finished.
package rulestore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ErrUnknownVersion is returned for a rules version the store does not
// hold.
var ErrUnknownVersion = errors.New("rulestore: rules version not kept")

// versionPattern is what a rules version looks like (hex digits), so that
// a version can never name a file outside the store.
var versionPattern = regexp.MustCompile(`^[0-9a-f]{6,64}$`)

// Store is a directory of rules versions. Its methods are safe for use by
// one process at a time, which the data directory's lock ensures.
type Store struct {
	dir string
}

// Applied is the rules version the whole index was last classified with.
type Applied struct {
	RulesVersion string    `json:"rules_version"`
	At           time.Time `json:"at"`
}

// Reclassification is a reclassification under way: from the rules the
// index had to the rules being applied.
type Reclassification struct {
	From    string    `json:"from_rules_version,omitempty"`
	To      string    `json:"to_rules_version"`
	Started time.Time `json:"started"`
}

const (
	appliedFile      = "applied.json"
	reclassifyFile   = "reclassify.json"
	rulesFileSuffix  = ".yaml"
	maxStateFileSize = 1 << 20
)

// Open returns the store in dir. It creates nothing: the directory is
// made when the first file is written, so that commands that only read
// never write to the data directory.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("rulestore: no directory")
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file that holds rules version.
func (s *Store) Path(version string) string {
	return filepath.Join(s.dir, version+rulesFileSuffix)
}

// Keep stores src as rules version, unless the store has it already. An
// existing copy is never rewritten.
func (s *Store) Keep(version string, src []byte) error {
	if !versionPattern.MatchString(version) {
		return fmt.Errorf("rulestore: %q is not a rules version", version)
	}
	if _, err := os.Stat(s.Path(version)); err == nil {
		return nil
	}
	return s.writeAtomic(version+rulesFileSuffix, src)
}

// Source returns the rules file of version, or ErrUnknownVersion.
func (s *Store) Source(version string) ([]byte, error) {
	if !versionPattern.MatchString(version) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownVersion, version)
	}
	src, err := os.ReadFile(s.Path(version))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (not in %s)", ErrUnknownVersion, version, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("rulestore: reading rules %s: %w", version, err)
	}
	return src, nil
}

// Versions returns the versions kept, sorted.
func (s *Store) Versions() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rulestore: %w", err)
	}
	var out []string
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), rulesFileSuffix); ok && versionPattern.MatchString(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Applied returns the rules version the whole index was last classified
// with; ok is false when none was recorded.
func (s *Store) Applied() (a Applied, ok bool, err error) {
	ok, err = s.readJSON(appliedFile, &a)
	return a, ok, err
}

// SetApplied records that the whole index is classified with version.
func (s *Store) SetApplied(version string, at time.Time) error {
	return s.writeJSON(appliedFile, Applied{RulesVersion: version, At: at.UTC()})
}

// Reclassifying returns the reclassification under way; ok is false when
// there is none.
func (s *Store) Reclassifying() (r Reclassification, ok bool, err error) {
	ok, err = s.readJSON(reclassifyFile, &r)
	return r, ok, err
}

// BeginReclassify records that a reclassification to r.To has started;
// until EndReclassify, the index holds labels of both rules versions.
func (s *Store) BeginReclassify(r Reclassification) error {
	r.Started = r.Started.UTC()
	return s.writeJSON(reclassifyFile, r)
}

// EndReclassify records that the reclassification is complete.
func (s *Store) EndReclassify() error {
	err := os.Remove(filepath.Join(s.dir, reclassifyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rulestore: %w", err)
	}
	return syncDir(s.dir)
}

func (s *Store) readJSON(name string, v any) (bool, error) {
	path := filepath.Join(s.dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rulestore: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxStateFileSize))
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("rulestore: %s is damaged (%v): move it aside and run 'atalaya reclassify' to rewrite it", path, err)
	}
	return true, nil
}

func (s *Store) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("rulestore: %w", err)
	}
	return s.writeAtomic(name, append(data, '\n'))
}

// writeAtomic writes name through a synced temporary file renamed over it,
// so that a crash leaves the old content or the new, never a mix.
func (s *Store) writeAtomic(name string, data []byte) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("rulestore: creating %s: %w", s.dir, err)
	}
	tmp, err := os.CreateTemp(s.dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("rulestore: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("rulestore: writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("rulestore: writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("rulestore: writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("rulestore: writing %s: %w", name, err)
	}
	done = true
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("rulestore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("rulestore: syncing %s: %w", dir, err)
	}
	return nil
}
