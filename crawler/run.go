package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"atalaya"
)

// crawlRun is the state of one Crawl.
type crawlRun struct {
	c       *Crawler
	src     Source
	f       *fetcher
	domains []string
	skip    skipPatterns
	log     *slog.Logger

	mu   sync.Mutex
	run  atalaya.CrawlRun
	fill struct{ title, date, body int } // among new releases
}

// outcome is what became of one listing item.
type outcome int

const (
	outSkipped outcome = iota // filtered out by type, skip pattern or off-domain
	outTooOld                 // older than Options.Since; not fetched
	outKnown                  // archived already; unchanged
	outFresh                  // archived as new or revised
	outFailed                 // could not be fetched, extracted or stored
	outGone                   // answered 404 or 410 before; not fetched until its retry
)

// pageResult sums the outcomes of a listing page's items.
type pageResult struct {
	fresh, known int
	// failed or partial pages keep their old validators, so the next run
	// sees their items again: a page with an item too old for Since, or
	// with a gone link (to be tried again after Source.GoneRetry), is
	// partial.
	failed, partial bool
}

func (r *crawlRun) issue(kind atalaya.IssueKind, pageURL, selector, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run.Issues = append(r.run.Issues, atalaya.SourceIssue{
		Source: r.src.ID, Kind: kind, URL: pageURL, Selector: selector,
		Message: fmt.Sprintf(format, args...), At: r.c.opts.Now(),
	})
	if kind == atalaya.IssueBlocked {
		r.run.Blocked = true
	}
}

func (r *crawlRun) count(f func(*atalaya.CrawlRun)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.run)
}

// fetchFailed reports a failed fetch of pageURL.
func (r *crawlRun) fetchFailed(ctx context.Context, pageURL string, err error) {
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, ErrRobots):
		r.issue(atalaya.IssueRobots, pageURL, "", "robots.txt disallows %s for user agent %q", pageURL, r.f.ua)
	default:
		r.log.Warn("fetch failed", "url", pageURL, "error", err)
		r.issue(atalaya.IssueFetch, pageURL, "", "%v", err)
	}
}

// listing walks the listing pages that start at start.
func (r *crawlRun) listing(ctx context.Context, start string) {
	startURL, err := url.Parse(start)
	if err != nil {
		return
	}
	limit := r.src.Pagination.MaxPages
	if r.c.opts.MaxPages > 0 {
		limit = r.c.opts.MaxPages
	}
	capped := limit <= 0
	if capped {
		limit = DefaultMaxPages
	}
	w := r.startWalk(ctx, start)
	seen := map[string]bool{}      // listing pages
	seenItems := map[string]bool{} // release URLs listed so far
	pageURL := start
	index := 0
	for ; pageURL != "" && !seen[pageURL] && index < limit && ctx.Err() == nil; index++ {
		seen[pageURL] = true
		next, more := r.listingPage(ctx, w, startURL, pageURL, index, seenItems)
		if !more {
			pageURL = ""
			break
		}
		if next != "" && !hostAllowed(next, r.domains) {
			r.issue(atalaya.IssueFetch, pageURL, r.src.Pagination.NextSelector,
				"the next-page link %s leads off the allowed domains (%s); the listing ends here", next, strings.Join(r.domains, ", "))
			pageURL = ""
			break
		}
		pageURL = next
	}
	switch {
	case pageURL == "" || index < limit:
	case r.c.opts.MaxPages > 0:
		// Options.MaxPages bounds this run only (crawl --max-pages): the
		// next run must go on past it. The source's own MaxPages is the
		// depth it is crawled to, and ends a walk.
		w.broken = true
	case capped:
		// The hard cap ends the walk like a configured MaxPages, so that
		// the next run does not walk the same pages again; it is reported,
		// since the listing may go on.
		r.log.Warn("listing walk stopped at the page cap", "url", start, "pages", limit)
		r.issue(atalaya.IssueLimit, start, "", "the listing walk stopped after %d pages, the cap for a source without pagination.max_pages; set max_pages to walk further", limit)
	}
	r.endWalk(ctx, start, w)
}

