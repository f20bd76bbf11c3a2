package web

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
)

func TestTemplatesWired(t *testing.T) {
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if !slices.Contains(partialNames, name) && !slices.Contains(pageNames, name) {
			t.Errorf("templates/%s is not wired: add it to pageNames", e.Name())
		}
	}
}

// total reads the result count of a search page.
func total(t *testing.T, body string) int {
	t.Helper()
	m := regexp.MustCompile(`<span id="total">(\d+)</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no result count in the page:\n%s", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestSearchPage(t *testing.T) {
	f := newFixture(t, "")
	all := total(t, f.get(t, "/").Body.String())
	if want := len(f.articles) + 1; all != want {
		t.Fatalf("the empty search counts %d releases, want %d", all, want)
	}
	tests := []struct {
		name   string
		path   string
		status int
		want   []string
		count  func(n int) bool
	}{
		{"spanish query", "/?q=" + url.QueryEscape("extradición"), 200,
			[]string{`value="extradición"`, "<mark>", "label: ", "Spanish", "/api/export?format=csv&amp;q=extradici%C3%B3n", "/feed.atom?q=extradici%C3%B3n"},
			func(n int) bool { return n > 0 && n < all }},
		{"facet filter", "/?label=kingpin", 200, []string{`class="selected" aria-current="true"`, "Remove filter: </span>kingpin"},
			func(n int) bool { return n > 0 && n < all }},
		{"agency facet", "/?agency=" + url.QueryEscape("Secretaría de Salud"), 200, []string{"Remove filter: </span>Secretaría de Salud"},
			func(n int) bool { return n > 0 && n < all }},
		{"year facet", "/?since=2026-01-01&until=2026-12-31", 200, []string{`value="2026-01-01"`}, func(n int) bool { return n > 0 && n <= all }},
		{"date sort and paging", "/?sort=date&size=5&page=2", 200, []string{`rel="prev"`, `rel="next"`, "Page 2 of"}, func(n int) bool { return n == all }},
		{"past the last page", "/?page=500", 200, []string{"This page is past the last one", `<a href="/">go to the first page</a>`}, nil},
		{"query error", "/?q=" + url.QueryEscape("(fentanyl OR"), 400,
			[]string{`aria-invalid="true"`, `id="query-error"`, "query:1:", `<mark class="error-at">`}, nil},
		{"unknown field", "/?q=colour:red", 400, []string{"unknown field", `<mark class="error-at">c</mark>olour:red`}, nil},
		{"bad date", "/?since=2026-13-01", 400, []string{"is not a date: write it as YYYY-MM-DD"}, nil},
		{"date out of range", "/?since=0000-01-01", 400, []string{"is out of range: years 1900 to 2199"}, nil},
		{"query date out of range", "/?q=" + url.QueryEscape("published:<0001-01-01"), 400,
			[]string{`id="query-error"`, "date 0001-01-01 is out of range: dates go from 1678-01-01 to 2261-12-31", `<mark class="error-at">`}, nil},
		{"query year 10000", "/?q=" + url.QueryEscape("published:10000-01-01"), 400, []string{`id="query-error"`, "bad date &#34;10000-01-01&#34;"}, nil},
		{"exports take the search alone", "/?q=rifles&sort=date&size=5", 200,
			[]string{`href="/api/export?format=csv&amp;q=rifles"`, `href="/api/export?format=jsonl&amp;q=rifles"`, `href="/feed.atom?q=rifles"`}, nil},
		{"query too long", "/?q=" + strings.Repeat("a", 1001), 400, []string{"The query is 1001 characters long; the limit is 1000."}, nil},
		{"page size too big", "/?size=1000", 400, []string{"is not a number from 1 to 100"}, nil},
		{"bad sort", "/?sort=colour", 400, []string{"Sort &#34;colour&#34; is not known"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get(t, tt.path)
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", rec.Code, tt.status, body)
			}
			if m := missing(body, tt.want...); len(m) > 0 {
				t.Errorf("the page lacks %q\n%s", m, body)
			}
			if tt.count != nil {
				if n := total(t, body); !tt.count(n) {
					t.Errorf("count %d of %d is not what this search should find", n, all)
				}
			}
		})
	}
}

func TestFacetLinksToggle(t *testing.T) {
	f := newFixture(t, "")
	body := f.get(t, "/").Body.String()
	link := regexp.MustCompile(`<a href="(/\?country=MX)">`).FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no country facet link to MX:\n%s", body)
	}
	mx := f.get(t, strings.ReplaceAll(link[1], "&amp;", "&")).Body.String()
	if n, all := total(t, mx), total(t, body); n == 0 || n >= all {
		t.Errorf("the MX facet keeps %d of %d releases", n, all)
	}
	if !strings.Contains(mx, `<a href="/" class="selected"`) {
		t.Errorf("the selected MX facet does not link back to the unfiltered search:\n%s", mx)
	}
}

// hostileMarkup are what the hostile release would put in a page if its
// text were not escaped.
var hostileMarkup = []string{`<script>alert`, `<img src=x onerror`, `<img src=y onerror`, `href="javascript:`, `<a href="javascript`, `onload="alert`}

func TestHostileReleaseIsEscaped(t *testing.T) {
	f := newFixture(t, "")
	id := string(f.hostileID)
	for _, path := range []string{
		"/?q=" + url.QueryEscape("sanciones cártel"),
		"/?q=" + url.QueryEscape("extradición javascript"),
		"/releases/" + id,
		"/releases/" + id + "/archived",
		"/trends?q=" + url.QueryEscape(`"<script>"`),
		"/?q=" + url.QueryEscape(`<script>alert(1)</script> (`),
	} {
		t.Run(path, func(t *testing.T) {
			rec := f.get(t, path)
			body := rec.Body.String()
			for _, bad := range hostileMarkup {
				if strings.Contains(body, bad) {
					t.Errorf("the page carries %q unescaped", bad)
				}
			}
		})
	}
	rel := f.get(t, "/releases/"+id).Body.String()
	if m := missing(rel, "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;", "onerror=alert(1)&gt;", "not a web link:",
		"<code>javascript:alert(document.cookie)</code>", `<mark class="evidence`); len(m) > 0 {
		t.Errorf("the release page lacks %q\n%s", m, rel)
	}
	search := f.get(t, "/?q="+url.QueryEscape("sanciones cártel")).Body.String()
	if !strings.Contains(search, "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;") {
		t.Errorf("the search page does not show the hostile title as text:\n%s", search)
	}
}

func TestReleasePage(t *testing.T) {
	f := newFixture(t, "")
	// The newest kingpin release about an extradition: one whose kingpin
	// evidence is in the body (date order, ties broken by ID, is stable;
	// relevance ties are not).
	hits := f.get(t, "/?label=kingpin&q=extradici%C3%B3n&sort=date&size=1").Body.String()
	m := regexp.MustCompile(`href="/releases/([0-9a-f]+)"`).FindStringSubmatch(hits)
	if m == nil {
		t.Fatalf("no kingpin release:\n%s", hits)
	}
	rec := f.get(t, "/releases/"+m[1])
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("status %d\n%s", rec.Code, body)
	}
	if mis := missing(body, "Verdict: ", "label: kingpin", `<mark class="evidence evidence-kingpin"`, "Evidence by rule",
		`href="/rules#rule-`, "Rules version", "Near misses", `href="/releases/`+m[1]+`/archived"`, "version 1, fetched"); len(mis) > 0 {
		t.Errorf("the release page lacks %q\n%s", mis, body)
	}

	revised := f.get(t, "/releases/"+string(f.revisedID)).Body.String()
	if mis := missing(revised, "version 2, fetched", "Changes from version 1 to version 2", "<ins><span class=\"visually-hidden\">added: </span>Actualización"); len(mis) > 0 {
		t.Errorf("the revised release page lacks %q\n%s", mis, revised)
	}

	for _, a := range f.articles {
		if rec := f.get(t, "/releases/"+string(atalaya.NewID(a.URL))); rec.Code != 200 {
			t.Errorf("release %s: status %d", a.URL, rec.Code)
		}
	}

	for _, path := range []string{"/releases/0000", "/releases/bad%20id", "/releases/0000/archived"} {
		if rec := f.get(t, path); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "No such release") {
			t.Errorf("%s: status %d, want 404 with an explanation\n%s", path, rec.Code, rec.Body)
		}
	}
}

