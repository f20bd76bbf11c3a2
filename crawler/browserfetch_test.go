package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"atalaya"
)

// browserHeader marks the requests of testBrowser's transports; the test
// site blocks every article request without it.
const browserHeader = "X-Test-Browser"

// testBrowser stands for crawler/browser (whose own tests drive a real
// Chromium): its transports send plain HTTP marked with browserHeader.
type testBrowser struct {
	transports, closed atomic.Int32
	last               BrowserOptions
	// tooLarge is a path refused as crawler/browser refuses a page over
	// the size limit, and refused counts the refusals.
	tooLarge string
	refused  atomic.Int32
	// private is a path refused as crawler/browser refuses a page on a
	// private address.
	private string
}

// browserPrivate is crawler/browser's error for a page on a private
// address, as the crawler sees it: an error with a PrivateNetwork method.
type browserPrivate struct{ host string }

func (e browserPrivate) Error() string {
	return "browser: refusing to load a page from a private network address: " + e.host + " is 10.0.0.1"
}

func (browserPrivate) PrivateNetwork() bool { return true }

// browserTooLarge is crawler/browser's error for a page over the size
// limit, as the crawler sees it: an error with a TooLarge method.
type browserTooLarge struct{ limit int }

func (e browserTooLarge) Error() string {
	return fmt.Sprintf("browser: page larger than the size limit of %d bytes: the rendered DOM is at least %d bytes", e.limit, 2*e.limit)
}

func (browserTooLarge) TooLarge() bool { return true }

type markedTransport struct{ b *testBrowser }

func (m markedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if m.b.tooLarge != "" && req.URL.Path == m.b.tooLarge {
		m.b.refused.Add(1)
		return nil, fmt.Errorf("browser: loading %s: %w", req.URL, browserTooLarge{m.b.last.MaxBodySize})
	}
	if m.b.private != "" && req.URL.Path == m.b.private {
		m.b.refused.Add(1)
		return nil, fmt.Errorf("browser: loading %s: %w", req.URL, browserPrivate{req.URL.Host})
	}
	req = req.Clone(req.Context())
	req.Header.Set(browserHeader, "yes")
	return http.DefaultTransport.RoundTrip(req)
}

func (m markedTransport) Close(context.Context) error {
	m.b.closed.Add(1)
	return nil
}

func (b *testBrowser) Transport(_ context.Context, opts BrowserOptions) (BrowserTransport, error) {
	b.transports.Add(1)
	b.last = opts
	return markedTransport{b}, nil
}

// blockingSite serves the test site with its articles under /b/, each
// answered with a "Technical Difficulties" page unless the request comes
// through testBrowser.
func blockingSite(t *testing.T, items []string) (string, *requestLog) {
	return site(t, items, map[string]http.HandlerFunc{
		"GET /b/{name}": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if r.Header.Get(browserHeader) == "" {
				w.Write([]byte("<html><head><title>Technical Difficulties</title></head><body>Please try again.</body></html>"))
				return
			}
			body, err := os.ReadFile(filepath.Join("testdata", "site", r.PathValue("name")))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Write(body)
		},
	})
}

func TestCrawlFetchModes(t *testing.T) {
	items := []string{"/b/article.html", "/b/nodate.html", "/b/latin1.html"}
	tests := []struct {
		name        string
		items       []string // default: items, blocked over HTTP
		fetch       FetchMode
		noBrowser   bool
		wantNew     int
		wantBlocked bool
		wantSwitch  string // substring of run.BrowserSwitch
		wantIssue   string // substring of a fetch issue
		transports  int32  // browser transports made (and closed)
	}{
		{name: "auto switches on a block", fetch: FetchAuto, wantNew: len(items), wantSwitch: `anti-bot page (marker "Technical Difficulties") at `, transports: 1},
		{name: "auto stays on HTTP when not blocked", items: []string{"/a/article.html", "/a/nodate.html"}, fetch: FetchAuto, wantNew: 2},
		{name: "auto without a browser stays on HTTP", fetch: FetchAuto, noBrowser: true, wantBlocked: true, wantIssue: "could not switch to the browser (fetch: auto): crawler: no browser"},
		{name: "browser", fetch: FetchBrowser, wantNew: len(items), transports: 1},
		{name: "browser without a browser", fetch: FetchBrowser, noBrowser: true, wantIssue: "(fetch: browser) and there is none: crawler: no browser"},
		{name: "http", fetch: FetchHTTP, wantBlocked: true},
		{name: "empty means http", wantBlocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.items == nil {
				tt.items = items
			}
			base, log := blockingSite(t, tt.items)
			src := siteSource(base)
			src.Fetch, src.Ready = tt.fetch, "article h1"
			src.Politeness.Parallelism = 2
			b := &testBrowser{}
			opts := Options{Browser: b}
			if tt.noBrowser {
				opts.Browser = nil
			}
			store := newMemStore()
			run, err := newCrawler(t, store, opts).Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if run.New != tt.wantNew || run.Blocked != tt.wantBlocked || len(store.latest()) != tt.wantNew {
				t.Errorf("run: %d new, blocked %v, %d stored; want %d new, blocked %v; issues %+v", run.New, run.Blocked, len(store.latest()), tt.wantNew, tt.wantBlocked, run.Issues)
			}
			if !strings.Contains(run.BrowserSwitch, tt.wantSwitch) || (tt.wantSwitch == "") != (run.BrowserSwitch == "") {
				t.Errorf("BrowserSwitch = %q, want it to hold %q", run.BrowserSwitch, tt.wantSwitch)
			}
			if tt.wantIssue != "" && !hasIssue(run, atalaya.IssueFetch, tt.wantIssue) {
				t.Errorf("issues %+v, want a fetch issue holding %q", run.Issues, tt.wantIssue)
			}
			if tt.noBrowser && tt.fetch == FetchBrowser && (run.ListingsFailed != 1 || len(log.all()) != 0) {
				t.Errorf("listings failed %d, %d requests; want 1 and none", run.ListingsFailed, len(log.all()))
			}
			if n, c := b.transports.Load(), b.closed.Load(); n != tt.transports || c != n {
				t.Errorf("browser transports made %d, closed %d; want %d, all closed", n, c, tt.transports)
			}
			if tt.transports > 0 && (b.last.Parallelism != 2 || b.last.Ready != "article h1" || b.last.Timeout != src.Politeness.Timeout || !b.last.AllowPrivateNetworks) {
				t.Errorf("browser options %+v, want the source's parallelism, ready selector and timeout", b.last)
			}
		})
	}
}

