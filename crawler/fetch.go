package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/temoto/robotstxt"
)

// Defaults for Politeness values left at zero.
const (
	defaultTimeout      = 30 * time.Second
	defaultMaxBodySize  = 10 << 20
	defaultRetryBackoff = time.Second
	// maxRetryWait is the longest wait before a retry; a longer Retry-After
	// gives up on the page for this run.
	maxRetryWait = 5 * time.Minute
	// maxSpacing bounds the per-host spacing doubled on 429 and 503.
	maxSpacing = 5 * time.Minute
	// minBackoffSpacing is the spacing after a first 429 or 503 from a host
	// crawled without delay.
	minBackoffSpacing = 100 * time.Millisecond
	maxRedirects      = 10
)

// Accept headers sent when the source does not set one. Never a bare */*:
// gob.mx answers it with a JavaScript-escaped variant of its listings.
const (
	acceptHTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	acceptFeed = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.8"
)

// responseKey is the colly context key under which a response is handed
// back to the goroutine that asked for it.
const responseKey = "atalaya.response"

// response is one HTTP response as fetched.
type response struct {
	URL       string // after redirects
	Status    int
	Header    http.Header
	Body      []byte
	FetchedAt time.Time
}

// fetcher makes the HTTP requests of one crawl: it owns the colly collector,
// applies robots.txt, spaces requests per host and retries.
type fetcher struct {
	col           *colly.Collector
	ua            string
	headers       map[string]string
	accept        string
	maxBody       int
	retries       int
	backoff       time.Duration
	obey          bool // obey robots.txt
	maxCrawlDelay time.Duration
	now           func() time.Time
	log           *slog.Logger
	pace          *pacer
	markers       []string // the source's block markers

	// browser makes the transports of FetchBrowser and FetchAuto sources.
	browser     Browser
	browserOpts BrowserOptions
	bt          BrowserTransport // FetchBrowser: the transport, closed at the end
	auto        *autoTransport   // FetchAuto: the switching transport

	robotsMu sync.Mutex
	robots   map[string]*robotstxt.Group // by scheme://host
}

// newFetcher builds the collector for one crawl of src. Every colly option is
// set explicitly, overriding colly's defaults and any COLLY_* variable.
func newFetcher(ctx context.Context, c *Crawler, src Source, domains []string) (*fetcher, error) {
	p := src.Politeness
	f := &fetcher{
		ua:            c.opts.UserAgent,
		headers:       src.Headers,
		accept:        acceptHTML,
		maxBody:       p.MaxBodySize,
		retries:       max(p.Retries, 0),
		backoff:       p.RetryBackoff,
		obey:          !p.IgnoreRobots,
		maxCrawlDelay: p.MaxCrawlDelay,
		now:           c.opts.Now,
		log:           c.opts.Logger.With("source_id", string(src.ID)),
		pace:          newPacer(p.Delay),
		markers:       src.BlockMarkers,
		robots:        map[string]*robotstxt.Group{},
		browser:       c.opts.Browser,
	}
	if src.UserAgent != "" {
		f.ua = src.UserAgent
	}
	if src.Kind == KindFeed {
		f.accept = acceptFeed
	}
	if f.maxBody <= 0 {
		f.maxBody = defaultMaxBodySize
	}
	if f.backoff <= 0 {
		f.backoff = defaultRetryBackoff
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}

	col := colly.NewCollector()
	col.UserAgent = f.ua
	col.Headers = nil // set per request
	col.MaxDepth = 0
	col.AllowedDomains = domains
	col.DisallowedDomains = nil
	col.DisallowedURLFilters = nil
	col.URLFilters = nil
	col.AllowURLRevisit = true // State decides what is fetched again
	col.MaxBodySize = f.maxBody + 1
	col.CacheDir = "" // listing pages must never be served from a cache
	col.CacheExpiration = 0
	col.IgnoreRobotsTxt = true // robots.txt is applied by the fetcher, with Crawl-delay
	col.Async = false
	col.ParseHTTPErrorResponse = true // every status reaches OnResponse
	col.DetectCharset = false         // decodeBody handles charsets
	col.CheckHead = false
	col.TraceHTTP = false
	col.MaxRequests = 0
	col.Context = ctx
	col.SetRequestTimeout(timeout)
	transport, err := f.transport(ctx, c, src, domains, timeout)
	if err != nil {
		return nil, err
	}
	col.WithTransport(transport)
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("crawler: cookie jar: %w", err)
	}
	col.SetCookieJar(jar)
	col.SetRedirectHandler(checkRedirect)
	if err := col.Limits(limitRules(domains, p.Parallelism)); err != nil {
		return nil, fmt.Errorf("crawler: source %s: limit rules: %w", src.ID, err)
	}
	col.OnResponse(func(r *colly.Response) {
		r.Ctx.Put(responseKey, &response{
			URL:       r.Request.URL.String(),
			Status:    r.StatusCode,
			Header:    r.Headers.Clone(),
			Body:      r.Body,
			FetchedAt: f.now(),
		})
	})
	f.col = col
	return f, nil
}

