package mirror

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// normalize applies the title and body rules of expected.json: NBSP to
// space, ZWSP removed, white space collapsed, ends trimmed. (goquery has
// already decoded entities.)
func normalize(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = strings.ReplaceAll(s, "\u200b", "")
	return strings.Join(strings.Fields(s), " ")
}

func parse(t *testing.T, body []byte) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing HTML: %v", err)
	}
	return doc
}

// listingSelectors are the selectors of sources/README.md for listings.
var listingSelectors = map[string]struct{ item, title, link, typ, next string }{
	"state":    {"ul.collection-results > li.collection-result", "a.collection-result__link", "a.collection-result__link", "p.collection-result__date", "nav.pagination a.pagination__arrow--next"},
	"treasury": {"div.content--2col__body > div", "h3.featured-stories__headline a", "h3.featured-stories__headline a", "span.subcategory a", "li.pager__item--next > a"},
	"ofac":     {"div.view-content .views-row", "a", "a", "div.margin-top-1 a", "a.usa-pagination__next-page"},
	"gobmx":    {"#prensa article", "h2", "a.small-link", "span.tag-presses", "ul.pagination li.next a.next[href]"},
}

func selectorsFor(source string) string {
	switch source {
	case "state", "treasury", "ofac":
		return source
	}
	return "gobmx"
}

var (
	spanishDate = regexp.MustCompile(`(\d{1,2}) de ([a-z]+) de (\d{4})`)
	months      = map[string]time.Month{
		"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
		"septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
	}
)

// listingDate reads an item's date as documented for each site.
func listingDate(t *testing.T, source string, item *goquery.Selection) string {
	t.Helper()
	switch source {
	case "state":
		spans := item.Find(".collection-result-meta span")
		return isoDate(t, "January 2, 2006", normalize(spans.Last().Text()), nil)
	case "treasury":
		dt, _ := item.Find("time[datetime]").Attr("datetime")
		return isoDate(t, time.RFC3339, dt, newYork(t))
	case "ofac":
		date, _, _ := strings.Cut(normalize(item.Find("div.margin-top-1").Text()), " - ")
		return isoDate(t, "01/02/2006", date, nil)
	}
	dt, ok := item.Find("time").Attr("datetime")
	if !ok {
		return ""
	}
	return isoDate(t, "2006-01-02 15:04:05", dt, nil)
}

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func isoDate(t *testing.T, layout, value string, loc *time.Location) string {
	t.Helper()
	d, err := time.Parse(layout, value)
	if err != nil {
		t.Errorf("date %q: %v", value, err)
		return ""
	}
	if loc != nil {
		d = d.In(loc)
	}
	return d.Format("2006-01-02")
}