func TestArchivedPage(t *testing.T) {
	f := newFixture(t, "")
	id := string(f.hostileID)
	rec := f.get(t, "/releases/"+id+"/archived")
	if rec.Code != 200 {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body)
	}
	if mis := missing(rec.Body.String(), "as Atalaya fetched it on <strong>2026-04-01 12:00 UTC</strong>", "Its scripts are blocked",
		`<iframe class="archived-frame" src="/releases/`+id+`/archived/raw" sandbox`); len(mis) > 0 {
		t.Errorf("the archived page lacks %q\n%s", mis, rec.Body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'self'") || strings.Contains(csp, "script-src") {
		t.Errorf("archived page CSP %q: want frames from this server and no script", csp)
	}
	raw := f.get(t, "/releases/"+id+"/archived/raw")
	if raw.Body.String() != hostilePage {
		t.Errorf("the raw copy is not the stored page:\n%s", raw.Body)
	}
	csp := raw.Header().Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "sandbox;") || strings.Contains(csp, "allow-scripts") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("raw copy CSP %q does not sandbox the page", csp)
	}
	if ct := raw.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("raw copy Content-Type %q", ct)
	}
}

func TestArchivedContentType(t *testing.T) {
	for _, tt := range []struct{ fetched, want string }{
		{"text/html; charset=ISO-8859-1", "text/html; charset=ISO-8859-1"},
		{"text/html", "text/html; charset=utf-8"},
		{"application/javascript", "text/plain; charset=utf-8"},
		{"image/svg+xml", "text/plain; charset=utf-8"},
		{"", "text/plain; charset=utf-8"},
		{`text/html; charset="a b"`, "text/html; charset=utf-8"},
	} {
		if got := archivedContentType(tt.fetched); got != tt.want {
			t.Errorf("archivedContentType(%q) = %q, want %q", tt.fetched, got, tt.want)
		}
	}
}

