package main

import (
	"context"
	"fmt"
	"iter"
	"time"

	"atalaya/archive"
	"atalaya/classify"
	"atalaya/index"
)

// runReindex rebuilds the index from the archive alone, without the
// network, into a new directory that replaces the old one atomically.
func runReindex(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reindex", "reindex")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	rules, arch, err := e.rulesAndArchive()
	if err != nil {
		return err
	}
	defer arch.Close()
	start := time.Now()
	n := 0
	sv := salvage{w: e.stderr}
	docs := func(yield func(index.Document, error) bool) {
		for doc, err := range classifiedSalvaging(ctx, arch, rules, &sv) {
			if err == nil {
				n++
			}
			if !yield(doc, err) {
				return
			}
		}
	}
	if err := index.Rebuild(ctx, e.indexDir(), docs, index.Options{Logger: e.logger}); err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	if err := arch.MarkAllIndexed(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "indexed %d releases in %s (rules %s)\n", n, time.Since(start).Round(time.Millisecond), rules.Version())
	return sv.result()
}

// rulesAndArchive loads the configured rules and opens the archive, for
// the commands that classify the archive anew.
func (e *env) rulesAndArchive() (*classify.Rules, *archive.Archive, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	rules, err := loadRules(cfg.Rules)
	if err != nil {
		return nil, nil, err
	}
	arch, err := e.openExistingArchive()
	return rules, arch, err
}

// classified yields every archived release, latest version, with its
// verdict under rules.
func classified(ctx context.Context, arch *archive.Archive, rules *classify.Rules) iter.Seq2[index.Document, error] {
	return classifiedSalvaging(ctx, arch, rules, nil)
}

// classifiedSalvaging is classified passing over, through sv, the releases
// whose records are damaged; a nil sv yields their errors.
func classifiedSalvaging(ctx context.Context, arch *archive.Archive, rules *classify.Rules, sv *salvage) iter.Seq2[index.Document, error] {
	return func(yield func(index.Document, error) bool) {
		now := time.Now()
		for rel, err := range arch.Releases(ctx, archive.Filter{}) {
			if sv != nil && sv.skip(err) {
				continue
			}
			if err != nil {
				yield(index.Document{}, err)
				return
			}
			if !yield(index.Document{Release: rel, Verdict: rules.Classify(rel), IndexedAt: now}, nil) {
				return
			}
		}
	}
}
