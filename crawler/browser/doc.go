// Package browser fetches pages through headless Chromium, for the sites
// that answer scripted clients with a JavaScript challenge instead of their
// pages (gob.mx's "Challenge Validation") while colly stays the crawler.
//
// A [Browser] is one Chromium process, found on PATH (chromium,
// chromium-browser, google-chrome) or at a configured path, started on first
// use, restarted when it crashes or stops answering, and stopped by
// [Browser.Close]. Its [Browser.Transport] is an http.RoundTripper for one
// source, to give to colly with collector.WithTransport: each GET request
// is loaded in a new tab of the transport's own browser context (so cookies,
// and a challenge solved once, last as long as the transport), with images,
// stylesheets, fonts, media and requests to other hosts blocked while the
// page's own scripts run. The response carries the status code and headers
// of the main frame's last document and, as body, the DOM once the page has
// settled or the ready selector matches, so block detection, size limits
// and the archive work as for HTTP. Redirects, 304 Not Modified and non-HTML
// documents (robots.txt, feeds) are returned as the server sent them.
// A rendered DOM or non-HTML body over TransportOptions.MaxBodySize fails
// with [ErrTooLarge], measured in the page or by its Content-Length before
// it is read, or as soon as a body of unknown size passes the limit.
//
// For "fetch: auto", the crawler sends a source's requests over plain HTTP
// and makes the source's Transport only when the site blocks it.
//
// Tabs are bounded per transport (the source's parallelism) and per
// browser (Options.MaxTabs). Every request is bounded by its context and
// TransportOptions.Timeout. Browser and Transport are safe for concurrent
// use.
package browser
