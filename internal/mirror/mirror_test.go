package mirror

import (
	"encoding/xml"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startServer starts a mirror for one test.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func client(s *Server) *http.Client {
	return &http.Client{
		Transport: s.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// get fetches rawURL through the mirror and returns the response with its body.
func get(t *testing.T, c *http.Client, rawURL string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", rawURL, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", rawURL, err)
	}
	return resp, body
}

func mustExpected(t *testing.T) *Manifest {
	t.Helper()
	m, err := Expected()
	if err != nil {
		t.Fatalf("Expected: %v", err)
	}
	return m
}

func TestRouting(t *testing.T) {
	s := startServer(t, Options{})
	c := client(s)
	tests := []struct {
		name       string
		url        string
		wantStatus int
		wantType   string
		wantIn     string // a string the body must contain
	}{
		{"state listing", "https://www.state.gov/press-releases/", 200, "text/html; charset=UTF-8", "collection-result"},
		{"state page 3", "https://www.state.gov/press-releases/page/3/", 200, "text/html; charset=UTF-8", "collection-result"},
		{"state page past the end", "https://www.state.gov/press-releases/page/9/", 404, "", ""},
		{"state ?page= does not paginate", "https://www.state.gov/press-releases/?page=2", 200, "text/html; charset=UTF-8", `aria-current="page">1<`},
		{"state path without slash", "https://www.state.gov/press-releases", 404, "", ""},
		{"state feed", "https://www.state.gov/rss-feed/press-releases/feed/", 200, "application/rss+xml; charset=UTF-8", "<rss"},
		{"state robots", "https://www.state.gov/robots.txt", 200, "text/plain; charset=UTF-8", "Crawl-delay: 5"},
		{"plain http", "http://www.state.gov/press-releases/", 200, "text/html; charset=UTF-8", "collection-result"},
		{"treasury page 0", "https://home.treasury.gov/news/press-releases?page=0", 200, "text/html; charset=UTF-8", "content--2col__body"},
		{"treasury robots", "https://home.treasury.gov/robots.txt", 200, "text/plain; charset=UTF-8", "User-agent: *"},
		{"ofac listing", "https://ofac.treasury.gov/recent-actions", 200, "text/html; charset=UTF-8", "views-row"},
		{"gob.mx page 1 by query", "https://www.gob.mx/sre/archivo/prensa?order=DESC&page=1", 200, "text/html; charset=utf-8", `<li class="active"><a class="active">1</a>`},
		{"gob.mx query order", "https://www.gob.mx/sre/archivo/prensa?page=2&order=DESC", 200, "text/html; charset=utf-8", `<li class="active"><a class="active">2</a>`},
		{"gob.mx english listing", "https://www.gob.mx/sre/es/archivo/prensa?idiom=en", 200, "text/html; charset=utf-8", "continue reading"},
		{"gob.mx no robots", "https://www.gob.mx/robots.txt", 404, "", ""},
		{"unknown host", "https://www.example.com/press-releases/", 404, "", ""},
		{"host with port", "https://www.state.gov:443/press-releases/", 200, "text/html; charset=UTF-8", "collection-result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, c, tt.url, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("GET %s: got status %d, want %d", tt.url, resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("GET %s: got Content-Type %q, want %q", tt.url, got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantIn) {
				t.Errorf("GET %s: body does not contain %q", tt.url, tt.wantIn)
			}
		})
	}
}

func TestTransportKeepsRequest(t *testing.T) {
	s := startServer(t, Options{})
	const u = "https://www.gob.mx/sre/archivo/prensa?order=DESC&page=2"
	resp, _ := get(t, client(s), u, nil)
	if got := resp.Request.URL.String(); got != u {
		t.Errorf("response.Request.URL: got %q, want %q", got, u)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d logged requests, want 1", len(reqs))
	}
	want := Request{Method: "GET", Host: "www.gob.mx", Path: "/sre/archivo/prensa", Query: "order=DESC&page=2", Status: 200}
	got := reqs[0]
	if got.Time.IsZero() {
		t.Errorf("logged request has a zero Time")
	}
	got.Time, got.Header = time.Time{}, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logged request mismatch (-want +got):\n%s", diff)
	}
}

func TestRequestLogHeaders(t *testing.T) {
	s := startServer(t, Options{})
	h := http.Header{
		"User-Agent":      {"atalaya-test/1.0"},
		"Accept":          {"text/html"},
		"Accept-Language": {"es-MX"},
	}
	get(t, client(s), "https://www.state.gov/robots.txt", h)
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d logged requests, want 1", len(reqs))
	}
	want := http.Header{"User-Agent": {"atalaya-test/1.0"}, "Accept": {"text/html"}}
	if diff := cmp.Diff(want, reqs[0].Header); diff != "" {
		t.Errorf("logged headers mismatch (-want +got):\n%s", diff)
	}
}

