package browser

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"atalaya/crawler/browser/browsertest"
	"atalaya/internal/mirror"
)

// get fetches rawURL with client and returns the response and its body.
func get(t *testing.T, client *http.Client, rawURL string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// gobmxPages returns the SRE listing pages and their articles in the
// mirror, as URLs of the test site, and each URL's expected title (empty
// for listings).
func gobmxPages(t testing.TB, site string) (urls []string, titles map[string]string) {
	t.Helper()
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	local := func(u string) string { return strings.Replace(u, "https://"+mirror.HostGobMX, site, 1) }
	titles = map[string]string{}
	for _, l := range m.Listings {
		if l.Source != "sre" || strings.Contains(l.URL, "idiom=en") {
			continue
		}
		urls = append(urls, local(l.URL))
		titles[local(l.URL)] = ""
		for _, it := range l.Items {
			if it.Status == http.StatusOK {
				urls = append(urls, local(it.URL))
				titles[local(it.URL)] = it.Title
			}
		}
	}
	if len(urls) < 4 {
		t.Fatalf("mirror has %d SRE pages, want at least 4", len(urls))
	}
	return urls, titles
}

func TestPlainHTTPGetsTheChallenge(t *testing.T) {
	site := newTestSite(t, "")
	urls, titles := gobmxPages(t, site.URL)
	for _, u := range urls[:2] {
		resp, body := get(t, http.DefaultClient, u, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, browsertest.Marker) {
			t.Errorf("GET %s: status %d, challenge page %v; want 200 and the challenge", u, resp.StatusCode, strings.Contains(body, browsertest.Marker))
		}
		if title := titles[u]; title != "" && strings.Contains(body, title) {
			t.Errorf("GET %s: plain HTTP got the real page", u)
		}
	}
}

func TestTransportSolvesTheChallengeOncePerTransport(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	rt := newTestTransport(t, b, TransportOptions{Parallelism: 2})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: rt, Jar: jar} // as colly's
	urls, titles := gobmxPages(t, site.URL)
	header := http.Header{"User-Agent": {"atalaya-test/1.0 (+https://atalaya.example/contact)"}, "Accept": {"text/html,application/xhtml+xml"}}
	for _, u := range urls {
		resp, body := get(t, client, u, header)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", u, resp.StatusCode)
		}
		if strings.Contains(body, browsertest.Marker) {
			t.Errorf("GET %s: got the challenge page", u)
		}
		if title := titles[u]; title != "" && !strings.Contains(body, title) {
			t.Errorf("GET %s: rendered page lacks the title %q", u, title)
		}
		if title := titles[u]; title == "" && !strings.Contains(body, "/sre/prensa/") {
			t.Errorf("GET %s: listing has no release links", u)
		}
		if got := resp.Header.Get(RenderedHeader); got != "dom" {
			t.Errorf("GET %s: %s = %q, want dom", u, RenderedHeader, got)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", u, got)
		}
		if resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: the server's ETag header is missing", u)
		}
	}
	if got := site.Challenges(); got != 1 {
		t.Errorf("challenge served %d times for %d pages, want once", got, len(urls))
	}
	for _, r := range site.Requests() {
		if !r.Challenged && r.Path != "/cms/assets/application.js" && r.Path != "/cms/assets/level_jump.js" &&
			r.Header.Get("User-Agent") != header.Get("User-Agent") {
			t.Errorf("%s sent with User-Agent %q, want the request's", r.Path, r.Header.Get("User-Agent"))
		}
	}

	// A second transport is a second run: its cookies start empty.
	rt2 := newTestTransport(t, b, TransportOptions{})
	get(t, &http.Client{Transport: rt2}, urls[0], nil)
	if got := site.Challenges(); got != 2 {
		t.Errorf("challenges after a second transport's first page: %d, want 2", got)
	}
}

