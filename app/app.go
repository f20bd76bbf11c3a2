// Package app builds and runs `atalaya serve`: it opens the archive and the
// index (the service is their only writer), schedules a crawl of every
// source, serves the API, and shuts all of it down in order. cmd/atalaya
// only parses flags and turns signals into a context, so that tests can run
// the whole service in process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"atalaya"
	"atalaya/api"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/crawler"
	"atalaya/digest"
	"atalaya/index"
	"atalaya/ingest"
	"atalaya/metrics"
	"atalaya/schedule"
)

// Source is a source the service crawls.
type Source struct {
	crawler.Source
	Schedule string // cron spec; "" crawls only when asked (crawl now)
	Enabled  bool   // a disabled source is not scheduled, but can be crawled when asked
}

// Options configure the service.
type Options struct {
	DataDir string
	// Gold is the evaluation of the rules on the configured gold files, for
	// the rules page (precision and coverage per rule); nil: none.
	Gold   *classify.Report
	Listen string // address; "127.0.0.1:0" picks a port (see Ready)
	// BaseURL is the URL readers reach the service at, for the links of the
	// Atom feed (serve.base_url); "" makes it from the address the service
	// listens on (see PublicURL).
	BaseURL string
	Sources []Source
	// Crawl is the template of every run's crawler options: user agent,
	// transport, private networks. State and Sink are set per run.
	Crawl crawler.Options
	// Rules loads the classification rules at start.
	Rules func() (*classify.Rules, error)
	// ReloadRules loads them on POST /api/rules/reload; nil: Rules.
	ReloadRules func() (*classify.Rules, error)
	// AdminToken enables the admin API; "" disables it.
	AdminToken string
	// RunBudget bounds each run of a source without a run budget of its
	// own (crawler.Source.RunBudget); 0: none.
	RunBudget time.Duration
	// ShutdownGrace is how long Run lets running crawls and requests end
	// once ctx is done; 0 means 20 s.
	ShutdownGrace time.Duration
	// MaxJitter bounds the delay added to scheduled times; 0: schedule's
	// default.
	MaxJitter time.Duration
	Logger    *slog.Logger
	// Digests builds the email digests' sender on the service's index and
	// archive; nil: no digests. Each digest is sent on its schedule.
	Digests func(*index.Index, *archive.Archive) (*digest.Sender, error)
	// Ready, if set, is called with the address once the service listens.
	Ready func(addr string)
}

// Server timeouts: a client that sends its headers slowly, or never reads,
// cannot hold a connection.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 60 * time.Second // exports extend theirs as they write
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// service is the running service's state.
type service struct {
	opts    Options
	log     *slog.Logger
	arch    *archive.Archive
	idx     *index.Index
	rules   atomic.Pointer[classify.Rules]
	sched   *schedule.Scheduler
	m       *metrics.Metrics
	digests *digest.Sender // nil: no digests
	baseURL string         // the URL readers reach the service at
}

