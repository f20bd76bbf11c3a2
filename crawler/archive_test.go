package crawler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/archive"
)

// revisingSite serves a listing without validators (so every run reads it
// and must ask the archive what it already has) and articles with ETags;
// the text of an article can be changed between runs, and an article
// without text answers missing (404 when 0).
type revisingSite struct {
	mu      sync.Mutex
	texts   map[string]string // article path → body paragraph
	missing int
}

func (s *revisingSite) set(path, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts[path] = text
}

func (s *revisingSite) text(path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, ok := s.texts[path]
	return text, ok
}

func (s *revisingSite) handler(paths []string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><ul class="releases">`)
		for _, p := range paths {
			fmt.Fprintf(w, `<li><span class="type">Notice</span><a href=%q>Listed %s</a><span class="date">March 1, 2026</span></li>`, p, p)
		}
		fmt.Fprint(w, `</ul></body></html>`)
	})
	mux.HandleFunc("GET /r/{name}", func(w http.ResponseWriter, r *http.Request) {
		text, ok := s.text(r.URL.Path)
		if !ok {
			code := s.missing
			if code == 0 {
				code = http.StatusNotFound
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		etag := fmt.Sprintf(`"%x"`, atalaya.ContentHash("", time.Time{}, text)[:12])
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><body><article><h1>Notice %s</h1><time datetime="2026-03-01">March 1, 2026</time>`+
			`<div class="body"><p>%s</p></div></article></body></html>`, r.PathValue("name"), text)
	})
	return mux
}

