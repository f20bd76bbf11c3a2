// Package ingest runs one ingestion pass: each source is crawled into the
// archive, and every release the archive stores (new or revised) is
// classified and indexed in batches.
//
// The archive is the source of truth: it lists the releases it stored that
// the index does not hold yet (a crash between archiving and indexing, or an
// index error), and every pass starts by indexing those.
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
	"iter"
	"log/slog"
	"sync"
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

// Archive stores fetched releases and crawl runs, and remembers which
// releases await indexing.
type Archive interface {
	Sink
	RecordRun(ctx context.Context, run atalaya.CrawlRun) error
	// Unindexed yields the releases stored since they were last marked
	// indexed.
	Unindexed(ctx context.Context) iter.Seq2[atalaya.Release, error]
	MarkIndexed(ctx context.Context, ids ...atalaya.ID) error
	// LastRun returns the last recorded run of a source (zero if none).
	LastRun(ctx context.Context, src atalaya.SourceID) (atalaya.CrawlRun, error)
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
	// CaughtUp counts the releases archived by an earlier pass but not
	// indexed then, indexed at the start of this one.
	CaughtUp int
	Sources  []SourceStats
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
	n, err := r.CatchUp(ctx)
	stats.CaughtUp = n
	if err != nil {
		return stats, err
	}
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		st := r.runSource(ctx, src)
		stats.Sources = append(stats.Sources, st)
		if st.Err == nil {
			r.log.Info("source crawled", "source_id", src.ID, "new", st.Run.New, "revised", st.Run.Revised,
				"unchanged", st.Run.Unchanged, "failed", st.Run.Failed, "gone", st.Run.Gone, "indexed", st.Indexed,
				"blocked", st.Run.Blocked, "issues", len(st.Run.Issues))
		}
	}
	return stats, ctx.Err()
}

// CatchUp classifies and indexes the releases the archive holds but the
// index does not, and returns how many it indexed.
func (r *Runner) CatchUp(ctx context.Context) (int, error) {
	sink := r.newSink()
	for rel, err := range r.opts.Archive.Unindexed(ctx) {
		if err != nil {
			return sink.indexed, fmt.Errorf("releases to index: %w", err)
		}
		if err := sink.add(ctx, rel); err != nil {
			return sink.indexed, err
		}
	}
	if err := sink.flush(ctx); err != nil {
		return sink.indexed, err
	}
	if sink.indexed > 0 {
		r.log.Info("indexed releases archived earlier", "count", sink.indexed)
	}
	return sink.indexed, nil
}

func (r *Runner) newSink() *batchSink {
	return &batchSink{r: r, labels: map[classify.Label]int{}}
}

func (r *Runner) runSource(ctx context.Context, src Source) SourceStats {
	prev, err := r.opts.Archive.LastRun(ctx, src.ID)
	if err != nil {
		return SourceStats{Run: atalaya.CrawlRun{Source: src.ID}, Err: err}
	}
	sink := r.newSink()
	run, err := src.Crawl(ctx, sink)
	checkItemCount(prev, &run)
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
		err = fmt.Errorf("record run of %s: %v", src.ID, rerr)
	}
	return SourceStats{Run: run, Indexed: sink.indexed, Labels: sink.labels, Err: err}
}

// checkItemCount adds a selector issue to run when its listing pages carry
// far fewer items than those of the previous run (less than half): the
// listing selectors probably miss part of a redesigned page. Only pages
// read count: a listing or feed that answered 304 Not Modified is
// unchanged, not empty, and a run whose every listing did so compares
// nothing.
func checkItemCount(prev atalaya.CrawlRun, run *atalaya.CrawlRun) {
	const minUsual = 4 // per page; below this the comparison is noise
	if prev.Listings == 0 || run.Listings == 0 || run.Blocked {
		return
	}
	usual := prev.Items / prev.Listings
	now := run.Items / run.Listings
	if usual < minUsual || now*2 >= usual {
		return
	}
	run.Issues = append(run.Issues, atalaya.SourceIssue{
		Source: run.Source, Kind: atalaya.IssueSelector, At: run.Finished,
		Message: fmt.Sprintf("listing pages carry %d items each, against %d in the previous run: the site may have changed", now, usual),
	})
}

// batchSink archives each release, then classifies what the archive stored
// and indexes it in batches. The crawler calls Put from several goroutines.
type batchSink struct {
	r *Runner

	mu      sync.Mutex
	pending []Classified
	indexed int
	labels  map[classify.Label]int // of the releases indexed
	err     error                  // first index error; archiving goes on regardless
}

func (s *batchSink) Put(ctx context.Context, page atalaya.Page, rel atalaya.Release) (int, error) {
	version, err := s.r.opts.Archive.Put(ctx, page, rel)
	if err != nil || version == 0 {
		return version, err
	}
	rel.Version = version
	if err := s.add(ctx, rel); err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return version, nil
}

// add classifies rel and queues it, indexing the queue when it is full.
func (s *batchSink) add(ctx context.Context, rel atalaya.Release) error {
	v := s.r.opts.Classifier.Classify(rel)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, Classified{Release: rel, Verdict: v})
	if len(s.pending) < s.r.opts.BatchSize {
		return nil
	}
	return s.flushLocked(ctx)
}

func (s *batchSink) flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked(ctx)
}

// flushLocked indexes the queue and marks its releases indexed in the
// archive. Releases of a batch that fails stay listed as unindexed, and the
// next pass indexes them.
func (s *batchSink) flushLocked(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	batch := s.pending
	s.pending = nil
	ctx = context.WithoutCancel(ctx)
	if err := s.r.opts.Indexer.Index(ctx, batch); err != nil {
		return fmt.Errorf("index %d releases (they stay queued for the next run, or run 'atalaya reindex'): %v", len(batch), err)
	}
	ids := make([]atalaya.ID, len(batch))
	for i, c := range batch {
		ids[i] = c.Release.ID
		s.labels[c.Verdict.Label]++
	}
	s.indexed += len(batch)
	if err := s.r.opts.Archive.MarkIndexed(ctx, ids...); err != nil {
		return fmt.Errorf("mark %d releases indexed: %v", len(batch), err)
	}
	return nil
}
