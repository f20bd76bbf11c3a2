package main

import (
	"context"
	"fmt"

	"atalaya/archive"
	"text/tabwriter"
	"time"
)

// runSources prints the health of every source: last run, counts and the
// issues still open.
func runSources(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sources", "sources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
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
	statuses, err := e.sourceStatuses(ctx)
	if err != nil {
		return err
	}
	byID := map[string]int{}
	for i, st := range statuses {
		byID[string(st.Source)] = i
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", src.ID, src.Agency, st.LastRun.Finished.Format(time.DateTime),
			st.Releases, st.LastRun.New, st.LastRun.Failed, st.LastRun.Gone, len(st.Issues), status)
	}
	tw.Flush()
	for _, src := range srcs {
		i, ok := byID[string(src.ID)]
		if !ok {
			continue
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

// sourceStatuses returns the status of every source: through the running
// service if there is one, else from the archive.
func (e *env) sourceStatuses(ctx context.Context) ([]archive.SourceStatus, error) {
	if c := e.runningService(ctx); c != nil {
		return c.sourceStatuses(ctx)
	}
	arch, err := e.openExistingArchive()
	if err != nil {
		return nil, err
	}
	defer arch.Close()
	return arch.Sources(ctx)
}
