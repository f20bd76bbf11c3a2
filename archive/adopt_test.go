package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// archiveView is what the archive answers about every release it holds.
type archiveView struct {
	Count    int
	Order    []string                         // URLs in the order Releases yields them
	Versions map[atalaya.ID][]atalaya.Release // every version of every release
	Latest   map[atalaya.ID]atalaya.Release   // what Release returns
	Pages    map[string]atalaya.Page          // "ID version" → Page
}

func viewOf(t *testing.T, a *Archive) archiveView {
	t.Helper()
	ctx := context.Background()
	v := archiveView{Versions: map[atalaya.ID][]atalaya.Release{}, Latest: map[atalaya.ID]atalaya.Release{}, Pages: map[string]atalaya.Page{}}
	var err error
	if v.Count, err = a.Count(ctx); err != nil {
		t.Fatalf("Count: %v", err)
	}
	for rel, err := range a.Releases(ctx, Filter{}) {
		if err != nil {
			t.Fatalf("Releases: %v", err)
		}
		v.Order = append(v.Order, rel.URL)
		if v.Latest[rel.ID], err = a.Release(ctx, rel.ID); err != nil {
			t.Fatalf("Release(%s): %v", rel.URL, err)
		}
		if v.Versions[rel.ID], err = a.Versions(ctx, rel.ID); err != nil {
			t.Fatalf("Versions(%s): %v", rel.URL, err)
		}
		for _, ver := range v.Versions[rel.ID] {
			key := fmt.Sprintf("%s %d", rel.ID, ver.Version)
			if v.Pages[key], err = a.Page(ctx, rel.ID, ver.Version); err != nil {
				t.Fatalf("Page(%s, %d): %v", rel.URL, ver.Version, err)
			}
		}
	}
	return v
}

// dumpBuckets returns the keys and values of the named buckets of state.db.
func dumpBuckets(t *testing.T, a *Archive, names ...[]byte) map[string]map[string]string {
	t.Helper()
	dump := make(map[string]map[string]string)
	err := a.db.View(func(tx *bolt.Tx) error {
		for _, name := range names {
			kv := make(map[string]string)
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				kv[string(k)] = string(v)
				return nil
			})
			if err != nil {
				return err
			}
			dump[string(name)] = kv
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dump
}

// rebuiltBuckets are the buckets of state.db that adopting rebuilds.
func rebuiltBuckets() [][]byte {
	return [][]byte{bucketFiles, bucketReleases, bucketVersions, bucketURLs, bucketPublished, bucketCounts}
}

// fileSizes returns the size of every file in dir/warc, by name.
func fileSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "warc"))
	if err != nil {
		t.Fatal(err)
	}
	sizes := make(map[string]int64)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		sizes[e.Name()] = info.Size()
	}
	return sizes
}

// copyDir copies the archive in src (state.db and WARC files) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	for _, name := range append([]string{"state.db"}, slices.Sorted(maps.Keys(fileSizes(t, src)))...) {
		rel := name
		if name != "state.db" {
			rel = filepath.Join("warc", name)
		}
		data, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fillArchive archives releases of two sources, some with several versions,
// and returns their IDs.
func fillArchive(t *testing.T, a *Archive) []atalaya.ID {
	t.Helper()
	var ids []atalaya.ID
	for i := range 12 {
		src := []atalaya.SourceID{"sre", "ofac"}[i%2]
		url := fmt.Sprintf("https://%s.test/%d", src, i)
		published := time.Date(2026, 1, 1+i%5, 0, 0, 0, 0, mexico)
		if i%4 == 3 {
			published = time.Time{}
		}
		for v := range 1 + i%3 {
			body := strings.Repeat(fmt.Sprintf("Comunicado %d, versión %d. ", i, v+1), 5)
			if got := put(t, a, src, url, body, published); got != v+1 {
				t.Fatalf("Put(%s) version %d: got %d", url, v+1, got)
			}
		}
		ids = append(ids, atalaya.NewID(url))
	}
	return ids
}

