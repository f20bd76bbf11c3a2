package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"atalaya"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/mirror"
	"atalaya/internal/synth"
)

// fetchedAt is when the fixture's pages were fetched.
var fetchedAt = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// The hostile release: crawled text that tries to become markup or a link.
const (
	hostileURL   = "javascript:alert(document.cookie)"
	hostileTitle = `<script>alert("title")</script> Sanciones contra el cártel <img src=x onerror=alert(1)>`
	hostileBody  = `La Secretaría anunció sanciones contra <script>alert("body")</script> doce personas del cártel.` +
		"\n\n" + `Más información en <a href="javascript:alert(2)">este enlace</a> y <img src=y onerror="alert(3)">.` +
		"\n\n" + `Fue concedida la extradición del líder javascript:alert(4) a Estados Unidos.`
	hostilePage = `<html><head><script>document.title="pwned"</script></head><body onload="alert(5)">` +
		`<h1>Sanciones</h1><a href="javascript:alert(6)">enlace</a></body></html>`
)

// fixture is the UI over a real archive and a real on-disk index holding
// every release of the mirror, one of them revised, and the hostile release.
type fixture struct {
	handler   http.Handler
	idx       *index.Index
	arc       *archive.Archive
	crawler   *recordingCrawler
	articles  []mirror.Article
	hostileID atalaya.ID
	revisedID atalaya.ID
}

// archiveAdapter gives the archive to the UI, translating its not-found
// error, as cmd/atalaya does.
type archiveAdapter struct{ arc *archive.Archive }

