package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

// siteSource is the source definition of the test site.
func siteSource(base string) Source {
	ny, _ := time.LoadLocation("America/New_York")
	return Source{
		Source:     atalaya.Source{ID: "site", Agency: "Test Ministry", Country: atalaya.US, Language: atalaya.English},
		Kind:       KindHTML,
		StartURLs:  []string{base + "/news/"},
		Pagination: Pagination{Template: "?page={n}", FirstNumber: 1, MaxPages: 3},
		Listing: Listing{
			Item:  "ul.releases > li",
			Title: Field{Selector: "a"},
			Link:  "a",
			Type:  Field{Selector: ".type"},
			Date:  []DateRule{{Selector: ".date", Layouts: []string{"January 2, 2006"}}},
		},
		Article: Article{
			Title:   []Field{{Selector: "article h1"}},
			Date:    []DateRule{{Selector: "article time", Attr: "datetime", Layouts: []string{"2006-01-02"}}},
			Body:    "article .body",
			Exclude: []string{".share"},
			Stop:    []string{"- END -"},
		},
		Location:     ny,
		Politeness:   Politeness{Timeout: 2 * time.Second, Retries: 2, RetryBackoff: time.Millisecond, MaxBodySize: 64 << 10},
		BlockMarkers: []string{"Technical Difficulties"},
	}
}

// site serves a listing at /news/ linking to items (hrefs), article files
// from testdata/site under /a/, and the extra handlers.
func site(t *testing.T, items []string, extra map[string]http.HandlerFunc) (string, *requestLog) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("<html><body><ul class=\"menu\"><li><a href=\"/menu\">Menu</a></li></ul><ul class=\"releases\">")
		for _, href := range items {
			fmt.Fprintf(&b, "<li><span class=\"type\">Notice</span><a href=%q>Listing title of %s</a><span class=\"date\">March 1, 2026</span></li>", href, href)
		}
		b.WriteString("</ul></body></html>")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, b.String())
	})
	files := func(w http.ResponseWriter, r *http.Request) {
		body, err := os.ReadFile(filepath.Join("testdata", "site", r.PathValue("name")))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.PathValue("name"), "latin1") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write(body)
	}
	mux.HandleFunc("GET /a/{name}", files)
	mux.HandleFunc("GET /good/{name}", files)
	for pattern, h := range extra {
		mux.HandleFunc(pattern, h)
	}
	srv, log := serve(t, mux)
	return srv.URL, log
}

func hasIssue(run atalaya.CrawlRun, kind atalaya.IssueKind, substr string) bool {
	return slices.ContainsFunc(run.Issues, func(i atalaya.SourceIssue) bool {
		return i.Kind == kind && strings.Contains(i.Message, substr)
	})
}

func TestCrawlSite(t *testing.T) {
	base, _ := site(t, []string{"/a/article.html"}, nil)
	store := newMemStore()
	c := newCrawler(t, store, Options{})
	run, err := c.Crawl(context.Background(), siteSource(base))
	if err != nil {
		t.Fatal(err)
	}
	got := store.latest()
	if len(got) != 1 {
		t.Fatalf("stored %d releases, want 1; issues %+v", len(got), run.Issues)
	}
	ny, _ := time.LoadLocation("America/New_York")
	want := atalaya.Release{
		URL: base + "/a/article.html", Source: "site", Agency: "Test Ministry", Country: atalaya.US,
		Language: atalaya.English, Type: "Notice", Title: "Harbor Office Opens & Hires Staff",
		Published: time.Date(2026, 3, 2, 0, 0, 0, 0, ny), PublishedRaw: "2026-03-02", DateOrigin: atalaya.DateFromArticle,
		Body:    "The ministry opened a new harbor office on Monday.\n\nIt will process permits for small boats.\n\nFirst item\n\nSecond item",
		Version: 1,
	}
	want.ID = atalaya.NewID(want.URL)
	want.Hash = atalaya.ContentHash(want.Title, want.Published, want.Body)
	if diff := cmp.Diff(want, got[0], cmpIgnoreFetched); diff != "" {
		t.Errorf("release (-want +got):\n%s", diff)
	}
	if run.New != 1 || run.Listings != 1 || run.ListingsFailed != 0 || run.Items != 1 || len(run.Issues) != 0 {
		t.Errorf("run = %+v, want 1 new from 1 listing page read (the second a 404: the listing's end) and no issues", run)
	}
}

