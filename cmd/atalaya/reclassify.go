package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/rulestore"
)

// runReclassify runs the rules in force over every archived release and
// updates the verdicts in the index.
func runReclassify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reclassify", "reclassify")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	return e.reclassify(ctx, e.stdout)
}

// finishReclassify completes a reclassification that was interrupted, if
// there is one, writing what it does to w; serve calls it at start. It
// reports whether there was one to finish.
func (e *env) finishReclassify(ctx context.Context, w io.Writer) (bool, error) {
	store, err := e.openRulesStore()
	if err != nil {
		return false, err
	}
	if _, ok, err := store.Reclassifying(); !ok || err != nil {
		return false, err
	}
	return true, e.reclassify(ctx, w)
}

// reclassify applies the rules in force to every archived release. It
// records in the rules store that a reclassification is under way before
// changing the first verdict and that the rules in force are applied after
// the last, so that an interruption is known and finished by the next run.
func (e *env) reclassify(ctx context.Context, w io.Writer) error {
	choice, err := e.chooseRules(true)
	if err != nil {
		return err
	}
	rules, store := choice.rules, choice.store
	if pending, ok, err := store.Reclassifying(); err != nil {
		return err
	} else if ok {
		fmt.Fprintf(w, "reclassify: finishing the reclassification to rules %s started %s\n", pending.To, pending.Started.Format(time.RFC3339))
	}
	from := ""
	if applied, ok, err := store.Applied(); err != nil {
		return err
	} else if ok {
		from = applied.RulesVersion
	}
	choice.describe(w, "reclassify")
	arch, err := e.openExistingArchive()
	if err != nil {
		return err
	}
	defer arch.Close()
	idx, err := e.openIndex()
	if err != nil {
		return err
	}
	defer idx.Close()
	if err := store.BeginReclassify(rulestore.Reclassification{From: from, To: rules.Version(), Started: time.Now()}); err != nil {
		return err
	}
	sv := salvage{w: e.stderr}
	labels, err := putClassified(ctx, idx, classifiedSalvaging(ctx, arch, rules, &sv), func(n int) { e.progress("reclassify: %d releases classified", n) })
	e.progressDone()
	if err != nil {
		return err
	}
	if err := arch.MarkAllIndexed(ctx); err != nil {
		return err
	}
	if err := store.SetApplied(rules.Version(), time.Now()); err != nil {
		return err
	}
	if err := store.EndReclassify(); err != nil {
		return err
	}
	fmt.Fprintf(w, "reclassified with rules %s:", rules.Version())
	var names []string
	for l := range labels {
		names = append(names, string(l))
	}
	sort.Strings(names)
	for _, l := range names {
		fmt.Fprintf(w, " %s=%d", l, labels[classify.Label(l)])
	}
	fmt.Fprintln(w)
	return sv.result()
}

// putClassified writes docs to the index in batches and counts their
// labels, calling progress with the number written so far.
func putClassified(ctx context.Context, idx *index.Index, docs func(func(index.Document, error) bool), progress func(int)) (map[classify.Label]int, error) {
	const batchSize = 500
	var batch []index.Document
	labels := map[classify.Label]int{}
	n := 0
	for doc, err := range docs {
		if err != nil {
			return nil, err
		}
		labels[doc.Verdict.Label]++
		n++
		progress(n)
		if batch = append(batch, doc); len(batch) == batchSize {
			if err := idx.Put(ctx, batch...); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	return labels, idx.Put(ctx, batch...)
}
