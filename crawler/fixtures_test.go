package crawler

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"atalaya"
)

// testSource is one entry of testdata/sources.json.
type testSource struct {
	Zone   string `json:"zone"`
	Source Source `json:"source"`
}

// loadSources reads the test source definitions by ID.
func loadSources(t testing.TB) map[atalaya.SourceID]Source {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sources.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []testSource
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("testdata/sources.json: %v", err)
	}
	out := map[atalaya.SourceID]Source{}
	for _, ts := range list {
		loc, err := time.LoadLocation(ts.Zone)
		if err != nil {
			t.Fatal(err)
		}
		src := ts.Source
		src.Location = loc
		src.Politeness.IgnoreRobots = false
		src.Politeness.Timeout = 10 * time.Second
		src.Politeness.RetryBackoff = time.Millisecond
		out[src.ID] = src
	}
	return out
}

// manifest is /work/shared/sources/manifest.json.
type manifest struct {
	Entries []manifestEntry `json:"entries"`
}

type manifestEntry struct {
	Source      string  `json:"source"`
	Kind        string  `json:"kind"`
	File        string  `json:"file"`
	Host        string  `json:"host"`
	Path        *string `json:"path"`
	Query       *string `json:"query"`
	ContentType string  `json:"content_type"`
	Expect      struct {
		Items []struct {
			Href        string  `json:"href"`
			Link        string  `json:"link"`
			Title       string  `json:"title"`
			Date        string  `json:"date"`
			Type        *string `json:"type"`
			Subcategory *string `json:"subcategory"`
			Category    *string `json:"category"`
			Fixture     bool    `json:"fixture"`
		} `json:"items"`
		Next          *string `json:"next"`
		Title         string  `json:"title"`
		Date          string  `json:"date"`
		FirstSentence string  `json:"first_sentence"`
		Lang          string  `json:"lang"`
		Marker        string  `json:"marker"`
	} `json:"expect"`
}

// sharedSources returns the shared fixture directory, skipping the test
// when it is absent.
func sharedSources(t testing.TB) (string, manifest) {
	t.Helper()
	for _, dir := range []string{"/work/shared/sources", filepath.Join("..", "..", "shared", "sources")} {
		data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			continue
		}
		var m manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s/manifest.json: %v", dir, err)
		}
		return dir, m
	}
	t.Skip("shared fixtures not found at /work/shared/sources or ../shared/sources; skipping")
	return "", manifest{}
}

// fixtureHandler serves the manifest's files by host, path and query,
// following its serving rule. With blocked set, every request to a host
// with a blocked fixture gets that page with status blocked.
func fixtureHandler(t testing.TB, dir string, m manifest, blocked int) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		var match, fallback *manifestEntry
		for i := range m.Entries {
			e := &m.Entries[i]
			if e.Host != host {
				continue
			}
			if e.Kind == "blocked" {
				if blocked != 0 {
					match = e
					break
				}
				continue
			}
			if e.Path == nil || *e.Path != r.URL.Path {
				continue
			}
			switch {
			case e.Query != nil && *e.Query == r.URL.RawQuery:
				match = e
			case e.Query == nil:
				fallback = e
			}
		}
		if match == nil {
			match = fallback
		}
		if match == nil {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, match.File))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ct := match.ContentType
		if ct == "" {
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		status := http.StatusOK
		if match.Kind == "blocked" {
			status = blocked
		}
		w.WriteHeader(status)
		w.Write(body)
	})
}

// routeAll returns a transport that sends every request, whatever its
// host, to srv (a TLS test server).
func routeAll(srv *httptest.Server) http.RoundTripper {
	addr := srv.Listener.Addr().String()
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
}

// sourceFor maps a manifest entry to the test source that reads it.
func sourceFor(sources map[atalaya.SourceID]Source, e manifestEntry) Source {
	switch {
	case e.Source == "gobmx" && e.Expect.Lang == "en", e.Source == "gobmx" && e.Path != nil && strings.Contains(*e.Path, "/sre/es/"):
		return sources["sre-en"]
	case e.Source == "gobmx":
		return sources["gobmx-composite"]
	}
	return sources[atalaya.SourceID(e.Source)]
}

