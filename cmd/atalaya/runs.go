package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/archive"
)

const runsSynopsis = "runs [--source NAME] [--limit N] [--json]"

// runRuns lists the recorded runs, newest first: through the running
// service if there is one, else from the archive.
func runRuns(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "runs", runsSynopsis)
	source := fs.String("source", "", "only the runs of this `source`")
	limit := fs.Int("limit", 50, "at most this `many` runs")
	asJSON := fs.Bool("json", false, "print the runs as JSON, with the API's keys")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return badUsage(fs, "--limit %d: want 1 to 1000", *limit)
	}
	if *source != "" {
		cfg, err := e.loadConfig()
		if err != nil {
			return err
		}
		if _, err := e.selectSources(cfg, []string{*source}); err != nil {
			return err
		}
	}
	runs, err := e.runs(ctx, atalaya.SourceID(*source), *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(api.RunsResponse{Runs: runs})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tSOURCE\tTRIGGER\tOUTCOME\tDURATION\tNEW\tREVISED\tUNCHANGED\tFAILED\tGONE\tISSUES\tERROR")
	for _, r := range runs {
		started, took := "-", "-"
		if r.Started != nil {
			started = r.Started.Local().Format(time.DateTime)
			if r.Finished != nil {
				took = r.Finished.Sub(*r.Started).Round(time.Millisecond).String()
			}
		}
		firstErr := ""
		if len(r.Errors) > 0 {
			firstErr = truncate(r.Errors[0], 80)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", started, r.Source, r.Trigger, r.Outcome, took,
			r.New, r.Revised, r.Unchanged, r.Failed, r.Gone, len(r.Issues), firstErr)
	}
	tw.Flush()
	if len(runs) == 0 {
		fmt.Fprintln(e.stdout, "no runs recorded")
	}
	return nil
}

// runs returns the recorded runs, through the running service or from the
// archive.
func (e *env) runs(ctx context.Context, src atalaya.SourceID, limit int) ([]api.RunDTO, error) {
	if c := e.runningService(ctx); c != nil {
		v := url.Values{"limit": {strconv.Itoa(limit)}}
		if src != "" {
			v.Set("source", string(src))
		}
		var r api.RunsResponse
		if err := c.get(ctx, "/api/runs", v, &r); err != nil {
			return nil, err
		}
		return r.Runs, nil
	}
	arch, err := e.openExistingArchive()
	if err != nil {
		return nil, err
	}
	defer arch.Close()
	recs, err := arch.Runs(ctx, archive.RunFilter{Source: src, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]api.RunDTO, 0, len(recs))
	for _, r := range recs {
		out = append(out, api.RunDTOOf(r))
	}
	return out, nil
}