var cmpIgnoreFetched = cmp.Transformer("noFetched", func(r atalaya.Release) atalaya.Release {
	r.FetchedAt = time.Time{}
	return r
})

// goodItem is a release listed beside every bad input: it must be archived
// whatever happens to its neighbour, so a bad page loses nothing else.
const (
	goodItem  = "/good/article.html"
	goodTitle = "Harbor Office Opens & Hires Staff"
)

func TestCrawlBadInputs(t *testing.T) {
	big := strings.Repeat("<p>padding text</p>", 10000)
	tests := []struct {
		name       string
		items      []string
		extra      map[string]http.HandlerFunc
		source     func(*Source)
		wantKind   atalaya.IssueKind
		wantMsg    string
		wantURL    string   // path of the issue's URL, "" to skip the check
		wantSel    string   // the issue's selector, checked when wantURL is set
		wantTitles []string // of the stored releases, in order
	}{
		{
			name: "malformed html", items: []string{"/a/malformed.html", goodItem},
			wantTitles: []string{"Broken Markup Still Reads", goodTitle},
		},
		{
			name: "latin-1 page", items: []string{"/a/latin1.html", goodItem},
			wantTitles: []string{"Reunión en Querétaro", goodTitle},
		},
		{
			name: "invalid utf-8", items: []string{"/a/invalid-utf8.html", goodItem},
			wantTitles: []string{"Bad Bytes Title", goodTitle},
		},
		{
			name: "no date", items: []string{"/a/nodate.html", goodItem},
			source:   func(s *Source) { s.Listing.Date = nil },
			wantKind: atalaya.IssueDate, wantMsg: "no publication date", wantURL: "/a/nodate.html",
			wantTitles: []string{"An Undated Notice", goodTitle},
		},
		{
			name: "over the size limit", items: []string{"/big", goodItem},
			extra: map[string]http.HandlerFunc{"GET /big": func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<html><body><article><h1>Big</h1><div class=body>"+big+"</div></article></body></html>")
			}},
			wantKind: atalaya.IssueFetch, wantMsg: "larger than the size limit", wantURL: "/big",
			wantTitles: []string{goodTitle},
		},
		{
			name: "listing selectors match nothing", items: []string{goodItem},
			source:   func(s *Source) { s.Listing.Item = "div.no-such-list > article" },
			wantKind: atalaya.IssueSelector, wantMsg: "matched nothing",
			wantURL: "/news/", wantSel: "div.no-such-list > article",
		},
		{
			name: "redirect loop", items: []string{"/loop/a", goodItem},
			extra: map[string]http.HandlerFunc{
				"GET /loop/a": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) },
				"GET /loop/b": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) },
			},
			wantKind: atalaya.IssueFetch, wantMsg: "redirect loop", wantURL: "/loop/a",
			wantTitles: []string{goodTitle},
		},
		{
			name: "redirect off the allowed domains", items: []string{"/away", goodItem},
			extra: map[string]http.HandlerFunc{"GET /away": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://elsewhere.invalid/x", http.StatusFound)
			}},
			wantKind: atalaya.IssueFetch, wantMsg: "off the allowed domains", wantURL: "/away",
			wantTitles: []string{goodTitle},
		},
		{
			name: "server never answers", items: []string{"/hang", goodItem},
			extra: map[string]http.HandlerFunc{"GET /hang": func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // headers are never sent; the client gives up
			}},
			source: func(s *Source) {
				s.Politeness.Timeout = 200 * time.Millisecond
				s.Politeness.Retries = 1
			},
			wantKind: atalaya.IssueFetch, wantMsg: "timed out", wantURL: "/hang",
			wantTitles: []string{goodTitle},
		},
		{
			name: "robots.txt disallows the path", items: []string{"/a/article.html", goodItem},
			extra: map[string]http.HandlerFunc{"GET /robots.txt": func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "User-agent: *\nDisallow: /a/\n")
			}},
			wantKind: atalaya.IssueRobots, wantMsg: "robots.txt disallows", wantURL: "/a/article.html",
			wantTitles: []string{goodTitle},
		},
		{
			name: "403 is blocked", items: []string{"/forbidden", goodItem},
			extra: map[string]http.HandlerFunc{"GET /forbidden": func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "no", http.StatusForbidden)
			}},
			wantKind: atalaya.IssueBlocked, wantMsg: "403", wantURL: "/forbidden",
			wantTitles: []string{goodTitle},
		},
		{
			name: "decoy 200 is blocked", items: []string{"/decoy", goodItem},
			extra: map[string]http.HandlerFunc{"GET /decoy": func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<html><body><h1>Technical Difficulties</h1></body></html>")
			}},
			wantKind: atalaya.IssueBlocked, wantMsg: "Technical Difficulties", wantURL: "/decoy",
			wantTitles: []string{goodTitle},
		},
		{
			name: "404 article", items: []string{"/a/missing.html", goodItem},
			wantKind: atalaya.IssueFetch, wantMsg: "404", wantURL: "/a/missing.html",
			wantTitles: []string{goodTitle},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := site(t, tt.items, tt.extra)
			src := siteSource(base)
			if tt.source != nil {
				tt.source(&src)
			}
			store := newMemStore()
			run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantKind != "" && !hasIssue(run, tt.wantKind, tt.wantMsg) {
				t.Errorf("issues = %+v, want a %s issue containing %q", run.Issues, tt.wantKind, tt.wantMsg)
			}
			if tt.wantURL != "" {
				want := atalaya.SourceIssue{Source: src.ID, Kind: tt.wantKind, URL: base + tt.wantURL, Selector: tt.wantSel}
				if !slices.ContainsFunc(run.Issues, func(i atalaya.SourceIssue) bool {
					return i.Source == want.Source && i.Kind == want.Kind && i.URL == want.URL && i.Selector == want.Selector
				}) {
					t.Errorf("issues = %+v, want one with source, kind, URL and selector of %+v", run.Issues, want)
				}
			}
			if run.Blocked != (tt.wantKind == atalaya.IssueBlocked) {
				t.Errorf("run.Blocked = %v, want %v", run.Blocked, tt.wantKind == atalaya.IssueBlocked)
			}
			got := store.latest()
			var titles []string
			for _, rel := range got {
				titles = append(titles, rel.Title)
				for _, s := range []string{rel.Title, rel.Body} {
					if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
						t.Errorf("text %q is not clean UTF-8", s)
					}
				}
				if rel.Body == "" {
					t.Errorf("%s: empty body", rel.URL)
				}
			}
			if diff := cmp.Diff(tt.wantTitles, titles); diff != "" {
				t.Errorf("stored releases (-want +got):\n%s", diff)
			}
			if len(tt.wantTitles) < len(tt.items) {
				if v, _, _ := store.Validators(context.Background(), src.StartURLs[0]); v != "" {
					t.Errorf("listing validators stored although an item failed: the next run would not see it again")
				}
			}
		})
	}
}