func (a archiveAdapter) Page(ctx context.Context, id atalaya.ID, version int) (atalaya.Page, error) {
	p, err := a.arc.Page(ctx, id, version)
	if errors.Is(err, archive.ErrNotFound) {
		err = fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return p, err
}

func (a archiveAdapter) Versions(ctx context.Context, id atalaya.ID) ([]atalaya.Release, error) {
	v, err := a.arc.Versions(ctx, id)
	if errors.Is(err, archive.ErrNotFound) {
		err = fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return v, err
}

// sourcesAdapter reports the archive's source status with the agencies of
// the mirror's sources.
// fixedDigests reports the digests it holds.
type fixedDigests []DigestStatus

func (d fixedDigests) Digests(context.Context) ([]DigestStatus, error) { return d, nil }

type sourcesAdapter struct{ arc *archive.Archive }

func (s sourcesAdapter) Sources(ctx context.Context) ([]SourceStatus, error) {
	statuses, err := s.arc.Sources(ctx)
	if err != nil {
		return nil, err
	}
	var out []SourceStatus
	for _, src := range synth.Sources {
		st := SourceStatus{Source: src, Schedule: "@every 30m", NextRun: fetchedAt.Add(30 * time.Minute)}
		if i := slices.IndexFunc(statuses, func(a archive.SourceStatus) bool { return a.Source == src.ID }); i >= 0 {
			st.Releases, st.LastRun, st.Issues = statuses[i].Releases, statuses[i].LastRun, statuses[i].Issues
			if !st.LastRun.Started.IsZero() {
				st.Runs = []Run{{CrawlRun: st.LastRun, Trigger: "scheduled", Outcome: "changed"}}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// recordingCrawler records the crawls asked for.
type recordingCrawler struct {
	mu      sync.Mutex
	crawled []atalaya.SourceID
}

func (c *recordingCrawler) CrawlNow(_ context.Context, src atalaya.SourceID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.ContainsFunc(synth.Sources, func(s atalaya.Source) bool { return s.ID == src }) {
		return fmt.Errorf("no source is named %q", src)
	}
	c.crawled = append(c.crawled, src)
	return nil
}

// newFixture builds the fixture; adminToken may be empty.
func newFixture(t testing.TB, adminToken string) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	arc, err := archive.Open(filepath.Join(dir, "archive"), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	idx, err := index.Open(filepath.Join(dir, "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{idx: idx, arc: arc, crawler: &recordingCrawler{}, articles: m.Articles}
	rules := classify.Default()
	var docs []index.Document
	mirrorSite := mirror.Handler(mirror.Options{})
	for i, a := range m.Articles {
		rel := mirrorRelease(t, a)
		page := fetchMirrorPage(t, mirrorSite, a)
		docs = append(docs, put(t, arc, rules, page, rel))
		if i == 0 {
			rev := rel
			rev.Body = rel.Body + "\n\nActualización: la dependencia corrigió la fecha de la audiencia."
			rev.FetchedAt = fetchedAt.Add(48 * time.Hour)
			rev.Hash = ""
			docs[len(docs)-1] = put(t, arc, rules, page, rev)
			f.revisedID = rel.ID
		}
	}
	hostile := atalaya.Release{
		ID: atalaya.NewID(hostileURL), URL: hostileURL, Source: "sre", Agency: "Secretaría de Relaciones Exteriores",
		Country: atalaya.MX, Language: atalaya.Spanish, Title: hostileTitle, Body: hostileBody,
		Published: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), DateOrigin: atalaya.DateFromArticle, FetchedAt: fetchedAt,
	}
	f.hostileID = hostile.ID
	docs = append(docs, put(t, arc, rules, atalaya.Page{URL: hostileURL, Status: 200,
		Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: []byte(hostilePage), FetchedAt: fetchedAt}, hostile))
	if err := idx.Put(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	err = arc.RecordRun(ctx, atalaya.CrawlRun{Source: "sspc", Started: fetchedAt, Finished: fetchedAt.Add(42 * time.Second), New: 3,
		Issues: []atalaya.SourceIssue{{Source: "sspc", Kind: atalaya.IssueSelector, URL: "https://www.gob.mx/sspc/archivo/prensa",
			Selector: "#prensa article", Message: `selector "#prensa article" matched 0 items, against 8 in the previous run`, At: fetchedAt}}})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = New(Deps{Index: idx, Archive: archiveAdapter{arc}, Catalog: synth.Sources, Sources: sourcesAdapter{arc}, Crawler: f.crawler,
		Digests: fixedDigests{{Name: "daily", Schedule: "0 7 * * *", NextRun: fetchedAt.Add(24 * time.Hour), LastSent: fetchedAt,
			Messages: 4, Releases: 17, LastCount: 3, LastError: "smtp: 550 <script>mailbox unavailable"}},
		AdminToken: adminToken, Rules: func() *classify.Rules { return rules }})
	return f
}

// put archives and classifies one release and returns its index document.
func put(t testing.TB, arc *archive.Archive, rules *classify.Rules, page atalaya.Page, rel atalaya.Release) index.Document {
	t.Helper()
	v, err := arc.Put(context.Background(), page, rel)
	if err != nil {
		t.Fatal(err)
	}
	rel.Version = v
	return index.Document{Release: rel, Verdict: rules.Classify(rel), IndexedAt: fetchedAt}
}

// mirrorRelease is the release a crawler extracts from a mirror article.
func mirrorRelease(t testing.TB, a mirror.Article) atalaya.Release {
	t.Helper()
	src := synth.Sources[slices.IndexFunc(synth.Sources, func(s atalaya.Source) bool { return string(s.ID) == a.Source })]
	zone := "America/New_York"
	if src.Country == atalaya.MX {
		zone = "America/Mexico_City"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	rel := atalaya.Release{ID: atalaya.NewID(a.URL), URL: a.URL, Source: src.ID, Agency: src.Agency, Country: src.Country,
		Language: atalaya.Language(a.Language), Type: a.Type, Title: a.Title, Body: a.Body, FetchedAt: fetchedAt,
		DateOrigin: atalaya.DateFromArticle, PublishedRaw: a.DateText}
	if a.Date == "" {
		rel.DateOrigin = atalaya.DateMissing
	} else if rel.Published, err = time.ParseInLocation(time.DateOnly, a.Date, loc); err != nil {
		t.Fatal(err)
	}
	return rel
}

// fetchMirrorPage fetches an article's page from the mirror.
func fetchMirrorPage(t testing.TB, site http.Handler, a mirror.Article) atalaya.Page {
	t.Helper()
	req := httptest.NewRequest("GET", "https://"+a.Host+a.Path, nil)
	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("mirror %s%s: status %d", a.Host, a.Path, rec.Code)
	}
	return atalaya.Page{URL: "https://" + a.Host + a.Path, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes(), FetchedAt: fetchedAt}
}

// get requests path from the fixture's handler.
func (f *fixture) get(t testing.TB, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// hasAll reports the substrings of want that body lacks.
func missing(body string, want ...string) []string {
	var out []string
	for _, w := range want {
		if !strings.Contains(body, w) {
			out = append(out, w)
		}
	}
	return out
}