// transport returns the transport of src's requests, as its Fetch mode
// says.
func (f *fetcher) transport(ctx context.Context, c *Crawler, src Source, domains []string, timeout time.Duration) (http.RoundTripper, error) {
	f.browserOpts = BrowserOptions{
		Source: src.ID, Parallelism: max(src.Politeness.Parallelism, 1), Timeout: timeout, Ready: src.Ready,
		AllowedHosts: domains, AllowPrivateNetworks: c.opts.AllowPrivateNetworks, MaxBodySize: f.maxBody, Logger: f.log,
	}
	switch src.Fetch {
	case FetchBrowser:
		bt, err := f.browserTransport(ctx)
		if err != nil {
			return nil, err
		}
		f.bt = bt
		return bt, nil
	case FetchAuto:
		f.auto = &autoTransport{plain: c.transport}
		return f.auto, nil
	}
	return c.transport, nil
}

// limitRules bounds concurrent requests per allowed host (with any port).
// Spacing is done by the pacer, which can double it on 429 and 503.
func limitRules(domains []string, parallelism int) []*colly.LimitRule {
	rules := make([]*colly.LimitRule, 0, len(domains))
	for _, d := range domains {
		rules = append(rules, &colly.LimitRule{
			DomainRegexp: `^` + regexp.QuoteMeta(d) + `(:\d+)?$`,
			Parallelism:  max(parallelism, 1),
		})
	}
	return rules
}

// checkRedirect is the collector's redirect policy, applied after colly has
// refused hosts outside AllowedDomains.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d in a row, from %s", ErrTooManyRedirects, maxRedirects, via[0].URL)
	}
	for _, v := range via {
		if v.URL.String() == req.URL.String() {
			return fmt.Errorf("%w: back to %s", ErrRedirectLoop, req.URL)
		}
	}
	return nil
}

