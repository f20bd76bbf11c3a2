package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gowarc "github.com/nlnwa/gowarc/v3"
	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// dirSnapshot returns the SHA-256 of every file under dir, by path.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		snap[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// filledDir returns a closed archive holding n releases of source sre.
func filledDir(t *testing.T, n int) (string, []atalaya.ID) {
	t.Helper()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	var ids []atalaya.ID
	for i := range n {
		url := fmt.Sprintf("https://sre.test/%d", i)
		put(t, a, "sre", url, fmt.Sprintf("release %d", i), t0.Add(time.Duration(i)*time.Hour))
		ids = append(ids, atalaya.NewID(url))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ids
}

// openErr opens dir and returns the error, closing the archive if it opened.
func openErr(dir string, opts Options) error {
	opts.Logger = slog.New(slog.DiscardHandler)
	a, err := Open(dir, opts)
	if err == nil {
		a.Close()
	}
	return err
}

// wantText fails t unless err is an error containing every part of want.
func wantText(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got nil error, want one containing %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: got error %q, want it to contain %q", what, err, w)
		}
	}
}

// TestForeignFileLeftAlone: a file named like an archive file but not
// written by atalaya is reported and never changed, by reading and by
// writing opens, and Puts of its source go to another file.
func TestForeignFileLeftAlone(t *testing.T) {
	for _, readOnly := range []bool{true, false} {
		t.Run(fmt.Sprintf("read-only=%t", readOnly), func(t *testing.T) {
			ctx := context.Background()
			dir, _ := filledDir(t, 2)
			foreign := filepath.Join(dir, "warc", "atalaya-ofac-00001.warc.gz")
			junk := []byte("\x1f\x8b\x08 random bytes that no atalaya wrote, 0123456789")
			if err := os.WriteFile(foreign, junk, 0o644); err != nil {
				t.Fatal(err)
			}
			// An empty file is what an older atalaya left when it crashed
			// right after creating a file: nothing to read or report.
			if err := os.WriteFile(filepath.Join(dir, "warc", "atalaya-sre-00002.warc.gz"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			a := openTest(t, dir, Options{ReadOnly: readOnly})
			problems := a.Problems()
			if len(problems) != 1 || problems[0].File != "atalaya-ofac-00001.warc.gz" || !strings.Contains(problems[0].What, "move it out of") {
				t.Errorf("Problems: got %v, want one naming the file and saying to move it out", problems)
			}
			if n, err := a.Count(ctx); err != nil || n != 2 {
				t.Errorf("Count: got %d, %v, want the 2 releases", n, err)
			}
			if !readOnly {
				url := "https://ofac.test/1"
				if _, err := a.Put(ctx, testPage(url, "x"), testRelease("ofac", url, "x", t0)); err != nil {
					t.Fatalf("Put of the foreign file's source: %v", err)
				}
				info, err := os.Stat(filepath.Join(dir, "warc", "atalaya-ofac-00002.warc.gz"))
				if err != nil {
					t.Fatalf("Put did not pass over the foreign file's number: %v", err)
				}
				if info.Mode().Perm() != 0o644 {
					t.Errorf("new WARC file has mode %v, want 0644", info.Mode().Perm())
				}
				put(t, a, "sre", "https://sre.test/in-the-empty-file", "x", t0)
				f, err := os.Open(filepath.Join(dir, "warc", "atalaya-sre-00002.warc.gz"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if m, err := newMemberScanner(f).next(); err != nil || m.rec.get("WARC-Type") != typeWarcinfo {
					t.Errorf("the file that was empty starts with %q (%v), want a warcinfo record", m.rec.get("WARC-Type"), err)
				}
			}
			a.Close()
			if got, _ := os.ReadFile(foreign); string(got) != string(junk) {
				t.Errorf("foreign file changed: got %q, want %q", got, junk)
			}
		})
	}
}

// TestReadOnlyChangesNothing opens an archive a crash left with records
// state.db does not record, reads everything, and checks that no byte of
// the directory changed.
func TestReadOnlyChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir, ids := filledDir(t, 3)
	w := openTest(t, dir, Options{})
	crashPut(t, w, "https://sre.test/uncommitted", "four")
	before := dirSnapshot(t, dir)

	a := openTest(t, dir, Options{ReadOnly: true})
	n := 0
	for _, err := range a.Releases(ctx, Filter{}) {
		if err != nil {
			t.Fatalf("Releases: %v", err)
		}
		n++
	}
	if n != len(ids) {
		t.Errorf("Releases: got %d, want the %d committed ones", n, len(ids))
	}
	if problems := a.Problems(); len(problems) != 1 || !strings.Contains(problems[0].What, "state.db does not record") {
		t.Errorf("Problems: got %v, want the uncommitted bytes", problems)
	}
	if _, err := a.Put(ctx, testPage("https://sre.test/new", "n"), testRelease("sre", "https://sre.test/new", "n", t0)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Put on a read-only archive: got %v, want ErrReadOnly", err)
	}
	if err := a.SetValidators(ctx, "https://sre.test/", "etag", ""); err == nil {
		t.Error("SetValidators on a read-only archive: got nil error")
	}
	a.Close()
	if diff := cmp.Diff(before, dirSnapshot(t, dir)); diff != "" {
		t.Errorf("a read-only open changed the directory (-before +after):\n%s", diff)
	}
}

// TestReadOnlyWithoutState: a read-only open of an archive whose state.db
// is lost serves every release from a state.db rebuilt outside the
// directory, and changes nothing in it.
func TestReadOnlyWithoutState(t *testing.T) {
	ctx := context.Background()
	dir, ids := filledDir(t, 3)
	os.Remove(filepath.Join(dir, "state.db"))
	before := dirSnapshot(t, dir)
	a := openTest(t, dir, Options{ReadOnly: true})
	for _, id := range ids {
		if _, err := a.Release(ctx, id); err != nil {
			t.Errorf("Release(%s): %v", id, err)
		}
	}
	scratch := a.scratch
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scratch); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left the scratch state.db: %v", err)
	}
	if diff := cmp.Diff(before, dirSnapshot(t, dir)); diff != "" {
		t.Errorf("directory changed (-before +after):\n%s", diff)
	}
}

func TestReadOnlyOpenErrors(t *testing.T) {
	t.Run("no warc directory", func(t *testing.T) {
		dir := t.TempDir()
		wantText(t, "read-only Open", openErr(dir, Options{ReadOnly: true}), "warc", "no such file")
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("read-only Open created %v", entries)
		}
	})
	t.Run("older state.db without a bucket", func(t *testing.T) {
		dir, _ := filledDir(t, 1)
		db, err := bolt.Open(filepath.Join(dir, "state.db"), 0o644, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketGone) })
		db.Close()
		wantText(t, "read-only Open", openErr(dir, Options{ReadOnly: true}), "older atalaya", "gone", "atalaya crawl or reindex")
	})
	t.Run("a writer holds the archive", func(t *testing.T) {
		dir, _ := filledDir(t, 1)
		openTest(t, dir, Options{})
		err := openErr(dir, Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond})
		if !errors.Is(err, ErrLocked) {
			t.Errorf("read-only Open while a writer holds it: got %v, want ErrLocked", err)
		}
		wantText(t, "read-only Open", err, "atalaya serve", "wait")
	})
}