func TestTrendsPage(t *testing.T) {
	f := newFixture(t, "")
	rec := f.get(t, "/trends")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("status %d\n%s", rec.Code, body)
	}
	if mis := missing(body, "<svg", "All matching releases", "United States", "Mexico", "Secretaría de Salud",
		`<g class="point">`, `/?country=MX&amp;since=2026-`, "Download these numbers as CSV", "led in"); len(mis) > 0 {
		t.Errorf("the trends page lacks %q\n%s", mis, body)
	}
	if rec := f.get(t, "/trends?q=%28"); rec.Code != 400 || !strings.Contains(rec.Body.String(), "query:1:") {
		t.Errorf("a bad query: status %d\n%s", rec.Code, rec.Body)
	}
	csv := f.get(t, "/trends.csv?country=MX")
	lines := strings.Split(strings.TrimSpace(csv.Body.String()), "\n")
	if csv.Code != 200 || lines[0] != "chart,period,kingpin,root_cause,mixed" || len(lines) < 3 {
		t.Fatalf("trends CSV: status %d\n%s", csv.Code, csv.Body)
	}
	if !strings.HasPrefix(lines[1], "All matching releases,20") || strings.Contains(csv.Body.String(), "United States") {
		t.Errorf("trends CSV for MX:\n%s", csv.Body)
	}
}

func TestRulesPage(t *testing.T) {
	f := newFixture(t, "")
	rec := f.get(t, "/rules")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	pattern := ""
	for _, r := range classify.Default().Rules() {
		if r.ID == "reward-offer" && len(r.Patterns) > 0 {
			pattern = html.EscapeString(r.Patterns[len(r.Patterns)-1])
		}
	}
	if pattern == "" {
		t.Fatal("the default rules have no reward-offer rule with patterns")
	}
	if mis := missing(body, `id="rule-reward-offer"`, "Rules version in force", pattern, "Fires on",
		"No gold file is configured"); len(mis) > 0 {
		t.Errorf("the rules page lacks %q\n%s", mis, body)
	}
	// Each rule links to the releases it fired on, with their exact count.
	res, err := f.idx.Search(context.Background(), index.Query{Text: `rule:"extradition"`})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total == 0 {
		t.Fatal("no mirror release has extradition evidence; pick another rule")
	}
	link := fmt.Sprintf(`<a href="/?q=rule%%3A%%22extradition%%22">%d</a>`, res.Total)
	if !strings.Contains(body, link) {
		t.Errorf("the rules page lacks %s", link)
	}
}