func TestCrawlLatin1Body(t *testing.T) {
	base, _ := site(t, []string{"/a/latin1.html"}, nil)
	store := newMemStore()
	if _, err := newCrawler(t, store, Options{}).Crawl(context.Background(), siteSource(base)); err != nil {
		t.Fatal(err)
	}
	got := store.latest()
	want := "La secretaría informó sobre la reunión “técnica” en Querétaro – año 2026."
	if len(got) != 1 || got[0].Body != want {
		t.Fatalf("got %+v, want one release with body %q", got, want)
	}
}

func TestCrawlTimeout(t *testing.T) {
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; conn.Close() }()
		}
	}()
	src := siteSource("http://" + ln.Addr().String())
	src.Politeness.Timeout = 100 * time.Millisecond
	src.Politeness.Retries = 1
	src.Politeness.IgnoreRobots = true
	run, err := newCrawler(t, newMemStore(), Options{}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !hasIssue(run, atalaya.IssueFetch, "timed out") {
		t.Errorf("issues = %+v, want a timeout fetch issue", run.Issues)
	}
}

func TestCrawlRetries(t *testing.T) {
	tests := []struct {
		name      string
		first     func(w http.ResponseWriter)
		budget    int           // retries allowed
		want      int           // releases stored besides the good item
		wantCalls int           // requests for /flaky
		wantGap   time.Duration // least time between the first two requests for /flaky
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 1, 1, 2, time.Second},
		{"500 then 200", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, 1, 1, 2, 0},
		{"500 without retries", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, 0, 0, 1, 0},
		{"404 is not retried", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, 2, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			article, _ := os.ReadFile(filepath.Join("testdata", "site", "article.html"))
			base, log := site(t, []string{"/flaky", goodItem}, map[string]http.HandlerFunc{
				"GET /flaky": func(w http.ResponseWriter, r *http.Request) {
					if calls.Add(1) == 1 {
						tt.first(w)
						return
					}
					w.Write(article)
				},
			})
			src := siteSource(base)
			src.Politeness.Retries = tt.budget
			store := newMemStore()
			run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(store.latest()); got != tt.want+1 {
				t.Errorf("stored %d releases, want %d (the good item always); issues %+v", got, tt.want+1, run.Issues)
			}
			if n := len(store.releases[Canonical(base+goodItem)]); n != 1 {
				t.Errorf("good item archived %d times beside /flaky, want 1", n)
			}
			var flaky []logged
			for _, r := range log.all() {
				if r.Path == "/flaky" {
					flaky = append(flaky, r)
				}
			}
			if len(flaky) != tt.wantCalls {
				t.Fatalf("fetched /flaky %d times, want %d", len(flaky), tt.wantCalls)
			}
			if tt.wantGap > 0 {
				if gap := flaky[1].At.Sub(flaky[0].At); gap < tt.wantGap {
					t.Errorf("retry came %v after the 429, want ≥ %v (Retry-After)", gap, tt.wantGap)
				}
			}
		})
	}
}

