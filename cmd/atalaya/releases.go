package main

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"text/tabwriter"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/archive"
)

const releasesSynopsis = "releases [--source NAME]... [--json]"

// runReleases lists the archived releases, newest first.
func runReleases(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "releases", releasesSynopsis)
	var names listFlag
	fs.Var(&names, "source", "only releases of this source (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object per release (JSON Lines), with the API's keys")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if len(names) > 0 {
		cfg, err := e.loadConfig()
		if err != nil {
			return err
		}
		if _, err := e.selectSources(cfg, names); err != nil {
			return err
		}
	}
	e.warnIfReclassifying(e.stderr)
	enc := json.NewEncoder(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "PUBLISHED\tSOURCE\tV\tTITLE\tURL")
	}
	n := 0
	sv := salvage{w: e.stderr}
	for rel, err := range e.releases(ctx, names) {
		if sv.skip(err) {
			continue
		}
		if err != nil {
			return err
		}
		n++
		if *asJSON {
			if err := enc.Encode(releaseJSONOf(rel)); err != nil {
				return err
			}
			continue
		}
		date := "(no date)"
		if !rel.Published.IsZero() {
			date = rel.Published.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", date, rel.Source, rel.Version, truncate(rel.Title, 70), rel.URL)
	}
	if !*asJSON {
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d releases\n", n)
	}
	return sv.result()
}

// releaseJSON is one line of "releases --json": an archived release
// without its body, with the keys of the API's release
// (GET /api/releases/{id}). atalaya.Release itself has no JSON tags: the
// archive stores it with its Go field names.
type releaseJSON struct {
	api.ReleaseMeta
	Version   int        `json:"version"`
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
}

func releaseJSONOf(rel atalaya.Release) releaseJSON {
	return releaseJSON{ReleaseMeta: api.ReleaseMetaOf(rel), Version: rel.Version, FetchedAt: api.OptionalTime(rel.FetchedAt)}
}

// releases yields the releases of the sources named (all when none),
// newest first: from the running service's index if there is one (without
// bodies), else from the archive opened read-only. A damaged record yields
// its *archive.RecordError and the walk goes on.
func (e *env) releases(ctx context.Context, names []string) iter.Seq2[atalaya.Release, error] {
	if c := e.runningService(ctx); c != nil {
		return c.releases(ctx, names)
	}
	return func(yield func(atalaya.Release, error) bool) {
		arch, err := e.openArchiveReadOnly()
		if err != nil {
			yield(atalaya.Release{}, err)
			return
		}
		defer arch.Close()
		f := archive.Filter{}
		for _, n := range names {
			f.Sources = append(f.Sources, atalaya.SourceID(n))
		}
		for rel, err := range arch.Releases(ctx, f) {
			if !yield(rel, err) {
				return
			}
		}
	}
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