// openArchive opens the archive in dir for a crawl, as the command does.
func openArchive(t *testing.T, dir string) *archive.Archive {
	t.Helper()
	a, err := archive.Open(dir, archive.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// crawlInto crawls src into the archive in dir, opening and closing it as
// one run of the command would: state must survive the restart.
func crawlInto(t *testing.T, dir string, src Source, now time.Time) atalaya.CrawlRun {
	t.Helper()
	a := openArchive(t, dir)
	defer func() {
		if err := a.Close(); err != nil {
			t.Errorf("closing the archive: %v", err)
		}
	}()
	c, err := New(Options{State: a, Sink: a, AllowPrivateNetworks: true,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestCrawlIntoArchive crawls into the real archive across restarts: the
// second run fetches no article page (the visited set is the archive's
// state.db), and with a revisit window a changed release is stored as
// version 2 with its own hash while the old version is kept.
func TestCrawlIntoArchive(t *testing.T) {
	paths := []string{"/r/one", "/r/two", "/r/three"}
	s := &revisingSite{texts: map[string]string{}}
	for _, p := range paths {
		s.set(p, "First text of "+p+".")
	}
	srv, log := serve(t, s.handler(paths))
	src := siteSource(srv.URL)
	src.Article.Date[0].Layouts = []string{"2006-01-02"}
	dir := t.TempDir()
	now := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)

	run := crawlInto(t, dir, src, now)
	if run.New != len(paths) || run.Failed != 0 || len(run.Issues) != 0 {
		t.Fatalf("first run = %+v, want %d new releases and no issues", run, len(paths))
	}

	articles := func(from int) []string {
		var got []string
		for _, r := range log.all()[from:] {
			if strings.HasPrefix(r.Path, "/r/") {
				got = append(got, r.Path)
			}
		}
		return got
	}
	mark := len(log.all())
	run = crawlInto(t, dir, src, now)
	if got := articles(mark); len(got) != 0 {
		t.Errorf("second run fetched article pages %q, want none", got)
	}
	if run.New != 0 || run.Unchanged != len(paths) || run.Failed != 0 {
		t.Errorf("second run = %+v, want %d unchanged", run, len(paths))
	}

	s.set("/r/two", "Second text of /r/two, corrected.")
	src.Revisit = 7 * 24 * time.Hour
	mark = len(log.all())
	run = crawlInto(t, dir, src, now)
	if run.New != 0 || run.Revised != 1 || run.Unchanged != len(paths)-1 || run.Failed != 0 {
		t.Errorf("revisit run = %+v, want 1 revised, %d unchanged", run, len(paths)-1)
	}
	for _, r := range log.all()[mark:] {
		if strings.HasPrefix(r.Path, "/r/") && r.Hdr.Get("If-None-Match") == "" {
			t.Errorf("revisit of %s was not a conditional request", r.Path)
		}
	}

	a := openArchive(t, dir)
	defer a.Close()
	id := atalaya.NewID(Canonical(srv.URL + "/r/two"))
	versions, err := a.Versions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for i, v := range versions {
		bodies = append(bodies, v.Body)
		if v.Version != i+1 || v.Hash != atalaya.ContentHash(v.Title, v.Published, v.Body) {
			t.Errorf("version %d: Version = %d, Hash = %s; want %d and the hash of its content", i+1, v.Version, v.Hash, i+1)
		}
	}
	want := []string{"First text of /r/two.", "Second text of /r/two, corrected."}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("versions of /r/two (-want +got):\n%s", diff)
	}
	if len(versions) == 2 && versions[0].Hash == versions[1].Hash {
		t.Errorf("both versions have hash %s, want distinct hashes", versions[0].Hash)
	}
	latest, err := a.Release(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != 2 {
		t.Errorf("latest version = %d, want 2 (revised)", latest.Version)
	}
	for _, p := range []string{"/r/one", "/r/three"} {
		rel, err := a.ReleaseByURL(context.Background(), Canonical(srv.URL+p))
		if err != nil || rel.Version != 1 {
			t.Errorf("%s: version %d, err %v; want version 1", p, rel.Version, err)
		}
	}
}

// cancellingSink cancels the crawl once it has stored after versions, as a
// kill would, and passes every Put to the archive.
type cancellingSink struct {
	Sink
	after  int
	cancel context.CancelFunc

	mu  sync.Mutex
	put int
}

func (s *cancellingSink) Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (int, error) {
	v, err := s.Sink.Put(ctx, page, rel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.put++; s.put == s.after {
		s.cancel()
	}
	return v, err
}

// TestCrawlInterruptedIntoArchive stops a crawl midway (the listing has an
// ETag, so a wrongly stored validator would hide the rest of the listing)
// and starts it again: every release is archived exactly once.
func TestCrawlInterruptedIntoArchive(t *testing.T) {
	items := []string{"/a/article.html", "/a/nodate.html", "/a/latin1.html", "/a/malformed.html", "/a/invalid-utf8.html"}
	base, log := site(t, items, nil)
	src := siteSource(base)
	dir := t.TempDir()

	a := openArchive(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &cancellingSink{Sink: a, after: 2, cancel: cancel}
	c, err := New(Options{State: a, Sink: sink, AllowPrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Crawl(ctx, src); err == nil {
		t.Fatal("interrupted crawl returned no error, want the context's")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	run := crawlInto(t, dir, src, time.Now())
	if run.New != len(items)-2 || run.Unchanged != 2 || run.Failed != 0 {
		t.Errorf("restarted run = %+v, want %d new and 2 unchanged", run, len(items)-2)
	}
	a = openArchive(t, dir)
	defer a.Close()
	if n, err := a.Count(context.Background()); err != nil || n != len(items) {
		t.Errorf("archive holds %d releases (err %v), want %d", n, err, len(items))
	}
	for _, it := range items {
		versions, err := a.Versions(context.Background(), atalaya.NewID(Canonical(base+it)))
		if err != nil || len(versions) != 1 {
			t.Errorf("%s: %d versions (err %v), want exactly 1", it, len(versions), err)
		}
		if n := log.count(it); n != 1 {
			t.Errorf("%s fetched %d times over both runs, want 1", it, n)
		}
	}
}

// TestCrawlGoneLinkComesBack crawls into the real archive a listing with a
// link that answers 404 or 410: the next run does not request it, and once
// the page is there and GoneRetry has passed it is archived and no longer
// recorded as gone.
func TestCrawlGoneLinkComesBack(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusGone} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s := &revisingSite{texts: map[string]string{"/r/one": "Text of one."}, missing: status}
			srv, log := serve(t, s.handler([]string{"/r/one", "/r/late"}))
			src := siteSource(srv.URL)
			src.GoneRetry = 24 * time.Hour
			late := Canonical(srv.URL + "/r/late")
			dir := t.TempDir()
			start := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)

			run := crawlInto(t, dir, src, start)
			if run.New != 1 || run.Failed != 1 || !hasIssue(run, atalaya.IssueFetch, fmt.Sprint(status)) {
				t.Fatalf("first run = %+v, want 1 new, 1 failed and the %d reported", run, status)
			}
			if at, gone := goneState(t, dir, late); !gone || !at.Equal(start) {
				t.Fatalf("after the first run: gone = %v at %v, want recorded at %v", gone, at, start)
			}

			mark := log.count("/r/late")
			run = crawlInto(t, dir, src, start.Add(time.Hour))
			if n := log.count("/r/late") - mark; n != 0 || run.Gone != 1 || run.Failed != 0 || len(run.Issues) != 0 {
				t.Errorf("run an hour later = %+v with %d requests of /r/late; want it gone, not requested, no issues", run, n)
			}

			s.set("/r/late", "Text of late, published at last.")
			run = crawlInto(t, dir, src, start.Add(src.GoneRetry))
			if n := log.count("/r/late") - mark; n != 1 || run.New != 1 || run.Gone != 0 || len(run.Issues) != 0 {
				t.Errorf("run after GoneRetry = %+v with %d requests of /r/late; want it fetched once and archived, no issues", run, n)
			}
			if _, gone := goneState(t, dir, late); gone {
				t.Error("after the page came back it is still recorded as gone")
			}
			a := openArchive(t, dir)
			defer a.Close()
			if rel, err := a.ReleaseByURL(context.Background(), late); err != nil || rel.Body != "Text of late, published at last." {
				t.Errorf("archived %s: %+v, %v; want its text", late, rel, err)
			}
		})
	}
}

// goneState opens the archive in dir and returns its gone record of url.
func goneState(t *testing.T, dir, url string) (time.Time, bool) {
	t.Helper()
	a := openArchive(t, dir)
	defer a.Close()
	at, gone, err := a.Gone(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return at, gone
}

// TestLegacyURLKeepsID archives a release as the crawler did before
// Canonical kept trailing slashes (".../slug" for the link ".../slug/"),
// then crawls the listing that links ".../slug/": the release keeps its
// URL and ID (a revision lands on it as version 2, not as a new release),
// while a release never archived before gets the URL as the site links it.
func TestLegacyURLKeepsID(t *testing.T) {
	text := map[string]string{"old": "First text.", "new": "Another text."}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<html><body><ul class="releases"><li><a href="/r/old/">Old</a><span class="date">March 1, 2026</span></li>`+
			`<li><a href="/r/new/">New</a><span class="date">March 1, 2026</span></li></ul></body></html>`)
	})
	mux.HandleFunc("GET /r/{name}/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><article><h1>Notice %s</h1><time datetime="2026-03-01">March 1, 2026</time>`+
			`<div class="body"><p>%s</p></div></article></body></html>`, r.PathValue("name"), text[r.PathValue("name")])
	})
	srv, _ := serve(t, mux)
	src := siteSource(srv.URL)
	src.Article.Date[0].Layouts = []string{"2006-01-02"}
	src.Revisit = 30 * 24 * time.Hour
	src.Politeness.IgnoreRobots = true
	dir := t.TempDir()
	legacy := srv.URL + "/r/old"
	a := openArchive(t, dir)
	old := atalaya.Release{ID: atalaya.NewID(legacy), URL: legacy, Source: src.ID, Title: "Notice old", Body: "Archived text.",
		Published: time.Date(2026, 3, 1, 0, 0, 0, 0, src.Location), DateOrigin: atalaya.DateFromArticle}
	old.Hash = atalaya.ContentHash(old.Title, old.Published, old.Body)
	// The page was fetched from the link as written, with its slash.
	page := atalaya.Page{URL: legacy + "/", Status: http.StatusOK, Header: http.Header{}, Body: []byte("<html></html>"), FetchedAt: time.Now()}
	if _, err := a.Put(context.Background(), page, old); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	run := crawlInto(t, dir, src, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC))
	if run.New != 1 || run.Revised != 1 || run.Failed != 0 {
		t.Errorf("run = %+v, want the legacy release revised and one new", run)
	}
	a = openArchive(t, dir)
	defer a.Close()
	versions, err := a.Versions(context.Background(), atalaya.NewID(legacy))
	if err != nil || len(versions) != 2 || versions[1].URL != legacy || versions[1].Body != "First text." {
		t.Errorf("versions of the legacy release: %d (%v), want 2, the second at %s with the new text", len(versions), err, legacy)
	}
	if _, err := a.Release(context.Background(), atalaya.NewID(srv.URL+"/r/old/")); err == nil {
		t.Errorf("the legacy release was archived again under its new URL form")
	}
	if rel, err := a.ReleaseByURL(context.Background(), srv.URL+"/r/new/"); err != nil || rel.ID != atalaya.NewID(srv.URL+"/r/new/") {
		t.Errorf("new release: %+v, %v; want it under the URL as linked, with its trailing slash", rel, err)
	}
	if n, _ := a.Count(context.Background()); n != 2 {
		t.Errorf("archive holds %d releases, want 2", n)
	}
}
