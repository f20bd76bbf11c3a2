package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// crawledData returns a data directory holding a crawl of the embedded
// mirror.
func crawledData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline"); code != 0 {
		t.Fatalf("crawl: exit %d: %s", code, errOut)
	}
	return data
}

// snapshot returns the SHA-256 of every file under dir, by path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		snap[path] = fmt.Sprintf("%x", sha256.Sum256(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// warcMember is one gzip member of a WARC file and the type of its record.
type warcMember struct {
	off, end int64
	typ      string
}

// warcMembers lists the gzip members of the WARC file at path.
func warcMembers(t *testing.T, path string) []warcMember {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data) // an io.ByteReader: gzip reads no further than each member
	var members []warcMember
	for r.Len() > 0 {
		m := warcMember{off: int64(len(data) - r.Len())}
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("%s at %d: %v", path, m.off, err)
		}
		zr.Multistream(false)
		rec, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s at %d: %v", path, m.off, err)
		}
		_, rest, _ := strings.Cut(string(rec), "WARC-Type: ")
		m.typ, _, _ = strings.Cut(rest, "\r\n")
		m.end = int64(len(data) - r.Len())
		members = append(members, m)
	}
	return members
}

// damageRecord overwrites bytes in the middle of the nth record of type typ
// in the largest WARC file of data, and returns the file's name and the
// record's offset.
func damageRecord(t *testing.T, data, typ string, nth int) (string, int64) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(data, "archive", "warc", "*.warc.gz"))
	var path string
	var size int64
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && info.Size() > size {
			path, size = p, info.Size()
		}
	}
	var found []warcMember
	for _, m := range warcMembers(t, path) {
		if m.typ == typ {
			found = append(found, m)
		}
	}
	if len(found) <= nth {
		t.Fatalf("%s has %d %s records, want more than %d", path, len(found), typ, nth)
	}
	m := found[nth]
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("\xa5\xa5\xa5\xa5"), (m.off+m.end)/2); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(path), m.off
}

// releaseCount returns the count `atalaya releases` prints last.
func releaseCount(t *testing.T, out string) int {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var n int
	if _, err := fmt.Sscanf(lines[len(lines)-1], "%d releases", &n); err != nil {
		t.Fatalf("releases output ends with %q", lines[len(lines)-1])
	}
	return n
}

// TestReadingCommandsChangeNothing: releases, sources and archive verify
// leave every byte of the archive as it was, even a file named like an
// archive file that atalaya did not write, which is reported.
func TestReadingCommandsChangeNothing(t *testing.T) {
	data := crawledData(t)
	_, before, _ := runCmd(t, "--data", data, "releases")
	foreign := filepath.Join(data, "archive", "warc", "atalaya-ofac-00002.warc.gz")
	if err := os.WriteFile(foreign, []byte("\x1f\x8b\x08\x00random bytes, not a WARC file"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, filepath.Join(data, "archive"))
	code, out, errOut := runCmd(t, "--data", data, "releases")
	if code != 0 || out != before {
		t.Errorf("releases with a foreign file: exit %d, stderr %s; output differs:\n%s\nwant:\n%s", code, errOut, out, before)
	}
	if !strings.Contains(errOut, "atalaya-ofac-00002.warc.gz") || !strings.Contains(errOut, "move it out of") {
		t.Errorf("releases did not report the foreign file:\n%s", errOut)
	}
	if code, _, errOut := runCmd(t, "--data", data, "sources"); code != 0 {
		t.Errorf("sources: exit %d: %s", code, errOut)
	}
	if code, out, _ := runCmd(t, "--data", data, "archive", "verify"); code != 1 || !strings.Contains(out, "left alone: atalaya-ofac-00002.warc.gz") {
		t.Errorf("archive verify with a foreign file: exit %d, want 1 and the file reported:\n%s", code, out)
	}
	if diff := cmp.Diff(snap, snapshot(t, filepath.Join(data, "archive"))); diff != "" {
		t.Errorf("reading commands changed the archive (-before +after):\n%s", diff)
	}
}

// TestDamagedStateDBAdvice: a state.db cut short is reported with what to
// do, by reading and writing commands, without a panic.
func TestDamagedStateDBAdvice(t *testing.T) {
	data := crawledData(t)
	state := filepath.Join(data, "archive", "state.db")
	info, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(state, info.Size()/2/4096*4096); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"releases"}, {"sources"}, {"reindex"}, {"crawl", "--offline"}} {
		code, _, errOut := runCmd(t, append([]string{"--data", data}, args...)...)
		if code != 1 || !strings.Contains(errOut, "move it aside") || !strings.Contains(errOut, "state.db") {
			t.Errorf("%v with a damaged state.db: exit %d, want 1 and advice to move it aside:\n%s", args, code, errOut)
		}
	}
	if code, out, _ := runCmd(t, "--data", data, "archive", "verify"); code != 1 || !strings.Contains(out, "state.db: ") || !strings.Contains(out, "records read (0 without digests)") {
		t.Errorf("archive verify with a damaged state.db: exit %d, want 1, the state.db error and the records checked:\n%s", code, out)
	}
}

