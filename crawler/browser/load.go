package browser

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// blockedTypes are the resources a page never needs to be read: they are
// not requested at all. Images and stylesheets are answered by the browser
// itself (see stubs); the others fail.
var blockedTypes = map[network.ResourceType]bool{
	network.ResourceTypeImage:              true,
	network.ResourceTypeStylesheet:         true,
	network.ResourceTypeFont:               true,
	network.ResourceTypeMedia:              true,
	network.ResourceTypeTextTrack:          true,
	network.ResourceTypeManifest:           true,
	network.ResourceTypePing:               true,
	network.ResourceTypePrefetch:           true,
	network.ResourceTypeCSPViolationReport: true,
}

// blankGIF is a 1×1 transparent GIF.
var blankGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

// stub is a response the browser gets for a blocked resource without any
// request reaching a server.
type stub struct {
	contentType string
	body        []byte
}

// stubs answer blocked images and stylesheets with a blank image and an
// empty stylesheet rather than an error: pages (gob.mx's among them) whose
// onerror handlers load a fallback image would otherwise retry forever and
// never settle.
var stubs = map[network.ResourceType]stub{
	network.ResourceTypeImage:      {"image/gif", blankGIF},
	network.ResourceTypeStylesheet: {"text/css", nil},
}

// pageLoad follows the loading of one page in one tab: it blocks what the
// page does not need, sends the request's headers with the document, and
// records the status and headers of the main frame's last document. Its
// observe method runs in chromedp's event loop; intercept in the tab's
// interception goroutine; the rest in RoundTrip's goroutine.
type pageLoad struct {
	header  http.Header     // request headers to send with the document
	allowed map[string]bool // hosts (host[:port]) requests may go to
	limit   int             // bytes of a non-HTML body read at most

	mu           sync.Mutex
	mainFrame    cdp.FrameID
	loading      bool // the main frame is navigating or loading
	docStatus    int  // status of the main frame's last document; 0 before the first
	docHeader    http.Header
	lastActivity time.Time
	answer       *http.Response // a document answered without rendering
	answerErr    error          // or why it could not be
	answeredCh   chan struct{}  // closed when answer or answerErr is set
}

func newPageLoad(req *http.Request, opts TransportOptions) *pageLoad {
	allowed := map[string]bool{req.URL.Host: true}
	for _, h := range opts.AllowedHosts {
		allowed[strings.ToLower(h)] = true
	}
	return &pageLoad{header: req.Header, allowed: allowed, limit: opts.MaxBodySize, lastActivity: time.Now(), answeredCh: make(chan struct{})}
}

func (pl *pageLoad) setMainFrame(id cdp.FrameID) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.mainFrame = id
}

// observe tracks navigation and network activity. It runs in the tab's
// event loop: it must return fast and send no command.
func (pl *pageLoad) observe(ev any) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventFrameRequestedNavigation:
		pl.loading = pl.loading || ev.FrameID == pl.mainFrame
	case *page.EventFrameStartedNavigating:
		pl.loading = pl.loading || ev.FrameID == pl.mainFrame
	case *page.EventFrameStartedLoading:
		pl.loading = pl.loading || ev.FrameID == pl.mainFrame
	case *page.EventFrameStoppedLoading:
		if ev.FrameID == pl.mainFrame {
			pl.loading = false
		}
	case *network.EventRequestWillBeSent, *network.EventLoadingFinished, *network.EventLoadingFailed,
		*page.EventLoadEventFired, *page.EventFrameNavigated:
	default:
		return
	}
	pl.lastActivity = time.Now()
}

// state reports whether the main frame has a document and is not loading,
// and whether it has also been quiet for settle.
func (pl *pageLoad) state(settle time.Duration) (loaded, quiet bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	loaded = pl.docStatus != 0 && !pl.loading
	return loaded, loaded && time.Since(pl.lastActivity) >= settle
}

func (pl *pageLoad) isMain(ev *fetch.EventRequestPaused) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return ev.ResourceType == network.ResourceTypeDocument && ev.FrameID == pl.mainFrame
}