// get fetches rawURL, retrying 429, 5xx and network errors. extra headers
// (conditional-request validators) are added to the source's headers. It
// returns the last response when retries are exhausted on a status.
func (f *fetcher) get(ctx context.Context, rawURL string, extra map[string]string) (*response, error) {
	if err := f.allowed(ctx, rawURL); err != nil {
		return nil, err
	}
	host := hostKey(rawURL)
	for attempt := 0; ; attempt++ {
		resp, err := f.once(ctx, rawURL, extra)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var wait time.Duration
		switch {
		case err != nil:
			if !retryable(err) {
				return nil, err
			}
		case resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable:
			f.pace.slowDown(host)
			wait = retryAfter(resp.Header, f.now())
		case resp.Status >= 500:
			wait = retryAfter(resp.Header, f.now())
		default:
			f.pace.recover(host)
			return resp, nil
		}
		if wait == 0 {
			wait = jitter(f.backoff << min(attempt, 16))
		}
		if attempt >= f.retries || wait > maxRetryWait {
			return resp, err
		}
		f.log.Debug("retrying", "url", rawURL, "attempt", attempt+1, "wait", wait, "error", errText(resp, err))
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// once makes one paced request.
func (f *fetcher) once(ctx context.Context, rawURL string, extra map[string]string) (*response, error) {
	if err := f.pace.wait(ctx, hostKey(rawURL)); err != nil {
		return nil, err
	}
	hdr := http.Header{}
	for k, v := range f.headers {
		hdr.Set(k, v)
	}
	for k, v := range extra {
		hdr.Set(k, v)
	}
	hdr.Set("User-Agent", f.ua)
	if hdr.Get("Accept") == "" {
		hdr.Set("Accept", f.accept)
	}
	// A FetchAuto source switched to the browser while this request went
	// over HTTP fetches a blocked page again, once.
	onBrowser := f.auto == nil || f.auto.onBrowser()
	cctx := colly.NewContext()
	err := f.col.Request(http.MethodGet, rawURL, nil, cctx, hdr)
	f.pace.done(hostKey(rawURL))
	if err != nil {
		return nil, translate(ctx, rawURL, err)
	}
	resp, ok := cctx.GetAny(responseKey).(*response)
	if !ok {
		return nil, fmt.Errorf("crawler: fetching %s: no response recorded", rawURL)
	}
	if len(resp.Body) > f.maxBody {
		return nil, fmt.Errorf("crawler: fetching %s: %w of %d bytes", rawURL, ErrTooLarge, f.maxBody)
	}
	if f.auto != nil && !onBrowser {
		if block := f.blockOf(resp); block != "" && f.switchToBrowser(ctx, rawURL, block) {
			return f.once(ctx, rawURL, extra) // the blocked page again, through the browser
		}
	}
	return resp, nil
}

// translate turns colly and net/http errors into the package's sentinels.
func translate(ctx context.Context, rawURL string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var uerr *url.Error
	switch {
	case errors.Is(err, colly.ErrForbiddenDomain) && errors.As(err, &uerr):
		// The client wraps what the redirect policy refuses in a
		// *url.Error naming the redirect's target.
		return fmt.Errorf("crawler: fetching %s: %w to %s", rawURL, ErrRedirectOffDomain, uerr.URL)
	case errors.Is(err, colly.ErrForbiddenDomain):
		return fmt.Errorf("crawler: fetching %s: %w", rawURL, ErrOffDomain)
	case errors.Is(err, ErrRedirectLoop), errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrPrivateNetwork):
		return fmt.Errorf("crawler: fetching %s: %w", rawURL, err)
	}
	// A browser transport refuses a page over BrowserOptions.MaxBodySize
	// with an error that says so by its TooLarge method.
	var sized interface{ TooLarge() bool }
	if errors.As(err, &sized) && sized.TooLarge() {
		return fmt.Errorf("crawler: fetching %s: %w (%v)", rawURL, ErrTooLarge, sized)
	}
	// It refuses a page on a private address (unless AllowPrivateNetworks)
	// with an error that says so by its PrivateNetwork method.
	var private interface{ PrivateNetwork() bool }
	if errors.As(err, &private) && private.PrivateNetwork() {
		return fmt.Errorf("crawler: fetching %s: %w (%v)", rawURL, ErrPrivateNetwork, private)
	}
	if errors.As(err, &uerr) && uerr.Timeout() {
		return fmt.Errorf("crawler: fetching %s: %w", rawURL, ErrTimeout)
	}
	return fmt.Errorf("crawler: fetching %s: %w: %v", rawURL, ErrNetwork, err)
}

// retryable reports whether a failed request may succeed when repeated.
func retryable(err error) bool {
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrNetwork)
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func errText(resp *response, err error) string {
	if err != nil {
		return err.Error()
	}
	return http.StatusText(resp.Status)
}

// hostKey returns scheme://host[:port] of rawURL.
func hostKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Scheme + "://" + u.Host
}