func TestTransportBlocksSubresources(t *testing.T) {
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	defer other.Close()
	site := newTestSite(t, other.URL)
	b := newTestBrowser(t, Options{})
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{})}

	_, body := get(t, client, site.URL+"/subresources", nil)
	if !strings.Contains(body, "rendered by script") {
		t.Errorf("the page's own script did not run: %s", body)
	}
	for _, path := range []string{"/assets/own.js", "/assets/data.json"} {
		if !site.Requested(path) {
			t.Errorf("%s (the page's own script or data) was not requested", path)
		}
	}
	for _, path := range []string{"/assets/site.css", "/assets/font.woff2", "/assets/logo.png", "/assets/clip.mp4", "/favicon.ico"} {
		if site.Requested(path) {
			t.Errorf("%s was requested; stylesheets, fonts, images and media must be blocked", path)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("another host got %d requests, want none", n)
	}
}

func TestTransportAnswersLikeHTTP(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	rt := newTestTransport(t, b, TransportOptions{})
	noFollow := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := &http.Client{Transport: rt}

	t.Run("robots.txt raw", func(t *testing.T) {
		resp, body := get(t, follow, site.URL+"/robots.txt", nil)
		if want := "User-agent: *\nDisallow: /privado/\n"; body != want || resp.StatusCode != 200 {
			t.Errorf("robots.txt: status %d, body %q; want 200, %q", resp.StatusCode, body, want)
		}
		if resp.Header.Get(RenderedHeader) != "" {
			t.Errorf("robots.txt marked as rendered")
		}
	})
	urls, _ := gobmxPages(t, site.URL)
	t.Run("redirect returned", func(t *testing.T) {
		resp, _ := get(t, noFollow, site.URL+"/redirect", nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/sre/archivo/prensa" {
			t.Errorf("redirect: status %d, Location %q; want 302 to /sre/archivo/prensa", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := get(t, follow, site.URL+"/redirect", nil)
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/sre/archivo/prensa" || strings.Contains(body, browsertest.Marker) {
			t.Errorf("followed redirect: status %d, URL %s", resp.StatusCode, resp.Request.URL)
		}
	})
	t.Run("conditional request", func(t *testing.T) {
		resp, _ := get(t, follow, urls[1], nil)
		etag := resp.Header.Get("ETag")
		resp, body := get(t, follow, urls[1], http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("conditional GET: status %d, %d bytes; want 304 and no body", resp.StatusCode, len(body))
		}
	})
	t.Run("404", func(t *testing.T) {
		resp, _ := get(t, follow, site.URL+"/sre/prensa/no-existe", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("missing page: status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("POST refused", func(t *testing.T) {
		_, err := follow.Post(site.URL+"/", "text/plain", strings.NewReader("x"))
		if !errors.Is(err, ErrMethod) {
			t.Errorf("POST: %v, want ErrMethod", err)
		}
	})
}

func TestHungPageTimesOut(t *testing.T) {
	site := newTestSite(t, "")
	site.Hold("/hang", func(r *http.Request) { <-r.Context().Done() })
	b := newTestBrowser(t, Options{})
	tests := []struct {
		name, path string
		opts       TransportOptions
		wantText   string
	}{
		{"no answer", "/hang", TransportOptions{Timeout: 2 * time.Second}, "did not load and settle within 2s"},
		{"ready selector never matches", "/sre/archivo/prensa", TransportOptions{Timeout: 3 * time.Second, Ready: "#never-there"}, `ready selector "#never-there" never matched`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: newTestTransport(t, b, tt.opts)}
			_, err := client.Get(site.URL + tt.path)
			if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("GET %s: %v; want ErrTimeout saying %q", tt.path, err, tt.wantText)
			}
			var uerr *url.Error
			if !errors.As(err, &uerr) || !uerr.Timeout() {
				t.Errorf("error is not a timeout for net/http: %#v", err)
			}
		})
	}
	// The browser is still usable.
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{Ready: "#prensa"})}
	if resp, _ := get(t, client, site.URL+"/sre/archivo/prensa", nil); resp.StatusCode != 200 {
		t.Errorf("after timeouts: status %d", resp.StatusCode)
	}
}

