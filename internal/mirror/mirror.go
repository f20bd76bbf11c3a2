// Package mirror is an offline copy of the government sites Atalaya crawls:
// the press releases of www.state.gov, home.treasury.gov, ofac.treasury.gov
// and the gob.mx agencies (SRE, Presidencia, SSPC, FGR, Salud). The pages
// reproduce each site's real markup and chrome (menus, sidebars, share bars,
// footers) around release texts written for Atalaya, and are embedded in the
// binary so that crawler tests, end-to-end tests and the offline demo need no
// network.
//
// [Handler] serves every site from one [http.Handler], routed by the
// request's Host header; [Start] runs it on a loopback port with a request
// log, and [Server.Transport] sends requests for any host to it, so a
// crawler can fetch "https://www.state.gov/press-releases/" unchanged.
// [Expected] returns what a correct crawler extracts from the mirror.
//
// The pages are generated from gen/releases.txt and the templates in gen/
// by "go generate"; do not edit the files under site/ by hand.
package mirror

//go:generate go run gen.go

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed site
var siteFS embed.FS

// Hosts served by the mirror.
const (
	HostState    = "www.state.gov"
	HostTreasury = "home.treasury.gov"
	HostOFAC     = "ofac.treasury.gov"
	HostGobMX    = "www.gob.mx"
)

// Options configures a [Handler]. The zero value serves every site normally.
type Options struct {
	// Blocked maps a host to the HTTP status (200 or 403) of the anti-bot
	// page served instead of every page of that host: gob.mx's "Challenge
	// Validation" page, or state.gov's "Technical Difficulties" decoy for any
	// other host.
	Blocked map[string]int
	// Status maps "host/path" (no query, e.g. "www.gob.mx/sre/archivo/prensa")
	// to a status answered instead of the page, with an empty body: 500 or
	// 503 to test retries, 404 to remove a page.
	Status map[string]int
	// NoValidators omits ETag and Last-Modified and ignores conditional
	// request headers.
	NoValidators bool
	// ScriptVariant serves gob.mx archive listings as the JavaScript variant
	// (the markup escaped inside a script, Content-Type text/javascript) to
	// requests whose Accept header is exactly "*/*", as the live CMS is
	// reported to do.
	ScriptVariant bool
	// OnRequest, if set, is called for every request once its status is
	// decided, before the response is sent.
	OnRequest func(Request)
}

// Request is one request as the mirror saw it.
type Request struct {
	Method string
	Host   string // without port, lower case
	Path   string
	Query  string // raw query
	// Header holds User-Agent, Accept, If-None-Match and If-Modified-Since,
	// when the client sent them.
	Header http.Header
	Time   time.Time
	Status int
}

// page is one embedded file as served.
type page struct {
	body         []byte
	contentType  string
	etag         string
	lastModified time.Time
}

// siteIndex maps host, path and canonical query to a page.
type siteIndex map[string]*page

func indexKey(host, p, query string) string {
	return host + " " + p + "?" + query
}