// TestDamagedRecordSalvaged damages one record in the middle of a WARC
// file: releases, reindex, reclassify and rules report go on with every other release, name what
// they skipped and exit 1; archive verify reports the damage.
func TestDamagedRecordSalvaged(t *testing.T) {
	tests := []struct {
		typ         string
		wantSkipped int // releases that releases and reindex skip
	}{
		{"metadata", 1},
		{"response", 0},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			data := crawledData(t)
			_, before, _ := runCmd(t, "--data", data, "releases")
			total := releaseCount(t, before)
			file, off := damageRecord(t, data, tt.typ, 2)

			code, out, errOut := runCmd(t, "--data", data, "--log-level", "warn", "releases")
			if got := releaseCount(t, out); got != total-tt.wantSkipped {
				t.Errorf("releases after the damage: %d listed, want %d", got, total-tt.wantSkipped)
			}
			if tt.wantSkipped == 0 {
				if code != 0 {
					t.Errorf("releases: exit %d: %s", code, errOut)
				}
			} else if code != 1 || !strings.Contains(errOut, "skipped release") || !strings.Contains(errOut, file) || !strings.Contains(errOut, "1 releases skipped") {
				t.Errorf("releases: exit %d, want 1, the file and a total:\n%s", code, errOut)
			}

			code, out, errOut = runCmd(t, "--data", data, "--log-level", "warn", "reindex")
			if !strings.Contains(out, fmt.Sprintf("indexed %d releases", total-tt.wantSkipped)) {
				t.Errorf("reindex after the damage: %q, want %d releases indexed", out, total-tt.wantSkipped)
			}
			if wantCode := min(tt.wantSkipped, 1); code != wantCode || tt.wantSkipped > 0 && !strings.Contains(errOut, file) {
				t.Errorf("reindex: exit %d, want %d and the skipped release listed:\n%s", code, wantCode, errOut)
			}

			code, out, errOut = runCmd(t, "--data", data, "--log-level", "warn", "reclassify")
			if !strings.Contains(out, "reclassified with rules") {
				t.Errorf("reclassify after the damage stopped: %q\n%s", out, errOut)
			}
			if wantCode := min(tt.wantSkipped, 1); code != wantCode || tt.wantSkipped > 0 && !strings.Contains(errOut, file) {
				t.Errorf("reclassify: exit %d, want %d and the skipped release listed:\n%s", code, wantCode, errOut)
			}

			code, out, errOut = runCmd(t, "--data", data, "--log-level", "warn", "rules", "report")
			if !strings.Contains(out, "dead rules") {
				t.Errorf("rules report after the damage stopped: %q\n%s", out, errOut)
			}
			if wantCode := min(tt.wantSkipped, 1); code != wantCode {
				t.Errorf("rules report: exit %d, want %d:\n%s", code, wantCode, errOut)
			}

			code, out, _ = runCmd(t, "--data", data, "archive", "verify", "--json")
			var rep struct {
				Damaged []struct {
					File       string   `json:"file"`
					Offset     int64    `json:"offset"`
					Length     int64    `json:"length"`
					ReleaseIDs []string `json:"release_ids"`
				} `json:"damaged"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("archive verify --json: %v:\n%s", err, out)
			}
			if code != 1 || len(rep.Damaged) != 1 || rep.Damaged[0].File != file || rep.Damaged[0].Offset != off || len(rep.Damaged[0].ReleaseIDs) != 1 {
				t.Errorf("archive verify --json: exit %d, want 1 and the record at %d of %s with its release:\n%s", code, off, file, out)
			}
		})
	}
}

func TestArchiveVerifyClean(t *testing.T) {
	data := crawledData(t)
	code, out, errOut := runCmd(t, "--data", data, "archive", "verify")
	if code != 0 || !strings.Contains(out, "ok: no damage found") || !strings.Contains(out, "(0 without digests)") {
		t.Errorf("archive verify: exit %d, stderr %s:\n%s", code, errOut, out)
	}
	code, _, errOut = runCmd(t, "--data", t.TempDir(), "archive", "verify")
	if code != 1 || !strings.Contains(errOut, "run 'atalaya crawl' first") {
		t.Errorf("archive verify of an empty data directory: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "archive"); code != 2 || !strings.Contains(errOut, "verify") {
		t.Errorf("archive without a subcommand: exit %d, want 2 and the usage on stderr", code)
	}
	if code, out, _ := runCmd(t, "help", "archive"); code != 0 || !strings.Contains(out, "Usage: atalaya archive") {
		t.Errorf("help archive: exit %d, want 0 and the usage on stdout:\n%s", code, out)
	}
}
