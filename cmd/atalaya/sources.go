package main

import (
	"context"
	"fmt"

	"text/tabwriter"
	"time"

	"atalaya/api"
	"atalaya/archive"
	"atalaya/config"
	"atalaya/crawler"
)

// runSources prints the health of every source: last run, counts and the
// issues still open.
func runSources(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sources", "sources [--json]")
	asJSON := fs.Bool("json", false, "print the sources as JSON, with the API's keys (GET /api/sources)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	srcs, err := e.selectSources(cfg, nil)
	if err != nil {
		return err
	}
	e.warnIfReclassifying(e.stderr)
	statuses, err := e.sourceStatuses(ctx)
	if err != nil {
		return err
	}
	byID := map[string]int{}
	for i, st := range statuses {
		byID[string(st.Source)] = i
	}
	if *asJSON {
		return writeJSON(e.stdout, sourcesJSON(cfg, srcs, statuses, byID))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tAGENCY\tLAST RUN\tRELEASES\tNEW\tFAILED\tGONE\tISSUES\tSTATUS")
	for _, src := range srcs {
		i, ok := byID[string(src.ID)]
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\tnever\t0\t-\t-\t-\t-\tnot crawled\n", src.ID, src.Agency)
			continue
		}
		st := statuses[i]
		status := "ok"
		switch {
		case st.LastRun.Blocked:
			status = "BLOCKED"
		case len(st.Issues) > 0:
			status = "issues"
		}
		if st.LastRun.BrowserSwitch != "" {
			status += ", via the browser"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", src.ID, src.Agency, st.LastRun.Finished.Format(time.DateTime),
			st.Releases, st.LastRun.New, st.LastRun.Failed, st.LastRun.Gone, len(st.Issues), status)
	}
	tw.Flush()
	for _, src := range srcs {
		i, ok := byID[string(src.ID)]
		if !ok {
			continue
		}
		if why := statuses[i].LastRun.BrowserSwitch; why != "" {
			fmt.Fprintf(e.stdout, "%s: switched to the browser (fetch: auto) after %s\n", src.ID, why)
		}
		for _, is := range statuses[i].Issues {
			fmt.Fprintf(e.stdout, "%s: %s: %s", src.ID, is.Kind, is.Message)
			if is.Selector != "" {
				fmt.Fprintf(e.stdout, " (selector %q)", is.Selector)
			}
			if is.URL != "" {
				fmt.Fprintf(e.stdout, " at %s", is.URL)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	return nil
}

// sourcesJSON is "sources --json": the enabled sources in the API's form.
func sourcesJSON(cfg *config.Config, srcs []crawler.Source, statuses []archive.SourceStatus, byID map[string]int) api.SourcesResponse {
	out := api.SourcesResponse{Sources: []api.SourceDTO{}}
	for _, src := range srcs {
		var st archive.SourceStatus
		if i, ok := byID[string(src.ID)]; ok {
			st = statuses[i]
		}
		schedule := ""
		for _, c := range cfg.Sources {
			if c.Name == string(src.ID) {
				schedule = c.Schedule
			}
		}
		out.Sources = append(out.Sources, api.SourceDTOOf(api.Source{ID: src.ID, Agency: src.Agency, Country: src.Country,
			Language: src.Language, Enabled: true, Schedule: schedule}, st))
	}
	return out
}

// sourceStatuses returns the status of every source: through the running
// service if there is one, else from the archive.
func (e *env) sourceStatuses(ctx context.Context) ([]archive.SourceStatus, error) {
	if c := e.runningService(ctx); c != nil {
		return c.sourceStatuses(ctx)
	}
	arch, err := e.openArchiveReadOnly()
	if err != nil {
		return nil, err
	}
	defer arch.Close()
	return arch.Sources(ctx)
}
