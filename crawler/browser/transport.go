package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// RenderedHeader is set on every response whose body is the DOM the browser
// rendered rather than the bytes the server sent, so that an archived page
// says how it was obtained. Its value is "dom".
const RenderedHeader = "X-Atalaya-Rendered"

// TransportOptions configure the Transport of one source.
type TransportOptions struct {
	// Parallelism bounds the tabs this transport opens at once (the
	// source's politeness parallelism); 0 means 1.
	Parallelism int
	// Timeout bounds one request, from opening the tab to reading the
	// DOM, challenge included; 0 means 30s. The request's context may end
	// it earlier.
	Timeout time.Duration
	// Ready is a CSS selector that appears only on the real page (not on a
	// challenge page): the DOM is read as soon as it matches. Empty means
	// reading the DOM once the page has settled.
	Ready string
	// Settle is how long the page must stay quiet (no navigation, no
	// request starting or ending) after loading to count as settled; 0
	// means 500ms. A challenge that reloads the page later than this is
	// read as the challenge page, unless Ready is set.
	Settle time.Duration
	// AllowedHosts are hosts (host[:port]) the page may load scripts and
	// data from besides its own; requests to every other host are blocked.
	AllowedHosts []string
	// AllowPrivateNetworks lets pages come from private, loopback and
	// link-local addresses: only for tests and the mirror.
	AllowPrivateNetworks bool
	// MaxBodySize bounds, in bytes, the rendered DOM and the body of a
	// non-HTML document: a larger page fails with [ErrTooLarge] before it
	// is read from the browser. 0 means DefaultMaxBodySize.
	MaxBodySize int
	Logger      *slog.Logger // nil means the Browser's logger
}

// Transport is an http.RoundTripper that loads each GET request in a tab of
// the Browser and answers with the rendered DOM. All requests of one
// Transport share a browser context, so cookies (a solved challenge) last
// as long as the Transport, also across a restart of the browser process.
// It is safe for concurrent use; Close it at the end of the run.
type Transport struct {
	b    *Browser
	opts TransportOptions
	log  *slog.Logger
	tabs chan struct{}

	mu      sync.Mutex
	gen     int // browser generation bcid belongs to
	bcid    cdp.BrowserContextID
	cookies []*network.CookieParam // the browser context's cookies after the last fetch
	closed  bool
}

var _ http.RoundTripper = (*Transport)(nil)

// Transport returns a transport for one source. Give it to colly with
// collector.WithTransport, or to an http.Client.
func (b *Browser) Transport(opts TransportOptions) *Transport {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Settle <= 0 {
		opts.Settle = 500 * time.Millisecond
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultMaxBodySize
	}
	if opts.Logger == nil {
		opts.Logger = b.log
	}
	return &Transport{b: b, opts: opts, log: opts.Logger, tabs: make(chan struct{}, opts.Parallelism)}
}

// timeoutError is a fetch that ran out of time; net/http and the crawler
// recognise it by its Timeout method.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// RoundTrip loads req.URL in a new tab and returns the page. The status
// code and headers are those of the last document the tab's main frame
// received (after a challenge's reload, the real page's); the body is the
// rendered DOM, UTF-8, with Content-Type's charset set to utf-8 and
// RenderedHeader set. Redirects, 304 Not Modified and non-HTML documents
// (robots.txt, feeds) are answered as the server sent them, body included,
// without rendering, so the caller's redirect policy, conditional requests
// and parsers work as for HTTP. The request headers (User-Agent, Accept,
// Accept-Language, If-None-Match, If-Modified-Since, …) are sent with the
// document request; a User-Agent header also sets navigator.userAgent.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	if req.Method != http.MethodGet {
		return nil, fmt.Errorf("browser: %s %s: %w", req.Method, req.URL, ErrMethod)
	}
	if err := t.checkHost(req); err != nil {
		return nil, err
	}
	// Starting the browser is bounded by Options.StartTimeout, not by the
	// request's timeout, which is for the page.
	p, done, err := t.b.use(req.Context())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.opts.Timeout)
	defer cancel()
	if err := t.acquire(ctx); err != nil {
		done()
		return nil, t.failure(ctx, req, err)
	}
	defer t.release()
	start := time.Now()
	for attempt := 0; ; attempt++ {
		resp, err := t.loadIn(ctx, p, req)
		done()
		if err == nil {
			t.log.Debug("page fetched through the browser", "url", req.URL.String(), "status", resp.StatusCode,
				"bytes", resp.ContentLength, "duration", time.Since(start))
			return resp, nil
		}
		// A page that fails is the page's problem. A browser that fails (it
		// crashed, or stopped answering until the timeout) is restarted, and
		// the fetch tried once more on the new one if time is left.
		pageFailed := errors.Is(err, ErrLoad) && !errors.Is(err, errTabLost) || errors.Is(err, ErrTooLarge)
		if pageFailed || !t.b.recover(p) || attempt > 0 || ctx.Err() != nil {
			return nil, t.failure(ctx, req, err)
		}
		t.log.Info("retrying fetch in the restarted browser", "url", req.URL.String())
		if p, done, err = t.b.use(ctx); err != nil {
			return nil, t.failure(ctx, req, err)
		}
	}
}

