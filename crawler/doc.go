// Package crawler fetches the press releases of a [Source] politely and
// safely and extracts an [atalaya.Release] from each.
//
// # Crawling
//
// [Crawler.Crawl] walks a source's listing pages newest first (or reads its
// RSS or Atom feed), follows each release link that [State] does not know
// yet, extracts the release with [Extract] and hands the page and the release
// to a [Sink]. Pagination stops at MaxPages, at the Since cutoff, on a 404, on
// a page without items, on a next link without href, on a 304 and, in an
// incremental run, on the first listing page that brings nothing new. A
// listing page's validators (ETag, Last-Modified) are stored only after all
// its items were processed, and a walk that was cut short (a crash, a
// cancelled context, a listing page that failed) is resumed by the next one,
// which sends no validators and goes on past pages that bring nothing new
// (see State.WalkComplete), so a crash never hides a release.
//
// An article link that answers 404 or 410 is reported once and recorded as
// gone (State.SetGone); later runs do not request it, and count it in
// CrawlRun.Gone, until Source.GoneRetry has passed. Then it is fetched
// again: a page that answers is archived as usual and the record cleared,
// while another 404 or 410 is reported again and restarts the wait. A
// listing page with a gone link keeps its old validators, so the link is
// seen again when its retry is due.
//
// # Politeness and safety
//
// Requests go through a colly collector whose every option is set
// explicitly. robots.txt is fetched and obeyed by the crawler itself,
// including Crawl-delay, which colly ignores. Requests to a host are spaced
// by max(Politeness.Delay, Crawl-delay); the spacing doubles while the host
// answers 429 or 503. 429, 5xx and network errors are retried with jittered
// exponential backoff, honouring Retry-After. A body over MaxBodySize, a
// redirect loop and a redirect off AllowedDomains are errors. The default
// transport refuses private and loopback addresses in the dialer itself, so
// DNS rebinding cannot bypass the check.
//
// # Fetching through a browser
//
// A source with Fetch [FetchBrowser] sends every request through a
// transport of [Options.Browser] (headless Chromium, in cmd/atalaya), still
// driven by the collector: robots.txt, spacing, retries, size limits and
// block detection apply unchanged. A [FetchAuto] source goes over plain
// HTTP until a response looks blocked (a 403, a JavaScript variant, a block
// marker), then switches to the browser for the rest of the crawl and
// fetches the blocked page again; CrawlRun.BrowserSwitch records why.
// Without a browser a FetchBrowser source fails with a health issue and
// a FetchAuto source stays on HTTP.
//
// # Health
//
// The returned [atalaya.CrawlRun] carries the source's health: anti-bot
// pages (403, a block marker, HTML where a feed was expected, gob.mx's
// JavaScript-escaped listing) set Blocked and are never counted as "nothing
// new"; selectors that match nothing, low fill rates of title, date and
// body, fetch failures, robots.txt refusals and missing dates are reported
// as [atalaya.SourceIssue]s.
//
// A Crawler is safe for concurrent use; each Crawl uses its own collector.
package crawler
