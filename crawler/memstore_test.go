package crawler

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"atalaya"
)

// memStore is an in-memory State and Sink: a real, if small, archive. Put
// stores a new version when the content hash changes.
type memStore struct {
	mu         sync.Mutex
	releases   map[string][]atalaya.Release // by canonical URL, oldest version first
	pages      map[string]atalaya.Page
	validators map[string][2]string
	walks      map[string]bool      // listing start URL → last walk complete
	gone       map[string]time.Time // canonical URL → when it last answered 404 or 410
	order      []string             // URLs in the order first stored
}

func newMemStore() *memStore {
	return &memStore{
		releases:   map[string][]atalaya.Release{},
		pages:      map[string]atalaya.Page{},
		validators: map[string][2]string{},
	}
}

func (m *memStore) Known(_ context.Context, url string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.releases[url]) > 0, nil
}

func (m *memStore) Validators(_ context.Context, url string) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.validators[url]
	return v[0], v[1], nil
}

func (m *memStore) SetValidators(_ context.Context, url, etag, lastModified string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.validators[url] = [2]string{etag, lastModified}
	return nil
}

func (m *memStore) WalkComplete(_ context.Context, startURL string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.walks[startURL], nil
}

func (m *memStore) SetWalkComplete(_ context.Context, startURL string, complete bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.walks == nil {
		m.walks = map[string]bool{}
	}
	m.walks[startURL] = complete
	return nil
}

func (m *memStore) Gone(_ context.Context, url string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.gone[url]
	return at, ok, nil
}

func (m *memStore) SetGone(_ context.Context, url string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at.IsZero() {
		delete(m.gone, url)
		return nil
	}
	if m.gone == nil {
		m.gone = map[string]time.Time{}
	}
	m.gone[url] = at
	return nil
}

func (m *memStore) Put(_ context.Context, page atalaya.Page, rel atalaya.Release) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	versions := m.releases[rel.URL]
	if n := len(versions); n > 0 && versions[n-1].Hash == rel.Hash {
		return 0, nil
	}
	if len(versions) == 0 {
		m.order = append(m.order, rel.URL)
	}
	rel.Version = len(versions) + 1
	m.releases[rel.URL] = append(versions, rel)
	m.pages[rel.URL] = page
	return rel.Version, nil
}

// latest returns the newest version of every stored release, in the order
// they were first stored.
func (m *memStore) latest() []atalaya.Release {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]atalaya.Release, 0, len(m.order))
	for _, u := range m.order {
		v := m.releases[u]
		out = append(out, v[len(v)-1])
	}
	return out
}

// logged is one request seen by a test server.
type logged struct {
	Path string // path and query
	At   time.Time
	Hdr  http.Header
}

// requestLog records the requests a test server receives.
type requestLog struct {
	mu   sync.Mutex
	reqs []logged
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, logged{Path: r.URL.RequestURI(), At: time.Now(), Hdr: r.Header.Clone()})
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []logged {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logged(nil), l.reqs...)
}

func (l *requestLog) count(path string) int {
	n := 0
	for _, r := range l.all() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// newCrawler returns a crawler for tests on loopback servers.
func newCrawler(t *testing.T, store *memStore, opts Options) *Crawler {
	t.Helper()
	opts.State = store
	if opts.Sink == nil {
		opts.Sink = store
	}
	opts.AllowPrivateNetworks = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// serve starts a loopback server with a request log.
func serve(t *testing.T, h http.Handler) (*httptest.Server, *requestLog) {
	t.Helper()
	log := &requestLog{}
	srv := httptest.NewServer(log.wrap(h))
	t.Cleanup(srv.Close)
	return srv, log
}
