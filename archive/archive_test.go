package archive

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

var (
	t0     = time.Date(2026, 3, 2, 15, 4, 5, 123456789, time.UTC)
	mexico = time.FixedZone("CST", -6*3600)
)

// timeEqual compares times by instant, as JSON and WARC-Date round trips
// keep the instant but not the location.
var timeEqual = cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })

func openTest(t *testing.T, dir string, opts Options) *Archive {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func testPage(url, body string) atalaya.Page {
	return atalaya.Page{
		URL:    url,
		Status: http.StatusOK,
		Header: http.Header{
			"Content-Type": {"text/html; charset=utf-8"},
			"Set-Cookie":   {"a=1", "b=2"},
			"Etag":         {`"abc"`},
		},
		Body:      []byte("<html><body><p>" + body + "</p></body></html>"),
		FetchedAt: t0,
	}
}

func testRelease(src atalaya.SourceID, url, body string, published time.Time) atalaya.Release {
	rel := atalaya.Release{
		ID:         atalaya.NewID(url),
		URL:        url,
		Source:     src,
		Agency:     "Agency of " + string(src),
		Country:    atalaya.MX,
		Language:   atalaya.Spanish,
		Type:       "Comunicado",
		Title:      "Title of " + url,
		Published:  published,
		DateOrigin: atalaya.DateFromArticle,
		Body:       body,
		FetchedAt:  t0,
	}
	if published.IsZero() {
		rel.DateOrigin = atalaya.DateMissing
	}
	return rel
}

func put(t *testing.T, a *Archive, src atalaya.SourceID, url, body string, published time.Time) int {
	t.Helper()
	v, err := a.Put(context.Background(), testPage(url, body), testRelease(src, url, body, published))
	if err != nil {
		t.Fatalf("Put(%s): %v", url, err)
	}
	return v
}

// warcRecords reads every record in the WARC files under dir and returns
// "type target" for each, in file name and then file order.
func warcRecords(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if fi, _ := f.Stat(); fi.Size() == 0 {
			continue
		}
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		br := bufio.NewReader(gz)
		for {
			rec, err := readRecord(br)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: record %d: %v", name, len(got), err)
			}
			got = append(got, strings.TrimSpace(rec.get("WARC-Type")+" "+rec.get("WARC-Target-URI")))
		}
	}
	return got
}

func TestPutRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	url := "https://example.test/prensa/comunicado-1"
	page := testPage(url, "Primer párrafo.")
	page.URL = url + "?utm_source=x" // fetched URL differs from canonical
	rel := testRelease("sre", url, "Primer párrafo.", time.Date(2026, 3, 1, 0, 0, 0, 0, mexico))

	v, err := a.Put(ctx, page, rel)
	if err != nil || v != 1 {
		t.Fatalf("Put: got %d, %v, want 1, nil", v, err)
	}
	want := rel
	want.Version = 1
	want.Hash = atalaya.ContentHash(rel.Title, rel.Published, rel.Body)

	t.Run("Release", func(t *testing.T) {
		got, err := a.Release(ctx, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, timeEqual); diff != "" {
			t.Errorf("Release mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("ReleaseByURL", func(t *testing.T) {
		for _, u := range []string{url, page.URL} {
			got, err := a.ReleaseByURL(ctx, u)
			if err != nil {
				t.Fatalf("ReleaseByURL(%s): %v", u, err)
			}
			if diff := cmp.Diff(want, got, timeEqual); diff != "" {
				t.Errorf("ReleaseByURL(%s) mismatch (-want +got):\n%s", u, diff)
			}
		}
	})
	t.Run("Page", func(t *testing.T) {
		for _, version := range []int{0, 1} {
			got, err := a.Page(ctx, rel.ID, version)
			if err != nil {
				t.Fatalf("Page(%d): %v", version, err)
			}
			if diff := cmp.Diff(page, got, timeEqual); diff != "" {
				t.Errorf("Page(%d) mismatch (-want +got):\n%s", version, diff)
			}
		}
	})
	t.Run("Versions", func(t *testing.T) {
		got, err := a.Versions(ctx, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]atalaya.Release{want}, got, timeEqual); diff != "" {
			t.Errorf("Versions mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Known", func(t *testing.T) {
		for u, want := range map[string]bool{url: true, page.URL: true, url + "/other": false} {
			got, err := a.Known(ctx, u)
			if err != nil || got != want {
				t.Errorf("Known(%s): got %t, %v, want %t, nil", u, got, err, want)
			}
		}
	})
	t.Run("Count", func(t *testing.T) {
		if got, err := a.Count(ctx); err != nil || got != 1 {
			t.Errorf("Count: got %d, %v, want 1, nil", got, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		missing := atalaya.NewID("https://example.test/missing")
		_, err1 := a.Release(ctx, missing)
		_, err2 := a.ReleaseByURL(ctx, "https://example.test/missing")
		_, err3 := a.Versions(ctx, missing)
		_, err4 := a.Page(ctx, rel.ID, 2)
		for i, err := range []error{err1, err2, err3, err4} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("call %d: got %v, want ErrNotFound", i+1, err)
			}
		}
	})
	t.Run("WARC", func(t *testing.T) {
		got := warcRecords(t, a.dir)
		wantRecs := []string{"warcinfo", "response " + page.URL, "metadata " + page.URL}
		if diff := cmp.Diff(wantRecs, got); diff != "" {
			t.Errorf("WARC records mismatch (-want +got):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(a.dir, "warc", "atalaya-sre-00001.warc.gz")); err != nil {
			t.Errorf("WARC file name: %v", err)
		}
	})
}

func TestPutRevisions(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	url := "https://example.test/press/1"
	steps := []struct {
		body string
		want int
	}{
		{"first text", 1},
		{"first text", 0},
		{"corrected text", 2},
		{"corrected text", 0},
		{"first text", 3}, // back to the first content: still a new version
	}
	for i, s := range steps {
		if got := put(t, a, "state", url, s.body, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)); got != s.want {
			t.Errorf("step %d: Put(%q): got version %d, want %d", i, s.body, got, s.want)
		}
	}
	id := atalaya.NewID(url)
	vs, err := a.Versions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%d %s %s", v.Version, v.Body, v.Hash[:8]))
	}
	h := func(body string) string {
		return atalaya.ContentHash("Title of "+url, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), body)[:8]
	}
	want := []string{"1 first text " + h("first text"), "2 corrected text " + h("corrected text"), "3 first text " + h("first text")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Versions mismatch (-want +got):\n%s", diff)
	}
	p, err := a.Page(ctx, id, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p.Body), "corrected text") {
		t.Errorf("Page(2): got body %q, want the corrected text", p.Body)
	}
	if n, _ := a.Count(ctx); n != 1 {
		t.Errorf("Count: got %d, want 1", n)
	}
	if got := len(warcRecords(t, a.dir)); got != 1+2*3 {
		t.Errorf("WARC records: got %d, want %d", got, 1+2*3)
	}
}