func TestRulesPageWithGold(t *testing.T) {
	f := newFixture(t, "")
	var gold []classify.GoldRelease
	for _, a := range f.articles {
		gold = append(gold, classify.GoldRelease{ID: a.URL, URL: a.URL, Language: a.Language, Title: a.Title, Body: a.Body,
			Label: classify.Label(a.Label), Relevant: a.Relevant})
	}
	rep := classify.Evaluate(classify.Default(), gold)
	h := New(Deps{Index: f.idx, Rules: classify.Default, Gold: &rep})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/rules", nil))
	body := rec.Body.String()
	if mis := missing(body, "Measured against the configured gold file: macro-F1", "On the gold file</dt><dd>fires on"); len(mis) > 0 {
		t.Errorf("the rules page lacks %q\n%s", mis, body)
	}
}

// TestIndexOnly serves the pages with nothing but the index: each page that
// lacks what it shows says so, and none fails.
func TestIndexOnly(t *testing.T) {
	f := newFixture(t, "")
	h := New(Deps{Index: f.idx})
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/?q=extradici%C3%B3n", 200, `<span id="total">`},
		{"/releases/" + string(f.revisedID), 200, "Evidence by rule"},
		{"/releases/" + string(f.revisedID) + "/archived", 404, "This server has no archive of fetched pages."},
		{"/trends", 200, "<svg"},
		{"/rules", 404, "This server was started without classification rules."},
		{"/sources", 200, "This server does not report the status of its sources."},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: status %d, want %d with %q\n%s", tt.path, rec.Code, tt.status, tt.want, rec.Body)
		}
	}
	if body := f.get(t, "/releases/"+string(f.revisedID)).Body.String(); !strings.Contains(body, "/archived") {
		t.Error("with an archive the release page does not link the archived copy")
	}
}