// loadSites indexes the embedded sites.
func loadSites() (siteIndex, error) {
	idx := siteIndex{}
	err := fs.WalkDir(siteFS, "site", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		host, p, query, ok := routeOf(name)
		if !ok {
			return nil
		}
		body, err := siteFS.ReadFile(name)
		if err != nil {
			return err
		}
		idx[indexKey(host, p, query)] = newPage(host, name, body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mirror: loading embedded sites: %w", err)
	}
	return idx, nil
}

// routeOf maps an embedded file name such as
// "site/www.gob.mx/sre/archivo/prensa__order=DESC&page=2.html" to the host,
// path and canonical query it is served at. Files outside a host directory
// (the expected values, the anti-bot pages) are not routed.
func routeOf(name string) (host, p, query string, ok bool) {
	rel := strings.TrimPrefix(name, "site/")
	host, rest, found := strings.Cut(rel, "/")
	if !found || !strings.Contains(host, ".") {
		return "", "", "", false
	}
	dir, base := path.Split("/" + rest)
	switch base {
	case "index.html", "index.xml":
		return host, dir, "", true
	}
	base = strings.TrimSuffix(base, ".html")
	base, rawQuery, _ := strings.Cut(base, "__")
	return host, dir + base, canonicalQuery(rawQuery), true
}

// canonicalQuery sorts a raw query so that "page=2&order=DESC" and
// "order=DESC&page=2" match the same page.
func canonicalQuery(raw string) string {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	return v.Encode()
}

func newPage(host, name string, body []byte) *page {
	sum := sha256.Sum256(body)
	modifiedBase := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	// A fixed Last-Modified derived from the content: a whole second within
	// a year after modifiedBase.
	offset := (uint64(sum[0])<<16 | uint64(sum[1])<<8 | uint64(sum[2])) % (365 * 24 * 3600)
	return &page{
		body:         body,
		contentType:  contentType(host, name),
		etag:         `"` + hex.EncodeToString(sum[:8]) + `"`,
		lastModified: modifiedBase.Add(time.Duration(offset) * time.Second),
	}
}

func contentType(host, name string) string {
	switch {
	case strings.HasSuffix(name, ".xml"):
		return "application/rss+xml; charset=UTF-8"
	case strings.HasSuffix(name, ".txt"):
		return "text/plain; charset=UTF-8"
	case host == HostGobMX:
		return "text/html; charset=utf-8"
	}
	return "text/html; charset=UTF-8"
}

// Handler returns a handler that serves the embedded sites, routing by the
// request's Host header. A request matches a page by path and query; when no
// page has that exact query it falls back to the page with the same path and
// no query, so "?idiom=es", "?page=0" and "?order=DESC&page=1" resolve.
// Anything else is a 404. It is safe for concurrent use.
//
// Handler panics if the embedded sites cannot be read, which only a broken
// build can cause.
func Handler(opts Options) http.Handler {
	idx, err := loadSites()
	if err != nil {
		panic(err)
	}
	return &handler{opts: opts, sites: idx}
}

type handler struct {
	opts  Options
	sites siteIndex
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, record: func(status int) {
		if h.opts.OnRequest == nil {
			return
		}
		h.opts.OnRequest(Request{
			Method: r.Method,
			Host:   hostOf(r),
			Path:   r.URL.Path,
			Query:  r.URL.RawQuery,
			Header: headerSubset(r.Header),
			Time:   start,
			Status: status,
		})
	}}
	h.serve(rec, r)
	rec.WriteHeader(http.StatusOK) // a no-op unless serve wrote nothing
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	host := hostOf(r)
	if status, ok := h.opts.Blocked[host]; ok {
		serveBlocked(w, host, status)
		return
	}
	if status, ok := h.opts.Status[host+r.URL.Path]; ok {
		w.WriteHeader(status)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := h.sites.lookup(host, r.URL.Path, r.URL.RawQuery)
	if p == nil {
		http.NotFound(w, r)
		return
	}
	if h.opts.ScriptVariant && host == HostGobMX && r.Header.Get("Accept") == "*/*" && strings.Contains(r.URL.Path, "/archivo/") {
		serveScriptVariant(w, r, p)
		return
	}
	if !h.opts.NoValidators {
		w.Header().Set("ETag", p.etag)
		w.Header().Set("Last-Modified", p.lastModified.Format(http.TimeFormat))
		if notModified(r, p) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", p.contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(p.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(p.body)
	}
}

func (idx siteIndex) lookup(host, p, rawQuery string) *page {
	if pg := idx[indexKey(host, p, canonicalQuery(rawQuery))]; pg != nil {
		return pg
	}
	return idx[indexKey(host, p, "")]
}

// notModified reports whether r's conditional headers match p. As in
// RFC 9110, If-None-Match takes precedence over If-Modified-Since.
func notModified(r *http.Request, p *page) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == p.etag {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !p.lastModified.After(ims)
}

func serveBlocked(w http.ResponseWriter, host string, status int) {
	name, ctype := "site/blocked/technical-difficulties.html", "text/html; charset=UTF-8"
	if host == HostGobMX {
		name, ctype = "site/blocked/challenge-validation.html", "text/html; charset=utf-8"
	}
	body, err := siteFS.ReadFile(name)
	if err != nil {
		http.Error(w, "mirror: missing anti-bot page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// serveScriptVariant answers with the page's markup escaped inside a
// JavaScript string, the way a Rails format.js response would.
func serveScriptVariant(w http.ResponseWriter, r *http.Request, p *page) {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `/`, `\/`, "\n", `\n`).Replace(string(p.body))
	body := `$("#prensa").html("` + esc + `");` + "\n"
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

func hostOf(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(host)
}

func headerSubset(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range []string{"User-Agent", "Accept", "If-None-Match", "If-Modified-Since"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// statusRecorder reports the status of a response before it is sent, so
// that a request is logged before its client can see the answer.
type statusRecorder struct {
	http.ResponseWriter
	record func(status int)
	sent   bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.sent {
		return
	}
	s.sent = true
	s.record(code)
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return s.ResponseWriter.Write(b)
}