func TestCrawlIncremental(t *testing.T) {
	base, log := site(t, []string{"/a/article.html", "/a/nodate.html"}, nil)
	src := siteSource(base)
	store := newMemStore()
	c := newCrawler(t, store, Options{})
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := store.Validators(context.Background(), src.StartURLs[0]); v != `"v1"` {
		t.Fatalf("listing ETag stored = %q, want \"v1\"", v)
	}
	before := len(log.all())
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	second := log.all()[before:]
	var paths []string
	for _, r := range second {
		paths = append(paths, r.Path)
	}
	if diff := cmp.Diff([]string{"/robots.txt", "/news/"}, paths); diff != "" {
		t.Fatalf("second run requests (-want +got):\n%s", diff)
	}
	if got := second[1].Hdr.Get("If-None-Match"); got != `"v1"` {
		t.Errorf("If-None-Match = %q, want \"v1\"", got)
	}
	if run.New != 0 || run.Listings != 0 || run.NotModified != 1 || len(run.Issues) != 0 {
		t.Errorf("second run = %+v, want nothing new: one listing not modified, none read", run)
	}
}

func TestCrawlKnownNotFetched(t *testing.T) {
	base, log := site(t, []string{"/a/article.html", "/a/nodate.html"}, nil)
	src := siteSource(base)
	store := newMemStore()
	store.releases[Canonical(base+"/a/article.html")] = []atalaya.Release{{Hash: "x"}}
	run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if log.count("/a/article.html") != 0 || log.count("/a/nodate.html") != 1 {
		t.Errorf("requests %+v: want the known release skipped and the new one fetched", log.all())
	}
	if run.New != 1 || run.Unchanged != 1 {
		t.Errorf("run = %+v, want 1 new, 1 unchanged", run)
	}
}

