package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/rulestore"
)

// runReclassify runs the rules in force over every archived release and
// updates the verdicts in the index.
func runReclassify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reclassify", "reclassify [--json]")
	asJSON := fs.Bool("json", false, "print the outcome as one JSON object")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if !*asJSON {
		_, err := e.reclassifyTelling(ctx, e.stdout)
		return err
	}
	res, err := e.reclassify(ctx, io.Discard)
	if res.RulesVersion == "" { // nothing was reclassified
		return err
	}
	if werr := writeJSON(e.stdout, res); werr != nil {
		return werr
	}
	return err
}

// reclassified is the outcome of a reclassification, and
// "reclassify --json".
type reclassified struct {
	RulesVersion     string                 `json:"rules_version"`
	FromRulesVersion string                 `json:"from_rules_version"` // the rules applied before; "" if none were recorded
	Releases         int                    `json:"releases"`
	Labels           map[classify.Label]int `json:"labels"` // releases per label
}

// reclassifyTelling reclassifies, writing to w what it does and the
// counts per label.
func (e *env) reclassifyTelling(ctx context.Context, w io.Writer) (reclassified, error) {
	res, err := e.reclassify(ctx, w)
	if res.RulesVersion == "" { // nothing was reclassified
		return res, err
	}
	fmt.Fprintf(w, "reclassified with rules %s:", res.RulesVersion)
	for _, l := range slices.Sorted(maps.Keys(res.Labels)) {
		fmt.Fprintf(w, " %s=%d", l, res.Labels[l])
	}
	fmt.Fprintln(w)
	return res, err
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
	_, err = e.reclassifyTelling(ctx, w)
	return true, err
}

// reclassify applies the rules in force to every archived release. It
// records in the rules store that a reclassification is under way before
// changing the first verdict and that the rules in force are applied after
// the last, so that an interruption is known and finished by the next run.
// It writes to w what it is about to do.
func (e *env) reclassify(ctx context.Context, w io.Writer) (reclassified, error) {
	var res reclassified
	choice, err := e.chooseRules(true)
	if err != nil {
		return res, err
	}
	rules, store := choice.rules, choice.store
	if pending, ok, err := store.Reclassifying(); err != nil {
		return res, err
	} else if ok {
		fmt.Fprintf(w, "reclassify: finishing the reclassification to rules %s started %s\n", pending.To, pending.Started.Format(time.RFC3339))
	}
	from := ""
	if applied, ok, err := store.Applied(); err != nil {
		return res, err
	} else if ok {
		from = applied.RulesVersion
	}
	choice.describe(w, "reclassify")
	arch, err := e.openExistingArchive()
	if err != nil {
		return res, err
	}
	defer arch.Close()
	idx, err := e.openIndex()
	if err != nil {
		return res, err
	}
	defer idx.Close()
	if err := store.BeginReclassify(rulestore.Reclassification{From: from, To: rules.Version(), Started: time.Now()}); err != nil {
		return res, err
	}
	sv := salvage{w: e.stderr}
	labels, err := putClassified(ctx, idx, classifiedSalvaging(ctx, arch, rules, &sv), func(n int) { e.progress("reclassify: %d releases classified", n) })
	e.progressDone()
	if err != nil {
		return res, err
	}
	if err := arch.MarkAllIndexed(ctx); err != nil {
		return res, err
	}
	if err := store.SetApplied(rules.Version(), time.Now()); err != nil {
		return res, err
	}
	if err := store.EndReclassify(); err != nil {
		return res, err
	}
	res = reclassified{RulesVersion: rules.Version(), FromRulesVersion: from, Labels: labels}
	for _, n := range labels {
		res.Releases += n
	}
	// Releases whose records are damaged were passed over: the others are
	// reclassified, and the command fails naming them.
	return res, sv.result()
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