// walk is the state of one walk through a listing.
type walk struct {
	// resume is set when the previous walk was cut short (a crash, a
	// cancelled context, a listing page that failed). Its pages after the
	// point where it stopped may hold releases never fetched, so this walk
	// neither sends validators nor stops at a page that brings nothing new.
	resume bool
	broken bool // this walk was cut short
}

// startWalk marks the walk of the listing at start as under way, and
// resumes it when the previous one did not reach its end.
func (r *crawlRun) startWalk(ctx context.Context, start string) *walk {
	complete, err := r.c.opts.State.WalkComplete(ctx, start)
	if err != nil {
		r.log.Warn("crawl state unavailable", "url", start, "error", err)
	}
	if err := r.c.opts.State.SetWalkComplete(ctx, start, false); err != nil {
		r.log.Warn("crawl state unavailable", "url", start, "error", err)
	}
	if !complete {
		r.log.Debug("previous walk did not reach its end; walking past known pages", "url", start)
	}
	return &walk{resume: !complete}
}

// endWalk records whether the walk reached its end.
func (r *crawlRun) endWalk(ctx context.Context, start string, w *walk) {
	if w.broken || ctx.Err() != nil {
		return
	}
	if err := r.c.opts.State.SetWalkComplete(ctx, start, true); err != nil {
		r.log.Warn("crawl state unavailable", "url", start, "error", err)
	}
}

// listingPage fetches and processes one listing page. It returns the next
// page's URL and whether to go on.
// A page that lists only releases already listed in this walk is a page the
// site served in place of a missing one (state.gov answers ?page=N with page
// 1): it ends the walk.
func (r *crawlRun) listingPage(ctx context.Context, w *walk, startURL *url.URL, pageURL string, index int, seenItems map[string]bool) (string, bool) {
	resp, ok := r.fetchListing(ctx, w, pageURL, index == 0)
	if !ok {
		return "", false
	}
	text := decodeBody(resp.Body, resp.Header.Get("Content-Type"))
	doc, err := parseHTML(text)
	if err != nil {
		r.issue(issueKindOf(err), pageURL, "", "listing page %s: %v", pageURL, err)
		r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
		w.broken = true
		return "", false
	}
	page := parseListing(r.src, resp.URL, doc)
	r.count(func(run *atalaya.CrawlRun) { run.Items += len(page.Items) })
	sel := r.src.Listing.Item
	switch {
	case len(page.Items) == 0 && r.blockedPage(resp, text):
		r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
		w.broken = true
		return "", false
	case len(page.Items) == 0:
		if index == 0 {
			r.issue(atalaya.IssueSelector, pageURL, sel, "listing item selector matched nothing")
			r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
			w.broken = true
		}
		return "", false
	case index == 0 && len(page.Items) < r.src.Expect.MinItems:
		r.issue(atalaya.IssueSelector, pageURL, sel, "listing has %d items, expected at least %d", len(page.Items), r.src.Expect.MinItems)
	}
	repeated := true
	for _, it := range page.Items {
		if !seenItems[Canonical(it.URL)] {
			repeated = false
		}
		seenItems[Canonical(it.URL)] = true
	}
	if repeated {
		r.log.Debug("listing page repeats earlier items; stopping", "url", pageURL)
		return "", false
	}
	res := r.process(ctx, page.Items)
	if !res.failed && !res.partial && ctx.Err() == nil {
		r.setValidators(ctx, pageURL, resp)
	}
	if res.fresh == 0 && res.known > 0 && !w.resume {
		r.log.Debug("listing page brings nothing new; stopping", "url", pageURL)
		return "", false
	}
	if cut := r.since(); !cut.IsZero() {
		if old := oldest(page.Items); !old.IsZero() && old.Before(cut) {
			// A run without the cutoff must still see what lies behind.
			w.broken = true
			return "", false
		}
	}
	if r.src.Pagination.Template != "" {
		return templatePage(startURL, r.src.Pagination, index+1), true
	}
	return page.Next, page.Next != ""
}