func TestCrawlRevisit(t *testing.T) {
	base, log := site(t, []string{"/a/article.html"}, nil)
	src := siteSource(base)
	src.Revisit = 7 * 24 * time.Hour
	store := newMemStore()
	store.releases[Canonical(base+"/a/article.html")] = []atalaya.Release{{Hash: "old"}}
	now := func() time.Time { return time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC) }
	run, err := newCrawler(t, store, Options{Now: now}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if log.count("/a/article.html") != 1 || run.Revised != 1 {
		t.Errorf("run = %+v: want the recent release fetched again and revised", run)
	}
}

func TestCrawlHeaders(t *testing.T) {
	base, log := site(t, []string{"/a/article.html"}, nil)
	src := siteSource(base)
	src.Headers = map[string]string{"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Accept-Language": "es-MX"}
	if _, err := newCrawler(t, newMemStore(), Options{UserAgent: "atalaya-test (+https://example.org/contact)"}).Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	for _, r := range log.all() {
		if got := r.Hdr.Get("Accept"); got != src.Headers["Accept"] {
			t.Errorf("%s: Accept = %q, want %q", r.Path, got, src.Headers["Accept"])
		}
		if got := r.Hdr.Get("User-Agent"); got != "atalaya-test (+https://example.org/contact)" {
			t.Errorf("%s: User-Agent = %q", r.Path, got)
		}
	}
}

