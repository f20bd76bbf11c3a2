package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"atalaya"
	"atalaya/archive"
	"atalaya/internal/synth"
)

// runGenerate writes synthetic releases into the archive, for benchmarks
// of everything downstream of the crawler (reindex, reclassify, rules diff).
// Their URLs are on the reserved domain example.org; it refuses an archive
// that holds crawled releases unless --force is given.
func runGenerate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "generate", "generate [--n N] [--seed S] [--force]")
	n := fs.Int("n", 10000, "number of synthetic releases (up to 200000)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same releases")
	force := fs.Bool("force", false, "write into a data directory that holds crawled releases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *n < 1 || *n > 200000 {
		return fmt.Errorf("--n %d: want 1 to 200000", *n)
	}
	arch, err := e.openArchive()
	if err != nil {
		return err
	}
	defer arch.Close()
	if !*force {
		if err := refuseCrawledData(ctx, arch, e.archiveDir()); err != nil {
			return err
		}
	}
	start := time.Now()
	stored, done := 0, 0
	for s := range synth.Releases(*n, *seed) {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := arch.Put(ctx, syntheticPage(s.Release), s.Release)
		if err != nil {
			return fmt.Errorf("archive synthetic release %s: %w", s.Release.URL, err)
		}
		if v > 0 {
			stored++
		}
		done++
		e.progress("generate: %d of %d releases archived (%d new)", done, *n, stored)
	}
	e.progressDone()
	elapsed := time.Since(start)
	fmt.Fprintf(e.stdout, "archived %d synthetic releases (%d already there) in %s (%.0f releases/s) into %s\n",
		stored, *n-stored, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), e.archiveDir())
	return nil
}

// refuseCrawledData fails when the archive holds a release that is not
// synthetic: synthetic releases written beside crawled ones would be indexed
// and searched with them by the next crawl.
func refuseCrawledData(ctx context.Context, arch *archive.Archive, dir string) error {
	for rel, err := range arch.Releases(ctx, archive.Filter{}) {
		if err != nil {
			return err
		}
		if !synth.IsSynthetic(rel.URL) {
			return fmt.Errorf("the archive in %s holds crawled releases (%s among them); synthetic releases written there "+
				"would be indexed and searched with them. Give generate a data directory of its own (--data DIR), or --force", dir, rel.URL)
		}
	}
	return nil
}

// syntheticPage renders a release as the simple HTML page it could have
// been fetched as.
func syntheticPage(rel atalaya.Release) atalaya.Page {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=%q><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n",
		rel.Language, html.EscapeString(rel.Title), html.EscapeString(rel.Title))
	for _, p := range strings.Split(rel.Body, "\n\n") {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
	}
	b.WriteString("</body></html>\n")
	fetched := rel.FetchedAt
	if fetched.IsZero() {
		fetched = time.Now()
	}
	return atalaya.Page{
		URL:       rel.URL,
		Status:    http.StatusOK,
		Header:    http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:      []byte(b.String()),
		FetchedAt: fetched,
	}
}