func TestConditionalRequests(t *testing.T) {
	s := startServer(t, Options{})
	c := client(s)
	const u = "https://home.treasury.gov/news/press-releases"
	first, body := get(t, c, u, nil)
	etag, lastMod := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("GET %s: got ETag %q and Last-Modified %q, want both set", u, etag, lastMod)
	}
	modified, err := http.ParseTime(lastMod)
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", lastMod, err)
	}
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"matching etag", http.Header{"If-None-Match": {etag}}, 304},
		{"etag in a list", http.Header{"If-None-Match": {`"other", ` + etag}}, 304},
		{"weak etag", http.Header{"If-None-Match": {"W/" + etag}}, 304},
		{"other etag", http.Header{"If-None-Match": {`"0000"`}}, 200},
		{"other etag wins over date", http.Header{"If-None-Match": {`"0000"`}, "If-Modified-Since": {lastMod}}, 200},
		{"same date", http.Header{"If-Modified-Since": {lastMod}}, 304},
		{"later date", http.Header{"If-Modified-Since": {modified.Add(time.Hour).Format(http.TimeFormat)}}, 304},
		{"earlier date", http.Header{"If-Modified-Since": {modified.Add(-time.Hour).Format(http.TimeFormat)}}, 200},
		{"unconditional", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := get(t, c, u, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 304 && len(got) != 0 {
				t.Errorf("304 response has a %d-byte body", len(got))
			}
			if tt.want == 200 && string(got) != string(body) {
				t.Errorf("200 response body differs from the first fetch")
			}
			if e := resp.Header.Get("ETag"); e != etag {
				t.Errorf("got ETag %q, want %q", e, etag)
			}
		})
	}
}

func TestValidatorsAreStable(t *testing.T) {
	a, b := startServer(t, Options{}), startServer(t, Options{})
	const u = "https://www.gob.mx/fgr/archivo/prensa"
	ra, _ := get(t, client(a), u, nil)
	rb, _ := get(t, client(b), u, nil)
	for _, k := range []string{"ETag", "Last-Modified"} {
		if ra.Header.Get(k) != rb.Header.Get(k) {
			t.Errorf("%s differs between servers: %q and %q", k, ra.Header.Get(k), rb.Header.Get(k))
		}
	}
}

func TestNoValidators(t *testing.T) {
	s := startServer(t, Options{NoValidators: true})
	resp, _ := get(t, client(s), "https://www.state.gov/press-releases/", http.Header{"If-None-Match": {"*"}})
	if resp.StatusCode != 200 {
		t.Errorf("got status %d, want 200", resp.StatusCode)
	}
	for _, k := range []string{"ETag", "Last-Modified"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("got %s %q, want none", k, v)
		}
	}
}

func TestBlocked(t *testing.T) {
	s := startServer(t, Options{Blocked: map[string]int{HostState: 403, HostGobMX: 200, HostTreasury: 200}})
	c := client(s)
	tests := []struct {
		url        string
		wantStatus int
		wantMarker string
	}{
		{"https://www.state.gov/press-releases/", 403, "Technical Difficulties"},
		{"https://www.state.gov/robots.txt", 403, "Technical Difficulties"},
		{"https://www.state.gov/rss-feed/press-releases/feed/", 403, "Technical Difficulties"},
		{"https://www.gob.mx/sre/archivo/prensa", 200, "Challenge Validation"},
		{"https://home.treasury.gov/news/press-releases", 200, "Technical Difficulties"},
		{"https://ofac.treasury.gov/recent-actions", 200, "views-row"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			resp, body := get(t, c, tt.url, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !strings.Contains(string(body), tt.wantMarker) {
				t.Errorf("body does not contain %q", tt.wantMarker)
			}
			if strings.Contains(tt.wantMarker, "Technical") || strings.Contains(tt.wantMarker, "Challenge") {
				if strings.Contains(string(body), "collection-result") || strings.Contains(string(body), `id="prensa"`) {
					t.Errorf("blocked page contains listing markup")
				}
			}
		})
	}
}

func TestStatusOverride(t *testing.T) {
	s := startServer(t, Options{Status: map[string]int{"www.gob.mx/sspc/archivo/prensa": 503}})
	c := client(s)
	if resp, _ := get(t, c, "https://www.gob.mx/sspc/archivo/prensa?order=DESC&page=2", nil); resp.StatusCode != 503 {
		t.Errorf("overridden page: got status %d, want 503", resp.StatusCode)
	}
	if resp, _ := get(t, c, "https://www.gob.mx/sre/archivo/prensa", nil); resp.StatusCode != 200 {
		t.Errorf("other page: got status %d, want 200", resp.StatusCode)
	}
}

