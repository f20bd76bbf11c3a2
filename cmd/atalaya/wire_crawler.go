package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"atalaya"
	"atalaya/archive"
	"atalaya/config"
	"atalaya/crawler"
	"atalaya/crawler/browser"
)

// crawlerSources maps every configured source onto the crawler's Source,
// in configuration order. Profiles and defaults are already applied by
// package config; here time zones are loaded and the configuration's
// user agent fills in for sources without their own.
func crawlerSources(cfg *config.Config) ([]crawler.Source, error) {
	out := make([]crawler.Source, 0, len(cfg.Sources))
	var errs []error
	for _, s := range cfg.Sources {
		cs, err := crawlerSource(cfg, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, cs)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func crawlerSource(cfg *config.Config, s config.Source) (crawler.Source, error) {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return crawler.Source{}, fmt.Errorf("source %s: time zone %q: %w", s.Name, s.TimeZone, err)
	}
	ua := s.UserAgent
	if ua == "" {
		ua = cfg.UserAgent
	}
	return crawler.Source{
		Source: atalaya.Source{
			ID:       atalaya.SourceID(s.Name),
			Agency:   s.Agency,
			Country:  atalaya.Country(s.Country),
			Language: atalaya.Language(s.Language),
		},
		Kind:           crawler.Kind(s.Kind),
		StartURLs:      slices.Clone(s.StartURLs),
		AllowedDomains: slices.Clone(s.AllowedDomains),
		Pagination: crawler.Pagination{
			Template:     s.Pagination.Template,
			FirstNumber:  s.Pagination.FirstNumber,
			NextSelector: s.Pagination.NextSelector,
			MaxPages:     s.Pagination.MaxPages,
		},
		Listing: crawler.Listing{
			Item:  s.Listing.Item,
			Title: crawlerField(s.Listing.Title),
			Link:  s.Listing.Link,
			Type:  crawlerField(s.Listing.Type),
			Date:  crawlerDates(s.Listing.Date),
		},
		Article:  crawlerArticle(s.Article),
		Location: loc,
		Types: crawler.TypeFilter{
			Include: slices.Clone(s.Types.Include),
			Exclude: slices.Clone(s.Types.Exclude),
		},
		Fetch:        crawler.FetchMode(s.Fetch),
		Ready:        s.Ready,
		Headers:      maps.Clone(s.Headers),
		UserAgent:    ua,
		BlockMarkers: slices.Clone(s.BlockMarkers),
		Politeness: crawler.Politeness{
			Delay:         s.Politeness.Delay,
			Parallelism:   s.Politeness.Parallelism,
			Timeout:       s.Politeness.Timeout,
			MaxBodySize:   int(s.Politeness.MaxBodySize),
			Retries:       s.Politeness.Retries,
			RetryBackoff:  s.Politeness.RetryBackoff,
			IgnoreRobots:  s.Politeness.IgnoreRobots,
			MaxCrawlDelay: s.Politeness.MaxCrawlDelay,
		},
		Expect: crawler.Expect{
			MinItems:    s.Expect.MinItems,
			MinFillRate: s.Expect.MinFillRate,
		},
		Revisit:   s.Revisit,
		GoneRetry: s.GoneRetry,
		RunBudget: s.RunBudget,
		Skip: crawler.ItemFilter{
			Titles: slices.Clone(s.Skip.Titles),
			URLs:   slices.Clone(s.Skip.URLs),
		},
	}, nil
}

// sharedBrowser is the one headless browser of a process, shared by every
// source fetched through a browser: found on first use (fetch: browser, or
// fetch: auto once blocked), its process started by the first page it
// loads, and stopped by Close. crawl closes it when the crawl ends; serve
// makes one at start-up, gives it to every crawl as crawler.Options.Browser
// and closes it at shutdown.
type sharedBrowser struct {
	opts browser.Options

	mu    sync.Mutex
	b     *browser.Browser
	err   error // why there is no browser; kept, so it is looked for once
	tried bool
}

var _ crawler.Browser = (*sharedBrowser)(nil)

// newSharedBrowser returns the browser of cfg (browser.path, else PATH).
// Nothing is looked up or started yet.
func newSharedBrowser(cfg *config.Config, log *slog.Logger) *sharedBrowser {
	return &sharedBrowser{opts: browser.Options{ExecPath: cfg.Browser.Path, Logger: log}}
}

// get returns the browser, finding it on first use.
func (s *sharedBrowser) get() (*browser.Browser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tried {
		s.tried = true
		s.b, s.err = browser.New(s.opts)
		if s.err == nil {
			s.opts.Logger.Info("browser found", "path", s.b.ExecPath())
		}
	}
	return s.b, s.err
}

// Transport implements crawler.Browser: a transport with its own cookies
// for one crawl of a source.
func (s *sharedBrowser) Transport(_ context.Context, o crawler.BrowserOptions) (crawler.BrowserTransport, error) {
	b, err := s.get()
	if err != nil {
		return nil, err
	}
	return b.Transport(browser.TransportOptions{
		Parallelism: o.Parallelism, Timeout: o.Timeout, Ready: o.Ready, AllowedHosts: o.AllowedHosts,
		AllowPrivateNetworks: o.AllowPrivateNetworks, MaxBodySize: o.MaxBodySize, Logger: o.Logger,
	}), nil
}

// Close stops the browser, if it was started; later fetches fail.
func (s *sharedBrowser) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried = true
	if s.b == nil {
		return nil
	}
	if err := s.b.Close(ctx); err != nil {
		return fmt.Errorf("closing the browser: %w", err)
	}
	return nil
}

