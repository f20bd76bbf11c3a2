package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"atalaya/crawler"
	"atalaya/ingest"
)

const crawlSynopsis = "crawl [--source NAME]... [--since YYYY-MM-DD] [--max-pages N] [--offline]"

// runCrawl crawls the configured sources once: new and revised releases are
// archived, classified and indexed.
func runCrawl(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet(e, "crawl", crawlSynopsis)
	var names listFlag
	fs.Var(&names, "source", "crawl only this source (repeatable; default all enabled sources)")
	since := fs.String("since", "", "stop paginating at releases older than this `date` (YYYY-MM-DD)")
	maxPages := fs.Int("max-pages", 0, "listing pages per source at most (0: the source's own limit)")
	offline := fs.Bool("offline", false, "crawl the embedded mirror of the sites instead of the network")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if c := e.runningService(ctx); c != nil {
		if *since != "" || *maxPages != 0 {
			return fmt.Errorf("a service runs on %s: it crawls with its own settings, so --since and --max-pages cannot be passed; stop it or drop the flags", e.dataDir)
		}
		return e.crawlThroughService(ctx, c, names)
	}
	opts := crawler.Options{MaxPages: *maxPages, Logger: e.logger}
	if *since != "" {
		t, err := time.Parse("2006-01-02", *since)
		if err != nil {
			return fmt.Errorf("--since %q: want a date like 2025-01-31", *since)
		}
		opts.Since = t
	}
	p, err := e.newPipeline(ctx, names, *offline)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := p.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var bar *progressBar
	if isTerminal(e.stderr) {
		bar = newProgressBar(e.stderr)
		opts.Progress = bar.update
	}
	stats, err := p.run(ctx, opts)
	if bar != nil {
		bar.done()
	}
	printStats(e.stdout, stats)
	if err != nil {
		return err
	}
	if n := stats.Failed(); n > 0 {
		return fmt.Errorf("%d of %d sources failed; see the log above and 'atalaya sources'", n, len(stats.Sources))
	}
	return nil
}

// printStats prints one line per source: counts, labels and health.
func printStats(w io.Writer, stats ingest.Stats) {
	if stats.CaughtUp > 0 {
		fmt.Fprintf(w, "indexed %d releases archived by an earlier run that did not index them\n", stats.CaughtUp)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tNEW\tREVISED\tUNCHANGED\tFAILED\tGONE\tINDEXED\tSTATUS")
	for _, s := range stats.Sources {
		status := "ok"
		switch {
		case s.Err != nil:
			status = "error: " + s.Err.Error()
		case s.Run.Blocked:
			status = "BLOCKED"
		case len(s.Run.Issues) > 0:
			status = fmt.Sprintf("%d issues", len(s.Run.Issues))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Run.Source, s.Run.New, s.Run.Revised, s.Run.Unchanged, s.Run.Failed, s.Run.Gone, s.Indexed, status)
	}
	tw.Flush()
}

// progressBar draws one self-overwriting status line. The crawler reports
// from several goroutines.
type progressBar struct {
	mu sync.Mutex
	w  io.Writer
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

// done clears the status line.
func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K")
}

func (p *progressBar) update(pr crawler.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%-12s items %4d  new %4d  revised %3d  unchanged %4d  failed %3d  gone %3d",
		pr.Source, pr.Items, pr.New, pr.Revised, pr.Unchanged, pr.Failed, pr.Gone)
}
