package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"atalaya/internal/mirror"
)

// challengeCookie is the cookie the challenge script sets.
const challengeCookie = "gobmx_challenge"

// challengeNonce is the value the challenge script hashes.
const challengeNonce = "a7c1f09e-atalaya-test"

// challengeAnswer is what the challenge script computes from the nonce:
// a 32-bit rolling hash, so only a client that runs the script knows it.
func challengeAnswer(nonce string) string {
	var h uint32
	for _, c := range nonce {
		h = h*31 + uint32(c)
	}
	return fmt.Sprint(h)
}

// challengePage is served instead of every HTML page to a client without
// the cookie: like gob.mx's, it says "Challenge Validation", computes a
// value in JavaScript, sets a cookie and reloads.
var challengePage = `<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>Challenge Validation</title></head>
<body><div id="challenge-container"><h1>Challenge Validation</h1>
<p>Validating your browser before accessing www.gob.mx&hellip;</p></div>
<script>
(function () {
  var nonce = "` + challengeNonce + `", h = 0;
  for (var i = 0; i < nonce.length; i++) { h = (Math.imul(h, 31) + nonce.charCodeAt(i)) >>> 0; }
  document.cookie = "` + challengeCookie + `=" + h + "; path=/";
  setTimeout(function () { location.reload(); }, 50);
})();
</script></body></html>`

// siteRequest is one request the test site received.
type siteRequest struct {
	Path, Query string
	Challenged  bool // answered with the challenge page
	Header      http.Header
}

// testSite is a loopback copy of gob.mx (the mirror's markup) behind a
// JavaScript challenge. Its log counts what clients requested.
type testSite struct {
	*httptest.Server
	mu  sync.Mutex
	log []siteRequest
	// hold, when set, is called for the path it names before answering;
	// it may block (a hung page) until the request's context ends.
	hold map[string]func(r *http.Request)
}

// extraPages are pages the mirror does not have, for the transport's own
// cases: a robots.txt, a redirect, a page with subresources of every kind
// (its own and another host's), a page that never answers.
func (s *testSite) extraPage(w http.ResponseWriter, r *http.Request, other string) bool {
	switch r.URL.Path {
	case "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "User-agent: *\nDisallow: /privado/\n")
	case "/redirect":
		http.Redirect(w, r, "/sre/archivo/prensa", http.StatusFound)
	case "/subresources":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/assets/site.css"><link rel="preload" as="font" href="/assets/font.woff2" crossorigin>
<script src="/assets/own.js"></script><script src="%[1]s/other.js"></script></head>
<body><img src="/assets/logo.png"><video src="/assets/clip.mp4"></video><p id="x">static</p>
<script>fetch("/assets/data.json"); fetch("%[1]s/beacon");</script></body></html>`, other)
	case "/assets/own.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.addEventListener("DOMContentLoaded", function () { document.getElementById("x").textContent = "rendered by script"; });`)
	case "/assets/data.json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	default:
		return false
	}
	return true
}

// newTestSite starts the protected site. other is the URL of another host
// the subresources page refers to.
func newTestSite(t testing.TB, other string) *testSite {
	t.Helper()
	s := &testSite{hold: map[string]func(*http.Request){}}
	gobmx := mirror.Handler(mirror.Options{})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		hold := s.hold[r.URL.Path]
		s.mu.Unlock()
		if hold != nil {
			hold(r)
		}
		cookie, err := r.Cookie(challengeCookie)
		solved := err == nil && cookie.Value == challengeAnswer(challengeNonce)
		isPage := !strings.HasPrefix(r.URL.Path, "/assets/") && r.URL.Path != "/robots.txt"
		challenged := isPage && !solved
		s.mu.Lock()
		s.log = append(s.log, siteRequest{Path: r.URL.Path, Query: r.URL.RawQuery, Challenged: challenged, Header: r.Header.Clone()})
		s.mu.Unlock()
		if challenged {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, challengePage)
			return
		}
		if s.extraPage(w, r, other) {
			return
		}
		r.Host = mirror.HostGobMX
		gobmx.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns the log so far.
func (s *testSite) requests() []siteRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]siteRequest(nil), s.log...)
}

// challenges counts the challenge pages served.
func (s *testSite) challenges() int {
	n := 0
	for _, r := range s.requests() {
		if r.Challenged {
			n++
		}
	}
	return n
}

// requested reports whether path was requested.
func (s *testSite) requested(path string) bool {
	for _, r := range s.requests() {
		if r.Path == path {
			return true
		}
	}
	return false
}

func (s *testSite) setHold(path string, f func(*http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold[path] = f
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
func newTestTransport(t testing.TB, b *Browser, opts TransportOptions) *Transport {
	t.Helper()
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