// chrome is text of site chrome that must never reach a release body.
var chrome = []string{
	"Share this page", "Copy Link", "Related Articles", "Privacy Policy", "Use featured image",
	"Imprime la página completa", "La legalidad, veracidad", "Aa+", "Más comunicados", "Press Releases",
	"U.S. Department of State", "Fecha de publicación", "Recent Actions Body",
}

func checkBody(t *testing.T, body, first string) {
	t.Helper()
	if !strings.HasPrefix(body, first) {
		t.Errorf("body starts %.120q, want it to start with %.120q", body, first)
	}
	for _, c := range chrome {
		if strings.Contains(body, c) {
			t.Errorf("body contains chrome %q", c)
		}
	}
	for _, p := range strings.Split(body, "\n\n") {
		if p == "Tags" || p == "Enlaces" || p == "" {
			t.Errorf("body has paragraph %q", p)
		}
	}
}

func TestFixtureListings(t *testing.T) {
	dir, m := sharedSources(t)
	sources := loadSources(t)
	for _, e := range m.Entries {
		if e.Kind != "listing" {
			continue
		}
		t.Run(e.File, func(t *testing.T) {
			src := sourceFor(sources, e)
			body, err := os.ReadFile(filepath.Join(dir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			pageURL := "https://" + e.Host + *e.Path
			if e.Query != nil {
				pageURL += "?" + *e.Query
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(decodeBody(body, e.ContentType)))
			if err != nil {
				t.Fatal(err)
			}
			page := parseListing(src, pageURL, doc)
			type item struct{ URL, Title, Date, Type string }
			var got, want []item
			for _, it := range page.Items {
				got = append(got, item{it.URL, it.Title, it.Published.Format(time.DateOnly), it.Type})
			}
			for _, it := range e.Expect.Items {
				typ := ""
				for _, p := range []*string{it.Type, it.Subcategory, it.Category} {
					if p != nil {
						typ = *p
					}
				}
				want = append(want, item{"https://" + e.Host + it.Href, it.Title, it.Date, typ})
			}
			if len(want) > 0 {
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("items (-want +got):\n%s", diff)
				}
			} else if len(got) == 0 {
				t.Errorf("got no items")
			}
			wantNext := ""
			if e.Expect.Next != nil {
				wantNext = "https://" + e.Host + *e.Expect.Next
				if strings.HasPrefix(*e.Expect.Next, "?") {
					wantNext = "https://" + e.Host + *e.Path + *e.Expect.Next
				}
			}
			gotNext := page.Next
			if src.Pagination.Template != "" {
				gotNext = nextByTemplate(t, src, pageURL)
			}
			if wantNext != "" && gotNext != wantNext {
				t.Errorf("next = %q, want %q", gotNext, wantNext)
			}
			if wantNext == "" && src.Pagination.NextSelector != "" && gotNext != "" {
				t.Errorf("next = %q, want none", gotNext)
			}
		})
	}
}

// nextByTemplate returns the page after pageURL under src's template.
func nextByTemplate(t *testing.T, src Source, pageURL string) string {
	t.Helper()
	start := mustParse(t, src.StartURLs[0])
	for i := 0; i < 10; i++ {
		cur := start.String()
		if i > 0 {
			cur = templatePage(start, src.Pagination, i)
		}
		if cur == pageURL {
			return templatePage(start, src.Pagination, i+1)
		}
	}
	return ""
}

func TestFixtureArticles(t *testing.T) {
	dir, m := sharedSources(t)
	sources := loadSources(t)
	for _, e := range m.Entries {
		if e.Kind != "article" {
			continue
		}
		t.Run(e.File, func(t *testing.T) {
			src := sourceFor(sources, e)
			body, err := os.ReadFile(filepath.Join(dir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			page := atalaya.Page{
				URL: "https://" + e.Host + *e.Path, Status: 200, Body: body,
				Header: http.Header{"Content-Type": {e.ContentType}},
			}
			rel, err := Extract(src, page, Item{})
			if err != nil {
				t.Fatal(err)
			}
			if rel.Title != e.Expect.Title {
				t.Errorf("title = %q, want %q", rel.Title, e.Expect.Title)
			}
			if got := rel.Published.Format(time.DateOnly); got != e.Expect.Date || rel.DateOrigin != atalaya.DateFromArticle {
				t.Errorf("date = %s (%s), want %s from the article", got, rel.DateOrigin, e.Expect.Date)
			}
			checkBody(t, rel.Body, e.Expect.FirstSentence)
		})
	}
}

// expectedArticles returns the manifest's articles by canonical URL.
func expectedArticles(m manifest) map[string]manifestEntry {
	out := map[string]manifestEntry{}
	for _, e := range m.Entries {
		if e.Kind == "article" {
			out[Canonical("https://"+e.Host+*e.Path)] = e
		}
	}
	return out
}

func TestFixtureCrawl(t *testing.T) {
	dir, m := sharedSources(t)
	sources := loadSources(t)
	want := expectedArticles(m)
	tests := []struct {
		source  atalaya.SourceID
		wantNew int
	}{
		{"state", 3},
		{"state-rss", 3},
		{"treasury", 3},
		{"ofac", 1},
		{"gobmx-composite", 4},
		{"sre-en", 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.source), func(t *testing.T) {
			log := &requestLog{}
			srv := httptest.NewTLSServer(log.wrap(fixtureHandler(t, dir, m, 0)))
			defer srv.Close()
			store := newMemStore()
			c := newCrawler(t, store, Options{Transport: routeAll(srv)})
			src := sources[tt.source]
			run, err := c.Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if run.New != tt.wantNew || run.Blocked {
				t.Errorf("new = %d, blocked = %v, want %d, false; issues %+v", run.New, run.Blocked, tt.wantNew, run.Issues)
			}
			for _, rel := range store.latest() {
				e, ok := want[rel.URL]
				if !ok {
					t.Errorf("stored %s, which is not a manifest article", rel.URL)
					continue
				}
				if rel.Title != e.Expect.Title || rel.Published.Format(time.DateOnly) != e.Expect.Date {
					t.Errorf("%s: title %q date %s, want %q %s", rel.URL, rel.Title, rel.Published.Format(time.DateOnly), e.Expect.Title, e.Expect.Date)
				}
				if rel.Source != src.ID || rel.Country != src.Country || rel.ID != atalaya.NewID(rel.URL) {
					t.Errorf("%s: source %s country %s id %s", rel.URL, rel.Source, rel.Country, rel.ID)
				}
				checkBody(t, rel.Body, e.Expect.FirstSentence)
			}
			for _, iss := range run.Issues {
				if iss.Kind != atalaya.IssueFetch {
					t.Errorf("unexpected issue %+v", iss)
				}
			}

			// A second run fetches no article page again.
			articlePaths := map[string]bool{}
			for _, e := range want {
				articlePaths[*e.Path] = true
			}
			before := len(log.all())
			run2, err := c.Crawl(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if run2.New != 0 || run2.Unchanged == 0 {
				t.Errorf("second run: new %d unchanged %d, want 0 and > 0", run2.New, run2.Unchanged)
			}
			for _, r := range log.all()[before:] {
				if path, _, _ := strings.Cut(r.Path, "?"); articlePaths[path] {
					t.Errorf("second run fetched article %s", r.Path)
				}
			}
		})
	}
}

func TestFixtureBlocked(t *testing.T) {
	dir, m := sharedSources(t)
	sources := loadSources(t)
	tests := []struct {
		source atalaya.SourceID
		status int
	}{
		{"state", http.StatusOK},
		{"state", http.StatusForbidden},
		{"state-rss", http.StatusOK},
		{"gobmx-composite", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(string(tt.source)+"/"+http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewTLSServer(fixtureHandler(t, dir, m, tt.status))
			defer srv.Close()
			store := newMemStore()
			c := newCrawler(t, store, Options{Transport: routeAll(srv)})
			run, err := c.Crawl(context.Background(), sources[tt.source])
			if err != nil {
				t.Fatal(err)
			}
			if !run.Blocked || !slices.ContainsFunc(run.Issues, func(i atalaya.SourceIssue) bool { return i.Kind == atalaya.IssueBlocked }) {
				t.Errorf("blocked = %v, issues %+v; want blocked with an IssueBlocked", run.Blocked, run.Issues)
			}
			if got := store.latest(); len(got) != 0 || run.New != 0 {
				t.Errorf("stored %d releases from a block page, want 0", len(got))
			}
		})
	}
}