func TestListings(t *testing.T) {
	m := mustExpected(t)
	s := startServer(t, Options{})
	c := client(s)
	for _, l := range m.Listings {
		t.Run(l.URL, func(t *testing.T) {
			resp, body := get(t, c, l.URL, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			base, err := url.Parse(l.URL)
			if err != nil {
				t.Fatal(err)
			}
			sel := listingSelectors[selectorsFor(l.Source)]
			doc := parse(t, body)
			var got []ListingItem
			doc.Find(sel.item).Each(func(_ int, item *goquery.Selection) {
				href, _ := item.Find(sel.link).First().Attr("href")
				ref, err := base.Parse(href)
				if err != nil {
					t.Fatalf("item href %q: %v", href, err)
				}
				if selectorsFor(l.Source) == "gobmx" {
					if label, _ := item.Find(sel.link).Attr("aria-label"); normalize(label) != normalize(item.Find(sel.title).Text()) {
						t.Errorf("item %s: aria-label %q differs from title", href, label)
					}
				}
				status, _ := get(t, c, ref.String(), nil)
				got = append(got, ListingItem{
					URL:    ref.String(),
					Title:  normalize(item.Find(sel.title).First().Text()),
					Date:   listingDate(t, l.Source, item),
					Type:   normalize(item.Find(sel.typ).First().Text()),
					Status: status.StatusCode,
				})
			})
			want := make([]ListingItem, len(l.Items))
			for i, it := range l.Items {
				it.Disallowed = false // robots.txt is checked in TestRobots
				want[i] = it
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			next := ""
			if href, ok := doc.Find(sel.next).First().Attr("href"); ok {
				ref, err := base.Parse(href)
				if err != nil {
					t.Fatal(err)
				}
				next = ref.String()
			}
			if !sameURL(next, l.Next) {
				t.Errorf("got next %q, want %q", next, l.Next)
			}
		})
	}
}

// sameURL compares URLs with their queries in canonical order.
func sameURL(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return a == b
	}
	ua.RawQuery, ub.RawQuery = ua.Query().Encode(), ub.Query().Encode()
	return ua.String() == ub.String()
}

// extracted is what the documented article selectors read from a page.
type extracted struct {
	Title, Date, DateText, Type, Body string
	variant                           string // gob.mx meta markup: "dl" or "section"
}

func extract(t *testing.T, source string, doc *goquery.Document) extracted {
	t.Helper()
	var e extracted
	var paras *goquery.Selection
	switch selectorsFor(source) {
	case "state":
		e.Title = normalize(doc.Find("h1.featured-content__headline").Text())
		e.DateText = normalize(doc.Find("p.article-meta__publish-date").Text())
		e.Date = isoDate(t, "January 2, 2006", e.DateText, nil)
		e.Type = normalize(doc.Find("p.doctype-meta").Text())
		paras = doc.Find(".entry-content > p").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return normalize(s.Text()) != "# # #"
		})
	case "treasury":
		e.Title = normalize(doc.Find("h2.uswds-page-title span.field--name-title").Text())
		time := doc.Find("div.field--name-field-news-publication-date time[datetime]")
		dt, _ := time.Attr("datetime")
		e.Date = isoDate(t, "2006-01-02T15:04:05Z07:00", dt, newYork(t))
		e.DateText = normalize(time.Text())
		paras = doc.Find("div.field--name-field-news-body > p")
	case "ofac":
		e.Title = normalize(doc.Find("h1.uswds-page-title span.treas-page-title").Text())
		e.DateText = normalize(doc.Find("div.field--name-field-release-date .field__item").Text())
		e.Date = isoDate(t, "01/02/2006", e.DateText, nil)
		paras = doc.Find("div.field--name-field-body .field__item").Children()
	default:
		e.Title = normalize(doc.Find("h1.bottom-buffer").Text())
		if dd := doc.Find("dl dd"); dd.Length() == 3 {
			e.variant = "dl"
			e.DateText = normalize(dd.Eq(1).Text())
			e.Type = normalize(dd.Eq(2).Text())
		} else if p := doc.Find("main section p"); p.Length() > 0 {
			e.variant = "section"
			if _, date, ok := strings.Cut(normalize(p.First().Text()), " | "); ok {
				e.DateText = date
			}
		}
		e.Date = gobDate(t, e.DateText)
		paras = doc.Find("div.article-body > p")
	}
	var texts []string
	paras.Each(func(_ int, s *goquery.Selection) { texts = append(texts, normalize(s.Text())) })
	e.Body = strings.Join(texts, "\n\n")
	return e
}

func gobDate(t *testing.T, text string) string {
	t.Helper()
	if text == "" {
		return ""
	}
	if m := spanishDate.FindStringSubmatch(text); m != nil {
		month, ok := months[m[2]]
		if !ok {
			t.Errorf("date %q: unknown month %q", text, m[2])
		}
		return fmt.Sprintf("%s-%02d-%02s", m[3], month, m[1])
	}
	return isoDate(t, "January 02, 2006", text, nil)
}

