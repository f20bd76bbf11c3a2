// Package ingest runs one ingestion pass: each source is crawled into the
// archive, and every release the archive stores (new or revised) is
// classified and indexed in batches.
//
// ingest knows the crawler, the archive and the index only through the small
// interfaces declared here; cmd/atalaya wires the concrete types. One source
// failing never stops the others: its error is recorded in its [SourceStats]
// and the run goes on.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"atalaya"
	"atalaya/classify"
)

// Sink receives each fetched release page with the release extracted from
// it. It has the method set of the crawler's sink, so a crawler can write to
// it directly.
type Sink interface {
	Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (version int, err error)
}

// Archive stores fetched releases and crawl runs.
type Archive interface {
	Sink
	RecordRun(ctx context.Context, run atalaya.CrawlRun) error
}

// Classifier gives a release its verdict.
type Classifier interface {
	Classify(rel atalaya.Release) classify.Verdict
}

// Indexer stores classified releases for search. Indexing a release that is
// already indexed replaces it.
type Indexer interface {
	Index(ctx context.Context, batch []Classified) error
}

// Classified is a release with its verdict, ready to index.
type Classified struct {
	Release atalaya.Release
	Verdict classify.Verdict
}

// Source is one source to crawl. Crawl fetches the source's new releases
// and writes each to sink.
type Source struct {
	ID    atalaya.SourceID
	Crawl func(ctx context.Context, sink Sink) (atalaya.CrawlRun, error)
}

// Options configures a [Runner].
type Options struct {
	Archive    Archive    // required
	Classifier Classifier // required
	Indexer    Indexer    // required
	BatchSize  int        // releases per index batch; default 200
	Logger     *slog.Logger
}

// Runner runs ingestion passes. It is safe to use from one goroutine at a
// time.
type Runner struct {
	opts Options
	log  *slog.Logger
}

// New returns a Runner.
func New(opts Options) (*Runner, error) {
	if opts.Archive == nil || opts.Classifier == nil || opts.Indexer == nil {
		return nil, errors.New("ingest: Archive, Classifier and Indexer are required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Runner{opts: opts, log: log}, nil
}

// SourceStats is the outcome of one source in a pass.
type SourceStats struct {
	Run     atalaya.CrawlRun
	Indexed int // releases classified and indexed
	Labels  map[classify.Label]int
	Err     error // why the source failed, if it did
}

// Stats is the outcome of one pass, per source in the order given.
type Stats struct {
	Sources []SourceStats
}

// Failed reports how many sources failed.
func (s Stats) Failed() int {
	n := 0
	for _, src := range s.Sources {
		if src.Err != nil {
			n++
		}
	}
	return n
}

// Run crawls each source in turn. It returns an error only when ctx is
// cancelled; per-source failures are in the returned Stats.
func (r *Runner) Run(ctx context.Context, sources []Source) (Stats, error) {
	var stats Stats
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		st := r.runSource(ctx, src)
		stats.Sources = append(stats.Sources, st)
		if st.Err != nil {
			r.log.Warn("source failed", "source_id", src.ID, "error", st.Err)
		} else {
			r.log.Info("source crawled", "source_id", src.ID, "new", st.Run.New, "revised", st.Run.Revised,
				"unchanged", st.Run.Unchanged, "failed", st.Run.Failed, "indexed", st.Indexed,
				"blocked", st.Run.Blocked, "issues", len(st.Run.Issues))
		}
	}
	return stats, ctx.Err()
}

func (r *Runner) runSource(ctx context.Context, src Source) SourceStats {
	sink := &batchSink{r: r, labels: map[classify.Label]int{}}
	run, err := src.Crawl(ctx, sink)
	if ferr := sink.flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if sink.err != nil && err == nil {
		err = sink.err
	}
	if run.Source == "" {
		run.Source = src.ID
	}
	if run.Finished.IsZero() {
		run.Finished = time.Now()
	}
	if rerr := r.opts.Archive.RecordRun(context.WithoutCancel(ctx), run); rerr != nil && err == nil {
		err = fmt.Errorf("record run of %s: %w", src.ID, rerr)
	}
	return SourceStats{Run: run, Indexed: sink.indexed, Labels: sink.labels, Err: err}
}

// batchSink archives each release, then classifies what the archive stored
// and indexes it in batches.
type batchSink struct {
	r       *Runner
	pending []Classified
	indexed int
	labels  map[classify.Label]int
	err     error // first index error; archiving goes on regardless
}

func (s *batchSink) Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (int, error) {
	version, err := s.r.opts.Archive.Put(ctx, page, rel)
	if err != nil || version == 0 {
		return version, err
	}
	rel.Version = version
	v := s.r.opts.Classifier.Classify(rel)
	s.labels[v.Label]++
	s.pending = append(s.pending, Classified{Release: rel, Verdict: v})
	if len(s.pending) >= s.r.opts.BatchSize {
		if err := s.flush(ctx); err != nil && s.err == nil {
			s.err = err
		}
	}
	return version, nil
}

func (s *batchSink) flush(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	batch := s.pending
	s.pending = nil
	if err := s.r.opts.Indexer.Index(context.WithoutCancel(ctx), batch); err != nil {
		return fmt.Errorf("index %d releases: %w", len(batch), err)
	}
	s.indexed += len(batch)
	return nil
}
