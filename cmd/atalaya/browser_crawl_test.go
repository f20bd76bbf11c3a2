package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/archive"
	"atalaya/crawler"
	"atalaya/crawler/browser"
	"atalaya/crawler/browser/browsertest"
	"atalaya/internal/mirror"
)

// disallowed is an SRE article the test sites' robots.txt disallows.
const disallowed = "/sre/prensa/canciller-inaugura-el-foro-iberoamericano-de-turismo-cultural"

// gobmxCopy serves the mirror's gob.mx on any host, with a robots.txt that
// disallows one article.
func gobmxCopy() http.Handler {
	gobmx := mirror.Handler(mirror.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "User-agent: *\nDisallow: %s\n", disallowed)
			return
		}
		r.Host = mirror.HostGobMX
		gobmx.ServeHTTP(w, r)
	})
}

// crawlSRE crawls the sre source, moved to siteURL, into a new archive.
func crawlSRE(t *testing.T, siteURL string, transport http.RoundTripper, delay time.Duration) (atalaya.CrawlRun, map[string]atalaya.Release) {
	t.Helper()
	e := &env{dataDir: t.TempDir(), logger: slog.New(slog.DiscardHandler)}
	cfg, err := e.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := e.selectSources(cfg, []string{"sre"})
	if err != nil {
		t.Fatal(err)
	}
	src := srcs[0]
	u, _ := url.Parse(siteURL)
	src.StartURLs = []string{siteURL + "/sre/archivo/prensa"}
	src.AllowedDomains = []string{u.Hostname()}
	src.Politeness.Delay = delay
	arch, err := e.openArchive()
	if err != nil {
		t.Fatal(err)
	}
	defer arch.Close()
	c, err := crawler.New(crawler.Options{State: arch, Sink: arch, Transport: transport, AllowPrivateNetworks: true, Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Crawl(t.Context(), src)
	if err != nil {
		t.Fatalf("crawl %s: %v", siteURL, err)
	}
	rels := map[string]atalaya.Release{}
	for rel, err := range arch.Releases(t.Context(), archive.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		rels[strings.TrimPrefix(rel.URL, siteURL)] = rel
	}
	return run, rels
}

// TestCrawlThroughTheBrowser crawls a gob.mx copy behind a JavaScript
// challenge with colly, as `atalaya crawl` does: over HTTP it is blocked
// and nothing is archived; through the browser every release is archived
// with the same fields as a plain HTTP crawl of an unprotected copy, the
// challenge is solved once, and robots.txt and the delay are honoured.
func TestCrawlThroughTheBrowser(t *testing.T) {
	b, err := browser.New(browser.Options{Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, browser.ErrNoBrowser) {
		t.Skipf("skipping: %v (on Debian: apt-get install chromium)", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b.Close(ctx)
	}()
	plain := httptest.NewServer(gobmxCopy())
	defer plain.Close()
	protected := browsertest.NewSite(gobmxCopy(), nil)
	defer protected.Close()

	run, rels := crawlSRE(t, protected.URL, nil, 0)
	if !run.Blocked || len(rels) != 0 {
		t.Errorf("HTTP crawl of the protected copy: blocked %v, %d releases archived; want blocked and none", run.Blocked, len(rels))
	}
	plainRun, want := crawlSRE(t, plain.URL, nil, 0)
	if len(want) < 3 {
		t.Fatalf("plain crawl archived %d releases", len(want))
	}

	rt := b.Transport(browser.TransportOptions{AllowPrivateNetworks: true})
	defer rt.Close(context.Background())
	before := protected.Challenges()
	const delay = time.Second
	run, got := crawlSRE(t, protected.URL, rt, delay)
	counts := func(r atalaya.CrawlRun) []int { return []int{r.Listings, r.Items, r.New, r.Failed, len(r.Issues)} }
	if diff := cmp.Diff(counts(plainRun), counts(run)); run.Blocked || diff != "" {
		t.Errorf("browser crawl: blocked %v, counts (listings, items, new, failed, issues) differ from the plain crawl's (-plain +browser):\n%s", run.Blocked, diff)
	}
	ignore := func(r atalaya.Release) atalaya.Release {
		r.URL, r.ID, r.FetchedAt = "", "", time.Time{}
		return r
	}
	for path, w := range want {
		if diff := cmp.Diff(ignore(w), ignore(got[path])); diff != "" {
			t.Errorf("%s: browser crawl differs from the plain crawl (-plain +browser):\n%s", path, diff)
		}
	}
	if n := protected.Challenges() - before; n != 1 {
		t.Errorf("challenge served %d times in the browser crawl, want once", n)
	}
	// The crawler waits the delay between the end of one fetch and the start
	// of the next: every request a page made (its scripts) comes before.
	reqs := protected.Requests()
	for i, r := range reqs {
		if r.Path == disallowed {
			t.Errorf("%s requested, but robots.txt disallows it", r.Path)
		}
		if i > 0 && strings.HasPrefix(r.Path, "/sre/prensa/") && !reqs[i-1].Time.IsZero() {
			if gap := r.Time.Sub(reqs[i-1].Time); reqs[i-1].Path != "/robots.txt" && gap < delay {
				t.Errorf("%s requested %s after the previous request (%s), less than the delay %s", r.Path, gap, reqs[i-1].Path, delay)
			}
		}
	}
}