// loadIn loads req in a tab of p, in the transport's browser context.
func (t *Transport) loadIn(ctx context.Context, p *process, req *http.Request) (*http.Response, error) {
	bcid, err := t.browserContext(ctx, p)
	if err != nil {
		return nil, err
	}
	return t.load(ctx, p, bcid, req)
}

// checkHost refuses a page on a private network address unless the
// transport allows them.
func (t *Transport) checkHost(req *http.Request) error {
	if t.opts.AllowPrivateNetworks {
		return nil
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.opts.Timeout)
	defer cancel()
	if err := checkPublic(ctx, req.URL.Hostname()); err != nil {
		return t.failure(ctx, req, err)
	}
	return nil
}

// failure phrases a fetch error, making a deadline a timeout error.
func (t *Transport) failure(ctx context.Context, req *http.Request, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Context().Err() == nil {
		return &timeoutError{msg: fmt.Sprintf("browser: loading %s: %v: the page did not load and settle within %s%s",
			req.URL, ErrTimeout, t.opts.Timeout, t.readyHint())}
	}
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrMethod) || errors.Is(err, ErrNoBrowser) || errors.Is(err, ErrPrivateNetwork) {
		return err
	}
	return fmt.Errorf("browser: loading %s: %w", req.URL, err)
}

func (t *Transport) readyHint() string {
	if t.opts.Ready == "" {
		return ""
	}
	return fmt.Sprintf(" (ready selector %q never matched)", t.opts.Ready)
}

func (t *Transport) acquire(ctx context.Context) error {
	select {
	case t.tabs <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := t.b.acquireTab(ctx); err != nil {
		<-t.tabs
		return err
	}
	return nil
}

func (t *Transport) release() {
	t.b.releaseTab()
	<-t.tabs
}

// browserContext returns this transport's browser context in p, making it
// (with the cookies of the previous process) when p is new to it.
func (t *Transport) browserContext(ctx context.Context, p *process) (cdp.BrowserContextID, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", ErrClosed
	}
	if t.gen == p.gen && t.bcid != "" {
		return t.bcid, nil
	}
	cctx, cancel := mergeCancel(p.ctx, ctx)
	defer cancel()
	res, err := chromedp.CallBrowser(cctx, target.CreateBrowserContext, target.CreateBrowserContextParams{})
	if err != nil {
		return "", fmt.Errorf("creating a browser context: %w", err)
	}
	if len(t.cookies) > 0 {
		_, err := chromedp.CallBrowser(cctx, storage.SetCookies, storage.SetCookiesParams{Cookies: t.cookies, BrowserContextID: res.BrowserContextID})
		if err != nil {
			return "", fmt.Errorf("restoring cookies: %w", err)
		}
	}
	t.gen, t.bcid = p.gen, res.BrowserContextID
	return t.bcid, nil
}

// saveCookies keeps the cookies of the browser context, to restore them if
// the browser process has to be restarted.
func (t *Transport) saveCookies(ctx context.Context, gen int, bcid cdp.BrowserContextID) {
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: bcid})
	if err != nil {
		t.log.Debug("cookies not saved", "error", err)
		return
	}
	params := make([]*network.CookieParam, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		cp := &network.CookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Secure: c.Secure,
			HTTPOnly: c.HTTPOnly, SameSite: c.SameSite, Priority: c.Priority, SourceScheme: c.SourceScheme, SourcePort: c.SourcePort}
		if !c.Session {
			cp.Expires = cdp.TimeSinceEpoch(c.Expires)
		}
		params = append(params, cp)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen == gen && t.bcid == bcid {
		t.cookies = params
	}
}

// mergeCancel returns a context carrying the values of base (the chromedp
// context) that ends when either base or limit ends, with limit's deadline.
func mergeCancel(base, limit context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(base)
	if d, ok := limit.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, d)
		inner := cancel
		cancel = func() { cancelDeadline(); inner() }
	}
	stop := context.AfterFunc(limit, cancel)
	return ctx, func() { stop(); cancel() }
}

// errTabLost: the tab went away in the middle of a load (the browser or
// its renderer crashed).
var errTabLost = errors.New("the tab closed or crashed")

