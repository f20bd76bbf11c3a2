package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"atalaya"
	"atalaya/api"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/metrics"
	"atalaya/schedule"
)

// hostile is a title and a body built to break out of JSON, Atom and CSV.
const (
	hostileTitle = `=HYPERLINK("http://evil.test","click") <script>alert(1)</script> ]]> & more`
	hostileBody  = "=HYPERLINK(\"http://evil.test\")\n\n<script>alert(2)</script> ]]> cartel leaders"
)

type fakeAdmin struct{ reloadErr error }

func (f *fakeAdmin) CrawlNow(src atalaya.SourceID) error {
	switch src {
	case "sre":
		return nil
	case "fgr":
		return schedule.ErrRunning
	}
	return schedule.ErrUnknownJob
}

func (f *fakeAdmin) ReloadRules(context.Context) (string, error) { return "r2", f.reloadErr }

type fakeScheduler struct{}

func (fakeScheduler) Status() []schedule.Status {
	return []schedule.Status{{Name: "sre", Spec: "@every 1h", Next: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)}}
}

// fixture is an API over a real archive and a real index holding a few
// releases: one revised, one hostile.
type fixture struct {
	srv     *httptest.Server
	revised atalaya.ID
	hostile atalaya.ID
}

// openStores opens an archive in a temporary directory and an index in
// memory, both closed when the test ends.
func openStores(t *testing.T, o index.Options) (*archive.Archive, *index.Index) {
	t.Helper()
	arch, err := archive.Open(t.TempDir(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arch.Close() })
	idx, err := index.OpenMemWith(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return arch, idx
}

func newFixture(t *testing.T, token string, admin api.Admin) *fixture {
	t.Helper()
	ctx := context.Background()
	arch, idx := openStores(t, index.Options{KnownLabels: []classify.Label{"kingpin", "root_cause"}})
	rel := func(src atalaya.SourceID, country atalaya.Country, lang atalaya.Language, url, title, body string, published time.Time) atalaya.Release {
		return atalaya.Release{URL: url, Source: src, Agency: "Agency of " + string(src), Country: country, Language: lang,
			Title: title, Body: body, Published: published, FetchedAt: time.Now(), DateOrigin: atalaya.DateFromArticle}
	}
	releases := []struct {
		rel   atalaya.Release
		label string
	}{
		{rel("sre", atalaya.MX, atalaya.Spanish, "https://sre.test/1", "Extradición de un operador", "Primer párrafo.\n\nSegundo párrafo.", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)), "kingpin"},
		{rel("sre", atalaya.MX, atalaya.Spanish, "https://sre.test/1", "Extradición de un operador", "Primer párrafo.\n\nSegundo párrafo, corregido.\n\nTercero.", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)), "kingpin"},
		{rel("state", atalaya.US, atalaya.English, "https://state.test/2", hostileTitle, hostileBody, time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)), "kingpin"},
		{rel("state", atalaya.US, atalaya.English, "https://state.test/3", "Prevention grants", "Grants for treatment and prevention of cartel recruitment.", time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)), "root_cause"},
	}
	f := &fixture{}
	for _, r := range releases {
		page := atalaya.Page{URL: r.rel.URL, Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html>" + r.rel.Body), FetchedAt: r.rel.FetchedAt}
		v, err := arch.Put(ctx, page, r.rel)
		if err != nil {
			t.Fatal(err)
		}
		r.rel.ID, r.rel.Version = atalaya.NewID(r.rel.URL), v
		verdict := classify.Verdict{Label: classify.Label(r.label), Themes: []string{"sanctions"}, RulesVersion: "r1",
			Evidence: []classify.Evidence{{Rule: "k1", Label: classify.Label(r.label), Field: "body", Match: "=cartel", Sentence: "<b>cartel</b>"}}}
		if err := idx.Put(ctx, index.Document{Release: r.rel, Verdict: verdict, IndexedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if r.rel.Version == 2 {
			f.revised = r.rel.ID
		}
		if r.rel.Title == hostileTitle {
			f.hostile = r.rel.ID
		}
	}
	if err := arch.RecordRun(archive.WithTrigger(ctx, archive.TriggerScheduled), atalaya.CrawlRun{Source: "sre", Started: time.Now(), Finished: time.Now(), New: 1}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, func() map[string]int { return map[string]int{"kingpin": 3} })
	h := api.New(api.Deps{
		Index: idx, Archive: arch, Scheduler: fakeScheduler{}, Admin: admin, AdminToken: token, Gatherer: reg, Observe: m.ObserveHTTP,
		Digests: fixedDigests{{Name: "daily", Schedule: "0 7 * * *", To: digestRecipients, NextRun: &nextDigest, Messages: 2, Releases: 5, LastCount: 3, LastError: "smtp: 421 try later"}},
		Sources: []api.Source{
			{ID: "sre", Agency: "SRE", Country: atalaya.MX, Language: atalaya.Spanish, Enabled: true, Schedule: "@every 1h"},
			{ID: "state", Agency: "State", Country: atalaya.US, Language: atalaya.English, Enabled: true},
		},
	})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path string, header http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestRoutes checks the status and body of every route, good requests and
// bad ones, and that every error is JSON with an error message.
// longURL is a release of longParagraphs paragraphs, revised in its last.
const (
	longURL        = "https://sre.test/largo"
	longParagraphs = 3000
)

func longBody(lastSuffix string) string {
	paras := make([]string, longParagraphs)
	for i := range paras {
		paras[i] = fmt.Sprintf("Párrafo %d.", i)
	}
	paras[len(paras)-1] += lastSuffix
	return strings.Join(paras, "\n\n")
}

// TestDiffLongRelease checks that the diff of a long release revised in
// one paragraph shows that paragraph alone as removed and added.
func TestDiffLongRelease(t *testing.T) {
	arch, idx := openStores(t, index.Options{})
	for _, suffix := range []string{"", " (corregido)"} {
		rel := atalaya.Release{URL: longURL, Source: "sre", Title: "Informe largo", Body: longBody(suffix), FetchedAt: time.Now()}
		page := atalaya.Page{URL: longURL, Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(rel.Body), FetchedAt: rel.FetchedAt}
		if _, err := arch.Put(context.Background(), page, rel); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{srv: httptest.NewServer(api.New(api.Deps{Index: idx, Archive: arch}))}
	defer f.srv.Close()
	resp, body := f.do(t, "GET", "/api/releases/"+string(atalaya.NewID(longURL))+"/diff", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var d api.DiffResponse
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	var changed []api.DiffLine
	for _, l := range d.Body {
		if l.Op != "=" {
			changed = append(changed, l)
		}
	}
	last := fmt.Sprintf("Párrafo %d.", longParagraphs-1)
	want := []api.DiffLine{{Op: "+", Text: last + " (corregido)"}, {Op: "-", Text: last}}
	if len(d.Body) != longParagraphs+1 || !slices.Equal(changed, want) {
		t.Errorf("diff of %d lines, changed %v; want %d lines, changed %v", len(d.Body), changed, longParagraphs+1, want)
	}
}

// fixedDigests reports the digests it holds.
type fixedDigests []api.DigestDTO

func (d fixedDigests) Digests(context.Context) ([]api.DigestDTO, error) { return d, nil }

var nextDigest = time.Date(2026, 1, 2, 7, 0, 0, 0, time.UTC)

func TestRoutes(t *testing.T) {
	f := newFixture(t, "s3cret", &fakeAdmin{})
	bearer := http.Header{"Authorization": {"Bearer s3cret"}}
	wrong := http.Header{"Authorization": {"Bearer nope"}}
	rev := string(f.revised)
	tests := []struct {
		name, method, path string
		header             http.Header
		body               string
		status             int
		want               string // in the body
	}{
		{"search", "GET", "/api/search?q=extradición", nil, "", 200, `"total": 1`},
		{"search filters", "GET", "/api/search?country=US&label=root_cause&since=2024-01-01&until=2024-12-31&sort=date", nil, "", 200, `"total": 1`},
		{"search facets", "GET", "/api/search?q=cartel", nil, "", 200, `"facets"`},
		{"search syntax error", "GET", "/api/search?q=" + url.QueryEscape("title:(cartel"), nil, "", 400, `"column"`},
		{"search size too big", "GET", "/api/search?size=1000", nil, "", 400, "over the limit of 100"},
		{"search unknown label", "GET", "/api/search?label=villain", nil, "", 400, `unknown label`},
		{"search unknown parameter", "GET", "/api/search?colour=red", nil, "", 400, `unknown parameter \"colour\"`},
		{"search query too long", "GET", "/api/search?q=" + strings.Repeat("a", api.MaxQueryLen+1), nil, "", 400, "over the limit"},
		{"search bad date", "GET", "/api/search?since=2025-13-01", nil, "", 400, "want a date"},
		{"search date out of range", "GET", "/api/search?q=" + url.QueryEscape("published:<0001-01-01"), nil, "", 400, "out of range"},
		{"search year 10000", "GET", "/api/search?q=" + url.QueryEscape("published:10000-01-01"), nil, "", 400, "bad date"},
		{"search since out of range", "GET", "/api/search?since=1500-01-01", nil, "", 400, "out of range"},
		{"trends date out of range", "GET", "/api/trends?q=" + url.QueryEscape("published:>=9999-12-31"), nil, "", 400, "out of range"},
		{"export date out of range", "GET", "/api/export?q=" + url.QueryEscape("published:1500-01-01"), nil, "", 400, "out of range"},
		{"search bad size", "GET", "/api/search?size=ten", nil, "", 400, "whole number"},
		{"search bad sort", "GET", "/api/search?sort=random", nil, "", 400, "want relevance or date"},
		{"search bad cursor", "GET", "/api/search?after=zzz", nil, "", 400, "cursor"},
		{"search wrong method", "POST", "/api/search", nil, "", 405, "not allowed"},
		{"release", "GET", "/api/releases/" + rev, nil, "", 200, `"version": 2`},
		{"release not found", "GET", "/api/releases/nope", nil, "", 404, "not found"},
		{"version", "GET", "/api/releases/" + rev + "/versions/1", nil, "", 200, "Segundo párrafo."},
		{"version missing", "GET", "/api/releases/" + rev + "/versions/9", nil, "", 404, "not 9"},
		{"version not a number", "GET", "/api/releases/" + rev + "/versions/x", nil, "", 400, "want a number"},
		{"diff", "GET", "/api/releases/" + rev + "/diff", nil, "", 200, `"op": "+"`},
		{"diff bad parameter", "GET", "/api/releases/" + rev + "/diff?since=1", nil, "", 400, "unknown parameter"},
		{"diff release missing", "GET", "/api/releases/nope/diff", nil, "", 404, "no archived release"},
		{"sources", "GET", "/api/sources", nil, "", 200, `"next_run": "2026-01-01T01:00:00Z"`},
		{"sources parameter", "GET", "/api/sources?x=1", nil, "", 400, "no parameters"},
		{"digests", "GET", "/api/digests", nil, "", 200, `"next_run": "2026-01-02T07:00:00Z"`},
		{"digests counts", "GET", "/api/digests", nil, "", 200, `"last_count": 3`},
		{"digests last error", "GET", "/api/digests", nil, "", 200, `"last_error": "smtp: 421 try later"`},
		{"digests parameter", "GET", "/api/digests?name=daily", nil, "", 400, "no parameters"},
		{"digests wrong method", "POST", "/api/digests", nil, "", 405, "not allowed"},
		{"runs", "GET", "/api/runs?source=sre", nil, "", 200, `"trigger": "scheduled"`},
		{"runs unknown source", "GET", "/api/runs?source=nope", nil, "", 400, "unknown source"},
		{"runs bad limit", "GET", "/api/runs?limit=0", nil, "", 400, "want 1 to"},
		{"trends", "GET", "/api/trends?by=year&group=country&q=cartel", nil, "", 200, `"periods"`},
		{"trends bad period", "GET", "/api/trends?by=week", nil, "", 400, "unknown period"},
		{"trends bad group", "GET", "/api/trends?group=language", nil, "", 400, "unknown group"},
		{"trends bad split", "GET", "/api/trends?split=theme", nil, "", 400, "split by label"},
		{"export jsonl", "GET", "/api/export?format=jsonl", nil, "", 200, `"rules_version":"r1"`},
		{"export csv", "GET", "/api/export?format=csv&source=sre", nil, "", 200, "id,url,source"},
		{"export bad format", "GET", "/api/export?format=xml", nil, "", 400, "want jsonl or csv"},
		{"export bad query", "GET", "/api/export?q=" + url.QueryEscape(`"open`), nil, "", 400, "error"},
		{"feed", "GET", "/feed.atom?country=MX", nil, "", 200, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"},
		{"feed bad query", "GET", "/feed.atom?q=" + url.QueryEscape("AND"), nil, "", 400, "error"},
		{"health", "GET", "/healthz", nil, "", 200, `"status": "ok"`},
		{"metrics", "GET", "/metrics", nil, "", 200, `atalaya_releases{label="kingpin"} 3`},
		{"unknown API path", "GET", "/api/nothing", nil, "", 404, "no such API endpoint"},
		{"crawl now", "POST", "/api/sources/sre/crawl", bearer, "", 202, "started"},
		{"crawl now running", "POST", "/api/sources/fgr/crawl", bearer, "", 409, "running already"},
		{"crawl now unknown", "POST", "/api/sources/nope/crawl", bearer, "", 404, "no source nope"},
		{"crawl now no token", "POST", "/api/sources/sre/crawl", nil, "", 401, "admin token"},
		{"crawl now wrong token", "POST", "/api/sources/sre/crawl", wrong, "", 401, "admin token"},
		{"crawl now GET", "GET", "/api/sources/sre/crawl", bearer, "", 405, "use POST"},
		{"crawl now body too big", "POST", "/api/sources/sre/crawl", bearer, strings.Repeat("x", api.MaxBodyBytes+1), 413, "over the limit"},
		{"reload rules", "POST", "/api/rules/reload", bearer, "", 200, `"rules_version": "r2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, tt.header, strings.NewReader(tt.body))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("body does not contain %q:\n%s", tt.want, body)
			}
			if tt.status >= 400 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
					t.Errorf("error body is not {\"error\": …}: %s", body)
				}
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("security headers missing: %v", resp.Header)
			}
		})
	}
}

// TestAdminDisabledAndReloadFailure checks that admin actions are refused
// without a configured token, and that a failed reload says why.
func TestAdminDisabledAndReloadFailure(t *testing.T) {
	f := newFixture(t, "", &fakeAdmin{})
	if resp, body := f.do(t, "POST", "/api/rules/reload", http.Header{"Authorization": {"Bearer "}}, nil); resp.StatusCode != 403 || !strings.Contains(string(body), "disabled") {
		t.Errorf("reload without a token configured: %d %s", resp.StatusCode, body)
	}
	g := newFixture(t, "tok", &fakeAdmin{reloadErr: errors.New("rules.yaml:3: unknown key \"patern\"")})
	resp, body := g.do(t, "POST", "/api/rules/reload", http.Header{"Authorization": {"Bearer tok"}}, nil)
	if resp.StatusCode != 422 || !strings.Contains(string(body), `rules.yaml:3: unknown key`) || !strings.Contains(string(body), "old ones stay") {
		t.Errorf("failed reload: %d %s", resp.StatusCode, body)
	}
}

// TestHostileReleaseIsInert checks that a release whose title and body
// carry <script>, ]]> and a spreadsheet formula come out as text in JSON,
// Atom and CSV.
func TestHostileReleaseIsInert(t *testing.T) {
	f := newFixture(t, "", nil)
	for _, path := range []string{"/api/search?q=cartel", "/api/releases/" + string(f.hostile), "/api/export?format=jsonl"} {
		_, body := f.do(t, "GET", path, nil, nil)
		if bytes.Contains(body, []byte("<script>")) {
			t.Errorf("%s: raw <script> in JSON:\n%s", path, body)
		}
		if !bytes.Contains(body, []byte(`\u003cscript\u003e`)) {
			t.Errorf("%s: the title is not there, escaped", path)
		}
	}
	resp, body := f.do(t, "GET", "/feed.atom", nil, nil)
	if bytes.Contains(body, []byte("<script>")) || bytes.Contains(body, []byte("]]>")) {
		t.Errorf("Atom holds raw markup:\n%s", body)
	}
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &feed); err != nil {
		t.Fatalf("Atom does not parse: %v", err)
	}
	found := false
	for _, e := range feed.Entries {
		found = found || e.Title == hostileTitle
	}
	if !found {
		t.Errorf("Atom entries %+v lack the title as text", feed.Entries)
	}
	if resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Errorf("Atom content type %q", resp.Header.Get("Content-Type"))
	}
	_, body = f.do(t, "GET", "/api/export?format=csv&source=state", nil, nil)
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	for _, row := range rows[1:] {
		if row[0] != string(f.hostile) {
			continue
		}
		if title := row[7]; title != "'"+hostileTitle {
			t.Errorf("CSV title %q, want it behind a quote", title)
		}
		if b := row[8]; !strings.HasPrefix(b, "'=HYPERLINK") {
			t.Errorf("CSV body %q, want it behind a quote", b)
		}
		return
	}
	t.Errorf("hostile release not in the CSV:\n%s", body)
}

// TestFeedConditional checks that an unchanged feed answers 304 to its
// ETag.
func TestFeedConditional(t *testing.T) {
	f := newFixture(t, "", nil)
	resp, _ := f.do(t, "GET", "/feed.atom", nil, nil)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp, _ := f.do(t, "GET", "/feed.atom", http.Header{"If-None-Match": {etag}}, nil); resp.StatusCode != 304 {
		t.Errorf("conditional GET: %d, want 304", resp.StatusCode)
	}
}

// TestSearchCursorWalk walks every hit one per page through the API.
func TestSearchCursorWalk(t *testing.T) {
	f := newFixture(t, "", nil)
	seen := map[string]bool{}
	path := "/api/search?sort=date&size=1"
	for range 10 {
		_, body := f.do(t, "GET", path, nil, nil)
		var r api.SearchResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		for _, h := range r.Hits {
			if seen[h.ID] {
				t.Fatalf("%s twice", h.ID)
			}
			seen[h.ID] = true
		}
		if r.Next == "" {
			break
		}
		path = "/api/search?size=1&after=" + url.QueryEscape(r.Next)
	}
	if len(seen) != 3 {
		t.Errorf("walked %d releases, want 3", len(seen))
	}
}
