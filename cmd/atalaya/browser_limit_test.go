package main

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// domBombCopy serves gobmxCopy with the page at path bomb carrying a script that grows its DOM to about 3 MB once loaded.
func domBombCopy(bomb string) http.Handler {
	copy := gobmxCopy()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != bomb {
			copy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		copy.ServeHTTP(rec, r)
		body := bytes.Replace(rec.Body.Bytes(), []byte("</body>"),
			[]byte(`<script>document.body.appendChild(document.createElement("div")).textContent = "a".repeat(3 << 20);</script></body>`), 1)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// TestCrawlBrowserSizeLimit crawls the sre source through the browser with
// a size limit of 1 MiB, one of its articles growing its DOM past it by
// script: that article is reported failed with the limit named and is not
// archived, every other release is.
func TestCrawlBrowserSizeLimit(t *testing.T) {
	requireBrowser(t)
	plain := httptest.NewServer(gobmxCopy())
	defer plain.Close()
	_, want := crawlSRE(t, plain.URL, nil, 0)
	if len(want) < 3 {
		t.Fatalf("plain crawl archived %d releases", len(want))
	}
	bomb, _, _ := strings.Cut(slices.Sorted(maps.Keys(want))[0], "?")

	site := httptest.NewServer(domBombCopy(bomb))
	defer site.Close()
	cfg := copyConfig(t, site.URL, 0, func(s string) string {
		s = strings.Replace(s, "    max_body_size: 10MiB\n", "    max_body_size: 1MiB\n", 1)
		return strings.Replace(s, "/sre/archivo/prensa\"]\n", "/sre/archivo/prensa\"]\n    fetch: browser\n", 1)
	}, "sre")
	data := t.TempDir()
	code, out, errOut := runCmd(t, "--config", cfg, "--data", data, "--log-level", "warn", "crawl", "--source", "sre")
	if code != 1 {
		t.Errorf("crawl: exit %d, want 1 (a page failed)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	rels := archivedReleases(t, data)
	for _, rel := range rels {
		if path, _, _ := strings.Cut(strings.TrimPrefix(rel.URL, site.URL), "?"); path == bomb {
			t.Errorf("the page over the size limit was archived: %s", rel.URL)
		}
	}
	if len(rels) != len(want)-1 {
		t.Errorf("archived %d releases, want the %d others", len(rels), len(want)-1)
	}
	code, out, _ = runCmd(t, "--config", cfg, "--data", data, "sources")
	limit := "crawler: page larger than the size limit (browser: page larger than the size limit of 1048576 bytes: the rendered DOM is at least"
	if code != 0 || !strings.Contains(out, site.URL+bomb) || !strings.Contains(out, limit) {
		t.Errorf("sources: exit %d\nstdout:\n%s\nwant %s reported failed with %q", code, out, bomb, limit)
	}
}
