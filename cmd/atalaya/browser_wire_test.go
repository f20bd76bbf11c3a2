package main

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"atalaya/config"
	"atalaya/crawler/browser"
	"atalaya/crawler/browser/browsertest"
)

// copyConfig writes the default configuration with the gob.mx sources
// named moved to siteURL (each source's start URL on siteURL, loopback
// allowed), a delay of delay between requests, and edit applied to the
// result. It returns the file's path.
func copyConfig(t *testing.T, siteURL string, delay time.Duration, edit func(string) string, names ...string) string {
	t.Helper()
	yaml := string(config.DefaultYAML())
	yaml = strings.ReplaceAll(yaml, "allowed_domains: [www.gob.mx]", "allowed_domains: [www.gob.mx, 127.0.0.1]")
	yaml = strings.ReplaceAll(yaml, "    delay: 3s\n", fmt.Sprintf("    delay: %s\n", delay))
	for _, name := range names {
		from := fmt.Sprintf("start_urls: [\"https://www.gob.mx/%s/archivo/prensa\"]", name)
		if !strings.Contains(yaml, from) {
			t.Fatalf("the default configuration has no %s", from)
		}
		yaml = strings.Replace(yaml, from, fmt.Sprintf("start_urls: [\"%s/%s/archivo/prensa\"]", siteURL, name), 1)
	}
	yaml = edit(yaml) + "\nallow_private_networks: true\n"
	path := filepath.Join(t.TempDir(), "atalaya.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// requireBrowser skips the test when no browser is installed.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := browser.New(browser.Options{}); errors.Is(err, browser.ErrNoBrowser) {
		t.Skipf("skipping: %v (on Debian: apt-get install chromium)", err)
	}
}

