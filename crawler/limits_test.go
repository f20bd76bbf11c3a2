package crawler

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"atalaya"
)

// validatorSite serves one listing (HTML or RSS) at /list that carries
// only a Last-Modified validator, no ETag, and answers 304 to a matching
// If-Modified-Since; its items link to /a/article.html.
func validatorSite(t *testing.T, kind Kind) (Source, *requestLog) {
	t.Helper()
	const modified = "Mon, 02 Mar 2026 10:00:00 GMT"
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("GET /list", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", modified)
		if r.Header.Get("If-Modified-Since") == modified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if kind == KindFeed {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<rss version="2.0"><channel><title>t</title>
<item><title>Harbor Office Opens</title><link>%s/a/article.html</link><pubDate>Mon, 02 Mar 2026 09:00:00 -0500</pubDate></item>
<item><title>Public Schedule – March 2, 2026</title><link>%s/a/schedule-march-2.html</link><pubDate>Mon, 02 Mar 2026 08:00:00 -0500</pubDate></item>
</channel></rss>`, base, base)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><ul class="releases"><li><span class="type">Notice</span><a href="/a/article.html">Harbor</a><span class="date">March 1, 2026</span></li>
<li><a href="/a/schedule-march-2.html">Public Schedule – March 2, 2026</a><span class="date">March 1, 2026</span></li></ul></body></html>`)
	})
	mux.HandleFunc("GET /a/article.html", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "testdata/site/article.html")
	})
	srv, log := serve(t, mux)
	base = srv.URL
	src := siteSource(base)
	src.StartURLs = []string{base + "/list"}
	src.Kind = kind
	if kind == KindFeed {
		src.Pagination = Pagination{}
	}
	src.Politeness.IgnoreRobots = true
	src.Skip = ItemFilter{Titles: []string{`^Public Schedule\b`}}
	return src, log
}

// TestConditionalListingsAndFeeds checks, for an HTML listing and a feed,
// that the skip patterns keep the Public Schedule item (a 404) from being
// fetched, so the page is complete and its validators stored; that a
// Last-Modified without ETag makes the next request conditional with
// If-Modified-Since; and that the 304 it gets counts as not modified, not
// as a page with no items: no issue, no listing read.
func TestConditionalListingsAndFeeds(t *testing.T) {
	for _, kind := range []Kind{KindHTML, KindFeed} {
		t.Run(string(kind), func(t *testing.T) {
			src, log := validatorSite(t, kind)
			store := newMemStore()
			c := newCrawler(t, store, Options{})
			run, err := c.Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if run.New != 1 || run.Failed != 0 || len(run.Issues) != 0 || log.count("/a/schedule-march-2.html") != 0 {
				t.Fatalf("first run = %+v (schedule requests %d), want 1 new, the schedule item skipped unfetched",
					run, log.count("/a/schedule-march-2.html"))
			}
			before := len(log.all())
			run, err = c.Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			second := log.all()[before:]
			if len(second) != 1 || second[0].Hdr.Get("If-Modified-Since") == "" {
				t.Fatalf("second run requests %+v, want one conditional request with If-Modified-Since", second)
			}
			if run.NotModified != 1 || run.Listings != 0 || run.Items != 0 || len(run.Issues) != 0 || run.Failed != 0 {
				t.Errorf("second run = %+v, want one listing not modified and nothing else", run)
			}
		})
	}
}

