package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"atalaya/crawler/browser/browsertest"
	"atalaya/internal/mirror"
)

// extraPages are pages the mirror does not have, for the transport's own
// cases: a robots.txt, a redirect, a page with subresources of every kind
// (its own and another host's).
func extraPages(other string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "User-agent: *\nDisallow: /privado/\n")
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sre/archivo/prensa", http.StatusFound)
	})
	mux.HandleFunc("GET /subresources", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/assets/site.css"><link rel="preload" as="font" href="/assets/font.woff2" crossorigin>
<script src="/assets/own.js"></script><script src="%[1]s/other.js"></script></head>
<body><img src="/assets/logo.png"><video src="/assets/clip.mp4"></video><p id="x">static</p>
<script>fetch("/assets/data.json"); fetch("%[1]s/beacon");</script></body></html>`, other)
	})
	mux.HandleFunc("GET /assets/own.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.addEventListener("DOMContentLoaded", function () { document.getElementById("x").textContent = "rendered by script"; });`)
	})
	mux.HandleFunc("GET /assets/data.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})
	gobmx := mirror.Handler(mirror.Options{})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A session cookie, as CMSs set: a client with a cookie jar (colly's)
		// sends it back in a Cookie header of its own.
		w.Header().Add("Set-Cookie", "cms_session=s1; Path=/")
		r.Host = mirror.HostGobMX
		gobmx.ServeHTTP(w, r)
	})
	return mux
}

// newTestSite starts a loopback copy of gob.mx (the mirror's markup) behind
// the JavaScript challenge, with the extra pages. other is the URL of
// another host the subresources page refers to.
func newTestSite(t testing.TB, other string) *browsertest.Site {
	t.Helper()
	site := browsertest.NewSite(extraPages(other), func(path string) bool {
		return strings.HasPrefix(path, "/assets/") || path == "/robots.txt"
	})
	t.Cleanup(site.Close)
	return site
}

// newTestBrowser returns a Browser closed at the end of the test, or skips
// the test when no browser is installed.
func newTestBrowser(t testing.TB, opts Options) *Browser {
	t.Helper()
	b, err := New(opts)
	if errors.Is(err, ErrNoBrowser) {
		t.Skipf("skipping: %v (on Debian: apt-get install chromium)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// newTestTransport returns a transport of b closed at the end of the test.
// The test sites are on loopback, so private networks are allowed.
func newTestTransport(t testing.TB, b *Browser, opts TransportOptions) *Transport {
	t.Helper()
	opts.AllowPrivateNetworks = true
	rt := b.Transport(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Transport.Close: %v", err)
		}
	})
	return rt
}

// running returns the current browser process, nil if none.
func (b *Browser) running() *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc
}

// startingNow reports whether a browser process is starting.
func (b *Browser) startingNow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.starting != nil
}