// TestRebuildState archives releases, deletes state.db and reopens: the
// archive answers as before, every release awaits indexing, no WARC file
// changes, and Puts continue as they would have.
func TestRebuildState(t *testing.T) {
	ctx := context.Background()
	dir, control := t.TempDir(), t.TempDir()
	opts := Options{MaxFileSize: 2000}
	a := openTest(t, dir, opts)
	ids := fillArchive(t, a)
	if err := a.MarkIndexed(ctx, ids[:5]...); err != nil {
		t.Fatal(err)
	}
	wantState := dumpBuckets(t, a, rebuiltBuckets()...)
	wantView := viewOf(t, a)
	a.Close()
	copyDir(t, dir, control)
	wantSizes := fileSizes(t, dir)
	for _, src := range []string{"sre", "ofac"} {
		if _, ok := wantSizes["atalaya-"+src+"-00003.warc.gz"]; !ok {
			t.Fatalf("want at least 3 WARC files of %s, got %v", src, wantSizes)
		}
	}
	if err := os.Remove(filepath.Join(dir, "state.db")); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "warc", "atalaya-notes.warc.gz") // not a name the archive writes
	if err := os.WriteFile(odd, []byte("kept as it is"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantSizes["atalaya-notes.warc.gz"] = int64(len("kept as it is"))

	b := openTest(t, dir, opts)
	if diff := cmp.Diff(wantState, dumpBuckets(t, b, rebuiltBuckets()...)); diff != "" {
		t.Errorf("rebuilt state.db mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantView, viewOf(t, b), timeEqual); diff != "" {
		t.Errorf("rebuilt archive answers differently (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSizes, fileSizes(t, dir)); diff != "" {
		t.Errorf("WARC files changed (-want +got):\n%s", diff)
	}
	var unindexed []atalaya.ID
	for rel, err := range b.Unindexed(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		unindexed = append(unindexed, rel.ID)
	}
	if diff := cmp.Diff(ids, unindexed, cmpSortIDs); diff != "" {
		t.Errorf("Unindexed after rebuild (-want +got):\n%s", diff)
	}

	c := openTest(t, control, opts)
	for _, arch := range []*Archive{b, c} {
		put(t, arch, "sre", "https://sre.test/2", "revised after the rebuild", time.Time{})
		put(t, arch, "ofac", "https://ofac.test/new", "new after the rebuild", time.Time{})
	}
	if diff := cmp.Diff(viewOf(t, c), viewOf(t, b), timeEqual); diff != "" {
		t.Errorf("Puts after the rebuild differ from Puts on the original state (-original +rebuilt):\n%s", diff)
	}
	for _, url := range []string{"https://sre.test/2", "https://ofac.test/new"} {
		want, _ := c.latest(atalaya.NewID(url))
		got, _ := b.latest(atalaya.NewID(url))
		if got.File == "" || got.File != want.File {
			t.Errorf("Put(%s) after the rebuild went to file %q, want %q", url, got.File, want.File)
		}
	}
}

var cmpSortIDs = cmp.Transformer("sort", func(ids []atalaya.ID) []atalaya.ID { return slices.Sorted(slices.Values(ids)) })

// TestRebuildIdempotent rebuilds state.db twice, then adopts every file
// again into the rebuilt state: the state is the same each time.
func TestRebuildIdempotent(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxFileSize: 2000}
	a := openTest(t, dir, opts)
	fillArchive(t, a)
	a.Close()
	var dumps []map[string]map[string]string
	for range 2 {
		if err := os.Remove(filepath.Join(dir, "state.db")); err != nil {
			t.Fatal(err)
		}
		a := openTest(t, dir, opts)
		dumps = append(dumps, dumpBuckets(t, a, allBuckets...))
		a.Close()
	}
	if diff := cmp.Diff(dumps[0], dumps[1]); diff != "" {
		t.Errorf("second rebuild differs from the first (-first +second):\n%s", diff)
	}
	a = openTest(t, dir, opts)
	for name := range fileSizes(t, dir) {
		fs, ok := parseFileName(name)
		if !ok {
			t.Fatalf("unexpected file %s", name)
		}
		if err := a.adopt(fs, true); err != nil {
			t.Fatalf("adopting %s again: %v", name, err)
		}
	}
	if diff := cmp.Diff(dumps[0], dumpBuckets(t, a, allBuckets...)); diff != "" {
		t.Errorf("adopting recorded files again changed the state (-before +after):\n%s", diff)
	}
}

// TestAdoptDamagedFile damages the WARC file of a lost state.db: complete
// records are adopted, an incomplete tail is truncated, and damage followed
// by complete records truncates nothing.
func TestAdoptDamagedFile(t *testing.T) {
	const n = 5
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://sre.test/%d", i)
	}
	file := filepath.Join("warc", "atalaya-sre-00001.warc.gz")
	tests := []struct {
		name string
		// damage changes the file at path; locs locate the version of each URL.
		damage func(t *testing.T, path string, locs []versionState)
		// wantGrowth is the file size after Open minus before the damage;
		// nil means 0.
		wantGrowth  func(locs []versionState) int64
		wantMissing []int // releases not adopted
		// wantDamaged is for damage followed by records: Open fails and
		// the file keeps every byte.
		wantDamaged bool
	}{
		{
			name: "half a gzip member appended",
			damage: func(t *testing.T, path string, locs []versionState) {
				appendBytes(t, path, readAt(t, path, locs[0].Offset, locs[0].RespLen/2))
			},
		},
		{
			name: "response without its metadata appended",
			damage: func(t *testing.T, path string, locs []versionState) {
				appendBytes(t, path, readAt(t, path, locs[1].Offset, locs[1].RespLen))
			},
		},
		{
			name: "zeros appended",
			damage: func(t *testing.T, path string, locs []versionState) {
				appendBytes(t, path, make([]byte, 5000))
			},
		},
		{
			name: "complete pair then torn pair appended",
			damage: func(t *testing.T, path string, locs []versionState) {
				pair := readAt(t, path, locs[2].Offset, locs[2].RespLen+locs[2].MetaLen)
				appendBytes(t, path, pair)
				appendBytes(t, path, pair[:len(pair)-3])
			},
			wantGrowth: func(locs []versionState) int64 { return locs[2].RespLen + locs[2].MetaLen },
		},
		{
			name: "damaged member in the middle",
			damage: func(t *testing.T, path string, locs []versionState) {
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 40), locs[2].Offset+locs[2].RespLen/2); err != nil {
					t.Fatal(err)
				}
			},
			wantDamaged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			a := openTest(t, dir, Options{})
			var locs []versionState
			for _, url := range urls {
				put(t, a, "sre", url, "body of "+url, time.Time{})
				loc, err := a.latest(atalaya.NewID(url))
				if err != nil {
					t.Fatal(err)
				}
				locs = append(locs, loc)
			}
			a.Close()
			path := filepath.Join(dir, file)
			before := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]
			if err := os.Remove(filepath.Join(dir, "state.db")); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, path, locs)
			if tt.wantDamaged {
				damagedSize := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]
				for try := 1; try <= 2; try++ { // the first Open must leave nothing that lets the next cut bytes
					if a, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "damaged WARC file") {
						if err == nil {
							a.Close()
						}
						t.Fatalf("Open %d: got error %v, want one saying the WARC file is damaged", try, err)
					}
					if size := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]; size != damagedSize {
						t.Errorf("damaged file is %d bytes after Open %d, want all %d kept", size, try, damagedSize)
					}
				}
				return
			}

			a = openTest(t, dir, Options{})
			var wantGrowth int64
			if tt.wantGrowth != nil {
				wantGrowth = tt.wantGrowth(locs)
			}
			if growth := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"] - before; growth != wantGrowth {
				t.Errorf("file grew by %d bytes after Open, want %d", growth, wantGrowth)
			}
			for i, url := range urls {
				want := !slices.Contains(tt.wantMissing, i)
				if known, err := a.Known(ctx, url); err != nil || known != want {
					t.Errorf("Known(%s): got %t, %v, want %t", url, known, err, want)
				}
			}
			if n, err := a.Count(ctx); err != nil || n != len(urls)-len(tt.wantMissing) {
				t.Errorf("Count: got %d, %v, want %d", n, err, len(urls)-len(tt.wantMissing))
			}
			viewOf(t, a) // every recorded version reads back
			if got := put(t, a, "sre", "https://sre.test/new", "new", time.Time{}); got != 1 {
				t.Errorf("Put after Open: got version %d, want 1", got)
			}
			if _, err := a.Page(ctx, atalaya.NewID("https://sre.test/new"), 0); err != nil {
				t.Errorf("Page of the release put after Open: %v", err)
			}
		})
	}
}