func TestPutInvalid(t *testing.T) {
	a := openTest(t, t.TempDir(), Options{})
	good := testRelease("sre", "https://example.test/a", "body", time.Time{})
	tests := []struct {
		name    string
		page    func(*atalaya.Page)
		rel     func(*atalaya.Release)
		wantErr string
	}{
		{"no URL", nil, func(r *atalaya.Release) { r.URL = "" }, "release has no URL"},
		{"bad source", nil, func(r *atalaya.Release) { r.Source = "../x" }, `source "../x" is not a valid name`},
		{"no source", nil, func(r *atalaya.Release) { r.Source = "" }, `source "" is not a valid name`},
		{"no fetch time", func(p *atalaya.Page) { p.FetchedAt = time.Time{} }, func(r *atalaya.Release) { r.FetchedAt = time.Time{} }, "page has no fetch time"},
		{"bad status", func(p *atalaya.Page) { p.Status = 0 }, nil, "HTTP status 0 out of range"},
		{"URL with newline", func(p *atalaya.Page) { p.URL = "https://x.test/\r\nX: y" }, nil, "cannot be a WARC header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, rel := testPage(good.URL, "body"), good
			if tt.page != nil {
				tt.page(&page)
			}
			if tt.rel != nil {
				tt.rel(&rel)
			}
			_, err := a.Put(context.Background(), page, rel)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "archive: ") {
				t.Errorf("Put: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidators(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	url := "https://example.test/listing?page=1"
	steps := []struct {
		etag, lastModified string
	}{
		{`"v1"`, ""},
		{`"v2"`, "Mon, 02 Mar 2026 10:00:00 GMT"},
		{"", "Tue, 03 Mar 2026 10:00:00 GMT"},
		{"", ""},
	}
	if e, lm, err := a.Validators(ctx, url); e != "" || lm != "" || err != nil {
		t.Fatalf("Validators before any set: got %q, %q, %v, want empty", e, lm, err)
	}
	for _, s := range steps {
		if err := a.SetValidators(ctx, url, s.etag, s.lastModified); err != nil {
			t.Fatal(err)
		}
		e, lm, err := a.Validators(ctx, url)
		if err != nil || e != s.etag || lm != s.lastModified {
			t.Errorf("Validators: got %q, %q, %v, want %q, %q, nil", e, lm, err, s.etag, s.lastModified)
		}
	}
}

func TestReleases(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, mexico) }
	for _, r := range []struct {
		src  atalaya.SourceID
		url  string
		date time.Time
	}{
		{"sre", "https://sre.test/b", day(3)},
		{"sre", "https://sre.test/a", day(3)},
		{"ofac", "https://ofac.test/1", day(5)},
		{"state", "https://state.test/x", day(1)},
		{"sre", "https://sre.test/undated", time.Time{}},
		{"ofac", "https://ofac.test/2", day(2)},
	} {
		put(t, a, r.src, r.url, "text of "+r.url, r.date)
	}
	// A revision that moves a release's date moves it in the order.
	put(t, a, "state", "https://state.test/x", "revised", day(4))

	tests := []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"all", Filter{}, []string{
			"https://ofac.test/1", "https://state.test/x", "https://sre.test/a", "https://sre.test/b",
			"https://ofac.test/2", "https://sre.test/undated",
		}},
		{"one source", Filter{Sources: []atalaya.SourceID{"sre"}}, []string{
			"https://sre.test/a", "https://sre.test/b", "https://sre.test/undated",
		}},
		{"two sources since", Filter{Sources: []atalaya.SourceID{"ofac", "state"}, Since: day(2)}, []string{
			"https://ofac.test/1", "https://state.test/x", "https://ofac.test/2",
		}},
		{"since", Filter{Since: day(4)}, []string{"https://ofac.test/1", "https://state.test/x"}},
		{"unknown source", Filter{Sources: []atalaya.SourceID{"fgr"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for rel, err := range a.Releases(ctx, tt.filter) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rel.URL)
				if rel.URL == "https://state.test/x" && rel.Version != 2 {
					t.Errorf("%s: got version %d, want the latest, 2", rel.URL, rel.Version)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Releases mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("break", func(t *testing.T) {
		n := 0
		for range a.Releases(ctx, Filter{}) {
			n++
			if n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("got %d releases before break, want 2", n)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for _, err := range a.Releases(cctx, Filter{}) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
		}
	})
}

// TestReleasesBatches checks that iteration continues across state.db
// batches, in order, while the caller writes to the archive.
func TestReleasesBatches(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	a.batch = 4
	n := a.batch*5 + 3
	for i := range n {
		url := fmt.Sprintf("https://example.test/%04d", i)
		put(t, a, "sre", url, "body", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/3))
	}
	var got []string
	prev := time.Time{}
	for rel, err := range a.Releases(ctx, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !prev.IsZero() && rel.Published.After(prev) {
			t.Errorf("%s published %v after the previous %v", rel.URL, rel.Published, prev)
		}
		prev = rel.Published
		got = append(got, rel.URL)
		if len(got) == 1 {
			// Writing during iteration must not deadlock.
			if err := a.SetValidators(ctx, "https://example.test/", `"x"`, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != n {
		t.Errorf("got %d releases, want %d", len(got), n)
	}
}

// withSelector returns is with its Selector set to sel.
func withSelector(is atalaya.SourceIssue, sel string) atalaya.SourceIssue {
	is.Selector = sel
	return is
}

func TestRecordRunIssues(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	issue := func(kind atalaya.IssueKind, url string, h int) atalaya.SourceIssue {
		return atalaya.SourceIssue{Source: "sre", Kind: kind, URL: url, Message: string(kind) + " problem", At: at(h)}
	}
	put(t, a, "sre", "https://sre.test/1", "x", time.Time{})
	put(t, a, "sre", "https://sre.test/2", "x", time.Time{})
	steps := []struct {
		name     string
		reported []atalaya.SourceIssue
		want     []atalaya.SourceIssue
	}{
		{"first run opens",
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 0), issue(atalaya.IssueFetch, "https://sre.test/9", 0)},
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 0), issue(atalaya.IssueFetch, "https://sre.test/9", 0)}},
		{"still reported keeps first time, others close",
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 1), issue(atalaya.IssueDate, "https://sre.test/1", 1)},
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 0), issue(atalaya.IssueDate, "https://sre.test/1", 1)}},
		{"same kind other URL is another issue",
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/?page=2", 2), issue(atalaya.IssueSelector, "https://sre.test/?page=2", 2)},
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/?page=2", 2)}},
		{"same kind and URL, other selector is another issue",
			[]atalaya.SourceIssue{withSelector(issue(atalaya.IssueFillRate, "", 3), "h1"), withSelector(issue(atalaya.IssueFillRate, "", 3), "time")},
			[]atalaya.SourceIssue{withSelector(issue(atalaya.IssueFillRate, "", 3), "h1"), withSelector(issue(atalaya.IssueFillRate, "", 3), "time")}},
		{"clean run closes all", nil, nil},
		{"reopened issue gets a new time",
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 5)},
			[]atalaya.SourceIssue{issue(atalaya.IssueSelector, "https://sre.test/", 5)}},
	}
	for i, s := range steps {
		run := atalaya.CrawlRun{Source: "sre", Started: at(i), Finished: at(i).Add(time.Minute), Listings: i, Issues: s.reported}
		if err := a.RecordRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		got, err := a.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []SourceStatus{{Source: "sre", LastRun: run, Releases: 2, Issues: s.want}}
		if diff := cmp.Diff(want, got, timeEqual); diff != "" {
			t.Errorf("step %q: Sources mismatch (-want +got):\n%s", s.name, diff)
		}
	}
	// A source with releases but no run, and one with a run but no releases.
	put(t, a, "ofac", "https://ofac.test/1", "x", time.Time{})
	if err := a.RecordRun(ctx, atalaya.CrawlRun{Source: "fgr", Blocked: true}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, fmt.Sprintf("%s %d %t", s.Source, s.Releases, s.LastRun.Blocked))
	}
	if diff := cmp.Diff([]string{"fgr 0 true", "ofac 1 false", "sre 2 false"}, names); diff != "" {
		t.Errorf("Sources mismatch (-want +got):\n%s", diff)
	}
	if err := a.RecordRun(ctx, atalaya.CrawlRun{}); err == nil {
		t.Error("RecordRun of a run without source: got nil error")
	}
}