// allowed applies robots.txt of rawURL's host, fetching it on first use and
// raising the host's spacing to its Crawl-delay.
func (f *fetcher) allowed(ctx context.Context, rawURL string) error {
	if !f.obey {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("crawler: fetching %s: %w", rawURL, err)
	}
	group, err := f.robotsGroup(ctx, u)
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !group.Test(path) {
		return fmt.Errorf("crawler: fetching %s: %w", rawURL, ErrRobots)
	}
	return nil
}

func (f *fetcher) robotsGroup(ctx context.Context, u *url.URL) (*robotstxt.Group, error) {
	key := u.Scheme + "://" + u.Host
	f.robotsMu.Lock()
	defer f.robotsMu.Unlock()
	if g, ok := f.robots[key]; ok {
		return g, nil
	}
	data := allowAll()
	resp, err := f.once(ctx, key+"/robots.txt", nil)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		f.log.Warn("robots.txt unavailable; crawling as allowed", "url", key+"/robots.txt", "error", err)
	default:
		if d, perr := robotstxt.FromStatusAndBytes(resp.Status, resp.Body); perr == nil {
			data = d
		}
	}
	g := data.FindGroup(f.ua)
	if d := g.CrawlDelay; d > 0 {
		if f.maxCrawlDelay > 0 && d > f.maxCrawlDelay {
			f.log.Info("robots.txt Crawl-delay capped", "url", key+"/robots.txt", "crawl_delay", d, "cap", f.maxCrawlDelay)
			d = f.maxCrawlDelay
		}
		f.pace.floor(key, d)
	}
	f.robots[key] = g
	return g, nil
}

// allowAll returns robots data that allows everything.
func allowAll() *robotstxt.RobotsData {
	d, _ := robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
	return d
}

// pacer spaces requests to each host: a request starts no sooner than the
// host's spacing after the previous one ended (or, with parallel requests,
// after the later of the previous start slot and end).
type pacer struct {
	base  time.Duration
	mu    sync.Mutex
	hosts map[string]*hostPace
}

type hostPace struct {
	last    time.Time
	base    time.Duration // max(configured delay, Crawl-delay)
	spacing time.Duration // base, doubled while the host answers 429/503
}

func newPacer(base time.Duration) *pacer {
	return &pacer{base: max(base, 0), hosts: map[string]*hostPace{}}
}

func (p *pacer) host(key string) *hostPace {
	h, ok := p.hosts[key]
	if !ok {
		h = &hostPace{base: p.base, spacing: p.base}
		p.hosts[key] = h
	}
	return h
}

// wait reserves the next slot for host and sleeps until it.
func (p *pacer) wait(ctx context.Context, key string) error {
	p.mu.Lock()
	h := p.host(key)
	now := time.Now()
	at := now
	if !h.last.IsZero() {
		at = h.last.Add(h.spacing)
	}
	if at.Before(now) {
		at = now
	}
	h.last = at
	p.mu.Unlock()
	return sleep(ctx, time.Until(at))
}

// done records the end of a request to the host.
func (p *pacer) done(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.host(key)
	if now := time.Now(); now.After(h.last) {
		h.last = now
	}
}

// floor raises the host's base spacing to d.
func (p *pacer) floor(key string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.host(key)
	h.base = max(h.base, d)
	h.spacing = max(h.spacing, h.base)
}

// slowDown doubles the host's spacing (from minBackoffSpacing when the host
// is crawled without delay).
func (p *pacer) slowDown(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.host(key)
	if h.spacing == 0 {
		h.spacing = minBackoffSpacing
		return
	}
	h.spacing = min(h.spacing*2, maxSpacing)
}

// recover brings the host's spacing back to its base.
func (p *pacer) recover(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.host(key)
	h.spacing = h.base
}