// browserSources names the sources of cfg fetched with mode.
func browserSources(cfg *config.Config, mode string) []string {
	var names []string
	for _, s := range cfg.Sources {
		if s.Fetch == mode {
			names = append(names, s.Name)
		}
	}
	return names
}

// network is how the crawler reaches the sites: the configuration's host
// mapping and private-network opt-in.
type network struct {
	hosts        map[string]string
	allowPrivate bool
}

func networkOf(cfg *config.Config) network {
	return network{hosts: maps.Clone(cfg.Hosts), allowPrivate: cfg.AllowPrivateNetworks}
}

// apply sets the crawler options of n, logging each mapped host and the
// private-network opt-in: both change where requests go.
func (n network) apply(log *slog.Logger, opts *crawler.Options) {
	for _, host := range slices.Sorted(maps.Keys(n.hosts)) {
		log.Info("host mapped", "host", host, "target", n.hosts[host])
	}
	if n.allowPrivate {
		log.Warn("private network addresses allowed (allow_private_networks: true)")
	}
	opts.Hosts = n.hosts
	opts.AllowPrivateNetworks = n.allowPrivate
}

// describe lists the host mapping and the private-network opt-in, one per
// line, as config check reports them.
func (n network) describe() []string {
	var lines []string
	for _, host := range slices.Sorted(maps.Keys(n.hosts)) {
		lines = append(lines, fmt.Sprintf("host %s is mapped to %s", host, n.hosts[host]))
	}
	if n.allowPrivate {
		lines = append(lines, "private network addresses are allowed (allow_private_networks: true)")
	}
	return lines
}

func crawlerArticle(a config.Article) crawler.Article {
	titles := make([]crawler.Field, len(a.Title))
	for i, f := range a.Title {
		titles[i] = crawlerField(f)
	}
	return crawler.Article{
		Title:    titles,
		Date:     crawlerDates(a.Date),
		Type:     crawlerField(a.Type),
		Body:     a.Body,
		Parts:    a.Parts,
		Exclude:  slices.Clone(a.Exclude),
		Stop:     slices.Clone(a.Stop),
		Required: slices.Clone(a.Required),
	}
}

func crawlerField(f config.Field) crawler.Field {
	return crawler.Field{Selector: f.Selector, Attr: f.Attr}
}

func crawlerDates(rules []config.DateRule) []crawler.DateRule {
	out := make([]crawler.DateRule, len(rules))
	for i, r := range rules {
		out[i] = crawler.DateRule{
			Selector: r.Selector,
			Attr:     r.Attr,
			Pick:     r.Pick,
			Pattern:  r.Pattern,
			Layouts:  slices.Clone(r.Layouts),
		}
	}
	return out
}

// selectSources returns the crawler sources named, in the order given, or
// every enabled source when names is empty. A disabled source is crawled
// when named explicitly. An unknown name is an error that lists the valid
// ones.
func (e *env) selectSources(cfg *config.Config, names []string) ([]crawler.Source, error) {
	all, err := crawlerSources(cfg)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		var out []crawler.Source
		for i, s := range cfg.Sources {
			if s.Enabled {
				out = append(out, all[i])
			}
		}
		return out, nil
	}
	var out []crawler.Source
	var unknown []string
	for _, name := range names {
		i := slices.IndexFunc(cfg.Sources, func(s config.Source) bool { return s.Name == name })
		if i < 0 {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		if !cfg.Sources[i].Enabled {
			e.logger.Info("crawling disabled source named on the command line", "source_id", name)
		}
		out = append(out, all[i])
	}
	if len(unknown) > 0 {
		valid := make([]string, len(cfg.Sources))
		for i, s := range cfg.Sources {
			valid[i] = s.Name
		}
		return nil, fmt.Errorf("unknown source %s; configured sources: %s", strings.Join(unknown, ", "), strings.Join(valid, ", "))
	}
	return out, nil
}

// releaseByLink finds the archived release a link points at: under the
// link's canonical URL, or under the form releases archived before
// crawler.Canonical kept trailing slashes were identified by.
func releaseByLink(ctx context.Context, a *archive.Archive, link string) (atalaya.Release, error) {
	rel, err := a.ReleaseByURL(ctx, crawler.Canonical(link))
	if !errors.Is(err, archive.ErrNotFound) {
		return rel, err
	}
	if legacy := crawler.LegacyCanonical(link); legacy != crawler.Canonical(link) {
		if old, lerr := a.ReleaseByURL(ctx, legacy); lerr == nil {
			return old, nil
		}
	}
	return rel, err
}

// warnNoBrowser warns on w when sources are fetched through a browser
// (fetch: browser or auto) and none is found, saying how to install one.
// It is a warning, not a problem: the file is valid, and the browser may be
// installed later or on another machine.
func warnNoBrowser(w io.Writer, cfg *config.Config) {
	always, auto := browserSources(cfg, string(crawler.FetchBrowser)), browserSources(cfg, string(crawler.FetchAuto))
	if len(always)+len(auto) == 0 {
		return
	}
	_, err := browser.New(browser.Options{ExecPath: cfg.Browser.Path})
	if err == nil {
		return
	}
	if len(always) > 0 {
		fmt.Fprintf(w, "warning: no browser for the sources fetched with fetch: browser (%s), which will fail: %v\n",
			strings.Join(always, ", "), err)
	}
	if len(auto) > 0 {
		fmt.Fprintf(w, "warning: no browser for the sources fetched with fetch: auto (%s), which will stay on plain HTTP when blocked: %v\n",
			strings.Join(auto, ", "), err)
	}
}