func TestFileRolling(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{MaxFileSize: 1})
	for i := range 3 {
		put(t, a, "sre", fmt.Sprintf("https://sre.test/%d", i), "body", time.Time{})
	}
	put(t, a, "ofac", "https://ofac.test/1", "body", time.Time{})
	names, _ := filepath.Glob(filepath.Join(dir, "warc", "*"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	want := []string{"atalaya-ofac-00001.warc.gz", "atalaya-sre-00001.warc.gz", "atalaya-sre-00002.warc.gz", "atalaya-sre-00003.warc.gz"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("WARC files mismatch (-want +got):\n%s", diff)
	}
	a.Close()
	a = openTest(t, dir, Options{MaxFileSize: 1})
	put(t, a, "sre", "https://sre.test/3", "body", time.Time{})
	for i := range 4 {
		if _, err := a.Page(ctx, atalaya.NewID(fmt.Sprintf("https://sre.test/%d", i)), 0); err != nil {
			t.Errorf("Page %d: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "warc", "atalaya-sre-00004.warc.gz")); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}

func TestWalkComplete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	start := "https://example.test/listing"
	if done, err := a.WalkComplete(ctx, start); done || err != nil {
		t.Fatalf("WalkComplete of a listing never walked = %v, %v; want false, nil", done, err)
	}
	for _, want := range []bool{true, false, true} {
		if err := a.SetWalkComplete(ctx, start, want); err != nil {
			t.Fatal(err)
		}
		if got, err := a.WalkComplete(ctx, start); got != want || err != nil {
			t.Errorf("WalkComplete after SetWalkComplete(%v) = %v, %v", want, got, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = openTest(t, dir, Options{})
	if got, err := a.WalkComplete(ctx, start); !got || err != nil {
		t.Errorf("WalkComplete after reopening = %v, %v; want true: the walk state must survive a restart", got, err)
	}
}

func TestGone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	url, other := "https://example.test/releases/dead", "https://example.test/releases/alive"
	later := t0.Add(7 * 24 * time.Hour)
	steps := []struct {
		name string
		set  time.Time // zero clears
		gone bool
	}{
		{"recorded", t0.In(mexico), true},
		{"refreshed", later, true},
		{"cleared", time.Time{}, false},
		{"cleared again", time.Time{}, false},
		{"recorded again", t0, true},
	}
	if at, gone, err := a.Gone(ctx, url); gone || !at.IsZero() || err != nil {
		t.Fatalf("Gone before any record = %v, %v, %v; want zero, false, nil", at, gone, err)
	}
	for _, s := range steps {
		if err := a.SetGone(ctx, url, s.set); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if at, gone, err := a.Gone(ctx, url); gone != s.gone || !at.Equal(s.set) || err != nil {
			t.Errorf("%s: Gone = %v, %v, %v; want %v, %v, nil", s.name, at, gone, err, s.set, s.gone)
		}
	}
	if _, gone, err := a.Gone(ctx, other); gone || err != nil {
		t.Errorf("Gone of another URL = %v, %v; want false, nil", gone, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = openTest(t, dir, Options{})
	if at, gone, err := a.Gone(ctx, url); !gone || !at.Equal(t0) || err != nil {
		t.Errorf("Gone after reopening = %v, %v, %v; want %v, true: the record must survive a restart", at, gone, err, t0)
	}
}

// TestGoneOldStateDB opens a state.db written before the gone bucket
// existed: Open adds it, and the rest of the state is kept.
func TestGoneOldStateDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	start := "https://example.test/listing"
	if err := a.SetWalkComplete(ctx, start, true); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "state.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketGone) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("removing the gone bucket: %v", err)
	}

	a = openTest(t, dir, Options{})
	url := "https://example.test/releases/dead"
	if _, gone, err := a.Gone(ctx, url); gone || err != nil {
		t.Errorf("Gone on an old state.db = %v, %v; want false, nil", gone, err)
	}
	if err := a.SetGone(ctx, url, t0); err != nil {
		t.Errorf("SetGone on an old state.db: %v", err)
	}
	if at, gone, err := a.Gone(ctx, url); !gone || !at.Equal(t0) || err != nil {
		t.Errorf("Gone after SetGone = %v, %v, %v; want %v, true", at, gone, err, t0)
	}
	if done, err := a.WalkComplete(ctx, start); !done || err != nil {
		t.Errorf("WalkComplete = %v, %v; want the state written before kept", done, err)
	}
}

func TestUnindexed(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	unindexed := func() []string {
		t.Helper()
		var urls []string
		for rel, err := range a.Unindexed(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			urls = append(urls, rel.URL)
		}
		slices.Sort(urls)
		return urls
	}
	var ids []atalaya.ID
	for _, u := range []string{"https://example.test/a", "https://example.test/b"} {
		rel := atalaya.Release{URL: u, Source: "test", Title: "t", Body: "b", FetchedAt: time.Now()}
		if _, err := a.Put(ctx, atalaya.Page{URL: u, Status: 200, FetchedAt: time.Now()}, rel); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, atalaya.NewID(u))
	}
	if diff := cmp.Diff([]string{"https://example.test/a", "https://example.test/b"}, unindexed()); diff != "" {
		t.Errorf("after two puts (-want +got):\n%s", diff)
	}
	if err := a.MarkIndexed(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://example.test/b"}, unindexed()); diff != "" {
		t.Errorf("after marking a (-want +got):\n%s", diff)
	}
	if err := a.MarkAllIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	if got := unindexed(); len(got) != 0 {
		t.Errorf("after MarkAllIndexed: %v, want none", got)
	}
}

func TestLastRun(t *testing.T) {
	ctx := context.Background()
	a := openTest(t, t.TempDir(), Options{})
	if run, err := a.LastRun(ctx, "state"); err != nil || run.Source != "" {
		t.Fatalf("LastRun of a source never crawled = %+v, %v; want a zero run", run, err)
	}
	for _, n := range []int{3, 5} {
		if err := a.RecordRun(ctx, atalaya.CrawlRun{Source: "state", Listings: 1, Items: n, Finished: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if run, err := a.LastRun(ctx, "state"); err != nil || run.Items != 5 {
		t.Errorf("LastRun = %+v, %v; want the second run (5 items)", run, err)
	}
}