func readAt(t *testing.T, path string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatal(err)
	}
	return buf
}

// TestAdoptVersionOrder adopts versions out of order and with gaps: the
// numbers the metadata records hold are kept, Release returns the highest,
// and the next Put continues after it.
func TestAdoptVersionOrder(t *testing.T) {
	const url = "https://sre.test/1"
	type putSpec struct {
		src  atalaya.SourceID
		body string
	}
	tests := []struct {
		name         string
		puts         []putSpec
		remove       []string // WARC files lost with state.db
		wantVersions []int
	}{
		{
			name:         "all files",
			puts:         []putSpec{{"sre", "a"}, {"sre", "b"}, {"sre", "c"}},
			wantVersions: []int{1, 2, 3},
		},
		{
			name:         "middle file lost",
			puts:         []putSpec{{"sre", "a"}, {"sre", "b"}, {"sre", "c"}},
			remove:       []string{"atalaya-sre-00002.warc.gz"},
			wantVersions: []int{1, 3},
		},
		{
			// The release moved from source "b" to "a": the files of "a",
			// adopted first, hold its newer version.
			name:         "newer version adopted first",
			puts:         []putSpec{{"b", "a"}, {"b", "b"}, {"a", "c"}},
			wantVersions: []int{1, 2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			opts := Options{MaxFileSize: 1} // one version per file
			a := openTest(t, dir, opts)
			for _, p := range tt.puts {
				put(t, a, p.src, url, p.body, time.Time{})
			}
			a.Close()
			os.Remove(filepath.Join(dir, "state.db"))
			for _, name := range tt.remove {
				if err := os.Remove(filepath.Join(dir, "warc", name)); err != nil {
					t.Fatal(err)
				}
			}

			a = openTest(t, dir, opts)
			id := atalaya.NewID(url)
			vers, err := a.Versions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, v := range vers {
				got = append(got, v.Version)
			}
			if diff := cmp.Diff(tt.wantVersions, got); diff != "" {
				t.Errorf("Versions mismatch (-want +got):\n%s", diff)
			}
			latest := tt.wantVersions[len(tt.wantVersions)-1]
			if rel, err := a.Release(ctx, id); err != nil || rel.Version != latest || rel.Body != tt.puts[len(tt.puts)-1].body {
				t.Errorf("Release: got version %d %q, %v, want version %d %q", rel.Version, rel.Body, err, latest, tt.puts[len(tt.puts)-1].body)
			}
			for v := 1; v <= latest; v++ {
				_, err := a.Page(ctx, id, v)
				if want := slices.Contains(tt.wantVersions, v); (err == nil) != want || err != nil && !errors.Is(err, ErrNotFound) {
					t.Errorf("Page(version %d): got %v, want found %t", v, err, want)
				}
			}
			if n, err := a.Count(ctx); err != nil || n != 1 {
				t.Errorf("Count: got %d, %v, want 1", n, err)
			}
			if got := put(t, a, "sre", url, "revised", time.Time{}); got != latest+1 {
				t.Errorf("Put after Open: got version %d, want %d", got, latest+1)
			}
		})
	}
}

