package main

import (
	"context"
	"errors"
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
	fs := newFlagSet(e, "reindex", "reindex [--rules-in-force] [--json]")
	useInForce := fs.Bool("rules-in-force", false, "classify with the rules in force even when they differ from the rules last applied to the index")
	asJSON := fs.Bool("json", false, "print the outcome as one JSON object")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	choice, err := e.chooseRules(*useInForce)
	if err != nil {
		return err
	}
	rules := choice.rules
	if !*asJSON {
		choice.describe(e.stdout, "reindex")
	}
	arch, err := e.openExistingArchive()
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
				e.progress("reindex: %d releases read and classified", n)
			}
			if !yield(doc, err) {
				return
			}
		}
	}
	err = index.Rebuild(ctx, e.indexDir(), docs, index.Options{Logger: e.logger})
	e.progressDone()
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	if err := arch.MarkAllIndexed(ctx); err != nil {
		return err
	}
	// Every verdict in the new index is by rules: none is left from an
	// interrupted reclassification.
	if err := choice.store.SetApplied(rules.Version(), time.Now()); err != nil {
		return err
	}
	if err := choice.store.EndReclassify(); err != nil {
		return err
	}
	took := time.Since(start)
	if *asJSON {
		err = writeJSON(e.stdout, reindexed{Releases: n, Skipped: sv.skipped, Seconds: took.Seconds(),
			RulesVersion: rules.Version(), RulesInForceVersion: choice.inForce.Version()})
	} else {
		fmt.Fprintf(e.stdout, "indexed %d releases in %s (rules %s)\n", n, took.Round(time.Millisecond), rules.Version())
	}
	return errors.Join(err, sv.result())
}

// reindexed is "reindex --json".
type reindexed struct {
	Releases int     `json:"releases"` // indexed
	Skipped  int     `json:"skipped"`  // passed over: their records are damaged
	Seconds  float64 `json:"seconds"`
	// RulesVersion classified the releases: the rules last applied, unless
	// --rules-in-force.
	RulesVersion        string `json:"rules_version"`
	RulesInForceVersion string `json:"rules_in_force_version"`
}

// classifiedSalvaging yields every archived release, latest version, with
// its verdict under rules, passing over, through sv, the releases whose
// records are damaged.
func classifiedSalvaging(ctx context.Context, arch *archive.Archive, rules *classify.Rules, sv *salvage) iter.Seq2[index.Document, error] {
	return func(yield func(index.Document, error) bool) {
		now := time.Now()
		for rel, err := range arch.Releases(ctx, archive.Filter{}) {
			if sv.skip(err) {
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
