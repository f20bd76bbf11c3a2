package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/archive"
	"atalaya/config"
	"atalaya/crawler"
	"atalaya/internal/mirror"
)

// siteConfig writes a configuration with one source, "site", whose host
// site.example is mapped to addr over plain HTTP.
func siteConfig(t *testing.T, addr string) string {
	t.Helper()
	cfg := fmt.Sprintf(`user_agent: "atalaya-test/0 (+https://example.org/atalaya)"
hosts:
  site.example: "http://%s"
allow_private_networks: true
sources:
  - name: site
    agency: Test Ministry
    country: US
    language: en
    time_zone: UTC
    start_urls: ["https://site.example/news/"]
    pagination: {template: "?page={n}", first_number: 1, max_pages: 1}
    listing: {item: "ul.releases > li", title: a, link: a}
    article:
      title: [h1]
      body: div.body
      date: [{selector: time, attr: datetime, layouts: ["2006-01-02"]}]
    politeness: {delay: 0s, retries: 0, ignore_robots: true, timeout: 5s}
`, addr)
	path := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCrawlExitStatus runs the crawl command against a local site that
// fails in one way or another: the command exits 1 when the site is down,
// every start URL answers 404, the site blocks, or release pages fail; 0
// when all went well or the only failures are links the site broke (404).
func TestCrawlExitStatus(t *testing.T) {
	listing := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><ul class="releases"><li><a href="/r/one">One</a></li></ul></body></html>`)
	}
	article := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h1>One</h1><time datetime="2026-03-02"></time><div class="body"><p>Text of one.</p></div></body></html>`)
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Error(w, http.StatusText(code), code) }
	}
	tests := []struct {
		name             string
		listing, article http.HandlerFunc
		code             int
		stderr           string
	}{
		{"ok", listing, article, 0, ""},
		{"broken link", listing, status(http.StatusNotFound), 0, ""},
		{"site down", status(http.StatusInternalServerError), article, 1, "site: 1 listing page failed"},
		{"start URL 404", status(http.StatusNotFound), article, 1, "site: 1 listing page failed"},
		{"blocked", status(http.StatusForbidden), article, 1, "site: blocked"},
		{"release pages fail", listing, status(http.StatusBadGateway), 1, "site: 1 release page failed"},
		{"listing redesigned", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<html><body><div class="cards"><a href="/r/one">One</a></div></body></html>`)
		}, article, 1, "site: 1 listing page failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /news/", tt.listing)
			mux.HandleFunc("GET /r/{name}", tt.article)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			cfg := siteConfig(t, strings.TrimPrefix(srv.URL, "http://"))
			code, out, errOut := runCmd(t, "--config", cfg, "--data", t.TempDir(), "--log-level", "error", "crawl")
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("crawl: exit %d, stderr %q; want exit %d and %q\nstdout:\n%s", code, errOut, tt.code, tt.stderr, out)
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		if code, _, _ := runCmd(t, "--data", t.TempDir(), "crawl", "--max-pages", "many"); code != 2 {
			t.Errorf("crawl --max-pages many: exit %d, want 2", code)
		}
	})
}

// TestCrawlThroughHosts crawls the mirror through a configuration's hosts
// mapping and compares the releases with those of crawl --offline: the
// same URLs, IDs and fields. The state.gov feed's links are absolute URLs
// of www.state.gov: they go through the mapping too.
func TestCrawlThroughHosts(t *testing.T) {
	srv, err := mirror.Start(mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.URL()
	yaml := string(config.DefaultYAML())
	// The mirror is local: no need to wait between requests.
	for _, d := range []string{"delay: 6s", "delay: 3s"} {
		yaml = strings.ReplaceAll(yaml, d, "delay: 0s")
	}
	yaml = strings.Replace(yaml, "    retries: 2\n", "    retries: 2\n    max_crawl_delay: 1ms\n", 1)
	yaml += "\nhosts:\n"
	for _, h := range []string{"www.state.gov", "home.treasury.gov", "ofac.treasury.gov", "www.gob.mx"} {
		yaml += fmt.Sprintf("  %s: %q\n", h, addr)
	}
	yaml += "allow_private_networks: true\n"
	cfg := filepath.Join(t.TempDir(), "mirror.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "--config", cfg, "config", "check")
	if code != 0 || !strings.Contains(out, "host www.state.gov is mapped to "+addr) || !strings.Contains(out, "private network addresses are allowed") {
		t.Fatalf("config check: exit %d, stdout %q, stderr %q; want the mapping reported", code, out, errOut)
	}

	sources := []string{"--source", "state-rss", "--source", "ofac", "--source", "sre"}
	mapped, offline := t.TempDir(), t.TempDir()
	args := append([]string{"--config", cfg, "--data", mapped, "--log-level", "info", "crawl"}, sources...)
	code, _, errOut = runCmd(t, args...)
	if code != 0 || !strings.Contains(errOut, "host mapped") {
		t.Fatalf("crawl through hosts: exit %d, stderr:\n%s\nwant exit 0 and the mapping logged", code, errOut)
	}
	args = append([]string{"--data", offline, "--log-level", "warn", "crawl", "--offline"}, sources...)
	if code, _, errOut := runCmd(t, args...); code != 0 {
		t.Fatalf("crawl --offline: exit %d: %s", code, errOut)
	}
	norm := func(rels []atalaya.Release) []atalaya.Release {
		for i := range rels {
			rels[i].FetchedAt = time.Time{}
		}
		slices.SortFunc(rels, func(a, b atalaya.Release) int { return strings.Compare(string(a.ID), string(b.ID)) })
		return rels
	}
	want, got := norm(archivedReleases(t, offline)), norm(archivedReleases(t, mapped))
	if len(want) < 5 {
		t.Fatalf("crawl --offline archived %d releases, want more", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("releases through hosts (-offline +hosts):\n%s", diff)
	}
}

// TestMaxPagesCapAgrees checks that config documents the crawler's cap.
func TestMaxPagesCapAgrees(t *testing.T) {
	if config.DefaultMaxPages != crawler.DefaultMaxPages {
		t.Errorf("config.DefaultMaxPages = %d, crawler.DefaultMaxPages = %d; want them equal", config.DefaultMaxPages, crawler.DefaultMaxPages)
	}
}

// TestReleaseByLinkFindsLegacyURL checks that a release archived under the
// former canonical form of its URL (no trailing slash) is found from the
// link as the site writes it, with the slash.
func TestReleaseByLinkFindsLegacyURL(t *testing.T) {
	a, err := archive.Open(t.TempDir(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	legacy := "https://www.state.gov/releases/office-of-the-spokesperson/2025/01/slug"
	rel := atalaya.Release{ID: atalaya.NewID(legacy), URL: legacy, Source: "state", Title: "T", Body: "B"}
	rel.Hash = atalaya.ContentHash(rel.Title, rel.Published, rel.Body)
	page := atalaya.Page{URL: legacy, Status: http.StatusOK, Header: http.Header{}, Body: []byte("<html></html>"), FetchedAt: time.Now()}
	if _, err := a.Put(context.Background(), page, rel); err != nil {
		t.Fatal(err)
	}
	got, err := releaseByLink(context.Background(), a, legacy+"/")
	if err != nil || got.ID != rel.ID {
		t.Errorf("releaseByLink(%s/) = %s, %v; want the release archived as %s", legacy, got.ID, err, legacy)
	}
	if _, err := releaseByLink(context.Background(), a, legacy+"-other/"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("releaseByLink of an unknown link: %v, want archive.ErrNotFound", err)
	}
}
