package main

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"text/tabwriter"

	"atalaya"
	"atalaya/archive"
)

const releasesSynopsis = "releases [--source NAME]... [--json]"

// runReleases lists the archived releases, newest first.
func runReleases(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "releases", releasesSynopsis)
	var names listFlag
	fs.Var(&names, "source", "only releases of this source (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object per release")
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
	enc := json.NewEncoder(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "PUBLISHED\tSOURCE\tV\tTITLE\tURL")
	}
	n := 0
	for rel, err := range e.releases(ctx, names) {
		if err != nil {
			return err
		}
		n++
		if *asJSON {
			if err := enc.Encode(rel); err != nil {
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
	return nil
}

// releases yields the releases of the sources named (all when none),
// newest first: from the running service's index if there is one (without
// bodies), else from the archive.
func (e *env) releases(ctx context.Context, names []string) iter.Seq2[atalaya.Release, error] {
	if c := e.runningService(ctx); c != nil {
		return c.releases(ctx, names)
	}
	return func(yield func(atalaya.Release, error) bool) {
		arch, err := e.openExistingArchive()
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
			if !yield(rel, err) || err != nil {
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