// TestReadersShareTheArchive: read-only opens do not lock each other out.
func TestReadersShareTheArchive(t *testing.T) {
	dir, _ := filledDir(t, 1)
	openTest(t, dir, Options{ReadOnly: true})
	a := openTest(t, dir, Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond})
	if n, err := a.Count(context.Background()); err != nil || n != 1 {
		t.Errorf("Count from the second reader: got %d, %v", n, err)
	}
}

// TestDamagedStateDB damages state.db pages: Open fails with the advice to
// move it aside, without a panic and without changing a byte, and after
// moving it aside the next Open rebuilds every release.
func TestDamagedStateDB(t *testing.T) {
	damage := map[string]func(t *testing.T, path string){
		"cut short": func(t *testing.T, path string) {
			if err := os.Truncate(path, 131072); err != nil {
				t.Fatal(err)
			}
		},
		"a page zeroed": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for pg := int64(8); pg < 40; pg += 3 {
				f.WriteAt(make([]byte, 4096), pg*4096)
			}
		},
	}
	for name, damageFile := range damage {
		t.Run(name, func(t *testing.T) {
			dir, ids := filledDir(t, 400)
			state := filepath.Join(dir, "state.db")
			if info, _ := os.Stat(state); info.Size() <= 40*4096 {
				t.Fatalf("state.db is %d bytes: too small to damage", info.Size())
			}
			damageFile(t, state)
			before := dirSnapshot(t, dir)
			for _, readOnly := range []bool{true, false} {
				err := openErr(dir, Options{ReadOnly: readOnly})
				if !errors.Is(err, ErrCorruptState) {
					t.Errorf("Open (read-only %t): got %v, want ErrCorruptState", readOnly, err)
				}
				wantText(t, "Open", err, state, "move it aside", "rebuilds it from the WARC files")
			}
			if diff := cmp.Diff(before, dirSnapshot(t, dir)); diff != "" {
				t.Errorf("directory changed (-before +after):\n%s", diff)
			}
			if err := os.Rename(state, state+".damaged"); err != nil {
				t.Fatal(err)
			}
			a := openTest(t, dir, Options{})
			if n, err := a.Count(context.Background()); err != nil || n != len(ids) {
				t.Errorf("Count after the rebuild: got %d, %v, want %d", n, err, len(ids))
			}
		})
	}
}

