package atalaya

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// SourceID names a configured source, such as "state" or "sre".
type SourceID string

// Country is an ISO 3166-1 alpha-2 code: "US" or "MX".
type Country string

// Language is an ISO 639-1 code: "en" or "es".
type Language string

// The countries and languages Atalaya knows.
const (
	US Country = "US"
	MX Country = "MX"

	English Language = "en"
	Spanish Language = "es"
)

// Source is what every layer knows of a configured source: its name, the
// agency that publishes it, and the country and language of its releases.
type Source struct {
	ID       SourceID
	Agency   string
	Country  Country
	Language Language
}

// ID identifies a release. It is derived from the canonical URL by [NewID],
// so the same release always gets the same ID.
type ID string

// NewID returns the ID of the release at canonicalURL: the first 16 bytes of
// its SHA-256, in hex.
func NewID(canonicalURL string) ID {
	sum := sha256.Sum256([]byte(canonicalURL))
	return ID(hex.EncodeToString(sum[:16]))
}

// DateOrigin says where a release's publication date was read.
type DateOrigin string

// Where a publication date can come from. DateMissing flags a release whose
// date could not be read anywhere; it is kept, never dropped.
const (
	DateFromArticle DateOrigin = "article"
	DateFromListing DateOrigin = "listing"
	DateFromFeed    DateOrigin = "feed"
	DateMissing     DateOrigin = "missing"
)

// Release is one press release as extracted from its page.
type Release struct {
	ID       ID
	URL      string // canonical URL: resolved, without tracking or language parameters
	Source   SourceID
	Agency   string
	Country  Country
	Language Language
	Type     string // release type as the site names it ("Press Statement", "Comunicado"), if any
	Title    string
	// Published is the publication date at midnight in the source's time
	// zone; zero when DateOrigin is DateMissing.
	Published    time.Time
	PublishedRaw string // the date text as the site wrote it
	DateOrigin   DateOrigin
	Body         string // plain text; paragraphs separated by a blank line
	FetchedAt    time.Time
	Hash         string // ContentHash of Title, Published and Body
	Version      int    // 1 for the first archived version, then 2, 3, … on revision
}

// ContentHash returns the hex SHA-256 of what makes a release's content: its
// title, publication date and body. Two fetches of an unchanged release give
// the same hash.
func ContentHash(title string, published time.Time, body string) string {
	h := sha256.New()
	date := ""
	if !published.IsZero() {
		date = published.Format("2006-01-02")
	}
	for _, s := range []string{title, date, body} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Page is one HTTP response as fetched: the raw material the archive keeps so
// that everything downstream can be rebuilt without the network.
type Page struct {
	URL       string // the URL requested, after redirects
	Status    int
	Header    http.Header
	Body      []byte
	FetchedAt time.Time
}

// IssueKind classifies a source-health problem.
type IssueKind string

// Kinds of source-health issue.
const (
	IssueBlocked  IssueKind = "blocked"  // the site answered with an anti-bot page or 403
	IssueSelector IssueKind = "selector" // a selector matched nothing, or far fewer items than usual
	IssueFillRate IssueKind = "fill_rate"
	IssueFetch    IssueKind = "fetch" // a page could not be fetched (timeout, 5xx after retries, redirect loop)
	IssueDate     IssueKind = "date"  // a release date could not be read
	IssueRobots   IssueKind = "robots"
	IssueLimit    IssueKind = "limit" // a crawl limit was reached: page cap, run budget, HTML nesting depth
)

// SourceIssue is one health problem found while crawling a source.
type SourceIssue struct {
	Source   SourceID
	Kind     IssueKind
	URL      string
	Selector string // the selector involved, if any
	Message  string
	At       time.Time
}

// CrawlRun summarises one crawl of one source.
type CrawlRun struct {
	Source   SourceID
	Started  time.Time
	Finished time.Time
	Listings int // listing pages and feeds read (a 304 is not read: see NotModified)
	// NotModified counts listing pages and feeds that answered 304 Not
	// Modified: unchanged since the last run, so not read.
	NotModified int
	// ListingsFailed counts listing pages and feeds that could not be read
	// or read as nothing: network or HTTP errors, a first page that answers
	// 404, an anti-bot page, a first page whose item selector matches
	// nothing, a feed that does not parse.
	ListingsFailed int
	Items          int // listing items seen
	New            int // releases archived for the first time
	Revised        int // releases archived again with changed content
	Unchanged      int // releases already archived
	Failed         int // releases that could not be fetched or extracted
	// Missing counts the releases of Failed whose link answered 404 or 410
	// or is disallowed by robots.txt: dead or forbidden links on the site
	// rather than failed fetches.
	Missing int
	Gone    int // links not fetched: they answered 404 or 410 before and are not due for a retry
	Blocked bool
	// BrowserSwitch says why a source fetched with "fetch: auto" switched
	// from plain HTTP to the browser during the run (the block it met, and
	// on which page); empty when it did not switch.
	BrowserSwitch string
	Issues        []SourceIssue
}

// NormalizeSpace replaces no-break spaces with spaces, drops zero-width
// spaces, collapses runs of white space into one space and trims the ends.
func NormalizeSpace(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\u2007', '\u202f':
			return ' '
		case '\u200b', '\ufeff':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
