package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"atalaya/api"
	"atalaya/archive"
	"atalaya/crawler"
	"atalaya/ingest"
)

const crawlSynopsis = "crawl [--source NAME]... [--since YYYY-MM-DD] [--max-pages N] [--offline] [--json]"

// runCrawl crawls the configured sources once: new and revised releases are
// archived, classified and indexed.
func runCrawl(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet(e, "crawl", crawlSynopsis)
	var names listFlag
	fs.Var(&names, "source", "crawl only this source (repeatable; default all enabled sources)")
	since := fs.String("since", "", "stop paginating at releases older than this `date` (YYYY-MM-DD)")
	maxPages := fs.Int("max-pages", 0, "listing pages per source at most (0: the source's own limit)")
	offline := fs.Bool("offline", false, "crawl the embedded mirror of the sites instead of the network")
	asJSON := fs.Bool("json", false, "print the per-source counts as JSON, with the keys of the API's runs")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if c := e.runningService(ctx); c != nil {
		if *asJSON {
			return fmt.Errorf("a service runs on %s: it crawls in the background, so there are no counts to print yet; drop --json, then follow the run with 'atalaya runs --json'", e.dataDir)
		}
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
	opts.Progress = func(pr crawler.Progress) {
		e.progress("crawl: %-12s items %4d  new %4d  revised %3d  unchanged %4d  failed %3d  gone %3d",
			pr.Source, pr.Items, pr.New, pr.Revised, pr.Unchanged, pr.Failed, pr.Gone)
	}
	stats, err := p.run(ctx, opts)
	e.progressDone()
	if *asJSON {
		if jerr := writeJSON(e.stdout, crawlJSONOf(stats)); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		printStats(e.stdout, stats)
	}
	if err != nil {
		return err
	}
	if failed := failedSources(stats); len(failed) > 0 {
		return fmt.Errorf("%d of %d sources did not crawl cleanly (%s); see the log above and 'atalaya sources'",
			len(failed), len(stats.Sources), strings.Join(failed, "; "))
	}
	return nil
}

// failedSources describes each source whose crawl makes the command fail
// (exit status 1): it could not be crawled, was blocked, a listing page or
// feed could not be read (every start URL answering 404 among them), or
// release pages failed. Links the site itself breaks (404, 410, disallowed
// by robots.txt) are reported but do not fail the crawl: they are recorded
// and tried again later.
func failedSources(stats ingest.Stats) []string {
	var out []string
	for _, s := range stats.Sources {
		var why []string
		switch {
		case s.Err != nil:
			why = append(why, "error")
		case s.Run.Blocked:
			why = append(why, "blocked")
		}
		if n := s.Run.ListingsFailed; n > 0 {
			why = append(why, plural(n, "listing page", "listing pages")+" failed")
		}
		if n := s.Run.Failed - s.Run.Missing; n > 0 {
			why = append(why, plural(n, "release page", "release pages")+" failed")
		}
		if len(why) > 0 {
			out = append(out, fmt.Sprintf("%s: %s", s.Run.Source, strings.Join(why, ", ")))
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// printStats prints one line per source: counts, labels and health.
func printStats(w io.Writer, stats ingest.Stats) {
	if stats.CaughtUp > 0 {
		fmt.Fprintf(w, "indexed %d releases archived by an earlier run that did not index them\n", stats.CaughtUp)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tNEW\tREVISED\tUNCHANGED\tFAILED\tGONE\tINDEXED\tSTATUS")
	for _, s := range stats.Sources {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Run.Source, s.Run.New, s.Run.Revised, s.Run.Unchanged, s.Run.Failed, s.Run.Gone, s.Indexed, sourceStatus(s))
	}
	tw.Flush()
}

// sourceStatus says in a few words how a source's crawl went.
func sourceStatus(s ingest.SourceStats) string {
	status := "ok"
	switch {
	case s.Err != nil:
		status = "error: " + s.Err.Error()
	case s.Run.Blocked:
		status = "BLOCKED"
	case len(s.Run.Issues) > 0:
		status = healthIssues(len(s.Run.Issues))
	case s.Run.Listings == 0 && s.Run.NotModified > 0:
		status = "no change" // every listing answered 304 Not Modified
	}
	if s.Run.BrowserSwitch != "" {
		status += "; switched to the browser after " + s.Run.BrowserSwitch
	}
	return status
}

// healthIssues says how many health issues a run raised and where to read
// them.
func healthIssues(n int) string {
	if n == 1 {
		return "1 health issue (atalaya sources lists it)"
	}
	return fmt.Sprintf("%d health issues (atalaya sources lists them)", n)
}

// crawlJSON is "crawl --json": the counts of each source crawled.
type crawlJSON struct {
	// CaughtUp counts releases archived by an earlier run that did not
	// index them, indexed at the start of this one.
	CaughtUp int               `json:"caught_up"`
	Sources  []crawlSourceJSON `json:"sources"`
}

// crawlSourceJSON is one source's run, in the API's form
// (GET /api/runs), with what was indexed and the status line.
type crawlSourceJSON struct {
	api.RunDTO
	Indexed int    `json:"indexed"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
}

func crawlJSONOf(stats ingest.Stats) crawlJSON {
	out := crawlJSON{CaughtUp: stats.CaughtUp, Sources: []crawlSourceJSON{}}
	for _, s := range stats.Sources {
		rec := archive.RunRecord{CrawlRun: s.Run, Trigger: archive.TriggerManual}
		if s.Err != nil {
			rec.Errors = []string{s.Err.Error()}
		}
		rec.Outcome = archive.OutcomeOf(rec)
		src := crawlSourceJSON{RunDTO: api.RunDTOOf(rec), Indexed: s.Indexed, Status: sourceStatus(s)}
		if s.Err != nil {
			src.Error = s.Err.Error()
		}
		out.Sources = append(out.Sources, src)
	}
	return out
}
