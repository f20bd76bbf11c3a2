package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"

	"atalaya"
)

// Errors reported by the crawler. Fetch errors wrap one of them, so callers
// and tests can branch with errors.Is.
var (
	ErrInvalidSource     = errors.New("crawler: invalid source")
	ErrBlocked           = errors.New("crawler: blocked by the site's anti-bot protection")
	ErrRobots            = errors.New("crawler: disallowed by robots.txt")
	ErrTooLarge          = errors.New("crawler: page larger than the size limit")
	ErrRedirectLoop      = errors.New("crawler: redirect loop (a redirect back to a URL already visited)")
	ErrTooManyRedirects  = errors.New("crawler: too many redirects")
	ErrRedirectOffDomain = errors.New("crawler: redirect off the allowed domains")
	ErrOffDomain         = errors.New("crawler: URL off the allowed domains")
	ErrPrivateNetwork    = errors.New("crawler: refusing to connect to a private network address")
	ErrTimeout           = errors.New("crawler: request timed out")
	ErrNetwork           = errors.New("crawler: network error")
	ErrNoMatch           = errors.New("crawler: required selector matched nothing")
	ErrNotFeed           = errors.New("crawler: not an RSS or Atom feed")
	ErrTooDeep           = errors.New("crawler: page nests HTML elements deeper than the parser's limit of 512")
)

// DefaultUserAgent names the tool and where to reach its operator. Operators
// should set their own contact URL through Options.UserAgent.
const DefaultUserAgent = "atalaya/dev (+https://atalaya.example/contact)"

// defaultMinFillRate is Expect.MinFillRate when unset.
const defaultMinFillRate = 0.98

// DefaultGoneRetry is Source.GoneRetry when unset.
const DefaultGoneRetry = 7 * 24 * time.Hour

// DefaultMaxPages is the number of listing pages a walk reads at most when
// neither Pagination.MaxPages nor Options.MaxPages is set: a listing that
// never ends (a site that answers every page number) stops there, and the
// run reports it.
const DefaultMaxPages = 500

// DefaultRunBudget is Source.RunBudget when unset.
const DefaultRunBudget = time.Hour

// State is the crawl state the crawler consults.
type State interface {
	// Known reports whether the release at url (canonical) is archived.
	Known(ctx context.Context, url string) (bool, error)
	// Validators returns the ETag and Last-Modified last stored for url.
	Validators(ctx context.Context, url string) (etag, lastModified string, err error)
	// SetValidators stores the ETag and Last-Modified of url.
	SetValidators(ctx context.Context, url, etag, lastModified string) error
	// WalkComplete reports whether the last walk of the listing that starts
	// at startURL reached its end. A listing never walked is not complete.
	WalkComplete(ctx context.Context, startURL string) (bool, error)
	// SetWalkComplete records whether the walk of startURL reached its end.
	SetWalkComplete(ctx context.Context, startURL string, complete bool) error
	// Gone reports whether the article at url (canonical) is recorded as
	// gone (it answered 404 or 410), and when it last did.
	Gone(ctx context.Context, url string) (at time.Time, gone bool, err error)
	// SetGone records that url answered 404 or 410 at time at; a zero at
	// clears the record.
	SetGone(ctx context.Context, url string, at time.Time) error
}

// Sink archives one fetched release page and the release extracted from it.
// It returns the version stored: 1 for a new release, >1 for a revision, 0
// if unchanged (nothing stored).
type Sink interface {
	Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (version int, err error)
}

// Progress reports the state of a crawl after each release.
type Progress struct {
	Source                                atalaya.SourceID
	URL                                   string // the release just processed
	Items                                 int    // listing items seen so far
	New, Revised, Unchanged, Failed, Gone int
}