// load loads req in a new tab of the transport's browser context.
func (t *Transport) load(ctx context.Context, p *process, bcid cdp.BrowserContextID, req *http.Request) (*http.Response, error) {
	pl := newPageLoad(req, t.opts)
	tabCtx, closeTab := chromedp.NewContext(p.ctx, chromedp.WithExistingBrowserContext(bcid), chromedp.WithListener(pl.observe))
	defer closeTab()
	runCtx, cancel := mergeCancel(tabCtx, ctx)
	defer cancel()

	if err := chromedp.Do(runCtx); err != nil {
		return nil, fmt.Errorf("opening a tab: %w", err)
	}
	pl.setMainFrame(cdp.FrameID(chromedp.FromContext(tabCtx).Target.TargetID))
	detached, _ := chromedp.Detached(runCtx)
	stop := intercept(runCtx, pl)
	defer stop()
	if err := prepareTab(runCtx, req); err != nil {
		return nil, err
	}
	nav, err := chromedp.Call(runCtx, page.Navigate, page.NavigateParams{URL: req.URL.String()})
	if err != nil {
		return nil, fmt.Errorf("navigating: %w", err)
	}
	if nav.ErrorText != "" && !pl.answered() {
		return nil, fmt.Errorf("%w: %s", ErrLoad, nav.ErrorText)
	}
	if err := t.waitSettled(runCtx, pl, detached); err != nil {
		return nil, err
	}
	resp, err := pl.early()
	if err != nil {
		return nil, err
	}
	if resp != nil {
		resp.Request = req
		return resp, nil
	}
	dom, err := readDOM(runCtx, t.opts.MaxBodySize)
	if err != nil {
		return nil, err
	}
	t.saveCookies(runCtx, p.gen, bcid)
	return pl.rendered(req, dom), nil
}

// intercept starts handing the tab's paused requests to pl. stop ends it
// (with ctx, which it cancels) and waits for the handler to return.
func intercept(ctx context.Context, pl *pageLoad) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			pl.intercept(ctx, &ev)
		}
	})
	return func() { cancel(); wg.Wait() }
}

// prepareTab sets the tab's User-Agent (and Accept-Language) from the
// request and turns on request interception.
func prepareTab(ctx context.Context, req *http.Request) error {
	if ua := req.Header.Get("User-Agent"); ua != "" {
		params := emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: req.Header.Get("Accept-Language")}
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, params); err != nil {
			return fmt.Errorf("setting the User-Agent: %w", err)
		}
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		return fmt.Errorf("enabling request interception: %w", err)
	}
	return nil
}

// serializeDOM returns the document as HTML, doctype included.
const serializeDOM = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\n" : "") + document.documentElement.outerHTML`

// waitSettled waits until the page has an early answer, the ready selector
// matches, or the page has settled.
func (t *Transport) waitSettled(ctx context.Context, pl *pageLoad, detached <-chan struct{}) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-detached:
			return fmt.Errorf("%w: %w", ErrLoad, errTabLost)
		case <-pl.answeredCh:
			return nil
		case <-tick.C:
		}
		loaded, quiet := pl.state(t.opts.Settle)
		if !loaded {
			continue
		}
		if t.opts.Ready == "" {
			if quiet {
				return nil
			}
			continue
		}
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](readyCheck(t.opts.Ready)))
		if err == nil && found {
			return nil
		}
	}
}

// readyCheck returns a script reporting whether selector matches.
func readyCheck(selector string) string {
	return "document.querySelector(" + strconv.Quote(selector) + ") !== null"
}

// response builds an http.Response for req.
func response(req *http.Request, status int, header http.Header, body []byte) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// utf8ContentType returns contentType with its charset set to utf-8.
func utf8ContentType(contentType string) string {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "text/html; charset=utf-8"
	}
	params["charset"] = "utf-8"
	return mime.FormatMediaType(media, params)
}

// Close disposes of the transport's browser context and its cookies.
// Requests after Close fail with [ErrClosed].
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	gen, bcid := t.gen, t.bcid
	t.closed, t.bcid, t.cookies = true, "", nil
	t.mu.Unlock()
	if bcid == "" {
		return nil
	}
	t.b.mu.Lock()
	p := t.b.proc
	t.b.mu.Unlock()
	if p == nil || p.gen != gen {
		return nil // the process that held the context is gone, and the context with it
	}
	cctx, cancel := mergeCancel(p.ctx, ctx)
	defer cancel()
	if _, err := chromedp.CallBrowser(cctx, target.DisposeBrowserContext, target.DisposeBrowserContextParams{BrowserContextID: bcid}); err != nil {
		return fmt.Errorf("browser: closing the transport's browser context: %w", err)
	}
	return nil
}
