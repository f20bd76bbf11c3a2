package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"atalaya/classify"
	"atalaya/crawler"
	"atalaya/index"
	"atalaya/ingest"
)

// demoSearches returns the example searches the demo runs.
func demoSearches() []string {
	return []string{
		`extradición OR extradition`,
		`sanction* AND label:kingpin`,
		`label:root_cause AND (naloxone OR prevención OR prevention)`,
		`"arms trafficking" OR "tráfico de armas"`,
	}
}

// runDemo crawls the mirror of the sites embedded in the binary into a
// temporary data directory, classifies and indexes what it finds, and runs
// example searches. It needs no network.
func runDemo(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet(e, "demo", "demo [--keep]")
	keep := fs.Bool("keep", false, "keep the demo's data directory and print its path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "atalaya-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	de := *e
	de.dataDir = dir
	p, err := de.newPipeline(ctx, nil, true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := p.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fate := "deleted when the demo ends; run 'atalaya demo --keep' to keep it"
	if *keep {
		fate = "kept after the demo"
	}
	fmt.Fprintf(e.stdout, "Crawling the embedded mirror of %d sources into %s (%s) …\n\n", len(p.sources), dir, fate)
	stats, err := p.run(ctx, crawler.Options{Logger: e.logger})
	if err != nil {
		return err
	}
	printStats(e.stdout, stats)
	fmt.Fprintln(e.stdout)
	printLabels(e, stats)
	for _, q := range demoSearches() {
		res, err := p.idx.Search(ctx, index.Query{Text: q, Size: 5, Highlight: true})
		if err != nil {
			return fmt.Errorf("search %q: %w", q, err)
		}
		fmt.Fprintf(e.stdout, "\n$ atalaya search '%s'   (%d hits)\n", q, res.Total)
		for _, h := range res.Hits {
			fmt.Fprintf(e.stdout, "  %s  %-10s %-8s %s\n", h.Published.Format("2006-01-02"), h.Label, h.Source, truncate(h.Title, 80))
		}
	}
	if *keep {
		fmt.Fprintf(e.stdout, "\nData kept in %s; try: atalaya --data %s search 'cartel'\n", dir, dir)
	}
	if n := stats.Failed(); n > 0 {
		return fmt.Errorf("%d sources failed", n)
	}
	return nil
}

// printLabels prints how many releases of each source got each label.
func printLabels(e *env, stats ingest.Stats) {
	labelSet := map[classify.Label]bool{}
	for _, s := range stats.Sources {
		for l := range s.Labels {
			labelSet[l] = true
		}
	}
	var labels []string
	for l := range labelSet {
		labels = append(labels, string(l))
	}
	sort.Strings(labels)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SOURCE\t%s\n", strings.ToUpper(strings.Join(labels, "\t")))
	for _, s := range stats.Sources {
		fmt.Fprintf(tw, "%s", s.Run.Source)
		for _, l := range labels {
			fmt.Fprintf(tw, "\t%d", s.Labels[classify.Label(l)])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