// Options configure a Crawler.
type Options struct {
	State State // required
	Sink  Sink  // required
	// UserAgent names the tool and a contact URL; Source.UserAgent
	// overrides it. Empty means DefaultUserAgent.
	UserAgent string
	Logger    *slog.Logger // nil means slog.Default()
	// Since is a date cutoff: items published before its calendar date (in
	// the source's time zone) are not fetched, and pagination stops after
	// the page whose oldest item is older. Such a walk is not complete: the
	// next run without a cutoff goes on past it.
	Since time.Time
	// MaxPages overrides Source.Pagination.MaxPages when > 0, for this run
	// only: a walk it cuts short is resumed by the next run.
	MaxPages int
	// Transport carries the requests; nil means a transport that refuses
	// private and loopback addresses unless AllowPrivateNetworks.
	Transport            http.RoundTripper
	AllowPrivateNetworks bool
	// Hosts sends the requests for a host (lower-case name, any port) to
	// another address, like curl's --resolve: "127.0.0.1:18101" keeps the
	// URL's scheme (TLS for https, checked against the real host name);
	// "http://127.0.0.1:18101" sends plain HTTP, for a mirror without TLS.
	// URLs, and so release URLs and IDs, stay those of the real host. It
	// applies to the transport New builds, not to Options.Transport. The
	// address is still subject to the private-network guard.
	Hosts map[string]string
	// Browser fetches the pages of sources with Fetch FetchBrowser, and of
	// FetchAuto sources once blocked. Browser fetches do their own
	// networking: Transport and Hosts do not apply to them. nil means no
	// browser: a FetchBrowser source fails with ErrNoBrowser, a FetchAuto
	// source stays on HTTP.
	Browser  Browser
	Progress func(Progress) // optional; called after every release
	Now      func() time.Time
}

// Crawler crawls sources into a Sink. It is safe for concurrent use.
type Crawler struct {
	opts      Options
	transport http.RoundTripper
}

// New returns a Crawler. It logs a warning for every COLLY_* environment
// variable: the crawler overrides all of colly's settings, so they have no
// effect.
func New(opts Options) (*Crawler, error) {
	if opts.State == nil || opts.Sink == nil {
		return nil, errors.New("crawler: Options.State and Options.Sink are required")
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Crawler{opts: opts, transport: opts.Transport}
	if c.transport == nil {
		hosts, err := parseHosts(opts.Hosts)
		if err != nil {
			return nil, err
		}
		c.transport = hosts.wrap(guardedTransport(opts.AllowPrivateNetworks, hosts))
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "COLLY_") {
			opts.Logger.Warn("colly environment variable ignored", "name", name)
		}
	}
	return c, nil
}

// Crawl crawls src once and returns the per-source counts and health
// issues. Page and release failures are reported in the run, not as an
// error: the error is only for a source that cannot be crawled at all
// (invalid definition) or a cancelled ctx.
//
// The crawl stops when Source.RunBudget runs out: that is reported as an
// issue of kind atalaya.IssueLimit, not as an error, and walks cut short
// are resumed by the next run.
func (c *Crawler) Crawl(ctx context.Context, src Source) (atalaya.CrawlRun, error) {
	run := atalaya.CrawlRun{Source: src.ID, Started: c.opts.Now()}
	domains, err := checkSource(src)
	if err != nil {
		return run, err
	}
	skip, err := compileSkip(src.Skip)
	if err != nil {
		return run, fmt.Errorf("%w %s: %w", ErrInvalidSource, src.ID, err)
	}
	parent := ctx
	budget := src.RunBudget
	if budget <= 0 {
		budget = DefaultRunBudget
	}
	ctx, cancel := context.WithTimeoutCause(ctx, budget, errRunBudget)
	defer cancel()
	f, err := newFetcher(ctx, c, src, domains)
	if errors.Is(err, ErrNoBrowser) {
		return c.noBrowser(src, run, err), nil
	}
	if err != nil {
		return run, err
	}
	defer f.closeBrowser(ctx)
	r := &crawlRun{c: c, src: src, f: f, domains: domains, skip: skip, run: run, log: f.log}
	for _, start := range src.StartURLs {
		if ctx.Err() != nil {
			break
		}
		if src.Kind == KindFeed {
			r.feed(ctx, start)
		} else {
			r.listing(ctx, start)
		}
	}
	if parent.Err() == nil && errors.Is(context.Cause(ctx), errRunBudget) {
		r.log.Warn("crawl stopped: run budget spent", "run_budget", budget)
		r.issue(atalaya.IssueLimit, src.StartURLs[0], "", "the crawl stopped after its run budget of %s; the next run goes on from there (raise run_budget to crawl more at once)", budget)
	}
	r.fillRates()
	r.browserSwitch()
	r.run.Finished = c.opts.Now()
	r.log.Info("crawl finished", "listings", r.run.Listings, "items", r.run.Items, "new", r.run.New,
		"revised", r.run.Revised, "unchanged", r.run.Unchanged, "failed", r.run.Failed,
		"gone", r.run.Gone, "blocked", r.run.Blocked, "issues", len(r.run.Issues), "duration", r.run.Finished.Sub(r.run.Started))
	if err := parent.Err(); err != nil {
		return r.run, fmt.Errorf("crawler: crawl %s: %w", src.ID, err)
	}
	return r.run, nil
}