func TestSourcesPageAndCrawlNow(t *testing.T) {
	const token = "s3cret-token"
	f := newFixture(t, token)
	anon := f.get(t, "/sources").Body.String()
	if mis := missing(anon, "Secretaría de Seguridad y Protección Ciudadana", "The page layout seems to have changed",
		"<code>@every 30m</code>", "Recent runs", "3 new", "<td>scheduled</td><td>changed</td>", "Admin token",
		"Email digests", `<tr id="digest-daily"><td><code>daily</code>`, "<code>0 7 * * *</code>", "<td>4</td><td>17</td><td>3</td>",
		"mailbox unavailable", "&lt;script&gt;"); len(mis) > 0 {
		t.Errorf("the sources page lacks %q\n%s", mis, anon)
	}
	if strings.Contains(anon, "/crawl") {
		t.Errorf("the sources page offers a crawl without the admin token")
	}
	for _, hdr := range [][]string{{"Authorization", "Bearer " + token}, {"Cookie", adminCookie + "=" + adminSessionValue(token)}} {
		if body := f.get(t, "/sources", hdr...).Body.String(); !strings.Contains(body, `action="/sources/sre/crawl"`) {
			t.Errorf("with %s the sources page has no crawl button", hdr[0])
		}
	}
	if body := f.get(t, "/sources", "Authorization", "Bearer wrong").Body.String(); strings.Contains(body, "/crawl") {
		t.Errorf("a wrong token shows the crawl button")
	}

	post := func(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		return rec
	}
	if rec := post("/sources/sre/crawl", nil); rec.Code != 403 {
		t.Errorf("crawl without a token: status %d", rec.Code)
	}
	if rec := post("/sources/sre/crawl", nil, "Cookie", adminCookie+"="+adminSessionValue(token), "Origin", "https://evil.example"); rec.Code != 403 {
		t.Errorf("crawl from another site: status %d", rec.Code)
	}
	if rec := post("/sources/nosuch/crawl", nil, "Authorization", "Bearer "+token); rec.Code != 400 || !strings.Contains(rec.Body.String(), "no source is named") {
		t.Errorf("crawl of an unknown source: status %d\n%s", rec.Code, rec.Body)
	}
	if rec := post("/sources/sre/crawl", nil, "Cookie", adminCookie+"="+adminSessionValue(token), "Origin", "http://example.com"); rec.Code != 303 || rec.Header().Get("Location") != "/sources?crawled=sre" {
		t.Errorf("crawl: status %d, location %q", rec.Code, rec.Header().Get("Location"))
	}
	if len(f.crawler.crawled) != 1 || f.crawler.crawled[0] != "sre" {
		t.Errorf("crawls started: %v, want [sre]", f.crawler.crawled)
	}
	if rec := post("/admin/session", url.Values{"token": {"wrong"}}); rec.Code != 403 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("sign-in with a wrong token: status %d, cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	rec := post("/admin/session", url.Values{"token": {token}})
	if c := rec.Header().Get("Set-Cookie"); rec.Code != 303 || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
		t.Errorf("sign-in: status %d, cookie %q", rec.Code, c)
	}

	off := newFixture(t, "")
	req := httptest.NewRequest("POST", "/sources/sre/crawl", nil)
	req.Header.Set("Authorization", "Bearer ")
	rr := httptest.NewRecorder()
	off.handler.ServeHTTP(rr, req)
	if rr.Code != 403 || len(off.crawler.crawled) != 0 {
		t.Errorf("crawl with no token configured: status %d, crawls %v", rr.Code, off.crawler.crawled)
	}
	if body := off.get(t, "/sources").Body.String(); strings.Contains(body, "Admin token") || strings.Contains(body, "/crawl") {
		t.Errorf("with no token configured the sources page offers admin actions")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, "")
	for _, path := range []string{"/", "/?q=%28", "/releases/" + string(f.hostileID), "/releases/nosuch", "/releases/" + string(f.hostileID) + "/archived/raw",
		"/trends", "/trends.csv", "/rules", "/sources", "/nosuch", f.get(t, "/").Header().Get("X-CSS")} {
		if path == "" {
			continue
		}
		rec := f.get(t, path)
		h := rec.Header()
		if h.Get("Content-Security-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: security headers missing: %v", path, h)
		}
	}
	css := regexp.MustCompile(`href="(/static/[0-9a-f]+/style.css)"`).FindStringSubmatch(f.get(t, "/").Body.String())
	if css == nil {
		t.Fatal("no stylesheet link")
	}
	if rec := f.get(t, css[1]); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := f.get(t, "/static/0000/style.css"); rec.Code != 404 {
		t.Errorf("stylesheet of another version: status %d", rec.Code)
	}
}

// deadlineIndex is an index that records whether the searches it is asked
// for carry a deadline.
type deadlineIndex struct {
	Index
	hasDeadline bool
}

func (d *deadlineIndex) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	_, d.hasDeadline = ctx.Deadline()
	return d.Index.Search(ctx, q)
}

// TestPagesHaveADeadline checks that the work behind a page is bounded in
// time: the searches it runs get a context with a deadline.
func TestPagesHaveADeadline(t *testing.T) {
	f := newFixture(t, "")
	idx := &deadlineIndex{Index: f.idx}
	h := New(Deps{Index: idx, Archive: archiveAdapter{f.arc}, Rules: classify.Default})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?q=cartel", nil))
	if rec.Code != 200 || !idx.hasDeadline {
		t.Errorf("search page: status %d, search with a deadline %t; want 200 and a deadline", rec.Code, idx.hasDeadline)
	}
}

// busyIndex answers every search as an index too busy to take it.
type busyIndex struct{ Index }

func (busyIndex) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	return nil, fmt.Errorf("%w: waited for one of 2 searches to end: %w", index.ErrBusy, context.DeadlineExceeded)
}

// TestBusyIndexAnswers503 checks that a page whose search could not start
// before its deadline says to try again, with 503 and Retry-After.
func TestBusyIndexAnswers503(t *testing.T) {
	f := newFixture(t, "")
	h := New(Deps{Index: busyIndex{f.idx}, Archive: archiveAdapter{f.arc}, Rules: classify.Default, Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?q=cartel", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "Try again") {
		t.Errorf("status %d, Retry-After %q; want 503, 1 and a page saying to try again:\n%.300s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
}
