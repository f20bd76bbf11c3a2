package main

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"atalaya"
	"atalaya/classify"
)

func rulesSuggest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules suggest", "rules suggest --gold FILE.jsonl... [--rules FILE] [--words N] [--min-support N] [--limit N] [--no-archive] [--json]")
	var gold listFlag
	fs.Var(&gold, "gold", "gold `file` (JSON Lines); repeat or separate with commas for several")
	rulesPath := fs.String("rules", "", "rules `file` (default: the configured rules)")
	words := fs.Int("words", 3, "longest phrase, in `words`")
	minSupport := fs.Int("min-support", 3, "gold releases a phrase must be in")
	limit := fs.Int("limit", 15, "phrases per label")
	noArchive := fs.Bool("no-archive", false, "do not count the phrases in the archive")
	asJSON := fs.Bool("json", false, "print the suggestions as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *words < 1 || *words > 6 || *minSupport < 1 || *limit < 1 {
		return badUsage(fs, "--words must be 1 to 6, --min-support and --limit at least 1")
	}
	rs, g, err := e.rulesAndGold(*rulesPath, gold)
	if err != nil {
		return err
	}
	opt := classify.SuggestOptions{MaxWords: *words, MinSupport: *minSupport, Limit: *limit}
	var out []classify.Suggestion
	useArchive := !*noArchive && e.hasArchive()
	sv := salvage{w: e.stderr}
	if useArchive {
		err = e.withArchivedReleases(ctx, "rules suggest", &sv, func(rels iter.Seq[atalaya.Release]) {
			out = classify.Suggest(rs, g, rels, opt)
		})
	} else {
		out = classify.Suggest(rs, g, nil, opt)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if out == nil {
			out = []classify.Suggestion{}
		}
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
		return sv.result()
	}
	if err := writeSuggestions(e, out, useArchive); err != nil {
		return err
	}
	return sv.result()
}

// hasArchive reports whether the data directory holds an archive.
func (e *env) hasArchive() bool {
	_, err := os.Stat(filepath.Join(e.archiveDir(), "state.db"))
	return err == nil
}

func writeSuggestions(e *env, out []classify.Suggestion, archive bool) error {
	var b strings.Builder
	fmt.Fprintln(&b, "Phrases from the gold releases the rules get wrong (and archived releases labelled neither but relevant),")
	fmt.Fprintln(&b, "ranked by how well they separate each label on the gold. They are suggestions: check each against the")
	fmt.Fprintln(&b, "labeling guide, write a rule with examples of your own, then 'atalaya rules eval --cv 5' on every gold file.")
	if !archive {
		fmt.Fprintln(&b, "(no archive counts: none in the data directory, or --no-archive)")
	}
	var label classify.Label
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, s := range out {
		if s.Label != label {
			label = s.Label
			fmt.Fprintf(tw, "\n%s\tprecision\tcoverage\tin missed\tarchive\tarchive neither+relevant\n", label)
		}
		fmt.Fprintf(tw, "  %s\t%.2f\t%d/%d\t%d\t%d\t%d\n", s.Phrase, s.Precision, s.Coverage, s.Support, s.Missed, s.Archive, s.ArchiveNeither)
	}
	tw.Flush()
	if len(out) == 0 {
		fmt.Fprintln(&b, "\nno phrase separates a label well enough; try --min-support 2")
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}