// noBrowser reports a source fetched through a browser when there is none:
// nothing can be fetched, so every listing failed.
func (c *Crawler) noBrowser(src Source, run atalaya.CrawlRun, err error) atalaya.CrawlRun {
	c.opts.Logger.Warn("source not crawled: no browser", "source_id", string(src.ID), "error", err)
	run.Issues = append(run.Issues, atalaya.SourceIssue{
		Source: src.ID, Kind: atalaya.IssueFetch, URL: src.StartURLs[0], At: c.opts.Now(),
		Message: fmt.Sprintf("the source is fetched through a browser (fetch: browser) and there is none: %v; set browser.path in the configuration if one is installed elsewhere", err),
	})
	run.ListingsFailed = len(src.StartURLs)
	run.Finished = c.opts.Now()
	return run
}

// errRunBudget is the cause of a crawl's context ending when its run
// budget is spent.
var errRunBudget = errors.New("crawler: run budget spent")

// checkSource validates src and returns the hosts its links may lead to.
func checkSource(src Source) ([]string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(src.StartURLs) == 0 {
		bad("no start URLs")
	}
	domains := make([]string, 0, len(src.AllowedDomains))
	for _, d := range src.AllowedDomains {
		domains = append(domains, strings.ToLower(d))
	}
	for _, s := range src.StartURLs {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("start URL %q is not an absolute http(s) URL", s)
			continue
		}
		if len(src.AllowedDomains) == 0 {
			domains = append(domains, strings.ToLower(u.Hostname()))
		} else if !hostAllowed(s, domains) {
			bad("start URL %q is outside the allowed domains %q", s, src.AllowedDomains)
		}
	}
	switch src.Fetch {
	case FetchHTTP, FetchBrowser, FetchAuto, "":
	default:
		bad("unknown fetch %q (want %q, %q or %q)", src.Fetch, FetchHTTP, FetchBrowser, FetchAuto)
	}
	switch src.Kind {
	case KindHTML, "":
		if src.Listing.Item == "" {
			bad("listing item selector is empty")
		}
		p := src.Pagination
		if p.Template != "" && p.NextSelector != "" {
			bad("pagination has both a template and a next selector; keep one")
		}
		if p.Template != "" && !strings.Contains(p.Template, "{n}") {
			bad("pagination template %q has no {n}", p.Template)
		}
	case KindFeed:
	default:
		bad("unknown kind %q (want %q or %q)", src.Kind, KindHTML, KindFeed)
	}
	for _, sel := range selectors(src) {
		if _, err := cascadia.ParseGroup(sel); err != nil {
			bad("selector %q: %v", sel, err)
		}
	}
	for _, r := range append(append([]DateRule(nil), src.Listing.Date...), src.Article.Date...) {
		if len(r.Layouts) == 0 {
			bad("date rule %q has no layouts", r.Selector)
		}
		if r.Pattern != "" {
			if _, err := regexp.Compile(r.Pattern); err != nil {
				bad("date pattern %q: %v", r.Pattern, err)
			}
		}
		if n, err := strconv.Atoi(r.Pick); r.Pick != "" && r.Pick != "first" && r.Pick != "last" && (err != nil || n < 1) {
			bad("date pick %q: want first, last or a position from 1", r.Pick)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w %s: %w", ErrInvalidSource, src.ID, errors.Join(errs...))
	}
	return domains, nil
}

// selectors lists every non-empty selector of src.
func selectors(src Source) []string {
	l, a := src.Listing, src.Article
	all := []string{l.Item, l.Title.Selector, l.Link, l.Type.Selector, src.Pagination.NextSelector,
		a.Type.Selector, a.Body, a.Parts, src.Ready}
	for _, f := range a.Title {
		all = append(all, f.Selector)
	}
	for _, r := range append(append([]DateRule(nil), l.Date...), a.Date...) {
		all = append(all, r.Selector)
	}
	all = append(append(all, a.Exclude...), a.Required...)
	out := all[:0]
	for _, s := range all {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