// fetchListing fetches a listing page or feed with the stored validators
// (none when w resumes a walk). It reports what stops the walk and returns
// false then, marking w broken when the stop is a failure rather than the
// listing's end. w is nil for feeds.
func (r *crawlRun) fetchListing(ctx context.Context, w *walk, pageURL string, first bool) (*response, bool) {
	extra := map[string]string{}
	if w == nil || !w.resume {
		extra = r.conditional(ctx, pageURL)
	}
	broken := func() (*response, bool) {
		if w != nil {
			w.broken = true
		}
		if ctx.Err() == nil {
			r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
		}
		return nil, false
	}
	resp, err := r.f.get(ctx, pageURL, extra)
	if err != nil {
		r.fetchFailed(ctx, pageURL, err)
		return broken()
	}
	switch {
	case resp.Status == http.StatusNotModified:
		// Unchanged since the validators were stored: nothing to read, and
		// no item count to compare.
		r.log.Debug("listing page not modified", "url", pageURL)
		r.count(func(run *atalaya.CrawlRun) { run.NotModified++ })
		return nil, false
	case resp.Status == http.StatusNotFound && !first:
		return nil, false
	case resp.Status == http.StatusForbidden:
		r.issue(atalaya.IssueBlocked, pageURL, "", "HTTP 403 Forbidden")
		return broken()
	case resp.Status != http.StatusOK:
		r.issue(atalaya.IssueFetch, pageURL, "", "HTTP %d %s", resp.Status, http.StatusText(resp.Status))
		return broken()
	case strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "javascript"):
		r.issue(atalaya.IssueBlocked, pageURL, "", "JavaScript variant of the page (Content-Type %q); send a browser-style Accept header", resp.Header.Get("Content-Type"))
		return broken()
	}
	r.count(func(run *atalaya.CrawlRun) { run.Listings++ })
	return resp, true
}

// blockedPage reports (and records) whether a 200 page that lacks the
// expected content is an anti-bot page (see blockReason).
func (r *crawlRun) blockedPage(resp *response, text string) bool {
	why := blockReason(r.src, resp.URL, text)
	if why != "" {
		r.issue(atalaya.IssueBlocked, resp.URL, "", "%s", why)
	}
	return why != ""
}

// browserSwitch records on the run whether a FetchAuto source switched to
// the browser, or met a block and could not.
func (r *crawlRun) browserSwitch() {
	switched, blockURL, err := r.f.switchReport()
	r.run.BrowserSwitch = switched
	if err != nil {
		// A fetch issue: the block itself is a blocked issue, maybe of the
		// same page, and an issue is known by its kind, page and selector.
		r.issue(atalaya.IssueFetch, blockURL, "", "%v; set browser.path in the configuration if one is installed elsewhere", err)
	}
}

// conditional returns the request headers that make a request for url
// conditional on the validators stored for it: none when there are none.
func (r *crawlRun) conditional(ctx context.Context, url string) map[string]string {
	extra := map[string]string{}
	etag, modified, err := r.c.opts.State.Validators(ctx, url)
	if err != nil {
		r.log.Warn("crawl state unavailable", "url", url, "error", err)
	}
	if etag != "" {
		extra["If-None-Match"] = etag
	}
	if modified != "" {
		extra["If-Modified-Since"] = modified
	}
	return extra
}

func (r *crawlRun) setValidators(ctx context.Context, pageURL string, resp *response) {
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" && modified == "" {
		return
	}
	if err := r.c.opts.State.SetValidators(ctx, pageURL, etag, modified); err != nil {
		r.log.Warn("crawl state unavailable", "url", pageURL, "error", err)
	}
}