func TestArticles(t *testing.T) {
	m := mustExpected(t)
	s := startServer(t, Options{})
	c := client(s)
	for _, a := range m.Articles {
		t.Run(a.URL, func(t *testing.T) {
			resp, body := get(t, c, a.URL, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			got := extract(t, a.Source, parse(t, body))
			want := extracted{Title: a.Title, Date: a.Date, DateText: a.DateText, Type: a.Type, Body: a.Body}
			switch a.Source {
			case "treasury", "ofac":
				want.Type = "" // from the listing
			}
			if got.variant == "section" {
				want.Type = "" // the "section p" meta variant names no type
			}
			got.variant = ""
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(extracted{})); diff != "" {
				t.Errorf("extracted values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpectedCoverage(t *testing.T) {
	m := mustExpected(t)
	labels := map[string]bool{"kingpin": true, "root_cause": true, "mixed": true, "neither": true}
	bySource := map[string]map[string]int{}
	linked := map[string]bool{}
	for _, l := range m.Listings {
		for _, it := range l.Items {
			linked[canonical(it.URL)] = true
		}
	}
	for _, a := range m.Articles {
		if !labels[a.Label] {
			t.Errorf("%s: unknown label %q", a.URL, a.Label)
		}
		if a.Title == "" || a.Body == "" {
			t.Errorf("%s: empty title or body", a.URL)
		}
		if !linked[a.URL] {
			t.Errorf("%s: no listing links to it", a.URL)
		}
		if bySource[a.Source] == nil {
			bySource[a.Source] = map[string]int{}
		}
		bySource[a.Source][a.Label]++
	}
	for _, source := range []string{"state", "treasury", "ofac", "sre", "presidencia", "sspc", "fgr", "salud"} {
		if len(bySource[source]) == 0 {
			t.Errorf("source %s has no articles", source)
		}
	}
}

// canonical drops gob.mx's idiom parameter.
func canonical(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	q.Del("idiom")
	pu.RawQuery = q.Encode()
	return pu.String()
}

// TestChrome checks that the traps a naive extractor falls into are on the
// pages: menus, sidebars and blocks around the release text.
func TestChrome(t *testing.T) {
	s := startServer(t, Options{})
	c := client(s)
	const (
		stateArticle    = "https://www.state.gov/releases/office-of-the-spokesperson/2026/03/narcotics-rewards-offers-for-leaders-of-the-sierra-roja-cartel/"
		treasuryArticle = "https://home.treasury.gov/news/press-releases/sb0618"
		gobArticle      = "https://www.gob.mx/salud/prensa/inicia-la-temporada-de-influenza-estacional-2025-2026?idiom=es"
	)
	tests := []struct {
		url, selector string
		wantCount     int
		wantText      string // text of the first match, if set
	}{
		{"https://www.state.gov/press-releases/", "p.collection-result__date", 4, "Public Schedule"},
		{"https://www.state.gov/press-releases/", ".collection-result-meta span:first-child:empty", 3, ""},
		{stateArticle, ".entry-content h1.featured-content__headline", 1, ""},
		{stateArticle, ".entry-content .article-meta__author-bureau", 1, "Marco Rubio, Secretary of State"},
		{stateArticle, ".entry-content .wp-block-tags-block .related-tags__pill", 2, "Mexico"},
		{stateArticle, ".entry-content .share-this-page .copy-to-clipboard", 1, "Copy Link"},
		{stateArticle, ".entry-content > p:last-of-type", 1, "# # #"},
		{stateArticle, "section.related-content li", 2, ""},
		{"https://home.treasury.gov/news/press-releases", "div.mm-news-row", 9, ""},
		{"https://home.treasury.gov/news/press-releases", "h1", 1, "U.S. Department of the Treasury"},
		{treasuryArticle, "h1", 1, "U.S. Department of the Treasury"},
		{treasuryArticle, "div.mm-news-row time.datetime", 9, ""},
		{treasuryArticle, ".latest-news .view-header", 1, "Latest News"},
		{treasuryArticle, "div.field--name-field-news-use-featured-image", 1, "Use featured image Off"},
		{treasuryArticle, ".treasury-america250-banner__target-date", 1, "July 4, 2026"},
		{"https://ofac.treasury.gov/recent-actions/20260224_33", "div.field--name-field-press-release-link a", 1, "Treasury Designates Fuel Theft Network of the Frente Costero Criminal Group"},
		{gobArticle, ".font-changer", 1, "Aa+ Aa-"},
		{gobArticle, "div.print button", 3, "Aa+"}, // the font changer has class "print" too
		{gobArticle, "div.print:not(.font-changer) button", 1, "Imprime la página completa"},
		{gobArticle, "div.print:not(.font-changer) p", 1, "La legalidad, veracidad y la calidad de la información es estricta responsabilidad de la dependencia, entidad o empresa productiva del Estado que la proporcionó en virtud de sus atribuciones y/o facultades normativas."},
		{gobArticle, "h1", 1, "Inicia la temporada de influenza estacional 2025-2026"},
		{"https://www.gob.mx/sspc/archivo/prensa?order=DESC&page=2", "li.next.disabled > a.next.disabled:not([href])", 1, ""},
		{"https://www.gob.mx/sspc/archivo/prensa", "h1.sr-only", 1, "Prensa"},
	}
	for _, tt := range tests {
		t.Run(tt.url+" "+tt.selector, func(t *testing.T) {
			_, body := get(t, c, tt.url, nil)
			sel := parse(t, body).Find(tt.selector)
			if sel.Length() != tt.wantCount {
				t.Errorf("got %d matches, want %d", sel.Length(), tt.wantCount)
			}
			if got := normalize(sel.First().Text()); tt.wantText != "" && got != tt.wantText {
				t.Errorf("got text %q, want %q", got, tt.wantText)
			}
		})
	}
}
