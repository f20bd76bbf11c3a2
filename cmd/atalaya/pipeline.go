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
	mirror  *mirror.Server
}

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
	rules, err := loadRules(cfg.Rules)
	if err != nil {
		return nil, err
	}
	p := &pipeline{e: e, rules: rules, sources: srcs, ua: cfg.UserAgent}
	if offline {
		if p.mirror, err = mirror.Start(mirror.Options{}); err != nil {
			return nil, err
		}
		// The mirror is local and ours: robots.txt still decides what may be
		// fetched, but nobody needs to wait between requests.
		for i := range p.sources {
			p.sources[i].Politeness.Delay = 0
			p.sources[i].Politeness.MaxCrawlDelay = time.Millisecond
		}
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
	return errors.Join(errs...)
}