// feed reads a feed and processes its items.
func (r *crawlRun) feed(ctx context.Context, feedURL string) {
	resp, ok := r.fetchListing(ctx, nil, feedURL, true)
	if !ok {
		return
	}
	if looksHTML(resp) {
		text := decodeBody(resp.Body, resp.Header.Get("Content-Type"))
		if !r.blockedPage(resp, text) {
			r.issue(atalaya.IssueBlocked, feedURL, "", "HTML page where a feed was expected")
		}
		r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
		return
	}
	items, err := parseFeed(r.src, resp.URL, resp.Body)
	if err != nil {
		r.issue(atalaya.IssueSelector, feedURL, "", "%v", err)
		r.count(func(run *atalaya.CrawlRun) { run.ListingsFailed++ })
		return
	}
	r.count(func(run *atalaya.CrawlRun) { run.Items += len(items) })
	if len(items) < max(r.src.Expect.MinItems, 1) {
		r.issue(atalaya.IssueSelector, feedURL, "", "feed has %d items, expected at least %d", len(items), max(r.src.Expect.MinItems, 1))
	}
	if res := r.process(ctx, items); !res.failed && !res.partial && ctx.Err() == nil {
		r.setValidators(ctx, feedURL, resp)
	}
}

// looksHTML reports whether a response meant to be a feed is an HTML page.
func looksHTML(resp *response) bool {
	if strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "text/html") {
		return true
	}
	head := bytes.ToLower(bytes.TrimSpace(resp.Body[:min(len(resp.Body), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

// process handles a page's items with Politeness.Parallelism workers.
func (r *crawlRun) process(ctx context.Context, items []Item) pageResult {
	work := make(chan Item)
	var (
		mu  sync.Mutex
		res pageResult
		wg  sync.WaitGroup
	)
	for range max(r.src.Politeness.Parallelism, 1) {
		wg.Go(func() {
			for it := range work {
				o := r.item(ctx, it)
				mu.Lock()
				switch o {
				case outFresh:
					res.fresh++
				case outKnown:
					res.known++
				case outFailed:
					res.failed = true
				case outTooOld, outGone:
					res.partial = true
				}
				mu.Unlock()
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			mu.Lock() // workers are still writing res
			res.failed = true
			mu.Unlock()
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
	return res
}

// since returns midnight of the Since date in the source's zone, or zero.
func (r *crawlRun) since() time.Time {
	if r.c.opts.Since.IsZero() {
		return time.Time{}
	}
	// The cutoff is a calendar date: its year, month and day, as written,
	// start the day in the source's own time zone.
	t := r.c.opts.Since
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, location(r.src))
}

// item fetches, extracts and archives one listing item.
func (r *crawlRun) item(ctx context.Context, it Item) outcome {
	log := r.log.With("url", it.URL)
	if pattern, ok := r.skip.match(it); ok {
		log.Debug("item skipped by a skip pattern", "title", it.Title, "pattern", pattern)
		return outSkipped
	}
	if !typeAllowed(r.src.Types, it.Type) {
		log.Debug("release type filtered out", "type", it.Type)
		return outSkipped
	}
	if cut := r.since(); !cut.IsZero() && !it.Published.IsZero() && it.Published.Before(cut) {
		return outTooOld
	}
	if !hostAllowed(it.URL, r.domains) {
		log.Debug("off-domain link not followed")
		return outSkipped
	}
	canon, known, err := r.identity(ctx, it.URL)
	if err != nil {
		return r.failed(ctx, it, "crawl state unavailable", err)
	}
	if known && !r.revisit(it) {
		r.count(func(run *atalaya.CrawlRun) { run.Unchanged++ })
		r.progress(it)
		return outKnown
	}
	gone, due := r.gone(ctx, canon)
	if gone && !due {
		log.Debug("link gone; not fetched before its retry")
		r.count(func(run *atalaya.CrawlRun) { run.Gone++ })
		r.progress(it)
		return outGone
	}
	return r.fetchArticle(ctx, it, canon, known, gone)
}

// identity returns the canonical URL a release is archived under, and
// whether it is archived. A release archived before Canonical kept trailing
// slashes and parameter order is known under its LegacyCanonical form: it
// keeps that URL, and so its ID. The legacy form is looked up first: the
// archive also knows such a release by the URL its page was fetched from,
// which may be the new canonical form.
func (r *crawlRun) identity(ctx context.Context, rawURL string) (string, bool, error) {
	canon, legacy := Canonical(rawURL), LegacyCanonical(rawURL)
	if legacy != canon {
		known, err := r.c.opts.State.Known(ctx, legacy)
		if err != nil {
			return canon, false, err
		}
		if known {
			r.log.Debug("release archived under the former form of its URL; keeping its ID", "archived_url", legacy)
			return legacy, true, nil
		}
	}
	known, err := r.c.opts.State.Known(ctx, canon)
	return canon, known, err
}

// fetchArticle fetches the article page of it, conditionally when the
// release is known, and archives it. A link that answers 404 or 410 is
// recorded as gone; one recorded as gone (wasGone) that answers again is
// no longer.
func (r *crawlRun) fetchArticle(ctx context.Context, it Item, canon string, known, wasGone bool) outcome {
	extra := map[string]string{}
	if known {
		extra = r.conditional(ctx, canon)
	}
	resp, err := r.f.get(ctx, it.URL, extra)
	if err != nil {
		r.fetchFailed(ctx, it.URL, err)
		if errors.Is(err, ErrRobots) {
			r.count(func(run *atalaya.CrawlRun) { run.Missing++ })
		}
		return r.failed(ctx, it, "", nil)
	}
	if wasGone && (resp.Status == http.StatusOK || resp.Status == http.StatusNotModified) {
		r.setGone(ctx, canon, time.Time{})
	}
	switch {
	case resp.Status == http.StatusNotModified && known:
		r.count(func(run *atalaya.CrawlRun) { run.Unchanged++ })
		r.progress(it)
		return outKnown
	case resp.Status == http.StatusForbidden:
		r.issue(atalaya.IssueBlocked, it.URL, "", "HTTP 403 Forbidden")
		return r.failed(ctx, it, "", nil)
	case resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
		r.issue(atalaya.IssueFetch, it.URL, "", "HTTP %d %s", resp.Status, http.StatusText(resp.Status))
		r.setGone(ctx, canon, r.c.opts.Now())
		r.count(func(run *atalaya.CrawlRun) { run.Missing++ })
		return r.failed(ctx, it, "", nil)
	case resp.Status != http.StatusOK:
		r.issue(atalaya.IssueFetch, it.URL, "", "HTTP %d %s", resp.Status, http.StatusText(resp.Status))
		return r.failed(ctx, it, "", nil)
	}
	return r.archive(ctx, it, canon, resp)
}

// archive extracts the release from resp and hands it to the Sink.
func (r *crawlRun) archive(ctx context.Context, it Item, canon string, resp *response) outcome {
	page := atalaya.Page{URL: resp.URL, Status: resp.Status, Header: resp.Header, Body: resp.Body, FetchedAt: resp.FetchedAt}
	rel, err := Extract(r.src, page, it)
	if err != nil || rel.Body == "" {
		if r.blockedPage(resp, decodeBody(resp.Body, resp.Header.Get("Content-Type"))) {
			return r.failed(ctx, it, "", nil)
		}
	}
	if err != nil {
		selector := ""
		if errors.Is(err, ErrNoMatch) {
			selector = strings.Join(r.src.Article.Required, ", ")
		}
		r.issue(issueKindOf(err), it.URL, selector, "%v", err)
		return r.failed(ctx, it, "", nil)
	}
	if !typeAllowed(r.src.Types, rel.Type) {
		return outSkipped
	}
	if rel.URL != canon {
		// Archived under its former URL form (see identity).
		rel.URL, rel.ID = canon, atalaya.NewID(canon)
	}
	if rel.DateOrigin == atalaya.DateMissing {
		r.issue(atalaya.IssueDate, it.URL, "", "no publication date in the article, listing or feed; release kept without a date")
	}
	version, err := r.c.opts.Sink.Put(ctx, page, rel)
	if err != nil {
		return r.failed(ctx, it, "archive unavailable", err)
	}
	r.setValidators(ctx, canon, resp)
	r.count(func(run *atalaya.CrawlRun) {
		switch {
		case version == 1:
			run.New++
			r.fillCount(rel)
		case version > 1:
			run.Revised++
		default:
			run.Unchanged++
		}
	})
	r.progress(it)
	r.log.Debug("release archived", "release_id", string(rel.ID), "url", rel.URL, "version", version)
	if version == 0 {
		return outKnown
	}
	return outFresh
}

// fillCount counts the fields a new release has; r.mu is held.
func (r *crawlRun) fillCount(rel atalaya.Release) {
	if rel.Title != "" {
		r.fill.title++
	}
	if rel.DateOrigin != atalaya.DateMissing {
		r.fill.date++
	}
	if rel.Body != "" {
		r.fill.body++
	}
}

// failed counts a failed item, logging err when there is one. An item cut
// short by a cancelled context (or the run budget) has not failed: the next
// run fetches it.
func (r *crawlRun) failed(ctx context.Context, it Item, msg string, err error) outcome {
	if ctx.Err() != nil {
		return outFailed
	}
	if err != nil {
		r.log.Warn(msg, "url", it.URL, "error", err)
	}
	r.count(func(run *atalaya.CrawlRun) { run.Failed++ })
	r.progress(it)
	return outFailed
}

// gone reports whether the link canon is recorded as gone and, if so,
// whether its retry is due. A link whose state cannot be read is fetched.
func (r *crawlRun) gone(ctx context.Context, canon string) (gone, due bool) {
	at, gone, err := r.c.opts.State.Gone(ctx, canon)
	if err != nil {
		r.log.Warn("crawl state unavailable", "url", canon, "error", err)
		return false, false
	}
	retry := r.src.GoneRetry
	if retry <= 0 {
		retry = DefaultGoneRetry
	}
	return gone, gone && r.c.opts.Now().Sub(at) >= retry
}

// setGone records canon as gone at at, or as not gone when at is zero.
func (r *crawlRun) setGone(ctx context.Context, canon string, at time.Time) {
	if err := r.c.opts.State.SetGone(ctx, canon, at); err != nil {
		r.log.Warn("crawl state unavailable", "url", canon, "error", err)
	}
}

// revisit reports whether an archived release is young enough to fetch again.
func (r *crawlRun) revisit(it Item) bool {
	return r.src.Revisit > 0 && !it.Published.IsZero() && r.c.opts.Now().Sub(it.Published) <= r.src.Revisit
}

func (r *crawlRun) progress(it Item) {
	if r.c.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	p := Progress{Source: r.src.ID, URL: it.URL, Items: r.run.Items, New: r.run.New,
		Revised: r.run.Revised, Unchanged: r.run.Unchanged, Failed: r.run.Failed, Gone: r.run.Gone}
	r.mu.Unlock()
	r.c.opts.Progress(p)
}

// fillRates reports title, date and body fill rates below the expectation,
// each with the selectors of the field and the source's first start URL.
func (r *crawlRun) fillRates() {
	n := r.run.New
	if n == 0 {
		return
	}
	want := r.src.Expect.MinFillRate
	if want <= 0 {
		want = defaultMinFillRate
	}
	a := r.src.Article
	var titleSels []string
	for _, f := range a.Title {
		titleSels = append(titleSels, f.Selector)
	}
	var dateSels []string
	for _, d := range a.Date {
		dateSels = append(dateSels, d.Selector)
	}
	for _, f := range []struct {
		field, sel string
		got        int
	}{
		{"title", strings.Join(titleSels, ", "), r.fill.title},
		{"date", strings.Join(dateSels, ", "), r.fill.date},
		{"body", a.Body, r.fill.body},
	} {
		if rate := float64(f.got) / float64(n); rate < want {
			r.issue(atalaya.IssueFillRate, r.src.StartURLs[0], f.sel, "%s found in %d of %d new releases (%.0f%%, expected at least %.0f%%)",
				f.field, f.got, n, rate*100, want*100)
		}
	}
}