// TestWARCFilesValid reads every WARC file the archive writes with
// nlnwa/gowarc, validating strictly and checking every digest.
func TestWARCFilesValid(t *testing.T) {
	dir, _ := filledDir(t, 3)
	paths, _ := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	if len(paths) == 0 {
		t.Fatal("no WARC files")
	}
	for _, path := range paths {
		r, err := gowarc.NewWarcFileReader(path, 0, gowarc.WithStrictValidation())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rec, err := range r.Records() {
			if err != nil {
				t.Fatalf("%s: record %d: %v", path, n, err)
			}
			if len(rec.Validation) > 0 {
				t.Errorf("%s: record %d at %d: %v", path, n, rec.Offset, rec.Validation)
			}
			wr := rec.WarcRecord
			for _, h := range []string{gowarc.WarcBlockDigest} {
				if !wr.WarcHeader().Has(h) {
					t.Errorf("%s: %s record at %d has no %s", path, wr.Type(), rec.Offset, h)
				}
			}
			if wr.Type() == gowarc.Response && !wr.WarcHeader().Has(gowarc.WarcPayloadDigest) {
				t.Errorf("%s: response at %d has no %s", path, rec.Offset, gowarc.WarcPayloadDigest)
			}
			if validation, err := wr.ValidateDigest(); err != nil || len(validation) > 0 {
				t.Errorf("%s: %s record at %d: digests: %v %v", path, wr.Type(), rec.Offset, validation, err)
			}
			rec.Close()
			n++
		}
		r.Close()
		if n != 7 {
			t.Errorf("%s: %d records, want a warcinfo and 3 pairs", path, n)
		}
	}
}

// damageAt overwrites n bytes of the WARC file name in dir at off.
func damageAt(t *testing.T, dir, name string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "warc", name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", n)), off); err != nil {
		t.Fatal(err)
	}
}

