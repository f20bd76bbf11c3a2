package browser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Errors reported by the package. Fetch errors wrap one of them, so callers
// can branch with errors.Is.
var (
	// ErrNoBrowser: no Chromium or Chrome executable was found.
	ErrNoBrowser = errors.New("browser: no Chromium or Chrome found; install one (Debian/Ubuntu: apt-get install chromium) or set its path")
	// ErrClosed: the Browser or Transport was closed.
	ErrClosed = errors.New("browser: closed")
	// ErrMethod: a request other than GET.
	ErrMethod = errors.New("browser: only GET requests can be fetched through a browser")
	// ErrTimeout: the page did not load or settle in time.
	ErrTimeout = errors.New("browser: page did not load in time")
	// ErrLoad: the browser could not load the page (connection refused,
	// DNS failure, a crashed tab).
	ErrLoad = errors.New("browser: page did not load")
	// ErrTooLarge: the page's rendered DOM, or the body of a non-HTML
	// document, is larger than TransportOptions.MaxBodySize.
	ErrTooLarge = errors.New("browser: page larger than the size limit")
)

// executables are the names looked up on PATH, in order.
var executables = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Flags every browser process starts with (besides a fresh --user-data-dir,
// which chromedp creates and removes).
var processFlags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-breakpad", true),
	chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("hide-scrollbars", true),
}

// Options configure a Browser.
type Options struct {
	// ExecPath is the browser executable. Empty means the first of
	// chromium, chromium-browser, google-chrome and google-chrome-stable
	// found on PATH.
	ExecPath string
	// MaxTabs bounds the tabs open at once over all transports; 0 means 8.
	MaxTabs int
	// StartTimeout bounds the start of the browser process; 0 means 30s.
	StartTimeout time.Duration
	// PagesPerProcess bounds the pages one browser process loads: then a
	// new process takes the next fetches and the old one stops once its
	// last tab closes, so that a long run's memory does not grow without
	// bound. 0 means 200; cookies carry over.
	PagesPerProcess int
	Logger          *slog.Logger // nil means slog.Default()
}

// Browser is one headless Chromium process shared by every Transport made
// from it. The process starts on first use, is restarted when it crashes or
// stops answering, and stops with Close. It is safe for concurrent use.
type Browser struct {
	opts     Options
	execPath string
	log      *slog.Logger
	tabs     chan struct{} // one token per open tab

	life context.Context // ends with Close: a start under way stops
	stop context.CancelFunc

	mu       sync.Mutex
	proc     *process              // the process new fetches use; nil until first use and after a crash
	live     map[*process]struct{} // every process not stopped yet, retiring ones included
	starting *startCall            // the start under way, if any
	gen      int                   // number of processes started
	closed   bool
}

// startCall is one start of a browser process, which the fetches that
// need a process wait for.
type startCall struct {
	done chan struct{} // closed when the start has ended
	err  error         // why it failed, once done
}

// process is one running browser process. Its counters are guarded by
// Browser.mu.
type process struct {
	gen    int
	ctx    context.Context // the chromedp context of the browser: it has run once
	cancel func()          // stops the process and waits for it

	inUse    int  // fetches using the process now
	pages    int  // fetches done with the process
	retiring bool // no new fetches; stopped when inUse drops to 0
}

// New returns a Browser that will run the executable opts.ExecPath, or the
// first browser found on PATH. It starts nothing: the process starts with
// the first fetch. It fails with [ErrNoBrowser] when there is no browser.
func New(opts Options) (*Browser, error) {
	path, err := findExecutable(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	if opts.MaxTabs <= 0 {
		opts.MaxTabs = 8
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.PagesPerProcess <= 0 {
		opts.PagesPerProcess = 200
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	life, stop := context.WithCancel(context.Background())
	return &Browser{opts: opts, execPath: path, log: opts.Logger, tabs: make(chan struct{}, opts.MaxTabs), life: life, stop: stop}, nil
}

// findExecutable returns configured when it is an executable file, else the
// first known browser on PATH.
func findExecutable(configured string) (string, error) {
	if configured != "" {
		path, err := exec.LookPath(configured)
		if err != nil {
			return "", fmt.Errorf("%w (%s: %v)", ErrNoBrowser, configured, err)
		}
		return path, nil
	}
	for _, name := range executables {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %v on PATH)", ErrNoBrowser, executables)
}

// ExecPath returns the browser executable that New found.
func (b *Browser) ExecPath() string { return b.execPath }

// use returns the process for a fetch, starting one when there is none.
// The fetch calls done when it no longer needs the process. A start takes
// up to StartTimeout; the fetches waiting for it (the one that asked for
// it among them) each stop waiting when their ctx ends, and the start goes
// on for the others: nothing holds the Browser's lock meanwhile, so fetches
// that end, and Close, do not wait for it.
func (b *Browser) use(ctx context.Context) (p *process, done func(), err error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, nil, ErrClosed
		}
		if p := b.proc; p != nil {
			p.inUse++
			b.mu.Unlock()
			return p, func() { b.done(p) }, nil
		}
		call := b.starting
		if call == nil {
			call = &startCall{done: make(chan struct{})}
			b.starting = call
			b.gen++
			go b.runStart(call, b.gen)
		}
		b.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("browser: waiting for %s to start: %w", b.execPath, ctx.Err())
		}
		if call.err != nil {
			return nil, nil, call.err
		}
		// Started: take it, or start another if it is already gone.
	}
}