// FuzzScanMembers appends arbitrary bytes to complete gzip members holding
// WARC records: the scanner must not panic, and must yield the complete
// members first, at their offsets, whatever follows them.
func FuzzScanMembers(f *testing.F) {
	var valid bytes.Buffer
	var ends []int64
	gzw := gzip.NewWriter(io.Discard)
	for _, rec := range []record{
		warcinfo("atalaya-x-00001.warc.gz", t0),
		{Header: []field{{"WARC-Type", typeResponse}, {"WARC-Target-URI", "https://x.test/"}}, Block: []byte("HTTP/1.1 200 OK\r\n\r\nhola")},
	} {
		if err := gzipRecord(&valid, gzw, rec); err != nil {
			f.Fatal(err)
		}
		ends = append(ends, int64(valid.Len()))
	}
	f.Add([]byte{})
	f.Add(valid.Bytes())
	f.Add(valid.Bytes()[:valid.Len()-5])
	f.Add([]byte("\x1f\x8b\x08\x00 half"))
	f.Add(append(make([]byte, 100), valid.Bytes()...))
	f.Fuzz(func(t *testing.T, tail []byte) {
		data := append(slices.Clone(valid.Bytes()), tail...)
		var got []member
		for m, err := range newMemberScanner(bytes.NewReader(data)).members(0) {
			if err != nil {
				t.Fatalf("members: %v", err)
			}
			if m.off < 0 || m.end <= m.off || m.end > int64(len(data)) || m.skipped < 0 || m.skipped > m.off {
				t.Fatalf("member at %d..%d (skipped %d) outside the %d bytes", m.off, m.end, m.skipped, len(data))
			}
			got = append(got, m)
		}
		if len(got) < len(ends) {
			t.Fatalf("got %d members, want at least %d", len(got), len(ends))
		}
		for i, end := range ends {
			if got[i].end != end || got[i].skipped != 0 {
				t.Errorf("member %d ends at %d (skipped %d), want %d (0)", i, got[i].end, got[i].skipped, end)
			}
		}
	})
}

