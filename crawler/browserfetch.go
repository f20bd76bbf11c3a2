package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"atalaya"
)

// ErrNoBrowser: a source is fetched through a browser and none is
// available. The error wrapping it says how to install one.
var ErrNoBrowser = errors.New("crawler: no browser")

// Browser makes the transports of the sources fetched through a browser
// (FetchBrowser, and FetchAuto once blocked). cmd/atalaya adapts package
// crawler/browser to it: one browser process shared by every source.
type Browser interface {
	// Transport returns a transport for one crawl of a source. It fails
	// when no browser is available, saying how to install one.
	Transport(ctx context.Context, opts BrowserOptions) (BrowserTransport, error)
}

// BrowserTransport loads pages in a browser; the crawler closes it at the
// end of the crawl.
type BrowserTransport interface {
	http.RoundTripper
	Close(ctx context.Context) error
}

// BrowserOptions are a source's settings for its browser transport.
type BrowserOptions struct {
	Source      atalaya.SourceID
	Parallelism int           // tabs open at once: the source's parallelism
	Timeout     time.Duration // per page, challenge included
	Ready       string        // Source.Ready
	// AllowedHosts are the hosts the page may load scripts and data from
	// besides its own: the source's allowed domains.
	AllowedHosts []string
	// AllowPrivateNetworks lets pages come from private addresses. Without
	// it the transport refuses such a page with an error that has a
	// PrivateNetwork method returning true; the crawler reports it as
	// ErrPrivateNetwork and does not retry it.
	AllowPrivateNetworks bool
	// MaxBodySize is the source's page size limit in bytes
	// (Politeness.MaxBodySize, or its default). The transport refuses a
	// larger page, before reading it where it can, with an error that has a
	// TooLarge method returning true; the crawler reports it as ErrTooLarge.
	MaxBodySize int
	Logger      *slog.Logger
}

// browserCloseTimeout bounds closing a source's browser transport.
const browserCloseTimeout = 10 * time.Second

// autoTransport carries the requests of a FetchAuto source: over plain
// HTTP until the fetcher switches it to the browser, for the rest of the
// run.
type autoTransport struct {
	plain http.RoundTripper
	mu    sync.Mutex
	// browser is nil until the switch.
	browser BrowserTransport
	// block and blockURL are the first block met over HTTP, and where:
	// why the source switched, or could not.
	block, blockURL string
	switchErr       error
}

// current returns the transport requests go through now.
func (a *autoTransport) current() http.RoundTripper {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.browser != nil {
		return a.browser
	}
	return a.plain
}

// RoundTrip sends req over the current transport.
func (a *autoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return a.current().RoundTrip(req)
}

// onBrowser reports whether requests go through the browser.
func (a *autoTransport) onBrowser() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.browser != nil
}

// browserTransport returns the transport for a source fetched through a
// browser, or ErrNoBrowser.
func (f *fetcher) browserTransport(ctx context.Context) (BrowserTransport, error) {
	if f.browser == nil {
		return nil, fmt.Errorf("%w: none is configured", ErrNoBrowser)
	}
	bt, err := f.browser.Transport(ctx, f.browserOpts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBrowser, err)
	}
	return bt, nil
}

// switchToBrowser moves a FetchAuto source to the browser after a block
// met on pageURL, once. It reports whether requests now go through the
// browser; when no browser is available the source stays on HTTP and the
// reason is kept for the run's report.
func (f *fetcher) switchToBrowser(ctx context.Context, pageURL, block string) bool {
	a := f.auto
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.browser != nil:
		return true
	case a.switchErr != nil:
		return false
	}
	a.block, a.blockURL = block, pageURL
	bt, err := f.browserTransport(ctx)
	if err != nil {
		a.switchErr = err
		f.log.Warn("blocked over HTTP; no browser to switch to", "url", pageURL, "block", block, "error", err)
		return false
	}
	a.browser = bt
	f.log.Info("switched to the browser for the rest of the run", "url", pageURL, "block", block)
	return true
}

// switchReport returns what a FetchAuto source's run records: why it
// switched to the browser; or, when it could not, the page where it was
// blocked and why it could not.
func (f *fetcher) switchReport() (switched, blockURL string, failed error) {
	if f.auto == nil {
		return "", "", nil
	}
	a := f.auto
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.switchErr != nil:
		return "", a.blockURL, fmt.Errorf("blocked over HTTP (%s), and could not switch to the browser (fetch: auto): %w", a.block, a.switchErr)
	case a.browser != nil:
		return a.block + " at " + a.blockURL, "", nil
	}
	return "", "", nil
}

// blockOf says why a response fetched over HTTP looks blocked, for
// FetchAuto: a 403, a JavaScript variant of the page, or a block marker.
// Empty when it does not.
func (f *fetcher) blockOf(resp *response) string {
	switch ct := resp.Header.Get("Content-Type"); {
	case resp.Status == http.StatusForbidden:
		return "HTTP 403 Forbidden"
	case strings.Contains(strings.ToLower(ct), "javascript"):
		return fmt.Sprintf("JavaScript variant of the page (Content-Type %q)", ct)
	}
	return markerReason(f.markers, resp.URL, decodeBody(resp.Body, resp.Header.Get("Content-Type")))
}

// closeBrowser closes the source's browser transport, if it has one.
func (f *fetcher) closeBrowser(ctx context.Context) {
	bt := f.bt
	if f.auto != nil {
		f.auto.mu.Lock()
		bt = f.auto.browser
		f.auto.mu.Unlock()
	}
	if bt == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), browserCloseTimeout)
	defer cancel()
	if err := bt.Close(ctx); err != nil {
		f.log.Warn("browser transport not closed cleanly", "error", err)
	}
}