func TestCrawlJavaScriptListing(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `$("#prensa").append("<article><h2>Escaped<\/h2><a class=\"small-link\" href=\"\/x\">x<\/a><\/article>");`)
	})
	srv, _ := serve(t, mux)
	run, err := newCrawler(t, newMemStore(), Options{}).Crawl(context.Background(), siteSource(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !run.Blocked || !hasIssue(run, atalaya.IssueBlocked, "escaped") {
		t.Errorf("run = %+v, want blocked by the escaped listing", run)
	}
}

func TestCrawlPrivateNetworkRefused(t *testing.T) {
	base, log := site(t, []string{"/a/article.html"}, nil)
	c, err := New(Options{State: newMemStore(), Sink: newMemStore(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Crawl(context.Background(), siteSource(base))
	if err != nil {
		t.Fatal(err)
	}
	if !hasIssue(run, atalaya.IssueFetch, "private network") {
		t.Errorf("issues = %+v, want a private-network refusal", run.Issues)
	}
	if n := len(log.all()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestCrawlInvalidSource(t *testing.T) {
	src := siteSource("http://127.0.0.1:1")
	src.Listing.Item = "ul >> li"
	src.Article.Date[0].Layouts = nil
	_, err := newCrawler(t, newMemStore(), Options{}).Crawl(context.Background(), src)
	if !errors.Is(err, ErrInvalidSource) || !strings.Contains(err.Error(), "ul >> li") || !strings.Contains(err.Error(), "no layouts") {
		t.Errorf("err = %v, want ErrInvalidSource naming the selector and the date rule", err)
	}
}

func TestCrawlCancelled(t *testing.T) {
	base, _ := site(t, []string{"/a/article.html"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newCrawler(t, newMemStore(), Options{}).Crawl(ctx, siteSource(base))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCrawlSinceAndProgress(t *testing.T) {
	base, log := site(t, []string{"/a/article.html", "/a/nodate.html"}, nil)
	src := siteSource(base)
	var calls []Progress
	store := newMemStore()
	c := newCrawler(t, store, Options{
		Since:    time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), // the listing dates items March 1
		Progress: func(p Progress) { calls = append(calls, p) },
	})
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if run.New != 0 || log.count("/a/article.html") != 0 || log.count("/news/?page=2") != 0 {
		t.Errorf("run %+v, requests %+v: want items older than Since skipped and no further page", run, log.all())
	}
	c = newCrawler(t, store, Options{Progress: func(p Progress) { calls = append(calls, p) }})
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	want := []Progress{
		{Source: "site", URL: base + "/a/article.html", Items: 2, New: 1},
		{Source: "site", URL: base + "/a/nodate.html", Items: 2, New: 2},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true}, {"2606:2800:220:1::", true},
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"192.168.0.1", false}, {"172.16.0.1", false},
		{"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"::1", false},
		{"fd00::1", false}, {"fe80::1", false}, {"::ffff:127.0.0.1", false}, {"224.0.0.1", false},
	}
	for _, tt := range tests {
		if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCrawlParallel(t *testing.T) {
	items := []string{"/a/article.html", "/a/nodate.html", "/a/latin1.html", "/a/malformed.html", "/a/invalid-utf8.html"}
	base, log := site(t, items, nil)
	src := siteSource(base)
	src.Politeness.Parallelism = 3
	store := newMemStore()
	run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if run.New != len(items) || len(store.latest()) != len(items) {
		t.Errorf("run %+v: want %d new releases", run, len(items))
	}
	for _, it := range items {
		if n := log.count(it); n != 1 {
			t.Errorf("%s fetched %d times, want 1", it, n)
		}
	}
}

func TestCrawlHealth(t *testing.T) {
	tests := []struct {
		name   string
		items  []string
		source func(*Source)
		want   []atalaya.SourceIssue // Source, Kind, URL (a path) and Selector; messages are not compared
	}{
		{
			name:  "healthy",
			items: []string{"/a/article.html", "/a/malformed.html"},
		},
		{
			name:   "date fill rate below the default 0.98",
			items:  []string{"/a/article.html", "/a/nodate.html"},
			source: func(s *Source) { s.Listing.Date = nil },
			want: []atalaya.SourceIssue{
				{Kind: atalaya.IssueDate, URL: "/a/nodate.html"},
				{Kind: atalaya.IssueFillRate, URL: "/news/", Selector: "article time"},
			},
		},
		{
			name:  "fill rate expectation from the source",
			items: []string{"/a/article.html", "/a/nodate.html"},
			source: func(s *Source) {
				s.Listing.Date = nil
				s.Expect.MinFillRate = 0.5
			},
			want: []atalaya.SourceIssue{{Kind: atalaya.IssueDate, URL: "/a/nodate.html"}},
		},
		{
			name:   "far fewer listing items than expected",
			items:  []string{"/a/article.html", "/a/malformed.html"},
			source: func(s *Source) { s.Expect.MinItems = 10 },
			want:   []atalaya.SourceIssue{{Kind: atalaya.IssueSelector, URL: "/news/", Selector: "ul.releases > li"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := site(t, tt.items, nil)
			src := siteSource(base)
			if tt.source != nil {
				tt.source(&src)
			}
			store := newMemStore()
			run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			var got []atalaya.SourceIssue
			for _, is := range run.Issues {
				if is.Source != src.ID {
					t.Errorf("issue %+v has source %q, want %q", is, is.Source, src.ID)
				}
				got = append(got, atalaya.SourceIssue{Kind: is.Kind, URL: strings.TrimPrefix(is.URL, base), Selector: is.Selector})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("issues (-want +got):\n%s\nall: %+v", diff, run.Issues)
			}
			if n := len(store.latest()); n != len(tt.items) {
				t.Errorf("stored %d releases, want %d: health issues never drop a release", n, len(tt.items))
			}
		})
	}
}

func TestCrawlLinks(t *testing.T) {
	// A relative link resolves against the listing page; an off-domain link
	// is not followed, and costs the other releases nothing.
	base, log := site(t, []string{"../good/article.html", "http://elsewhere.invalid/a/article.html"}, nil)
	store := newMemStore()
	run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), siteSource(base))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, rel := range store.latest() {
		urls = append(urls, rel.URL)
	}
	if diff := cmp.Diff([]string{base + goodItem}, urls); diff != "" {
		t.Errorf("archived (-want +got):\n%s", diff)
	}
	if log.count(goodItem) != 1 || run.New != 1 || run.Failed != 0 {
		t.Errorf("run %+v, requests %+v: want the relative link fetched once and nothing failed", run, log.all())
	}
}