// TestTornRecordHoldingRecords checks that records found inside a record a
// crash tore are not adopted: a fetched page's body can hold bytes that
// look like a complete response and metadata pair, here one that would
// replace another release of the same source. Open discards the torn
// Put's bytes, as for any torn record, and keeps what was committed.
func TestTornRecordHoldingRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	put(t, a, "sre", "https://sre.test/1", "one", time.Time{})
	committed := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]

	forgedRel := testRelease("sre", "https://sre.test/1", "FORGED", time.Time{})
	forgedRel.Hash, forgedRel.Version = "forged", 2
	resp, meta, err := versionRecords(testPage("https://sre.test/1", "FORGED"), forgedRel)
	if err != nil {
		t.Fatal(err)
	}
	var forged bytes.Buffer
	gzw := gzip.NewWriter(nil)
	for _, r := range []record{resp, meta} {
		if err := gzipRecord(&forged, gzw, r); err != nil {
			t.Fatal(err)
		}
	}
	// Random bytes around the pair keep deflate from compressing it, so
	// the pair is stored as it is inside the page's response record.
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	page := testPage("https://sre.test/evil", "")
	page.Body = slices.Concat(noise(17000), forged.Bytes(), noise(60000))
	a.beforeCommit = func() error { return errCrash }
	if _, err := a.Put(ctx, page, testRelease("sre", "https://sre.test/evil", "evil", time.Time{})); !errors.Is(err, errCrash) {
		t.Fatalf("Put: got %v, want the simulated crash", err)
	}
	a.db.Close()
	for _, w := range a.writers {
		w.f.Close()
	}
	path := filepath.Join(dir, "warc", "atalaya-sre-00001.warc.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, forged.Bytes())
	if at < 0 {
		t.Fatal("the forged pair is not stored as it is: the test does not test adoption of records inside a record")
	}
	if err := os.Truncate(path, int64(at+forged.Len()+500)); err != nil { // tear the response record after the pair
		t.Fatal(err)
	}

	a = openTest(t, dir, Options{})
	rel, err := a.ReleaseByURL(ctx, "https://sre.test/1")
	if err != nil || rel.Body != "one" || rel.Version != 1 {
		t.Errorf("release 1 after Open: got version %d %q, %v; want version 1 \"one\"", rel.Version, rel.Body, err)
	}
	if known, err := a.Known(ctx, "https://sre.test/evil"); err != nil || known {
		t.Errorf("Known(the torn Put's release): got %t, %v; want false", known, err)
	}
	if size := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]; size != committed {
		t.Errorf("file is %d bytes after Open, want the committed %d", size, committed)
	}
}

// TestRebuildInBatches rebuilds a file of more versions than one state.db
// transaction adopts, and checks that every one is recorded and the file's
// committed length is its whole length.
func TestRebuildInBatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	n := adoptBatch + adoptBatch/4
	for i := range n {
		put(t, a, "sre", fmt.Sprintf("https://sre.test/%d", i), fmt.Sprintf("body %d", i), time.Time{})
	}
	a.Close()
	size := fileSizes(t, dir)["atalaya-sre-00001.warc.gz"]
	if err := os.Remove(filepath.Join(dir, "state.db")); err != nil {
		t.Fatal(err)
	}

	a = openTest(t, dir, Options{})
	if got, err := a.Count(ctx); err != nil || got != n {
		t.Errorf("Count: got %d, %v; want %d", got, err, n)
	}
	for _, i := range []int{0, adoptBatch - 1, adoptBatch, n - 1} {
		url := fmt.Sprintf("https://sre.test/%d", i)
		if rel, err := a.ReleaseByURL(ctx, url); err != nil || rel.Body != fmt.Sprintf("body %d", i) {
			t.Errorf("ReleaseByURL(%s): got %q, %v", url, rel.Body, err)
		}
	}
	files, err := a.committedFiles()
	if err != nil {
		t.Fatal(err)
	}
	if got := files["atalaya-sre-00001.warc.gz"].Size; got != size {
		t.Errorf("committed length %d, want the file's %d", got, size)
	}
}