// intercept decides the fate of one paused request.
func (pl *pageLoad) intercept(ctx context.Context, ev *fetch.EventRequestPaused) {
	id := ev.RequestID
	if ev.ResponseStatusCode == 0 && ev.ResponseErrorReason == "" {
		stub, stubbed := stubs[ev.ResourceType]
		if isFavicon(ev.Request.URL) {
			stub, stubbed = stubs[network.ResourceTypeImage], true
		}
		switch {
		case stubbed:
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: id, ResponseCode: http.StatusOK,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: stub.contentType}}, Body: stub.body})
		case blockedTypes[ev.ResourceType] || !pl.allowedURL(ev.Request.URL):
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: network.ErrorReasonBlockedByClient})
		case pl.isMain(ev):
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{
				RequestID: id, Headers: pl.documentHeaders(ev.Request.Headers), InterceptResponse: new(true)})
		default:
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
		}
		return
	}
	// The response of a main-frame document (the only responses paused).
	status := int(ev.ResponseStatusCode)
	header := http.Header{}
	for _, h := range ev.ResponseHeaders {
		header.Add(h.Name, h.Value)
	}
	switch {
	case ev.ResponseErrorReason != "":
		// The navigation fails; page.Navigate or the timeout reports it.
	case status == http.StatusNotModified || status >= 300 && status < 400 && header.Get("Location") != "":
		// Redirects and 304s go back to the caller, whose redirect policy
		// and conditional requests apply as for HTTP.
		pl.setAnswer(status, header, nil, nil)
		_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: network.ErrorReasonAborted})
		return
	case !isHTML(header.Get("Content-Type")):
		// robots.txt, feeds: the bytes as sent, not a page rendering them.
		body, err := readBody(ctx, id, header, pl.limit)
		pl.setAnswer(status, header, body, err)
		_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: network.ErrorReasonAborted})
		return
	default:
		pl.mu.Lock()
		pl.docStatus, pl.docHeader = status, header
		pl.mu.Unlock()
	}
	_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
}

// isFavicon reports whether rawURL is the icon the browser asks for on its
// own, of type Other rather than Image.
func isFavicon(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Path == "/favicon.ico"
}

// allowedURL reports whether a request may go to rawURL: to the page's own
// host or an allowed one (URLs without a host, data: and blob:, are local).
func (pl *pageLoad) allowedURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	return u.Host == "" || pl.allowed[strings.ToLower(u.Host)]
}

// documentHeaders returns the browser's headers for a document request,
// with the request's own headers (Accept, conditional headers, …) replacing
// the browser's of the same name. The request's Cookie header is not sent:
// the browser context's cookies, which include those set by the page's
// scripts (a solved challenge), are the ones that count.
func (pl *pageLoad) documentHeaders(browserHeaders network.Headers) []*fetch.HeaderEntry {
	var entries []*fetch.HeaderEntry
	for name, v := range browserHeaders {
		if _, own := pl.header[http.CanonicalHeaderKey(name)]; own {
			continue
		}
		entries = append(entries, &fetch.HeaderEntry{Name: name, Value: fmt.Sprint(v)})
	}
	for name, values := range pl.header {
		if name == "Host" || name == "Connection" || name == "Accept-Encoding" || name == "Cookie" {
			continue
		}
		entries = append(entries, &fetch.HeaderEntry{Name: name, Value: strings.Join(values, ", ")})
	}
	return entries
}

// setAnswer records the document answered without rendering, or err when
// it could not be read. Only the first answer counts.
func (pl *pageLoad) setAnswer(status int, header http.Header, body []byte, err error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.answered() {
		return
	}
	if err != nil {
		pl.answerErr = err
	} else {
		pl.answer = response(nil, status, header, body)
	}
	close(pl.answeredCh)
}

// answered reports whether a document was answered without rendering.
func (pl *pageLoad) answered() bool {
	select {
	case <-pl.answeredCh:
		return true
	default:
		return false
	}
}

// early returns the document answered without rendering, or why it could
// not be read; nil and nil if none.
func (pl *pageLoad) early() (*http.Response, error) {
	if !pl.answered() {
		return nil, nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.answer, pl.answerErr
}

// rendered returns the response for the rendered DOM.
func (pl *pageLoad) rendered(req *http.Request, dom []byte) *http.Response {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	header := pl.docHeader.Clone()
	for _, h := range []string{"Content-Length", "Content-Encoding", "Transfer-Encoding"} {
		header.Del(h)
	}
	ct := header.Get("Content-Type")
	if ct == "" {
		ct = "text/html"
	}
	header.Set("Content-Type", utf8ContentType(ct))
	header.Set(RenderedHeader, "dom")
	return response(req, pl.docStatus, header, dom)
}

// isHTML reports whether a document of this Content-Type is rendered.
// Without one the browser sniffs, and the page is treated as HTML.
func isHTML(contentType string) bool {
	if contentType == "" {
		return true
	}
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return true
	}
	return media == "text/html" || media == "application/xhtml+xml"
}
