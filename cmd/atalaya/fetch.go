package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"atalaya"
	"atalaya/config"
	"atalaya/crawler"
	"atalaya/crawler/browser"
	"atalaya/internal/mirror"
)

const fetchSynopsis = "fetch URL [--source NAME] [--browser [--browser-path FILE]] [--offline]"

// fetchBodyLines is how many lines of an article's body fetch prints.
const fetchBodyLines = 6

// runFetch fetches one page and prints what the source's selectors see on
// it, to debug a site change from the terminal. Nothing is archived.
func runFetch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "fetch", fetchSynopsis)
	name := fs.String("source", "", "read the page with this source's selectors (default: the source whose start URL is closest to URL)")
	useBrowser := fs.Bool("browser", false, "load the page in headless Chromium instead of plain HTTP (the default for a source with fetch: browser)")
	browserPath := fs.String("browser-path", "", "Chromium or Chrome `executable` (default: browser.path of the configuration, else chromium, chromium-browser or google-chrome on PATH)")
	offline := fs.Bool("offline", false, "fetch from the embedded mirror of the sites instead of the network (not with --browser)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badUsage(fs, "want exactly one URL, got %d arguments", len(pos))
	}
	if *offline && *useBrowser {
		return badUsage(fs, "--offline and --browser cannot be combined: the browser does its own networking")
	}
	pageURL, err := url.Parse(pos[0])
	if err != nil || (pageURL.Scheme != "http" && pageURL.Scheme != "https") || pageURL.Host == "" {
		return badUsage(fs, "URL %q: want an absolute http(s) URL", pos[0])
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	src, err := e.fetchSource(cfg, *name, pageURL)
	if err != nil {
		return err
	}

	var transport http.RoundTripper
	mode := "http"
	switch {
	case *offline:
		m, err := mirror.Start(mirror.Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		transport, mode = m.Transport(), "http, offline mirror"
	case *useBrowser || src.Fetch == crawler.FetchBrowser:
		if *browserPath == "" {
			*browserPath = cfg.Browser.Path
		}
		b, err := browser.New(browser.Options{ExecPath: *browserPath, Logger: e.logger})
		if err != nil {
			return err
		}
		defer closeBrowser(e, b)
		// Like the plain HTTP fetch, the page may be anywhere the operator
		// points: this is a debugging tool, not a crawl.
		rt := b.Transport(browser.TransportOptions{Timeout: src.Politeness.Timeout, Ready: src.Ready, AllowPrivateNetworks: true,
			MaxBodySize: src.Politeness.MaxBodySize})
		transport, mode = rt, "browser, "+b.ExecPath()
	}
	start := time.Now()
	page, err := fetchPage(ctx, transport, src, pageURL.String())
	took := time.Since(start)
	if err != nil {
		return err
	}
	printInspection(e.stdout, src, page, mode, took, crawler.Inspect(src, page))
	return nil
}

// closeBrowser stops a browser (fetch's, or serve's shared one), logging
// what goes wrong.
func closeBrowser(e *env, b interface{ Close(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		e.logger.Warn("browser not closed cleanly", "error", err)
	}
}

// fetchSource returns the source named, or when name is empty the source
// whose start URL is on u's host and shares the longest path prefix with u.
func (e *env) fetchSource(cfg *config.Config, name string, u *url.URL) (crawler.Source, error) {
	if name != "" {
		srcs, err := e.selectSources(cfg, []string{name})
		if err != nil {
			return crawler.Source{}, err
		}
		return srcs[0], nil
	}
	all, err := crawlerSources(cfg)
	if err != nil {
		return crawler.Source{}, err
	}
	best, bestScore := -1, -1
	for i, s := range all {
		for _, start := range s.StartURLs {
			su, err := url.Parse(start)
			if err != nil || !strings.EqualFold(su.Host, u.Host) {
				continue
			}
			if score := commonPrefix(su.Path, u.Path); score > bestScore {
				best, bestScore = i, score
			}
		}
	}
	if best < 0 {
		return crawler.Source{}, fmt.Errorf("no source has a start URL on %s; name one with --source", u.Host)
	}
	return all[best], nil
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// fetchPage GETs rawURL as the source's crawl would (its User-Agent and
// headers, timeout and size limit), following redirects.
func fetchPage(ctx context.Context, transport http.RoundTripper, src crawler.Source, rawURL string) (atalaya.Page, error) {
	timeout := src.Politeness.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return atalaya.Page{}, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	for k, v := range src.Headers {
		req.Header.Set(k, v)
	}
	ua := src.UserAgent
	if ua == "" {
		ua = crawler.DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return atalaya.Page{}, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	limit := int64(src.Politeness.MaxBodySize)
	if limit <= 0 {
		limit = 10 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return atalaya.Page{}, fmt.Errorf("fetch %s: reading the body: %w", rawURL, err)
	}
	if int64(len(body)) > limit {
		return atalaya.Page{}, fmt.Errorf("fetch %s: %w (%d bytes; politeness.max_body_size)", rawURL, crawler.ErrTooLarge, limit)
	}
	return atalaya.Page{URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: body, FetchedAt: time.Now()}, nil
}

// printInspection prints the page's status, whether it is blocked, the time
// taken and what the selectors read.
func printInspection(w io.Writer, src crawler.Source, page atalaya.Page, mode string, took time.Duration, ins crawler.Inspection) {
	fmt.Fprintf(w, "url      %s\n", page.URL)
	fmt.Fprintf(w, "source   %s (%s)\n", src.ID, mode)
	fmt.Fprintf(w, "status   %d %s, %d bytes\n", page.Status, http.StatusText(page.Status), len(page.Body))
	fmt.Fprintf(w, "time     %s\n", took.Round(time.Millisecond))
	if ins.Block != "" {
		fmt.Fprintf(w, "blocked  yes: %s\n", ins.Block)
	} else {
		fmt.Fprintf(w, "blocked  no\n")
	}
	switch {
	case len(ins.Items) > 0:
		fmt.Fprintf(w, "listing  %d items\n", len(ins.Items))
		for _, it := range ins.Items {
			date := it.DateRaw
			if !it.Published.IsZero() {
				date = it.Published.Format("2006-01-02")
			}
			if date == "" {
				date = "(no date)"
			}
			fmt.Fprintf(w, "  %-10s  %s\n  %10s  %s\n", date, it.Title, "", it.URL)
		}
		if ins.Next != "" {
			fmt.Fprintf(w, "next     %s\n", ins.Next)
		}
	case ins.Release != nil:
		printArticle(w, *ins.Release)
	case ins.ArticleErr != nil:
		fmt.Fprintf(w, "article  not read: %v\n", ins.ArticleErr)
	default:
		fmt.Fprintf(w, "listing  0 items\n")
	}
}

func printArticle(w io.Writer, rel atalaya.Release) {
	date := "(no date)"
	if !rel.Published.IsZero() {
		date = rel.Published.Format("2006-01-02") + " (from the " + string(rel.DateOrigin) + ")"
	}
	fmt.Fprintf(w, "title    %s\n", rel.Title)
	fmt.Fprintf(w, "date     %s\n", date)
	if rel.Type != "" {
		fmt.Fprintf(w, "type     %s\n", rel.Type)
	}
	lines := strings.Split(rel.Body, "\n")
	var shown []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			shown = append(shown, l)
		}
	}
	fmt.Fprintf(w, "body     %d characters, %d paragraphs\n", len([]rune(rel.Body)), len(shown))
	for i, l := range shown {
		if i == fetchBodyLines {
			fmt.Fprintf(w, "  …\n")
			break
		}
		fmt.Fprintf(w, "  %s\n", truncate(l, 100))
	}
}
