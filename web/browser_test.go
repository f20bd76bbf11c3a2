package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds Chromium: $CHROMEDP_TEST_RUNNER, else chromium or
// Chrome on the PATH.
func browserPath() string {
	if p := os.Getenv("CHROMEDP_TEST_RUNNER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// accessibilityCheck runs in the page and lists what it finds wrong.
const accessibilityCheck = `(() => {
	const problems = [];
	for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
		if (!el.labels.length && !el.getAttribute('aria-label')) problems.push('a form control has no label: ' + el.outerHTML);
	}
	let last = 0;
	for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
		const level = +h.tagName[1];
		if (last === 0 && level !== 1) problems.push('the first heading is ' + h.tagName + ', not h1');
		if (last > 0 && level > last + 1) problems.push(h.tagName + ' "' + h.textContent.trim() + '" follows h' + last);
		last = level;
	}
	if (document.documentElement.scrollWidth > window.innerWidth + 1) {
		problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide in a ' + window.innerWidth + ' px window');
	}
	return problems;
})()`

// waitForReleases waits until the service at base has indexed the Spanish
// releases the test searches: a fresh `serve --offline` crawls the mirror in
// its first seconds.
func waitForReleases(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/?q=extradici%C3%B3n")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := regexp.MustCompile(`<span id="total">(\d+)</span>`).FindSubmatch(body); m != nil && string(m[1]) != "0" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no Spanish release to search after a minute (last error: %v)", base, err)
		}
		time.Sleep(200 * time.Millisecond) // polling a live service, not timing an assertion
	}
}

// TestBrowser drives a real headless Chromium through the UI: a Spanish
// search, a facet, a release with its evidence, the trends charts and the
// sources. It saves a screenshot of each page in the test's artifact
// directory (go test -artifacts -outputdir DIR keeps them).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not short")
	}
	browser := browserPath()
	if browser == "" && os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; .ci/run installs it with apt-get install chromium")
	}
	if browser == "" {
		t.Skip("Chromium is not installed: apt-get install chromium (or set CHROMEDP_TEST_RUNNER to a Chrome binary)")
	}
	base := os.Getenv("ATALAYA_UI_URL") // a running `atalaya serve --offline`, instead of the fixture
	if base != "" {
		waitForReleases(t, base)
	} else {
		srv := httptest.NewServer(newFixture(t, "").handler)
		defer srv.Close()
		base = srv.URL
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 800),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()

	shots := t.ArtifactDir()
	// Collect what the pages write to the console: a page of ours that
	// breaks its own Content-Security-Policy logs a violation there.
	var (
		consoleMu sync.Mutex
		console   []string
	)
	consoleCtx, stopConsole := context.WithCancel(ctx)
	defer stopConsole()
	messages := chromedp.Console(consoleCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			consoleMu.Lock()
			console = append(console, m.String())
			consoleMu.Unlock()
		}
	}()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// load runs steps that load a page, and waits for it.
	load := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, steps...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Status >= 500 {
			t.Fatalf("%s: status %d", what, resp.Status)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	count := func(sel string) int {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("find %s: %v", sel, err)
		}
		return len(nodes)
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// accessible checks the page in the browser: every visible form control
	// has a label, headings start at h1 and never skip a level, and the page
	// is no wider than the window.
	accessible := func(page string) {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](accessibilityCheck))
		if err != nil {
			t.Fatalf("check %s: %v", page, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", page, p)
		}
	}
	total := func() int {
		t.Helper()
		n, err := strconv.Atoi(text("#total"))
		if err != nil {
			t.Fatalf("result count: %v", err)
		}
		return n
	}

	// Search in Spanish.
	load("open the search page", chromedp.Navigate(base+"/"))
	do("type a Spanish query", chromedp.SendKeys(chromedp.ID("q"), "extradición"))
	load("submit the query", chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`)))
	before := total()
	if before == 0 {
		t.Fatal("the Spanish query finds nothing")
	}
	screenshot("search")
	accessible("search")
	top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "search-top.png"), top, 0o644); err != nil { // docs/screenshot-search.png
		t.Fatal(err)
	}

	// Click a facet whose count is below the total, and see the count change.
	facets, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("aside.facets")))
	if err != nil {
		t.Fatal(err)
	}
	href, want := "", 0
	for _, m := range regexp.MustCompile(`<a href="([^"]+)">[^<]*<span class="count">(\d+)</span>`).FindAllStringSubmatch(facets, -1) {
		if c, _ := strconv.Atoi(m[2]); c > 0 && c < before {
			href, want = strings.ReplaceAll(m[1], "&amp;", "&"), c
			break
		}
	}
	if href == "" {
		t.Fatalf("no facet narrows the %d results:\n%s", before, facets)
	}
	load("click the facet "+href, chromedp.Click(chromedp.CSS(`.facet a[href="`+href+`"]`)))
	if after := total(); after != want {
		t.Errorf("after the facet %s the count is %d, want %d (was %d)", href, after, want, before)
	}
	if count(".facet a.selected") != 1 {
		t.Error("the facet clicked is not shown as selected")
	}
	screenshot("search-facet")

	// Open a release and find its evidence marked.
	load("open the first hit", chromedp.Click(chromedp.CSS(".hit h3 a")))
	if text("#verdict-title") == "" || count(".body mark.evidence") == 0 {
		t.Error("the release page marks no evidence in its text")
	}
	screenshot("release")
	accessible("release")

	// Trends: an SVG chart with data points.
	load("open the trends", chromedp.Navigate(base+"/trends"))
	if n := count("figure.chart svg g.point"); n == 0 {
		t.Error("the trends page has no data point")
	}
	screenshot("trends")
	accessible("trends")

	// Sources.
	load("open the sources", chromedp.Navigate(base+"/sources"))
	if h1 := text("h1"); h1 != "Sources" {
		t.Errorf("the sources page's heading is %q", h1)
	}
	screenshot("sources")
	accessible("sources")

	// The search page at a phone's width.
	do("narrow the window", chromedp.EmulateViewport(360, 740))
	load("search at 360 px", chromedp.Navigate(base+"/?q=extradici%C3%B3n"))
	if total() == 0 {
		t.Error("the narrow search page shows no result")
	}
	screenshot("search-360px")
	accessible("search at 360 px")
	load("open the rules", chromedp.Navigate(base+"/rules"))
	accessible("rules at 360 px")
	load("open the trends", chromedp.Navigate(base+"/trends"))
	accessible("trends at 360 px")
	consoleMu.Lock()
	for _, m := range console {
		t.Errorf("the browser console says: %s", m)
	}
	consoleMu.Unlock()

	// The archived copy of a release, in its sandboxed frame.
	do("widen the window", chromedp.EmulateViewport(1200, 800))
	load("open the search", chromedp.Navigate(base+"/?q=extradici%C3%B3n"))
	load("open a release", chromedp.Click(chromedp.CSS(".hit h3 a")))
	load("open its archived copy", chromedp.Click(chromedp.CSS(`a[href$="/archived"]`)))
	if count("iframe.archived-frame") != 1 || !strings.Contains(text(".banner"), "as Atalaya fetched it") {
		t.Error("the archived copy has no frame or no banner")
	}
	screenshot("archived")
	t.Logf("screenshots in %s", shots)
}