func TestScriptVariant(t *testing.T) {
	s := startServer(t, Options{ScriptVariant: true})
	c := client(s)
	const u = "https://www.gob.mx/sre/archivo/prensa"
	resp, body := get(t, c, u, http.Header{"Accept": {"*/*"}})
	if got := resp.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("Accept */*: got Content-Type %q, want text/javascript", got)
	}
	if !strings.Contains(string(body), `<time datetime=\"`) {
		t.Errorf("Accept */*: body has no escaped markup")
	}
	resp, _ = get(t, c, u, http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}})
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("browser Accept: got Content-Type %q, want text/html", got)
	}
}

func TestHandlerDirect(t *testing.T) {
	s := startServer(t, Options{})
	req, err := http.NewRequest(http.MethodHead, s.URL()+"/press-releases/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = HostState
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HEAD: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength <= 0 {
		t.Errorf("HEAD with Host %s: got status %d, length %d; want 200 and a length", HostState, resp.StatusCode, resp.ContentLength)
	}
}

// rss is the part of an RSS 2.0 document the tests read.
type rss struct {
	Items []struct {
		Title   string `xml:"title"`
		Link    string `xml:"link"`
		PubDate string `xml:"pubDate"`
		GUID    struct {
			IsPermaLink string `xml:"isPermaLink,attr"`
			Value       string `xml:",chardata"`
		} `xml:"guid"`
	} `xml:"channel>item"`
}

func TestFeeds(t *testing.T) {
	m := mustExpected(t)
	s := startServer(t, Options{})
	c := client(s)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Feeds {
		t.Run(f.URL, func(t *testing.T) {
			_, body := get(t, c, f.URL, nil)
			var doc rss
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("parsing feed: %v", err)
			}
			var got []FeedItem
			nextDay := false
			for _, it := range doc.Items {
				pub, err := time.Parse(time.RFC1123Z, it.PubDate)
				if err != nil {
					t.Fatalf("pubDate %q: %v", it.PubDate, err)
				}
				if !strings.HasSuffix(it.PubDate, "+0000") {
					t.Errorf("pubDate %q is not in +0000", it.PubDate)
				}
				if it.GUID.IsPermaLink != "false" || !strings.HasPrefix(it.GUID.Value, "https://www.state.gov/releases/preview/") {
					t.Errorf("item %s: got guid %q (isPermaLink=%q), want a preview URL", it.Link, it.GUID.Value, it.GUID.IsPermaLink)
				}
				local := pub.In(ny).Format("2006-01-02")
				nextDay = nextDay || local != pub.UTC().Format("2006-01-02")
				got = append(got, FeedItem{URL: it.Link, Title: normalize(it.Title), Date: local, PubDate: it.PubDate})
			}
			if diff := cmp.Diff(f.Items, got); diff != "" {
				t.Errorf("feed items mismatch (-want +got):\n%s", diff)
			}
			if !nextDay {
				t.Errorf("no item has a UTC date different from its New York date")
			}
		})
	}
}

func TestRobots(t *testing.T) {
	m := mustExpected(t)
	s := startServer(t, Options{})
	_, robots := get(t, client(s), "https://www.state.gov/robots.txt", nil)
	var disallow []string
	for _, line := range strings.Split(string(robots), "\n") {
		if p, ok := strings.CutPrefix(line, "Disallow:"); ok && strings.TrimSpace(p) != "" {
			disallow = append(disallow, strings.TrimSpace(p))
		}
	}
	disallowed := func(u string) bool {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range disallow {
			if strings.HasPrefix(pu.Path, p) {
				return true
			}
		}
		return false
	}
	n := 0
	for _, l := range m.Listings {
		for _, it := range l.Items {
			if l.Source == "state" && it.Disallowed != disallowed(it.URL) {
				t.Errorf("%s: Disallowed is %v, but robots.txt says %v", it.URL, it.Disallowed, !it.Disallowed)
			}
			if it.Disallowed {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("got %d disallowed listing items, want 1", n)
	}
	for _, a := range m.Articles {
		if a.Host == HostState && disallowed(a.URL) {
			t.Errorf("article %s is disallowed by robots.txt", a.URL)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestGeneratedFilesUpToDate regenerates the sites into a temporary
// directory and compares them with the embedded files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	dir := t.TempDir()
	out, err := exec.Command("go", "run", "gen.go", "-out", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	want := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		want["site/"+filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = fs.WalkDir(siteFS, "site", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "site/blocked/") {
			return err
		}
		data, err := siteFS.ReadFile(p)
		got[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s is stale or missing; run go generate", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is not generated any more; run go generate", name)
		}
	}
}
