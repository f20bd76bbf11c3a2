package main

import (
	"context"
	"fmt"
	"sort"

	"atalaya/classify"
	"atalaya/index"
)

// runReclassify runs the current rules over every archived release and
// updates the verdicts in the index.
func runReclassify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reclassify", "reclassify")
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
	idx, err := e.openIndex()
	if err != nil {
		return err
	}
	defer idx.Close()
	const batchSize = 500
	var batch []index.Document
	labels := map[classify.Label]int{}
	for doc, err := range classified(ctx, arch, rules) {
		if err != nil {
			return err
		}
		labels[doc.Verdict.Label]++
		if batch = append(batch, doc); len(batch) == batchSize {
			if err := idx.Put(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := idx.Put(ctx, batch...); err != nil {
		return err
	}
	if err := arch.MarkAllIndexed(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reclassified with rules %s:", rules.Version())
	var names []string
	for l := range labels {
		names = append(names, string(l))
	}
	sort.Strings(names)
	for _, l := range names {
		fmt.Fprintf(e.stdout, " %s=%d", l, labels[classify.Label(l)])
	}
	fmt.Fprintln(e.stdout)
	return nil
}