// Run runs the service until ctx is done, then stops it: no new runs,
// the HTTP server and running crawls get ShutdownGrace to finish, then the
// index and the archive are closed. It returns nil after a clean stop.
func Run(ctx context.Context, o Options) (err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 20 * time.Second
	}
	s := &service{opts: o, log: o.Logger}
	rules, err := o.Rules()
	if err != nil {
		return err
	}
	s.rules.Store(rules)
	if s.arch, err = archive.Open(filepath.Join(o.DataDir, "archive"), archive.Options{Logger: o.Logger}); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.arch.Close()) }()
	s.idx, err = index.Open(filepath.Join(o.DataDir, "index"), index.Options{Logger: o.Logger, KnownLabels: rules.LabelNames()})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.idx.Close()) }()
	if o.Digests != nil {
		if s.digests, err = o.Digests(s.idx, s.arch); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.m = metrics.New(reg, s.labelCounts)
	if err := s.schedule(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("serve: listening on %s: %w", o.Listen, err)
	}
	addr := ln.Addr().String()
	sf, err := writeServeFile(o.DataDir, addr)
	if err != nil {
		ln.Close()
		return err
	}
	defer removeServeFile(o.DataDir, sf, o.Logger)
	s.baseURL = o.BaseURL
	if s.baseURL == "" {
		var wildcard bool
		s.baseURL, wildcard = PublicURL(ln.Addr())
		if wildcard {
			o.Logger.Warn("serve.base_url is not set and the service listens on every interface: feed links name localhost; set serve.base_url to the URL readers reach the service at", "base_url", s.baseURL)
		}
	}
	srv := s.server(reg, ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	o.Logger.Info("atalaya serve listening", "addr", "http://"+addr, "data", o.DataDir, "sources", len(o.Sources))
	// Releases archived but not indexed (a crash, an index error) are
	// indexed before any crawl starts: a crawl running beside the catch-up
	// could index a newer version that the catch-up then overwrote.
	// Reads are served meanwhile.
	s.catchUpIndex(ctx)
	s.sched.Start()
	if o.Ready != nil {
		o.Ready(addr)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		grace, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
		defer cancel()
		s.sched.Stop(grace)
		return fmt.Errorf("serve: %w", err)
	}
	return s.stop(srv)
}

// stop shuts down in order: no new runs, no new requests, then waits for
// running requests and crawls until the grace period ends.
func (s *service) stop(srv *http.Server) error {
	s.log.Info("atalaya serve stopping", "grace", s.opts.ShutdownGrace)
	grace, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(grace); err != nil {
		errs = append(errs, fmt.Errorf("serve: stopping the HTTP server: %w", err))
		srv.Close()
	}
	if err := s.sched.Stop(grace); err != nil {
		// Nothing is lost: what was archived is indexed at the next start,
		// and the cut runs are recorded as failed.
		s.log.Warn("running crawls cancelled at the end of the grace period (serve.shutdown_grace); the next start resumes them", "grace", s.opts.ShutdownGrace)
	}
	s.log.Info("atalaya serve stopped")
	return errors.Join(errs...)
}

func (s *service) server(reg *prometheus.Registry, ctx context.Context) *http.Server {
	sources := make([]api.Source, 0, len(s.opts.Sources))
	for _, src := range s.opts.Sources {
		sources = append(sources, api.Source{ID: src.ID, Agency: src.Agency, Country: src.Country, Language: src.Language, Enabled: src.Enabled, Schedule: src.Schedule})
	}
	h := api.New(api.Deps{
		Index: s.idx, Archive: s.arch, Scheduler: s.sched, Admin: s, Sources: sources, Digests: apiDigests{s},
		AdminToken: s.opts.AdminToken, Gatherer: reg, Log: s.log, Observe: s.m.ObserveHTTP, BaseURL: s.baseURL,
	})
	return &http.Server{
		Handler:           s.withUI(h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests outlive the signal: Shutdown lets them finish within the
		// grace period, then Close cuts off what is left (a long export).
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// PublicURL is the URL of a service listening on addr, when serve.base_url
// is not set: "http://" and the address, or "http://localhost:PORT" when
// it is a wildcard address (every interface: "0.0.0.0", "::"), which then
// reports wildcard so that the service can say to set serve.base_url.
func PublicURL(addr net.Addr) (base string, wildcard bool) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String(), false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "http://" + net.JoinHostPort("localhost", port), true
	}
	return "http://" + net.JoinHostPort(host, port), false
}

// schedule adds a job per source: enabled sources with a schedule run on
// it; every source can be crawled when asked.
func (s *service) schedule(ctx context.Context) error {
	s.sched = schedule.New(schedule.Options{Logger: s.log, MaxJitter: s.opts.MaxJitter, Skipped: s.m.Skipped})
	for _, src := range s.opts.Sources {
		last, err := s.arch.LastRun(ctx, src.ID)
		if err != nil {
			return err
		}
		spec := src.Schedule
		if !src.Enabled {
			spec = ""
		}
		s.m.InitSource(string(src.ID))
		job := schedule.Job{
			Name: string(src.ID), Group: hostOf(src.Source), Spec: spec, Last: last.Started,
			Budget: runBudget(src.Source, s.opts.RunBudget), Run: s.crawlJob(src.Source),
		}
		if err := s.sched.Add(job); err != nil {
			return fmt.Errorf("serve: source %s: %w", src.ID, err)
		}
	}
	return s.scheduleDigests()
}

// runBudget is the time a run of src may take: its own run budget when
// set, else the service's.
func runBudget(src crawler.Source, service time.Duration) time.Duration {
	if src.RunBudget > 0 {
		return src.RunBudget
	}
	return service
}

// hostOf is the host of a source's first start URL: sources on one host
// are crawled one at a time.
func hostOf(src crawler.Source) string {
	for _, u := range src.StartURLs {
		if p, err := url.Parse(u); err == nil {
			return p.Hostname()
		}
	}
	return string(src.ID)
}

// triggers maps the scheduler's triggers to the archive's.
var triggers = map[schedule.Trigger]archive.Trigger{
	schedule.Scheduled: archive.TriggerScheduled,
	schedule.CatchUp:   archive.TriggerCatchUp,
	schedule.Manual:    archive.TriggerManual,
}

// crawlJob returns the job that crawls src once through ingest, records
// the run (with its trigger and errors) and counts it.
func (s *service) crawlJob(src crawler.Source) func(context.Context, schedule.Trigger) error {
	return func(ctx context.Context, t schedule.Trigger) error {
		ctx = archive.WithTrigger(ctx, triggers[t])
		runner, err := ingest.New(ingest.Options{Archive: s.arch, Classifier: s, Indexer: Indexer{To: s.idx}, Logger: s.log})
		if err != nil {
			return err
		}
		opts := s.opts.Crawl
		opts.State = s.arch
		if opts.Logger == nil {
			opts.Logger = s.log
		}
		start := time.Now()
		stats, err := runner.Run(ctx, []ingest.Source{{ID: src.ID, Crawl: func(ctx context.Context, sink ingest.Sink) (atalaya.CrawlRun, error) {
			o := opts
			o.Sink = sink
			c, err := crawler.New(o)
			if err != nil {
				return atalaya.CrawlRun{Source: src.ID, Started: start}, err
			}
			return c.Crawl(ctx, src)
		}}})
		if len(stats.Sources) == 0 {
			return err // cancelled before the source started
		}
		st := stats.Sources[0]
		if st.Err != nil {
			if nerr := s.arch.NoteRunErrors(context.WithoutCancel(ctx), src.ID, st.Run.Started, st.Err); nerr != nil {
				s.log.Warn("run errors not recorded", "source", src.ID, "error", nerr)
			}
		}
		rec := archive.RunRecord{CrawlRun: st.Run}
		if st.Err != nil {
			rec.Errors = []string{st.Err.Error()}
		}
		s.m.ObserveRun(metrics.Run{
			Source: string(src.ID), Result: string(archive.OutcomeOf(rec)), Duration: time.Since(start), Finished: time.Now(),
			New: st.Run.New, Revised: st.Run.Revised, Unchanged: st.Run.Unchanged, Failed: st.Run.Failed, GoneN: st.Run.Gone,
		})
		return errors.Join(err, st.Err)
	}
}

// catchUpIndex indexes what the archive holds and the index lacks (a
// crash between archiving and indexing), once at start.
func (s *service) catchUpIndex(ctx context.Context) {
	runner, err := ingest.New(ingest.Options{Archive: s.arch, Classifier: s, Indexer: Indexer{To: s.idx}, Logger: s.log})
	if err == nil {
		_, err = runner.CatchUp(ctx)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("indexing releases archived earlier failed", "error", err)
	}
}

// Classify classifies rel with the current rules.
func (s *service) Classify(rel atalaya.Release) classify.Verdict {
	return s.rules.Load().Classify(rel)
}

// CrawlNow starts a run of src now.
func (s *service) CrawlNow(src atalaya.SourceID) error {
	if strings.HasPrefix(string(src), digestJobPrefix) {
		return fmt.Errorf("%w: %s is a digest", schedule.ErrUnknownJob, src)
	}
	return s.sched.RunNow(string(src))
}

// ReloadRules loads the rules again; the old ones stay on error.
func (s *service) ReloadRules(context.Context) (string, error) {
	reload := s.opts.ReloadRules
	if reload == nil {
		reload = s.opts.Rules
	}
	rules, err := reload()
	if err != nil {
		return "", err
	}
	s.rules.Store(rules)
	s.log.Info("rules reloaded", "version", rules.Version())
	return rules.Version(), nil
}

// labelCounts counts the indexed releases per label, for the metrics.
func (s *service) labelCounts() map[string]int {
	res, err := s.idx.Search(context.Background(), index.Query{Facets: true, Size: 1})
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, c := range res.Facets["label"] {
		out[c.Value] = c.Count
	}
	return out
}

// Indexer adapts the index to ingest.Indexer: each batch is indexed with
// the time it was indexed at.
type Indexer struct{ To *index.Index }

// Index indexes batch.
func (x Indexer) Index(ctx context.Context, batch []ingest.Classified) error {
	docs := make([]index.Document, len(batch))
	now := time.Now()
	for i, c := range batch {
		docs[i] = index.Document{Release: c.Release, Verdict: c.Verdict, IndexedAt: now}
	}
	return x.To.Put(ctx, docs...)
}