func TestKilledBrowserIsRestarted(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	rt := newTestTransport(t, b, TransportOptions{Timeout: 30 * time.Second})
	client := &http.Client{Transport: rt}
	urls, titles := gobmxPages(t, site.URL)
	get(t, client, urls[0], nil)

	// The browser is killed while it waits for the next page.
	first := b.running()
	var held atomic.Bool
	site.Hold(urlPath(t, urls[1]), func(r *http.Request) {
		if held.CompareAndSwap(false, true) {
			if err := syscall.Kill(first.pid(), syscall.SIGKILL); err != nil {
				t.Errorf("kill: %v", err)
			}
			<-r.Context().Done()
		}
	})
	resp, body := get(t, client, urls[1], nil)
	if resp.StatusCode != 200 || !strings.Contains(body, titles[urls[1]]) {
		t.Errorf("fetch across the kill: status %d, has title %v", resp.StatusCode, strings.Contains(body, titles[urls[1]]))
	}
	if p := b.running(); p == first || p == nil {
		t.Errorf("the browser was not restarted")
	}
	for _, u := range urls[2:] {
		if resp, _ := get(t, client, u, nil); resp.StatusCode != 200 {
			t.Errorf("GET %s after restart: status %d", u, resp.StatusCode)
		}
	}
	if got := site.Challenges(); got != 1 {
		t.Errorf("challenge served %d times; the restarted browser must keep the transport's cookies", got)
	}
}

func urlPath(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func TestNoBrowserFound(t *testing.T) {
	tests := []struct {
		name, path, pathEnv string
	}{
		{"configured path missing", "/nonexistent/chromium", os.Getenv("PATH")},
		{"none on PATH", "", t.TempDir()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.pathEnv)
			_, err := New(Options{ExecPath: tt.path})
			if !errors.Is(err, ErrNoBrowser) || !strings.Contains(err.Error(), "apt-get install chromium") {
				t.Errorf("New: %v; want ErrNoBrowser saying how to install one", err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	b := newTestBrowser(t, Options{})
	rt := b.Transport(TransportOptions{AllowPrivateNetworks: true})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := (&http.Client{Transport: rt}).Get("http://127.0.0.1:1/")
	if !errors.Is(err, ErrClosed) {
		t.Errorf("fetch after Close: %v, want ErrClosed", err)
	}
}

func TestPrivateNetworksRefused(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	rt := b.Transport(TransportOptions{})
	for _, u := range []string{site.URL + "/sre/archivo/prensa", "http://localhost:1/", "http://10.1.2.3/", "http://[::1]:1/"} {
		_, err := (&http.Client{Transport: rt}).Get(u)
		var private interface{ PrivateNetwork() bool }
		if !errors.Is(err, ErrPrivateNetwork) || !errors.As(err, &private) || !private.PrivateNetwork() {
			t.Errorf("GET %s: %v, want ErrPrivateNetwork, with a PrivateNetwork method for the crawler", u, err)
		}
	}
	if n := len(site.Requests()); n != 0 {
		t.Errorf("the loopback site got %d requests", n)
	}
	if b.running() != nil {
		t.Errorf("a browser was started for refused requests")
	}
}

// TestTabsBoundedByParallelism holds four article requests at the server
// until the client gives up on them, and gives up on one only when a new
// one arrives: with Parallelism 2, two are at the server at once, never
// more.
func TestTabsBoundedByParallelism(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{Parallelism: 2})}
	urls, _ := gobmxPages(t, site.URL)
	get(t, client, urls[0], nil) // solves the challenge

	var (
		mu             sync.Mutex
		inflight, most int
	)
	arrived := make(chan int, 8)
	site.Hold(urlPath(t, urls[1]), func(r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		mu.Lock()
		inflight++
		most = max(most, inflight)
		mu.Unlock()
		arrived <- n
		<-r.Context().Done() // the tab closed
		mu.Lock()
		inflight--
		mu.Unlock()
	})
	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, 4)
	for n := range cancels {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[n] = cancel
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, urls[1]+"&n="+strconv.Itoa(n), nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("request %d answered; it should be held until canceled", n)
			}
		})
	}
	next := func() int {
		select {
		case n := <-arrived:
			return n
		case <-time.After(time.Minute):
			t.Fatal("no request reached the server for a minute")
			return 0
		}
	}
	held := []int{next(), next()}
	for seen := len(held); seen < len(cancels); seen++ {
		cancels[held[0]]() // its tab closes, freeing a slot for the next
		held = append(held[1:], next())
	}
	for _, n := range held {
		cancels[n]()
	}
	wg.Wait()
	if most != 2 {
		t.Errorf("at most %d requests at the server at once, want 2", most)
	}
}

