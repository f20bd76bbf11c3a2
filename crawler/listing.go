package crawler

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atalaya"
)

// listingPage is what a listing page says.
type listingPage struct {
	Items []Item
	// Next is the absolute URL of the next page read from the next-link
	// selector; empty when there is none or it has no href.
	Next string
}

// parseListing reads the items and next link of a listing page. Item links
// are resolved against pageURL; items without a link are skipped.
func parseListing(src Source, pageURL string, doc *goquery.Document) listingPage {
	base, err := url.Parse(pageURL)
	if err != nil {
		return listingPage{}
	}
	loc := location(src)
	l := src.Listing
	var page listingPage
	doc.Find(l.Item).Each(func(_ int, s *goquery.Selection) {
		link := s
		if l.Link != "" {
			link = s.Find(l.Link).First()
		}
		href, _ := link.Attr("href")
		abs := resolve(base, href)
		if abs == "" {
			return
		}
		it := Item{URL: abs, Title: optField(s, l.Title), Type: optField(s, l.Type), DateOrigin: atalaya.DateFromListing}
		if it.Title == "" {
			label, _ := link.Attr("aria-label")
			it.Title = atalaya.NormalizeSpace(label)
		}
		if it.Title == "" {
			it.Title = selText(link)
		}
		it.Published, it.DateRaw, _ = readDate(s, l.Date, loc)
		page.Items = append(page.Items, it)
	})
	if sel := src.Pagination.NextSelector; sel != "" {
		if href, ok := doc.Find(sel).First().Attr("href"); ok {
			page.Next = resolve(base, href)
		}
	}
	return page
}

// templatePage returns the URL of listing page index (0 = the start URL)
// under a pagination template.
func templatePage(start *url.URL, p Pagination, index int) string {
	ref := strings.ReplaceAll(p.Template, "{n}", strconv.Itoa(p.FirstNumber+index))
	return resolve(start, ref)
}

// oldest returns the earliest known date among items, zero if none.
func oldest(items []Item) time.Time {
	var t time.Time
	for _, it := range items {
		if !it.Published.IsZero() && (t.IsZero() || it.Published.Before(t)) {
			t = it.Published
		}
	}
	return t
}

// typeAllowed applies the source's type filter (case-insensitive, exact).
// An empty type passes an Include list: the article may still say it.
func typeAllowed(f TypeFilter, typ string) bool {
	for _, x := range f.Exclude {
		if strings.EqualFold(x, typ) {
			return false
		}
	}
	if len(f.Include) == 0 || typ == "" {
		return true
	}
	for _, x := range f.Include {
		if strings.EqualFold(x, typ) {
			return true
		}
	}
	return false
}

// skipPatterns are a source's compiled ItemFilter.
type skipPatterns struct {
	titles, urls []*regexp.Regexp
}

func compileSkip(f ItemFilter) (skipPatterns, error) {
	var sp skipPatterns
	for _, list := range []struct {
		name     string
		patterns []string
		out      *[]*regexp.Regexp
	}{{"title", f.Titles, &sp.titles}, {"URL", f.URLs, &sp.urls}} {
		for _, p := range list.patterns {
			if p == "" {
				return sp, fmt.Errorf("empty skip %s pattern would skip every item", list.name)
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return sp, fmt.Errorf("skip %s pattern %q: %v", list.name, p, err)
			}
			*list.out = append(*list.out, re)
		}
	}
	return sp, nil
}

// match returns the first pattern that matches the item's title or URL.
func (sp skipPatterns) match(it Item) (string, bool) {
	for _, re := range sp.titles {
		if re.MatchString(it.Title) {
			return re.String(), true
		}
	}
	for _, re := range sp.urls {
		if re.MatchString(it.URL) {
			return re.String(), true
		}
	}
	return "", false
}
