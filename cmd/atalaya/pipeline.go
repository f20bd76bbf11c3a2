package main

import (
	"context"
	"errors"
	"time"

	"atalaya/archive"
	"atalaya/classify"
	"atalaya/crawler"
	"atalaya/index"
	"atalaya/ingest"
	"atalaya/internal/mirror"
)

// pipeline holds what one ingestion run needs open: the archive, the index,
// the rules and the sources, and for offline runs the embedded mirror.
type pipeline struct {
	e       *env
	arch    *archive.Archive
	idx     *index.Index
	rules   *classify.Rules
	sources []crawler.Source
	ua      string
	network network
	mirror  *mirror.Server
	browser *sharedBrowser // nil offline
}

// browserCloseTimeout bounds stopping the browser at the end of a command.
const browserCloseTimeout = 20 * time.Second

// newPipeline loads the configuration and opens the archive and the index.
// names selects sources (none: all enabled). offline serves the sites from
// the embedded mirror.
func (e *env) newPipeline(ctx context.Context, names []string, offline bool) (*pipeline, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	srcs, err := e.selectSources(cfg, names)
	if err != nil {
		return nil, err
	}
	rules, err := e.rulesForIngest()
	if err != nil {
		return nil, err
	}
	p := &pipeline{e: e, rules: rules, sources: srcs, ua: cfg.UserAgent, network: networkOf(cfg)}
	if offline {
		if p.mirror, err = mirror.Start(mirror.Options{}); err != nil {
			return nil, err
		}
		// The mirror is local and ours: robots.txt still decides what may be
		// fetched, but nobody needs to wait between requests. It is served
		// to the crawler's HTTP transport: a browser would do its own
		// networking and reach the real sites, so every source is fetched
		// over HTTP, which the mirror does not block.
		for i := range p.sources {
			p.sources[i].Politeness.Delay = 0
			p.sources[i].Politeness.MaxCrawlDelay = time.Millisecond
			p.sources[i].Fetch = crawler.FetchHTTP
		}
	} else {
		p.browser = newSharedBrowser(cfg, e.logger)
	}
	if p.arch, err = e.openArchive(); err != nil {
		p.close()
		return nil, err
	}
	if p.idx, err = e.openIndex(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// run crawls every source once through ingest.
func (p *pipeline) run(ctx context.Context, opts crawler.Options) (ingest.Stats, error) {
	opts.State = p.arch
	if opts.UserAgent == "" {
		opts.UserAgent = p.ua
	}
	if p.mirror != nil {
		opts.Transport = p.mirror.Transport()
		opts.AllowPrivateNetworks = true
	} else {
		p.network.apply(p.e.logger, &opts)
	}
	if p.browser != nil {
		opts.Browser = p.browser
	}
	r, err := ingest.New(ingest.Options{Archive: p.arch, Classifier: p.rules, Indexer: indexer{To: p.idx}, Logger: p.e.logger})
	if err != nil {
		return ingest.Stats{}, err
	}
	return r.Run(ctx, ingestSources(p.sources, opts))
}

func (p *pipeline) close() error {
	var errs []error
	if p.idx != nil {
		errs = append(errs, p.idx.Close())
	}
	if p.arch != nil {
		errs = append(errs, p.arch.Close())
	}
	if p.mirror != nil {
		errs = append(errs, p.mirror.Close())
	}
	if p.browser != nil {
		ctx, cancel := context.WithTimeout(context.Background(), browserCloseTimeout)
		defer cancel()
		errs = append(errs, p.browser.Close(ctx))
	}
	return errors.Join(errs...)
}
