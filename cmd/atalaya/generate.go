package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"atalaya"
	"atalaya/internal/synth"
)

// runGenerate writes synthetic releases into the archive, for benchmarks
// of everything downstream of the crawler (reindex, reclassify, rules diff).
func runGenerate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "generate", "generate [--n N] [--seed S]")
	n := fs.Int("n", 10000, "number of synthetic releases (up to 200000)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same releases")
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
	start := time.Now()
	stored := 0
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
	}
	elapsed := time.Since(start)
	fmt.Fprintf(e.stdout, "archived %d synthetic releases (%d already there) in %s (%.0f releases/s) into %s\n",
		stored, *n-stored, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), e.archiveDir())
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
