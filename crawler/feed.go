package crawler

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"atalaya"
)

// feedDoc holds the parts of an RSS 2.0 or Atom document the crawler reads.
type feedDoc struct {
	XMLName xml.Name
	// RSS 2.0
	Items []rssItem `xml:"channel>item"`
	// Atom
	Entries []atomEntry `xml:"entry"`
}

type rssItem struct {
	Title      string   `xml:"title"`
	Link       string   `xml:"link"`
	PubDate    string   `xml:"pubDate"`
	Categories []string `xml:"category"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	Links     []atomLink `xml:"link"`
	Published string     `xml:"published"`
	Updated   string     `xml:"updated"`
	Category  []struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
}

// feedDateLayouts are the date forms feeds use: RFC 1123 with numeric or
// named zones (RSS) and RFC 3339 (Atom).
var feedDateLayouts = []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700", time.RFC3339}

// parseFeed reads the items of an RSS 2.0 or Atom feed. Links are the
// item's <link> (never the guid, which on state.gov is a preview URL),
// resolved against feedURL; dates are converted to the source's zone.
func parseFeed(src Source, feedURL string, body []byte) ([]Item, error) {
	var doc feedDoc
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = charset.NewReaderLabel
	dec.Strict = false
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("crawler: parsing feed %s: %w", feedURL, err)
	}
	base, err := url.Parse(feedURL)
	if err != nil {
		return nil, fmt.Errorf("crawler: parsing feed %s: %w", feedURL, err)
	}
	loc := location(src)
	switch strings.ToLower(doc.XMLName.Local) {
	case "rss":
		items := make([]Item, 0, len(doc.Items))
		for _, it := range doc.Items {
			items = append(items, feedItem(base, it.Link, it.Title, first(it.Categories), it.PubDate, loc))
		}
		return items, nil
	case "feed":
		items := make([]Item, 0, len(doc.Entries))
		for _, e := range doc.Entries {
			date := e.Published
			if date == "" {
				date = e.Updated
			}
			typ := ""
			if len(e.Category) > 0 {
				typ = e.Category[0].Term
			}
			items = append(items, feedItem(base, atomHref(e.Links), e.Title, typ, date, loc))
		}
		return items, nil
	}
	return nil, fmt.Errorf("crawler: parsing feed %s: %w: root element <%s>", feedURL, ErrNotFeed, doc.XMLName.Local)
}

func feedItem(base *url.URL, link, title, typ, date string, loc *time.Location) Item {
	it := Item{
		URL:        resolve(base, link),
		Title:      atalaya.NormalizeSpace(html.UnescapeString(title)),
		Type:       atalaya.NormalizeSpace(typ),
		DateRaw:    strings.TrimSpace(date),
		DateOrigin: atalaya.DateFromFeed,
	}
	if t, err := ParseDate(date, feedDateLayouts, loc); err == nil {
		it.Published = t
	}
	return it
}

// atomHref returns the alternate link of an Atom entry.
func atomHref(links []atomLink) string {
	for _, l := range links {
		if l.Rel == "" || l.Rel == "alternate" {
			return l.Href
		}
	}
	return ""
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
