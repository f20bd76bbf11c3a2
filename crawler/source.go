package crawler

import (
	"time"

	"atalaya"
)

// Kind says how a source lists its releases.
type Kind string

// Source kinds.
const (
	KindHTML Kind = "html" // HTML listing pages with pagination
	KindFeed Kind = "feed" // an RSS 2.0 or Atom feed
)

// FetchMode says how a source's pages are fetched.
type FetchMode string

// Fetch modes.
const (
	FetchHTTP    FetchMode = "http"    // plain HTTP; also the meaning of ""
	FetchBrowser FetchMode = "browser" // through Options.Browser
	// FetchAuto fetches over plain HTTP until the site answers with a
	// block (403, an anti-bot page), then switches to Options.Browser for
	// the rest of the run and fetches the blocked page again.
	FetchAuto FetchMode = "auto"
)

// Source defines how to crawl one source: where its listings are, how to
// walk them, and how to read a release from its article page. cmd/atalaya
// builds it from the configuration file.
type Source struct {
	atalaya.Source

	Kind           Kind
	StartURLs      []string // first listing page (or feed URL) of each listing
	AllowedDomains []string // hosts links may lead to; others are not followed

	Pagination Pagination
	Listing    Listing
	Article    Article
	Location   *time.Location // time zone of the site's dates (America/New_York, America/Mexico_City)

	// Types filters releases by the type shown in the listing or article
	// (case-insensitive, exact). Empty Include means all types.
	Types TypeFilter

	// Fetch says how the source's pages are fetched: plain HTTP (the
	// default), through Options.Browser, or plain HTTP until a block and
	// through the browser for the rest of the run.
	Fetch FetchMode
	// Ready is a CSS selector that appears only on the real page (not on a
	// challenge page): a browser fetch reads the page as soon as it
	// matches. Empty means reading it once the page has settled.
	Ready string

	Headers      map[string]string // extra request headers (Accept, Accept-Language, …)
	UserAgent    string            // overrides Options.UserAgent when set
	BlockMarkers []string          // texts that mark an anti-bot page served with status 200

	Politeness Politeness
	Expect     Expect

	// Revisit is how long after publication an archived release is fetched
	// again (with a conditional request) to detect revisions; 0 never.
	Revisit time.Duration
	// GoneRetry is how long an article link that answered 404 or 410 is
	// left alone before it is fetched again, in case the error was
	// transient; 0 means DefaultGoneRetry.
	GoneRetry time.Duration
	// RunBudget bounds the time one crawl of the source takes; 0 means
	// DefaultRunBudget.
	RunBudget time.Duration
	// Skip drops listing and feed items by title or URL before they are
	// fetched.
	Skip ItemFilter
}

// ItemFilter drops listing and feed items before they are fetched: state.gov's
// feed marks no type, so its Public Schedule items can only be told by title.
// Each entry is a regular expression (Go RE2 syntax); an item is dropped
// when any of Titles matches its title or any of URLs its absolute URL.
type ItemFilter struct {
	Titles []string
	URLs   []string
}

// Pagination says how to reach listing page 2, 3, … from the start URL.
// Exactly one of Template and NextSelector is set.
type Pagination struct {
	// Template is a URL reference, resolved against the start URL, with {n}
	// standing for the page number: "page/{n}/" (state.gov), "?page={n}"
	// (Treasury), "?order=DESC&page={n}" (gob.mx).
	Template string
	// FirstNumber is the number the site gives its first page: 1 for
	// state.gov and gob.mx, 0 for Treasury's 0-based ?page=. The first page
	// is always the start URL itself; the second is Template with
	// {n} = FirstNumber+1.
	FirstNumber int
	// NextSelector selects the next-page link; its href may be query-only
	// ("?page=1") or root-relative. A link without href ends the listing.
	NextSelector string
	// MaxPages bounds the listing pages fetched per start URL and run; 0
	// means DefaultMaxPages.
	MaxPages int
}

// Listing holds the selectors that read a listing page. Item is applied to
// the whole page and must be scoped to the listing's container; the others
// are applied inside each item.
type Listing struct {
	Item  string // "div.content--2col__body > div", "#prensa article"
	Title Field  // "h2", "h3.featured-stories__headline a", or the link's aria-label
	Link  string // element whose href is the release URL
	Type  Field  // release type, optional
	Date  []DateRule
}

// Article holds the selectors that read a release page.
type Article struct {
	Title   []Field // tried in order; the first non-empty wins
	Date    []DateRule
	Type    Field
	Body    string   // body container
	Parts   string   // block elements inside Body kept as paragraphs ("p, ul, ol, h2, h3, h4"); empty means the container's text
	Exclude []string // selectors removed from Body before reading it
	Stop    []string // texts at which the body ends ("# # #", "Imprime la página completa")
	// Required lists selectors of which at least one must match on a real
	// article page; a page with none is reported as a selector failure.
	Required []string
}

// Item is one entry of a listing page or feed. Its fields are the fallback
// for what the article page does not say.
type Item struct {
	URL       string // absolute URL of the release, as linked
	Title     string
	Type      string
	DateRaw   string    // the date text as written
	Published time.Time // midnight of the publication date in the source's time zone; zero if unknown
	// DateOrigin says where Published was read: atalaya.DateFromListing
	// (the default when empty) or atalaya.DateFromFeed.
	DateOrigin atalaya.DateOrigin
}

// Field says how to read one text value: the text of the first element
// matching Selector, or its attribute Attr when Attr is set.
type Field struct {
	Selector string
	Attr     string
}

// DateRule reads a date. The rules of a list are tried in order until one
// gives a date.
type DateRule struct {
	Selector string
	Attr     string // read this attribute instead of the text ("datetime")
	// Pick chooses among the elements Selector matches: "first" (default),
	// "last" (the last non-empty one) or a 1-based position "2".
	Pick string
	// Pattern is a regular expression applied to the text; its first
	// capturing group (or the whole match) is the date.
	Pattern string
	// Layouts are Go time layouts tried in order. Spanish month and weekday
	// names are understood: "02 de January de 2006" matches
	// "14 de diciembre de 2021" and "martes, 14 de diciembre de 2021".
	// Layouts with an offset or zone keep it and convert to Location;
	// those without are read in Location.
	Layouts []string
}

// TypeFilter keeps or drops releases by type.
type TypeFilter struct {
	Include []string
	Exclude []string
}

// Politeness bounds how hard the crawler presses on a host.
type Politeness struct {
	Delay       time.Duration // between requests to the same host; raised to robots.txt Crawl-delay
	Parallelism int           // concurrent requests per host
	Timeout     time.Duration // per request, headers and body
	MaxBodySize int           // bytes; a larger page is an error
	Retries     int           // on 429, 5xx and network errors, with jittered backoff
	// RetryBackoff is the wait before the first retry; it doubles on each
	// further retry, with ±50% jitter, unless the server sends Retry-After.
	// 0 means one second.
	RetryBackoff time.Duration
	IgnoreRobots bool // true only for tests and sites that publish no robots.txt
	// MaxCrawlDelay caps the robots.txt Crawl-delay honoured (the cap is
	// logged when it applies); 0 means no cap. For tests, and for sites
	// whose Crawl-delay would make a crawl impossible.
	MaxCrawlDelay time.Duration
}

// Expect states what a healthy crawl of the source looks like.
type Expect struct {
	MinItems    int     // items per listing page below which the listing is reported
	MinFillRate float64 // share of new releases with title, date and body (default 0.98)
}
