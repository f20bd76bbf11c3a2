package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"atalaya/app"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/config"
	"atalaya/crawler"
	"atalaya/digest"
	"atalaya/index"
	"atalaya/internal/mirror"
)

const serveSynopsis = "serve [--listen ADDR] [--offline] [--max-jitter DURATION]"

// runServe runs the service: scheduled crawls, the API, until SIGINT or
// SIGTERM; a second signal exits at once (the archive survives a kill).
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", serveSynopsis)
	listen := fs.String("listen", "", "`address` to listen on (default: serve.listen of the configuration, else "+config.DefaultListen+")")
	offline := fs.Bool("offline", false, "crawl the embedded mirror of the sites instead of the network")
	jitter := fs.Duration("max-jitter", 0, "largest `delay` added to each source's scheduled times (default 30s, at most a tenth of the interval)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfigFor(*offline)
	if err != nil {
		return err
	}
	sc := cfg.Serve.WithDefaults()
	if *listen != "" {
		sc.Listen = *listen
	}
	all, err := crawlerSources(cfg)
	if err != nil {
		return err
	}
	if _, err := e.finishReclassify(ctx, e.stderr); err != nil {
		return fmt.Errorf("finishing the interrupted reclassification: %w", err)
	}
	rules, err := e.rulesForIngest()
	if err != nil {
		return err
	}
	opts := app.Options{
		DataDir: e.dataDir, Listen: sc.Listen, BaseURL: sc.BaseURL, RunBudget: sc.RunBudget, ShutdownGrace: sc.ShutdownGrace,
		MaxJitter: *jitter, Logger: e.logger,
		Crawl:       crawler.Options{UserAgent: cfg.UserAgent, Logger: e.logger},
		Rules:       func() (*classify.Rules, error) { return rules, nil },
		ReloadRules: e.reloadRules,
	}
	if len(sc.Gold) > 0 {
		gold, err := loadGold(sc.Gold, rules)
		if err != nil {
			return fmt.Errorf("serve.gold: %w", err)
		}
		rep := classify.Evaluate(rules, gold)
		opts.Gold = &rep
	}
	if sc.AdminTokenEnv != "" {
		opts.AdminToken = os.Getenv(sc.AdminTokenEnv)
		if opts.AdminToken == "" {
			e.logger.Warn("admin API disabled: the token variable is not set", "variable", sc.AdminTokenEnv)
		}
	}
	for i, s := range cfg.Sources {
		opts.Sources = append(opts.Sources, app.Source{Source: all[i], Schedule: s.Schedule, Enabled: s.Enabled})
	}
	if *offline {
		m, err := mirror.Start(mirror.Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		opts.Crawl.Transport, opts.Crawl.AllowPrivateNetworks = m.Transport(), true
		// As crawl --offline: a browser would reach the real sites, so
		// every source is fetched over HTTP from the mirror.
		for i := range opts.Sources {
			opts.Sources[i].Politeness.Delay = 0
			opts.Sources[i].Politeness.MaxCrawlDelay = time.Millisecond
			opts.Sources[i].Fetch = crawler.FetchHTTP
		}
	} else {
		networkOf(cfg).apply(e.logger, &opts.Crawl)
		b := newSharedBrowser(cfg, e.logger)
		opts.Crawl.Browser = b
		defer closeBrowser(e, b)
	}
	if len(cfg.Digests) > 0 {
		store, err := digest.OpenStore(e.digestStorePath(), 5*time.Second)
		if err != nil {
			return err
		}
		defer store.Close()
		if opts.Digests, err = e.serveDigests(cfg, store); err != nil {
			return err
		}
	}
	opts.Ready = func(addr string) {
		fmt.Fprintf(e.stdout, "atalaya serve: listening on http://%s (data %s)\n", addr, e.dataDir)
	}
	exitOnSecondSignal(e)
	tuneServeGC(e.logger, os.Getenv)
	return app.Run(ctx, opts)
}

// exitOnSecondSignal exits the process at the second SIGINT or SIGTERM:
// the first one stops the service gracefully (through the context), the
// second one does not wait for it.
func exitOnSecondSignal(e *env) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		<-sigs
		fmt.Fprintln(e.stderr, "atalaya serve: second signal, exiting at once")
		os.Exit(1)
	}()
}

// reloadRules loads the rules in force for POST /api/rules/reload and
// keeps a copy in the rules store, so that the verdicts they set can be
// explained. They classify the releases crawled from then on; they are not
// recorded as applied, since the verdicts already indexed keep their rules:
// 'atalaya reclassify' (with the service stopped) applies them to all, and
// a restart classifies with the rules last applied again.
func (e *env) reloadRules() (*classify.Rules, error) {
	rules, src, err := e.rulesWithSource("")
	if err != nil {
		return nil, err
	}
	store, err := e.openRulesStore()
	if err != nil {
		return nil, err
	}
	if err := store.Keep(rules.Version(), src); err != nil {
		return nil, err
	}
	return rules, nil
}

// serveDigests returns the factory of the service's digest sender: cfg's
// digests on store, searching the service's index, with the health of the
// sources from its archive.
func (e *env) serveDigests(cfg *config.Config, store *digest.Store) (func(*index.Index, *archive.Archive) (*digest.Sender, error), error) {
	base, err := e.digestOptions(cfg, store)
	if err != nil {
		return nil, err
	}
	return func(idx *index.Index, arch *archive.Archive) (*digest.Sender, error) {
		o := base
		o.Index, o.Health = idx, archiveHealth{arch: arch, sources: cfg.Sources}
		return digest.New(o)
	}, nil
}