func TestCrawlUnknownFetchMode(t *testing.T) {
	src := siteSource("http://127.0.0.1:1")
	src.Fetch = "chrome"
	_, err := newCrawler(t, newMemStore(), Options{}).Crawl(context.Background(), src)
	if !errors.Is(err, ErrInvalidSource) || !strings.Contains(err.Error(), `unknown fetch "chrome"`) {
		t.Errorf("Crawl: got %v, want ErrInvalidSource naming the fetch mode", err)
	}
}

// TestCrawlBrowserPageTooLarge: a page the browser transport refuses over
// the size limit fails like one over the limit over HTTP: reported with the
// limit named, not retried, nothing stored for it, the crawl goes on.
func TestCrawlBrowserPageTooLarge(t *testing.T) {
	base, _ := blockingSite(t, []string{"/b/article.html", "/b/nodate.html", "/b/latin1.html"})
	src := siteSource(base)
	src.Fetch = FetchBrowser
	b := &testBrowser{tooLarge: "/b/nodate.html"}
	store := newMemStore()
	run, err := newCrawler(t, store, Options{Browser: b}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if b.last.MaxBodySize != src.Politeness.MaxBodySize {
		t.Errorf("browser MaxBodySize = %d, want the source's %d", b.last.MaxBodySize, src.Politeness.MaxBodySize)
	}
	want := fmt.Sprintf("crawler: page larger than the size limit (browser: page larger than the size limit of %d bytes", src.Politeness.MaxBodySize)
	if !hasIssue(run, atalaya.IssueFetch, want) {
		t.Errorf("issues %+v, want a fetch issue holding %q", run.Issues, want)
	}
	if n := b.refused.Load(); n != 1 {
		t.Errorf("the page over the limit was requested %d times, want once (not retried)", n)
	}
	if run.New != 2 || len(store.latest()) != 2 {
		t.Errorf("run: %d new, %d stored; want the 2 other releases", run.New, len(store.latest()))
	}
	for _, rel := range store.latest() {
		if strings.Contains(rel.URL, "nodate") {
			t.Errorf("the page over the limit was stored: %s", rel.URL)
		}
	}
}

// TestCrawlBrowserPrivateNetwork checks that a page the browser refuses for
// its private address is reported as ErrPrivateNetwork, once, not retried
// as a network error, and that the other releases are stored.
func TestCrawlBrowserPrivateNetwork(t *testing.T) {
	base, _ := blockingSite(t, []string{"/b/article.html", "/b/nodate.html", "/b/latin1.html"})
	src := siteSource(base)
	src.Fetch = FetchBrowser
	b := &testBrowser{private: "/b/nodate.html"}
	store := newMemStore()
	run, err := newCrawler(t, store, Options{Browser: b}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !hasIssue(run, atalaya.IssueFetch, ErrPrivateNetwork.Error()) {
		t.Errorf("issues %+v, want a fetch issue holding %q", run.Issues, ErrPrivateNetwork)
	}
	if n := b.refused.Load(); n != 1 {
		t.Errorf("the private page was requested %d times, want once (not retried)", n)
	}
	if run.New != 2 || len(store.latest()) != 2 {
		t.Errorf("run: %d new, %d stored; want the 2 other releases", run.New, len(store.latest()))
	}
}