// TestSalvage damages one record of one release in the middle of a file:
// readers skip that release, name the file and offset and go on, and
// Verify reports it.
func TestSalvage(t *testing.T) {
	tests := []struct {
		name string
		// at returns where to damage, within the version loc.
		at           func(loc versionState) int64
		wantReleases int // releases Releases yields of 5
	}{
		{"metadata record", func(loc versionState) int64 { return loc.Offset + loc.RespLen + loc.MetaLen/2 }, 4},
		{"response record", func(loc versionState) int64 { return loc.Offset + loc.RespLen/2 }, 5},
		{"metadata gzip trailer", func(loc versionState) int64 { return loc.Offset + loc.RespLen + loc.MetaLen - 6 }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir, ids := filledDir(t, 5)
			a := openTest(t, dir, Options{ReadOnly: true})
			loc, err := a.latest(ids[2])
			if err != nil {
				t.Fatal(err)
			}
			off := tt.at(loc)
			damageAt(t, dir, loc.File, off, 4)

			var got []atalaya.ID
			var damaged []*RecordError
			for rel, err := range a.Releases(ctx, Filter{}) {
				var re *RecordError
				switch {
				case errors.As(err, &re):
					damaged = append(damaged, re)
				case err != nil:
					t.Fatalf("Releases: %v", err)
				default:
					got = append(got, rel.ID)
				}
			}
			if len(got) != tt.wantReleases || len(got)+len(damaged) != len(ids) {
				t.Errorf("Releases: got %d releases and %d damaged, want %d of %d", len(got), len(damaged), tt.wantReleases, len(ids))
			}
			for _, re := range damaged {
				if re.File != loc.File || re.Offset != loc.Offset+loc.RespLen || re.Release != ids[2] {
					t.Errorf("RecordError: got %s at %d release %s, want %s at %d release %s", re.File, re.Offset, re.Release, loc.File, loc.Offset+loc.RespLen, ids[2])
				}
			}
			_, pageErr := a.Page(ctx, ids[2], 0)
			if wantPageErr := tt.wantReleases == 5; (pageErr != nil) != wantPageErr {
				t.Errorf("Page of the damaged release: got error %v, want one: %t", pageErr, wantPageErr)
			}
			a.Close()

			rep, err := Verify(ctx, dir, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Clean() || len(rep.Damaged) != 1 {
				t.Fatalf("Verify: got %+v, want one damaged range", rep)
			}
			d := rep.Damaged[0]
			if d.File != loc.File || d.Offset > off || off >= d.Offset+d.Length || !slices.Equal(d.Releases, []atalaya.ID{ids[2]}) {
				t.Errorf("Verify: got %+v, want the range around %d of %s, release %s", d, off, loc.File, ids[2])
			}
			if rep.Records != 1+2*len(ids)-1 {
				t.Errorf("Verify: %d records read, want all but the damaged one", rep.Records)
			}
		})
	}
}

// TestVerifyClean verifies an undamaged archive.
func TestVerifyClean(t *testing.T) {
	dir, ids := filledDir(t, 4)
	rep, err := Verify(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Files: 1, Records: 1 + 2*len(ids), Versions: len(ids)}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
}

