package crawler

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"atalaya"
)

func TestParseDate(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	mx, _ := time.LoadLocation("America/Mexico_City")
	tests := []struct {
		raw     string
		layouts []string
		loc     *time.Location
		want    string // ISO date, "" for an error
	}{
		{"December 16, 2025", []string{"January 2, 2006"}, ny, "2025-12-16"},
		{"  January\u00a015,  2026 ", []string{"January 2, 2006"}, ny, "2026-01-15"},
		{"2026-06-04T14:15:00Z", []string{time.RFC3339}, ny, "2026-06-04"},
		{"2026-06-05T02:30:00Z", []string{time.RFC3339}, ny, "2026-06-04"},
		{"Fri, 05 Jun 2026 00:30:00 +0000", []string{time.RFC1123Z}, ny, "2026-06-04"},
		{"08/14/2025", []string{"01/02/2006"}, ny, "2025-08-14"},
		{"2025-11-25 23:21:00", []string{"2006-01-02 15:04:05"}, mx, "2025-11-25"},
		{"14 de diciembre de 2021", []string{"02 de January de 2006"}, mx, "2021-12-14"},
		{"martes, 14 de diciembre de 2021", []string{"02 de January de 2006"}, mx, "2021-12-14"},
		{"1 de Setiembre de 2024", []string{"02 de January de 2006"}, mx, "2024-09-01"},
		{"miércoles, 05 de marzo de 2025", []string{"Monday, 02 de January de 2006"}, mx, "2025-03-05"},
		{"October 03, 2024", []string{"02 de January de 2006", "January 02, 2006"}, mx, "2024-10-03"},
		{"Dec. 14, 2021", []string{"January 2, 2006"}, ny, "2021-12-14"},
		{"Dec 14, 2021", []string{"January 2, 2006"}, ny, "2021-12-14"},
		{"Sept. 9, 2021", []string{"January 2, 2006"}, ny, "2021-09-09"},
		{"Tuesday, December 14, 2021", []string{"January 2, 2006"}, ny, "2021-12-14"},
		{"Tue., Dec. 14, 2021", []string{"January 2, 2006"}, ny, "2021-12-14"},
		{"14 de diciembre de 2021 | Comunicado", []string{"02 de January de 2006"}, mx, "2021-12-14"},
		{"Presidencia de la República | 02 de marzo de 2026", []string{"02 de January de 2006"}, mx, "2026-03-02"},
		{"18 de setiembre de 2025", []string{"02 de January de 2006"}, mx, "2025-09-18"},
		{"viernes 18 de septiembre de 2025", []string{"02 de January de 2006"}, mx, "2025-09-18"},
		{"Dec. 14, 2021 | extra | 2", []string{"02 de January de 2006"}, mx, ""},
		{"sometime soon", []string{"January 2, 2006"}, ny, ""},
		{"", []string{"January 2, 2006"}, ny, ""},
		{"December 16, 2025", nil, ny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseDate(tt.raw, tt.layouts, tt.loc)
			if tt.want == "" {
				if err == nil {
					t.Errorf("ParseDate(%q) = %v, want an error", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.raw, err)
			}
			if got.Format(time.DateOnly) != tt.want || got.Location() != tt.loc || got.Hour() != 0 {
				t.Errorf("ParseDate(%q) = %v, want midnight of %s in %s", tt.raw, got, tt.want, tt.loc)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want, legacy string }{
		{"https://www.state.gov/releases/x/2025/12/slug/", "https://www.state.gov/releases/x/2025/12/slug/", "https://www.state.gov/releases/x/2025/12/slug"},
		{"https://www.state.gov/releases/x/2025/12/slug", "https://www.state.gov/releases/x/2025/12/slug", "https://www.state.gov/releases/x/2025/12/slug"},
		{"HTTPS://WWW.GOB.MX:443/sre/prensa/abc?idiom=es", "https://www.gob.mx/sre/prensa/abc", "https://www.gob.mx/sre/prensa/abc"},
		{"https://www.gob.mx/sre/prensa/abc?idiom=es-MX#top", "https://www.gob.mx/sre/prensa/abc", "https://www.gob.mx/sre/prensa/abc"},
		{"https://home.treasury.gov/news/press-releases?page=1&utm_source=x", "https://home.treasury.gov/news/press-releases?page=1", "https://home.treasury.gov/news/press-releases?page=1"},
		{"https://www.gob.mx/x?order=DESC&page=2", "https://www.gob.mx/x?order=DESC&page=2", "https://www.gob.mx/x?order=DESC&page=2"},
		{"https://www.gob.mx/x?page=2&order=DESC", "https://www.gob.mx/x?page=2&order=DESC", "https://www.gob.mx/x?order=DESC&page=2"},
		{"https://www.gob.mx/x?page=2&utm_medium=a&q=a%20b", "https://www.gob.mx/x?page=2&q=a%20b", "https://www.gob.mx/x?page=2&q=a+b"},
		{"https://example.org", "https://example.org/", "https://example.org/"},
		{"http://Example.org:80/A/", "http://example.org/A/", "http://example.org/A"},
		{" not a url ", "not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := Canonical(tt.in); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := LegacyCanonical(tt.in); got != tt.legacy {
			t.Errorf("LegacyCanonical(%q) = %q, want %q", tt.in, got, tt.legacy)
		}
	}
}

func TestParseFeed(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	src := Source{Location: ny}
	tests := []struct {
		name string
		body string
		want []Item
	}{
		{
			name: "rss",
			body: `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
<item><title>Harbor Notice &#8211; Spring</title><link>https://news.example/a/1/</link>
<guid isPermaLink="false">https://news.example/preview/9/</guid><pubDate>Fri, 05 Jun 2026 00:30:00 +0000</pubDate><category>Notice</category></item>
</channel></rss>`,
			want: []Item{{URL: "https://news.example/a/1/", Title: "Harbor Notice – Spring", Type: "Notice",
				DateRaw: "Fri, 05 Jun 2026 00:30:00 +0000", Published: time.Date(2026, 6, 4, 0, 0, 0, 0, ny), DateOrigin: atalaya.DateFromFeed}},
		},
		{
			name: "atom",
			body: `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>Port Update</title><link rel="self" href="/self"/><link href="/b/2"/><published>2026-03-02T15:00:00Z</published></entry></feed>`,
			want: []Item{{URL: "https://news.example/b/2", Title: "Port Update", DateRaw: "2026-03-02T15:00:00Z",
				Published: time.Date(2026, 3, 2, 0, 0, 0, 0, ny), DateOrigin: atalaya.DateFromFeed}},
		},
		{
			name: "latin-1 rss",
			body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><item><title>Reuni\xf3n</title><link>https://news.example/c</link></item></channel></rss>",
			want: []Item{{URL: "https://news.example/c", Title: "Reunión", DateOrigin: atalaya.DateFromFeed}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFeed(src, "https://news.example/feed/", []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseFeed(src, "https://news.example/feed/", []byte("<html><body>no</body></html>")); err == nil {
		t.Errorf("parseFeed(html) succeeded, want an error")
	}
}

func TestTypeAllowed(t *testing.T) {
	f := TypeFilter{Include: []string{"Press Statement", "Media Note"}, Exclude: []string{"public schedule"}}
	tests := []struct {
		typ  string
		want bool
	}{
		{"press statement", true}, {"Media Note", true}, {"Readout", false}, {"Public Schedule", false}, {"", true},
	}
	for _, tt := range tests {
		if got := typeAllowed(f, tt.typ); got != tt.want {
			t.Errorf("typeAllowed(%q) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

func TestExtractFallbacks(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	src := siteSource("http://news.example")
	page := atalaya.Page{URL: "http://news.example/a/1?idiom=en", Body: []byte(`<html><body><article><div class="body"><p>Only text.</p></div></article></body></html>`)}
	tests := []struct {
		name       string
		hint       Item
		wantTitle  string
		wantOrigin atalaya.DateOrigin
		wantDate   string
	}{
		{"listing", Item{Title: "From Listing", Published: time.Date(2026, 3, 1, 0, 0, 0, 0, ny), DateRaw: "March 1, 2026"}, "From Listing", atalaya.DateFromListing, "2026-03-01"},
		{"feed", Item{Title: "From Feed", Published: time.Date(2026, 3, 1, 0, 0, 0, 0, ny), DateOrigin: atalaya.DateFromFeed}, "From Feed", atalaya.DateFromFeed, "2026-03-01"},
		{"nothing", Item{}, "", atalaya.DateMissing, "0001-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel, err := Extract(src, page, tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Title != tt.wantTitle || rel.DateOrigin != tt.wantOrigin || rel.Published.Format(time.DateOnly) != tt.wantDate {
				t.Errorf("got title %q, %s date %s; want %q, %s %s", rel.Title, rel.DateOrigin, rel.Published.Format(time.DateOnly), tt.wantTitle, tt.wantOrigin, tt.wantDate)
			}
			if rel.URL != "http://news.example/a/1" || rel.Body != "Only text." {
				t.Errorf("url %q body %q", rel.URL, rel.Body)
			}
		})
	}
	src.Article.Required = []string{"article h1"}
	if _, err := Extract(src, page, Item{}); err == nil || !strings.Contains(err.Error(), "article h1") {
		t.Errorf("Extract without the required selector: err = %v, want ErrNoMatch naming it", err)
	}
}

// fuzzSource is a source whose Exclude and Stop rules FuzzExtract checks.
func fuzzSource() Source {
	src := siteSource("http://news.example")
	src.Article.Exclude = []string{".share", "nav"}
	src.Article.Stop = []string{"- END -"}
	return src
}

func FuzzExtract(f *testing.F) {
	for _, name := range []string{"article.html", "malformed.html", "latin1.html", "invalid-utf8.html", "nodate.html"} {
		b, err := os.ReadFile(filepath.Join("testdata", "site", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<article><div class="body"><p>a<div class="share">SHARE-ME</div>b</p><nav>NAV-ME</nav></div></article>`))
	f.Add([]byte("<article><div class=\"body\"><p>\xff\xfe<script>x</script>- END -</p></div></article>"))
	src := fuzzSource()
	f.Fuzz(func(t *testing.T, body []byte) {
		page := atalaya.Page{URL: "http://news.example/a/1", Body: body, Header: http.Header{}}
		rel, err := Extract(src, page, Item{Title: "hint"})
		if err != nil {
			return
		}
		for _, s := range []string{rel.Title, rel.Body, rel.Type, rel.PublishedRaw} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		if strings.Contains(rel.Body, "- END -") {
			t.Errorf("body %q contains the stop marker", rel.Body)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(decodeBody(body, "")))
		if err != nil {
			t.Fatal(err)
		}
		for _, marker := range []string{"SHARE-ME", "NAV-ME"} {
			if onlyInside(doc, marker, strings.Join(src.Article.Exclude, ", ")) && strings.Contains(rel.Body, marker) {
				t.Errorf("body %q contains %q, found only in excluded elements", rel.Body, marker)
			}
		}
		for _, p := range strings.Split(rel.Body, "\n\n") {
			if rel.Body != "" && p != atalaya.NormalizeSpace(p) {
				t.Errorf("paragraph %q is not normalised", p)
			}
		}
	})
}

// onlyInside reports whether every text node of doc that contains marker,
// and no text spanning nodes, lies inside an element matching sel.
func onlyInside(doc *goquery.Document, marker, sel string) bool {
	excluded := map[*html.Node]bool{}
	for _, n := range doc.Find(sel).Nodes {
		excluded[n] = true
	}
	ok := true
	var walk func(n *html.Node, inside bool)
	walk = func(n *html.Node, inside bool) {
		inside = inside || excluded[n]
		if n.Type == html.TextNode && strings.Contains(n.Data, marker) && !inside {
			ok = false
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inside)
		}
	}
	walk(doc.Get(0), false)
	// A marker assembled from several text nodes is not attributable.
	return ok && !strings.Contains(strings.ReplaceAll(doc.Text(), marker, ""), marker)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}