// TestCrawlAutoSwitchesToTheBrowser crawls a gob.mx copy behind the
// JavaScript challenge with the default configuration's gobmx profile
// (fetch: auto) through atalaya crawl: the first page, robots.txt, is
// blocked over HTTP, the source switches to the browser, and every release a plain
// crawl of an unprotected copy archives is archived; the switch is shown by
// crawl and sources; robots.txt and the delay are honoured.
func TestCrawlAutoSwitchesToTheBrowser(t *testing.T) {
	requireBrowser(t)
	plain := httptest.NewServer(gobmxCopy())
	defer plain.Close()
	protected := browsertest.NewSite(gobmxCopy(), nil)
	defer protected.Close()
	_, want := crawlSRE(t, plain.URL, nil, 0)
	if len(want) < 3 {
		t.Fatalf("plain crawl archived %d releases", len(want))
	}

	const delay = 700 * time.Millisecond
	cfg := copyConfig(t, protected.URL, delay, func(s string) string { return s }, "sre")
	data := t.TempDir()
	code, out, errOut := runCmd(t, "--config", cfg, "--data", data, "--log-level", "info", "crawl", "--source", "sre")
	if code != 0 {
		t.Fatalf("crawl: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, `switched to the browser after anti-bot page (marker "Challenge Validation") at `+protected.URL+"/robots.txt") {
		t.Errorf("crawl stdout:\n%s\nwant the switch shown", out)
	}
	if !strings.Contains(errOut, "switched to the browser for the rest of the run") {
		t.Errorf("crawl stderr:\n%s\nwant the switch logged", errOut)
	}
	var got []string
	for _, rel := range archivedReleases(t, data) {
		got = append(got, strings.TrimPrefix(rel.URL, protected.URL))
	}
	var wantPaths []string
	for path := range want {
		wantPaths = append(wantPaths, path)
	}
	slices.Sort(got)
	slices.Sort(wantPaths)
	if !slices.Equal(got, wantPaths) {
		t.Errorf("archived %q\nwant %q (a plain crawl of the unprotected copy)", got, wantPaths)
	}
	if n := protected.Challenges(); n != 2 {
		t.Errorf("challenge served %d times, want twice: to HTTP, then to the browser once", n)
	}
	checkPoliteness(t, protected.Requests(), delay)

	code, out, errOut = runCmd(t, "--config", cfg, "--data", data, "sources")
	if code != 0 || !strings.Contains(out, "via the browser") || !strings.Contains(out, "sre: switched to the browser (fetch: auto) after anti-bot page") {
		t.Errorf("sources: exit %d\nstdout:\n%s\nstderr:\n%s\nwant the switch shown", code, out, errOut)
	}
}

// checkPoliteness checks that no request was for the page robots.txt
// disallows, and that article requests came at least delay after the
// request before them.
func checkPoliteness(t *testing.T, reqs []browsertest.Request, delay time.Duration) {
	t.Helper()
	for i, r := range reqs {
		if r.Path == disallowed {
			t.Errorf("%s requested, but robots.txt disallows it", r.Path)
		}
		if i > 0 && strings.HasPrefix(r.Path, "/sre/prensa/") && reqs[i-1].Path != "/robots.txt" {
			if gap := r.Time.Sub(reqs[i-1].Time); gap < delay {
				t.Errorf("%s requested %s after the previous request (%s), less than the delay %s", r.Path, gap, reqs[i-1].Path, delay)
			}
		}
	}
}

// TestCrawlWithoutBrowser crawls on a PATH without a browser: a source
// with fetch: browser fails with a health issue that says how to install
// one; a fetch: auto source behind the challenge stays on HTTP and is
// reported blocked, saying why it could not switch; the other source is
// crawled; crawl exits 1. crawl --offline, whose sources are fetch: auto,
// works.
func TestCrawlWithoutBrowser(t *testing.T) {
	plain := httptest.NewServer(gobmxCopy())
	defer plain.Close()
	protected := browsertest.NewSite(gobmxCopy(), nil)
	defer protected.Close()
	t.Setenv("PATH", t.TempDir())
	cfg := copyConfig(t, plain.URL, 0, func(s string) string {
		s = strings.Replace(s, "/sre/archivo/prensa\"]\n", "/sre/archivo/prensa\"]\n    fetch: browser\n", 1)
		return strings.Replace(s, "https://www.gob.mx/salud/archivo/prensa", protected.URL+"/salud/archivo/prensa", 1)
	}, "sre", "presidencia")

	code, _, errOut := runCmd(t, "--config", cfg, "config", "check")
	if code != 0 || !strings.Contains(errOut, "warning: no browser for the sources fetched with fetch: browser (sre)") ||
		!strings.Contains(errOut, "apt-get install chromium") {
		t.Errorf("config check: exit %d, stderr:\n%s\nwant exit 0 and a warning saying how to install a browser", code, errOut)
	}

	data := t.TempDir()
	code, out, errOut := runCmd(t, "--config", cfg, "--data", data, "--log-level", "warn", "crawl", "--source", "sre", "--source", "presidencia", "--source", "salud")
	if code != 1 || !strings.Contains(errOut, "2 of 3 sources did not crawl cleanly (sre: 1 listing page failed; salud: blocked, 1 listing page failed)") {
		t.Errorf("crawl: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 1 naming sre and salud", code, out, errOut)
	}
	rels := archivedReleases(t, data)
	if len(rels) == 0 {
		t.Fatalf("nothing archived; want presidencia's releases")
	}
	for _, rel := range rels {
		if rel.Source != "presidencia" {
			t.Errorf("archived %s of %s; want only presidencia's", rel.URL, rel.Source)
		}
	}
	code, out, _ = runCmd(t, "--config", cfg, "--data", data, "sources")
	if code != 0 || !strings.Contains(out, "sre: fetch: the source is fetched through a browser (fetch: browser) and there is none: crawler: no browser: browser: no Chromium or Chrome found; install one (Debian/Ubuntu: apt-get install chromium)") {
		t.Errorf("sources: exit %d\nstdout:\n%s\nwant the health issue saying how to install a browser", code, out)
	}
	if !strings.Contains(out, `salud: fetch: blocked over HTTP (anti-bot page (marker "Challenge Validation")), and could not switch to the browser (fetch: auto): crawler: no browser: browser: no Chromium or Chrome found; install one (Debian/Ubuntu: apt-get install chromium)`) {
		t.Errorf("sources: stdout:\n%s\nwant salud's failed switch reported", out)
	}

	if code, out, errOut := runCmd(t, "--data", t.TempDir(), "--log-level", "warn", "crawl", "--offline", "--source", "sre"); code != 0 {
		t.Errorf("crawl --offline without a browser: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
