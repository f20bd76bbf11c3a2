// Package browsertest serves a site behind a JavaScript challenge, like the
// "Challenge Validation" page gob.mx answers scripted clients with, for
// tests of browser fetching. Only a client that runs the challenge's script
// (which computes a value, sets it as a cookie and reloads) gets the pages;
// every other client gets the challenge, with status 200. The site records
// every request, so tests can count the challenges served.
package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Marker is the text of the challenge page a block marker recognises.
const Marker = "Challenge Validation"

// cookieName is the cookie the challenge script sets.
const cookieName = "gobmx_challenge"

// nonce is the value the challenge script hashes.
const nonce = "a7c1f09e-atalaya-test"

// answer is what the challenge script computes from the nonce: a 32-bit
// rolling hash, so only a client that runs the script knows it.
func answer() string {
	var h uint32
	for _, c := range nonce {
		h = h*31 + uint32(c)
	}
	return fmt.Sprint(h)
}

// challengePage computes the answer in JavaScript, sets the cookie and
// reloads a moment later.
const challengePage = `<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>` + Marker + `</title></head>
<body><div id="challenge-container"><h1>` + Marker + `</h1>
<p>Validating your browser before accessing www.gob.mx&hellip;</p></div>
<script>
(function () {
  var nonce = "` + nonce + `", h = 0;
  for (var i = 0; i < nonce.length; i++) { h = (Math.imul(h, 31) + nonce.charCodeAt(i)) >>> 0; }
  document.cookie = "` + cookieName + `=" + h + "; path=/";
  setTimeout(function () { location.reload(); }, 50);
})();
</script></body></html>`

// Request is one request the site received.
type Request struct {
	Path, Query string
	Challenged  bool // answered with the challenge page
	Header      http.Header
	Time        time.Time // when it arrived
}

// Site is a loopback server of a handler behind the challenge. Its methods
// are safe for concurrent use; Close it when done.
type Site struct {
	*httptest.Server
	mu   sync.Mutex
	log  []Request
	hold map[string]func(*http.Request)
}

// NewSite serves next behind the challenge. Paths for which exempt returns
// true (robots.txt, scripts) are served without it; exempt may be nil.
func NewSite(next http.Handler, exempt func(path string) bool) *Site {
	s := &Site{hold: map[string]func(*http.Request){}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		hold := s.hold[r.URL.Path]
		s.mu.Unlock()
		if hold != nil {
			hold(r)
		}
		cookie, err := r.Cookie(cookieName)
		solved := err == nil && cookie.Value == answer()
		challenged := !solved && (exempt == nil || !exempt(r.URL.Path))
		s.mu.Lock()
		s.log = append(s.log, Request{Path: r.URL.Path, Query: r.URL.RawQuery, Challenged: challenged, Header: r.Header.Clone(), Time: time.Now()})
		s.mu.Unlock()
		if challenged {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, challengePage)
			return
		}
		next.ServeHTTP(w, r)
	}))
	return s
}

// Requests returns the requests received so far, in order.
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Challenges counts the challenge pages served.
func (s *Site) Challenges() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Challenged {
			n++
		}
	}
	return n
}

// Requested reports whether path was requested.
func (s *Site) Requested(path string) bool {
	for _, r := range s.Requests() {
		if r.Path == path {
			return true
		}
	}
	return false
}

// Hold makes every request for path call f before it is answered; f may
// block (a hung page) until the request's context ends.
func (s *Site) Hold(path string, f func(*http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold[path] = f
}