// TestVerifyWithoutState checks the WARC files when state.db is damaged.
func TestVerifyWithoutState(t *testing.T) {
	dir, ids := filledDir(t, 2)
	os.WriteFile(filepath.Join(dir, "state.db"), []byte(strings.Repeat("junk", 2000)), 0o644)
	rep, err := Verify(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean() || !strings.Contains(rep.State, "move it aside") || rep.Records != 1+2*len(ids) {
		t.Errorf("Verify: got %+v, want the state.db error and every record read", rep)
	}
}

// TestDigestMismatch: a record whose block does not match its digest is
// an error naming the digest.
func TestDigestMismatch(t *testing.T) {
	page := testPage("https://sre.test/1", "one")
	resp, meta, err := versionRecords(page, testRelease("sre", page.URL, "one", t0))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []record{resp, meta} {
		rec.Block = append([]byte{}, rec.Block...)
		rec.Block[len(rec.Block)-2] ^= 1
		if err := verifyDigests(rec); !errors.Is(err, errRecord) || !strings.Contains(err.Error(), "Digest") {
			t.Errorf("verifyDigests of a changed %s block: got %v", rec.get("WARC-Type"), err)
		}
	}
}

// TestReadWithoutDigests: files written before atalaya wrote digests are
// adopted and read as before.
func TestReadWithoutDigests(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := "https://sre.test/old"
	page, rel := testPage(url, "old"), testRelease("sre", url, "old", t0)
	rel.ID, rel.Hash, rel.Version = atalaya.NewID(url), atalaya.ContentHash(rel.Title, rel.Published, rel.Body), 1
	resp, meta, err := versionRecords(page, rel)
	if err != nil {
		t.Fatal(err)
	}
	info := warcinfo("atalaya-sre-00001.warc.gz", t0)
	var buf bytes.Buffer
	gzw := gzip.NewWriter(io.Discard)
	for _, rec := range []record{info, resp, meta} {
		rec.Header = slices.DeleteFunc(rec.Header, func(f field) bool { return strings.HasSuffix(f.Name, "-Digest") })
		if err := gzipRecord(&buf, gzw, rec); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "warc"), 0o755)
	os.WriteFile(filepath.Join(dir, "warc", "atalaya-sre-00001.warc.gz"), buf.Bytes(), 0o644)

	a := openTest(t, dir, Options{})
	got, err := a.Release(ctx, rel.ID)
	if err != nil || got.Body != "old" {
		t.Fatalf("Release of a record without digests: got %+v, %v", got, err)
	}
	if _, err := a.Page(ctx, rel.ID, 0); err != nil {
		t.Errorf("Page of a record without digests: %v", err)
	}
	a.Close()
	rep, err := Verify(ctx, dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil || !rep.Clean() || rep.Undigested != 3 {
		t.Errorf("Verify: got %+v, %v, want clean with 3 records without digests", rep, err)
	}
}

// TestUnindexedSkipsDamaged: a release whose record is damaged is skipped,
// and every other release awaiting indexing is yielded.
func TestUnindexedSkipsDamaged(t *testing.T) {
	ctx := context.Background()
	dir, ids := filledDir(t, 4)
	a := openTest(t, dir, Options{})
	loc, err := a.latest(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	damageAt(t, dir, loc.File, loc.Offset+loc.RespLen+loc.MetaLen/2, 4)
	var got []atalaya.ID
	for rel, err := range a.Unindexed(ctx) {
		if err != nil {
			t.Fatalf("Unindexed: %v", err)
		}
		got = append(got, rel.ID)
	}
	want := slices.Clone(ids)
	want = slices.Delete(want, 1, 2)
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unindexed (-want +got):\n%s", diff)
	}
}

// TestReadOnlyRebuildAroundDamage: without state.db, a read-only open of a
// file damaged in the middle serves the releases before the damage and
// reports the rest, where a writing open refuses; neither changes a byte.
func TestReadOnlyRebuildAroundDamage(t *testing.T) {
	ctx := context.Background()
	dir, ids := filledDir(t, 4)
	a := openTest(t, dir, Options{ReadOnly: true})
	loc, err := a.latest(ids[2])
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	damageAt(t, dir, loc.File, loc.Offset+loc.RespLen/2, 4)
	os.Remove(filepath.Join(dir, "state.db"))
	before := dirSnapshot(t, dir)

	wantText(t, "writing Open", openErr(dir, Options{}), loc.File, "do not decode", "restore the file from a backup")
	os.Remove(filepath.Join(dir, "state.db")) // the writing Open created an empty one
	a = openTest(t, dir, Options{ReadOnly: true})
	if n, err := a.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count: got %d, %v, want the 2 releases before the damage", n, err)
	}
	if p := a.Problems(); len(p) != 1 || p[0].File != loc.File || p[0].Offset != loc.Offset {
		t.Errorf("Problems: got %v, want the damage in %s from %d", p, loc.File, loc.Offset)
	}
	a.Close()
	if diff := cmp.Diff(before, dirSnapshot(t, dir)); diff != "" {
		t.Errorf("directory changed (-before +after):\n%s", diff)
	}
}

// TestVerifyUncommitted: records a crash left in a new file that state.db
// does not know are read and reported as uncommitted, and their torn tail
// is not damage.
func TestVerifyUncommitted(t *testing.T) {
	dir, ids := filledDir(t, 2)
	a := openTest(t, dir, Options{})
	put(t, a, "sre", "https://sre.test/x", "x", t0) // opens the writer
	a.writers["sre"].max = 1                        // the next Put starts atalaya-sre-00002
	crashPut(t, a, "https://sre.test/uncommitted", "u")
	newFile := filepath.Join(dir, "warc", "atalaya-sre-00002.warc.gz")
	appendBytes(t, newFile, []byte("\x1f\x8b\x08\x00 torn"))

	rep, err := Verify(context.Background(), dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Damaged) != 0 || len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemUncommitted || rep.Problems[0].File != "atalaya-sre-00002.warc.gz" {
		t.Errorf("Verify: got damaged %v, problems %v; want only the uncommitted file", rep.Damaged, rep.Problems)
	}
	if want := 1 + 2*(len(ids)+1) + 3; rep.Records != want {
		t.Errorf("Verify read %d records, want %d (those of the uncommitted file too)", rep.Records, want)
	}
}