// runStart starts process number gen for call, and makes it the process
// fetches use, unless the Browser was closed meanwhile.
func (b *Browser) runStart(call *startCall, gen int) {
	p, err := b.start(b.life, gen)
	b.mu.Lock()
	b.starting = nil
	closed := b.closed
	if err == nil && !closed {
		b.proc = p
		if b.live == nil {
			b.live = map[*process]struct{}{}
		}
		b.live[p] = struct{}{}
	}
	b.mu.Unlock()
	if closed {
		if p != nil {
			p.cancel()
		}
		err = ErrClosed
	}
	call.err = err
	close(call.done)
}

// done ends a fetch's use of p. A process that has loaded PagesPerProcess
// pages retires: new fetches get a new process, and p stops once its last
// fetch is done.
func (b *Browser) done(p *process) {
	b.mu.Lock()
	p.inUse--
	p.pages++
	if b.proc == p && p.pages >= b.opts.PagesPerProcess {
		b.proc, p.retiring = nil, true
		b.log.Info("browser recycled", "generation", p.gen, "pages", p.pages)
	}
	stop := p.retiring && p.inUse == 0
	if stop {
		delete(b.live, p)
	}
	b.mu.Unlock()
	if stop {
		go p.cancel()
	}
}

// start starts browser process number gen. The process outlives ctx; ctx
// and StartTimeout bound only the start.
func (b *Browser) start(ctx context.Context, gen int) (*process, error) {
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(b.execPath)}, processFlags...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	p := &process{gen: gen, ctx: bctx, cancel: func() { bcancel(); allocCancel() }}

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	timer := time.NewTimer(b.opts.StartTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			p.cancel()
			return nil, fmt.Errorf("browser: starting %s: %w", b.execPath, err)
		}
	case <-timer.C:
		p.cancel()
		return nil, fmt.Errorf("browser: starting %s: no answer after %s: %w", b.execPath, b.opts.StartTimeout, ErrTimeout)
	case <-ctx.Done():
		p.cancel()
		return nil, fmt.Errorf("browser: starting %s: %w", b.execPath, ctx.Err())
	}
	b.log.Info("browser started", "path", b.execPath, "generation", p.gen, "pid", p.pid())
	return p, nil
}

// pid returns the process ID of the browser, 0 if unknown.
func (p *process) pid() int {
	if c := chromedp.FromContext(p.ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		return c.Browser.Process().Pid
	}
	return 0
}

// alive reports whether the process answers a command within a few seconds.
func (p *process) alive() bool {
	if p.ctx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	return err == nil
}

// restart stops p when it is still the current process, so that the next
// fetch starts a new one. Transports see the new generation and make new
// browser contexts in it.
func (b *Browser) restart(p *process, reason string) {
	b.mu.Lock()
	_, live := b.live[p]
	delete(b.live, p)
	if b.proc == p {
		b.proc = nil
	}
	b.mu.Unlock()
	if live {
		b.log.Warn("browser restarted", "generation", p.gen, "reason", reason)
		go p.cancel() // a hung process may take a while to die; nobody waits for it
	}
}

// recover checks, after a failed fetch, whether the browser process itself
// failed; if so it is stopped (and restarted by the next fetch). It reports
// whether it was.
func (b *Browser) recover(p *process) bool {
	if p.alive() {
		return false
	}
	b.restart(p, "the browser crashed or stopped answering")
	return true
}

// acquireTab waits for a free tab of the browser.
func (b *Browser) acquireTab(ctx context.Context) error {
	select {
	case b.tabs <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Browser) releaseTab() { <-b.tabs }

// Close stops the browser processes, waiting at most until ctx ends.
// Fetches after Close fail with [ErrClosed]. Close may be called more than
// once.
func (b *Browser) Close(ctx context.Context) error {
	b.mu.Lock()
	procs := make([]*process, 0, len(b.live))
	for p := range b.live {
		procs = append(procs, p)
	}
	b.proc, b.live, b.closed = nil, nil, true
	starting := b.starting
	b.mu.Unlock()
	b.stop()
	var errs []error
	if starting != nil { // the start stops, and its process with it
		select {
		case <-starting.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("browser: closing: a browser starting did not stop: %w", ctx.Err()))
		}
	}
	for _, p := range procs {
		if err := p.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close stops the process gracefully, or kills it when ctx ends first.
func (p *process) close(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		err := chromedp.Cancel(cctx)
		p.cancel()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("browser: closing: %w", err)
		}
		return nil
	case <-ctx.Done():
		if proc := p.osProcess(); proc != nil {
			_ = proc.Kill() // our own child: the only way to stop it in time
		}
		return fmt.Errorf("browser: closing: %w", ctx.Err())
	}
}

func (p *process) osProcess() *os.Process {
	if c := chromedp.FromContext(p.ctx); c != nil && c.Browser != nil {
		return c.Browser.Process()
	}
	return nil
}
