package crawler

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/internal/mirror"
)

// mirrorHosts maps every host the mirror serves to its loopback address,
// over plain HTTP.
func mirrorHosts(srv *mirror.Server) map[string]string {
	addr := "http://" + strings.TrimPrefix(srv.URL(), "http://")
	return map[string]string{
		"www.state.gov": addr, "home.treasury.gov": addr, "ofac.treasury.gov": addr, "www.gob.mx": addr,
	}
}

// crawlAll crawls every mirror source with c, the state.gov feed first so
// that its releases are fetched from the feed's links, and returns the
// releases.
func crawlAll(t *testing.T, c *Crawler, store *memStore) []atalaya.Release {
	t.Helper()
	feed := loadSources(t)["state-rss"]
	feed.Politeness.MaxCrawlDelay = time.Millisecond
	run, err := c.Crawl(context.Background(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if run.New == 0 {
		t.Fatalf("feed crawl = %+v, want new releases", run)
	}
	for _, name := range []string{"state", "treasury", "ofac", "sre", "presidencia", "sspc", "fgr", "salud"} {
		for _, src := range mirrorSources(t, name) {
			src.Politeness.MaxCrawlDelay = time.Millisecond
			if _, err := c.Crawl(context.Background(), src); err != nil {
				t.Fatal(err)
			}
		}
	}
	rels := store.latest()
	slices.SortFunc(rels, func(a, b atalaya.Release) int { return strings.Compare(a.URL, b.URL) })
	return rels
}

// TestHostsMapping crawls the mirror twice: as the real hosts (the
// mirror's own transport, which answers for any host) and through
// Options.Hosts with the crawler's guarded transport. The releases must be
// identical: same URLs, IDs and fields. The feed's absolute links go
// through the mapping too (state.gov's feed source is among the sources).
func TestHostsMapping(t *testing.T) {
	srv := startMirror(t, mirror.Options{})
	asReal := newMemStore()
	want := crawlAll(t, newCrawler(t, asReal, Options{Transport: srv.Transport()}), asReal)

	mapped := newMemStore()
	got := crawlAll(t, newCrawler(t, mapped, Options{Hosts: mirrorHosts(srv)}), mapped)
	if len(want) < 30 {
		t.Fatalf("crawl as the real hosts archived %d releases, want the mirror's 36 or so", len(want))
	}
	if diff := cmp.Diff(want, got, cmpIgnoreFetched); diff != "" {
		t.Errorf("releases through hosts (-as real hosts +through hosts):\n%s", diff)
	}
	for _, r := range got {
		if strings.Contains(r.URL, "127.0.0.1") {
			t.Errorf("release %s archived under the mirror's address", r.URL)
		}
	}
}

// TestHostsMappingGuard checks that a mapping to loopback is still refused
// without AllowPrivateNetworks: the guard stays on by default.
func TestHostsMappingGuard(t *testing.T) {
	srv := startMirror(t, mirror.Options{})
	store := newMemStore()
	c, err := New(Options{State: store, Sink: store, Hosts: mirrorHosts(srv), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	src := mirrorSources(t, "ofac")[0]
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if run.New != 0 || run.ListingsFailed != 1 || !hasIssue(run, atalaya.IssueFetch, "refusing to connect to a private network address") {
		t.Errorf("run = %+v, want the listing refused by the private-network guard", run)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("mirror answered %d requests, want none", len(srv.Requests()))
	}
}

func TestParseHosts(t *testing.T) {
	for _, bad := range []string{"127.0.0.1", "ftp://127.0.0.1:21", "http://", ""} {
		if _, err := parseHosts(map[string]string{"a.example": bad}); err == nil {
			t.Errorf("parseHosts(%q): got nil, want an error", bad)
		}
	}
	m, err := parseHosts(map[string]string{"WWW.State.gov": "127.0.0.1:8443", "b.example": "http://[::1]:80"})
	if err != nil {
		t.Fatal(err)
	}
	want := hostMap{"www.state.gov": {addr: "127.0.0.1:8443"}, "b.example": {scheme: "http", addr: "[::1]:80"}}
	if diff := cmp.Diff(want, m, cmp.AllowUnexported(hostTarget{})); diff != "" {
		t.Errorf("parseHosts (-want +got):\n%s", diff)
	}
}

// TestHostsMappingKeepsTLS maps a host to a TLS server without a scheme:
// the request goes there over TLS, and the certificate is checked against
// the real host name, so a server that cannot prove it is that host (here
// one with a test certificate) is refused rather than trusted.
func TestHostsMappingKeepsTLS(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	store := newMemStore()
	c := newCrawler(t, store, Options{Hosts: map[string]string{"secure.example": srv.Listener.Addr().String()}})
	src := siteSource("https://secure.example")
	src.Politeness.IgnoreRobots = true
	src.Politeness.Retries = 0
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if conns.Load() == 0 {
		t.Fatalf("the mapped TLS server got no connection; run %+v", run)
	}
	if run.ListingsFailed != 1 || !hasIssue(run, atalaya.IssueFetch, "certificate") {
		t.Errorf("run = %+v, want the listing refused for its certificate", run)
	}
}