// TestHungBrowserIsRestarted stops the browser process (SIGSTOP): the
// fetch in progress times out, the browser that no longer answers is
// replaced, and the next fetch works.
func TestHungBrowserIsRestarted(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{})
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{Timeout: 5 * time.Second})}
	urls, titles := gobmxPages(t, site.URL)
	get(t, client, urls[0], nil)

	hung := b.running()
	if err := syscall.Kill(hung.pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(hung.pid(), syscall.SIGKILL)
	if _, err := client.Get(urls[1]); !errors.Is(err, ErrTimeout) {
		t.Fatalf("fetch from a hung browser: %v, want a timeout", err)
	}
	if p := b.running(); p == hung {
		t.Fatalf("the hung browser is still in use")
	}
	resp, body := get(t, client, urls[1], nil)
	if resp.StatusCode != 200 || !strings.Contains(body, titles[urls[1]]) {
		t.Errorf("fetch after the restart: status %d", resp.StatusCode)
	}
}

// TestBrowserRecycled: after PagesPerProcess pages a new process takes
// over, the old one stops, and the transport's cookies carry over.
func TestBrowserRecycled(t *testing.T) {
	site := newTestSite(t, "")
	b := newTestBrowser(t, Options{PagesPerProcess: 2})
	client := &http.Client{Transport: newTestTransport(t, b, TransportOptions{})}
	urls, titles := gobmxPages(t, site.URL)
	get(t, client, urls[0], nil)
	first := b.running()
	for _, u := range urls[1:] {
		if resp, body := get(t, client, u, nil); resp.StatusCode != 200 || !strings.Contains(body, titles[u]) {
			t.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
	}
	select {
	case <-first.ctx.Done():
	case <-time.After(time.Minute):
		t.Errorf("the first process was not stopped")
	}
	b.mu.Lock()
	gen := b.gen
	b.mu.Unlock()
	if want := (len(urls) + 1) / 2; gen < want {
		t.Errorf("%d processes for %d pages at 2 pages each, want %d", gen, len(urls), want)
	}
	if got := site.Challenges(); got != 1 {
		t.Errorf("challenge served %d times; the cookies must carry over to new processes", got)
	}
}

// TestSlowStartHoldsNothing: while a browser takes long to start (here one
// that never answers), a fetch whose deadline comes first fails with its
// deadline, not after the start's timeout, and Close returns at once,
// stopping the start, after which every fetch fails with ErrClosed.
func TestSlowStartHoldsNothing(t *testing.T) {
	b, _ := fakeBrowser(t, "exec sleep 60", 50*time.Second)
	rt := b.Transport(TransportOptions{AllowPrivateNetworks: true})
	first := make(chan error, 1)
	go func() {
		_, err := (&http.Client{Transport: rt}).Get("http://127.0.0.1:1/")
		first <- err
	}()
	for !b.startingNow() {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("fetch with a short deadline during the start: %v, want its deadline", err)
	}
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		closed <- b.Close(ctx)
	}()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close waits for the start (timeout 50s) to end")
	}
	select {
	case err := <-first:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("the fetch that started the browser: %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the fetch that started the browser still waits after Close")
	}
}

// TestFailedStartShared: fetches that wait for the same start all get its
// error, and the browser was started once.
func TestFailedStartShared(t *testing.T) {
	b, broken := fakeBrowser(t, "sleep 1\necho 'cannot open display' >&2\nexit 1", 20*time.Second)
	defer b.Close(context.Background())
	rt := b.Transport(TransportOptions{AllowPrivateNetworks: true})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := (&http.Client{Transport: rt}).Get("http://127.0.0.1:1/")
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "starting "+broken) {
			t.Errorf("fetch: %v, want the start's error", err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen != 1 {
		t.Errorf("the browser was started %d times for fetches waiting together, want once", b.gen)
	}
}

// fakeBrowser returns a Browser whose executable is a shell script of
// body, and the script's path.
func fakeBrowser(t *testing.T, body string, startTimeout time.Duration) (*Browser, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-chromium")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{ExecPath: path, StartTimeout: startTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return b, path
}