// endlessSite serves listing pages /news/?page=N for every N, each linking
// to one new article. Pages from hangFrom on never answer (0: all answer).
func endlessSite(t *testing.T, hangFrom int) (Source, *requestLog) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if hangFrom > 0 && n >= hangFrom {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><body><ul class="releases"><li><a href="/a/article.html?n=%d">Item %d</a></li></ul></body></html>`, n, n)
	})
	mux.HandleFunc("GET /a/article.html", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "testdata/site/article.html")
	})
	srv, log := serve(t, mux)
	src := siteSource(srv.URL)
	src.Pagination.MaxPages = 0
	src.Politeness.IgnoreRobots = true
	return src, log
}

// TestEndlessPaginationIsCapped checks that a walk without max_pages stops
// at DefaultMaxPages and reports it.
func TestEndlessPaginationIsCapped(t *testing.T) {
	src, log := endlessSite(t, 0)
	store := newMemStore()
	run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, r := range log.all() {
		if strings.HasPrefix(r.Path, "/news/") {
			pages++
		}
	}
	if pages != DefaultMaxPages || !hasIssue(run, atalaya.IssueLimit, fmt.Sprintf("stopped after %d pages", DefaultMaxPages)) {
		t.Errorf("listing pages fetched = %d, issues %+v; want %d and a limit issue", pages, run.Issues, DefaultMaxPages)
	}
}

// TestRunBudget checks that a crawl stuck on a listing page that never
// answers ends when its run budget is spent, with a limit issue and no
// error, keeping what it archived, and that the walk is left to resume.
func TestRunBudget(t *testing.T) {
	src, _ := endlessSite(t, 3)
	src.RunBudget = 200 * time.Millisecond
	src.Politeness.Timeout = time.Minute
	store := newMemStore()
	run, err := newCrawler(t, store, Options{}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatalf("Crawl: %v, want no error: a spent budget is reported in the run", err)
	}
	if !hasIssue(run, atalaya.IssueLimit, "run budget of 200ms") || run.New != 2 || run.Failed != 0 {
		t.Errorf("run = %+v, want 2 new (pages 1 and 2), nothing failed and a run budget issue", run)
	}
	if done, _ := store.WalkComplete(context.Background(), src.StartURLs[0]); done {
		t.Errorf("walk recorded complete; want it resumed by the next run")
	}
}

// TestWording checks that each limit says what happened: an off-site
// next-page link is not a redirect, a long redirect chain is not a loop,
// and a page nested past the parser's limit is not a selector failure.
func TestWording(t *testing.T) {
	deep := "<html><body><article><h1>Deep</h1><time datetime=\"2026-03-02\"></time><div class=\"body\">" +
		strings.Repeat("<div>", 600) + "text" + strings.Repeat("</div>", 600) + "</div></article></body></html>"
	tests := []struct {
		name     string
		next     string // next-page link of the listing; empty: none
		handlers map[string]http.HandlerFunc
		kind     atalaya.IssueKind
		want     string
		not      string
	}{
		{name: "off-site next link", next: "https://elsewhere.example/news/?page=2",
			kind: atalaya.IssueFetch, want: "next-page link https://elsewhere.example/news/?page=2 leads off the allowed domains", not: "redirect"},
		{name: "long redirect chain", handlers: map[string]http.HandlerFunc{
			"GET /bad/{name}": func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.URL.Query().Get("hop"))
				http.Redirect(w, r, fmt.Sprintf("/bad/x.html?hop=%d", n+1), http.StatusFound)
			},
		}, kind: atalaya.IssueFetch, want: "too many redirects: more than 10 in a row", not: "loop"},
		{name: "nesting limit", handlers: map[string]http.HandlerFunc{
			"GET /bad/{name}": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, deep)
			},
		}, kind: atalaya.IssueLimit, want: "nests HTML elements deeper than the parser's limit", not: "selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers := map[string]http.HandlerFunc{
				"GET /list": func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprint(w, `<html><body><ul class="releases"><li><a href="/good/article.html">Good</a></li><li><a href="/bad/article.html">Bad</a></li></ul>`)
					if tt.next != "" {
						fmt.Fprintf(w, `<a class="next" href=%q>Next</a>`, tt.next)
					}
				},
			}
			for k, v := range tt.handlers {
				handlers[k] = v
			}
			base, _ := site(t, nil, handlers)
			src := siteSource(base)
			src.StartURLs = []string{base + "/list"}
			src.Pagination = Pagination{NextSelector: "a.next"}
			src.Politeness.IgnoreRobots = true
			run, err := newCrawler(t, newMemStore(), Options{}).Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if !hasIssue(run, tt.kind, tt.want) {
				t.Fatalf("issues %+v, want a %s issue saying %q", run.Issues, tt.kind, tt.want)
			}
			for _, is := range run.Issues {
				if strings.Contains(strings.ToLower(is.Message), tt.not) || (tt.not == "selector" && is.Kind == atalaya.IssueSelector) {
					t.Errorf("issue %+v mentions %q", is, tt.not)
				}
			}
		})
	}
}
