package mirror

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Manifest is what a correct crawler finds in the mirror: every article
// with its extracted fields, every listing page with its items in order,
// and the feeds.
type Manifest struct {
	Articles []Article `json:"articles"`
	Listings []Listing `json:"listings"`
	Feeds    []Feed    `json:"feeds"`
}

// Article is one release page and the values a crawler should extract
// from it.
type Article struct {
	Source string `json:"source"` // state, treasury, ofac, sre, presidencia, sspc, fgr, salud
	Host   string `json:"host"`
	Path   string `json:"path"` // path served, without query
	// URL is the canonical URL: state.gov with its trailing slash, gob.mx
	// without the idiom parameter.
	URL string `json:"url"`
	// Title is normalised: entities decoded, NBSP replaced by a space, ZWSP
	// removed, white space collapsed and trimmed.
	Title string `json:"title"`
	// Date is the ISO 8601 calendar date of publication in the site's time
	// zone (America/New_York for US sites, America/Mexico_City for gob.mx);
	// empty for a release dated nowhere.
	Date string `json:"date"`
	// DateText is the date as the article page writes it, if it does.
	DateText string `json:"date_text"`
	Type     string `json:"type"`     // release type as the site names it; empty if none
	Language string `json:"language"` // "en" or "es"
	// Body is the release text without chrome: paragraphs normalised like
	// Title and separated by "\n\n".
	Body     string `json:"body"`
	Label    string `json:"label"` // kingpin, root_cause, mixed or neither (labeling guide)
	Relevant bool   `json:"relevant"`
}

// Listing is one listing page.
type Listing struct {
	Source string `json:"source"`
	// URL is the listing page's absolute URL as a crawler reaches it.
	URL   string        `json:"url"`
	Items []ListingItem `json:"items"`
	// Next is the absolute URL of the next listing page; empty on the last.
	Next string `json:"next"`
}

// ListingItem is one item of a listing page.
type ListingItem struct {
	// URL is the item's link resolved against the listing URL, as written
	// (gob.mx links keep their idiom parameter).
	URL   string `json:"url"`
	Title string `json:"title"`
	Date  string `json:"date"` // ISO 8601 in the site's time zone; empty if the item shows none
	Type  string `json:"type"`
	// Status is what the mirror answers for URL: 200, or 404 for the
	// deliberately missing pages.
	Status int `json:"status"`
	// Disallowed reports whether the site's robots.txt forbids URL.
	Disallowed bool `json:"disallowed,omitempty"`
}

// Feed is one RSS feed.
type Feed struct {
	Source string     `json:"source"`
	URL    string     `json:"url"`
	Items  []FeedItem `json:"items"`
}

// FeedItem is one feed item.
type FeedItem struct {
	URL   string `json:"url"` // the item's link (not its guid)
	Title string `json:"title"`
	// Date is the pubDate's calendar date in the site's time zone.
	Date    string `json:"date"`
	PubDate string `json:"pub_date"` // as written, RFC 1123 with +0000
}

// Expected returns the expected values of the embedded mirror.
func Expected() (*Manifest, error) {
	data, err := siteFS.ReadFile("site/expected.json")
	if err != nil {
		return nil, fmt.Errorf("mirror: reading expected values: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mirror: decoding expected values: %w", err)
	}
	return &m, nil
}
