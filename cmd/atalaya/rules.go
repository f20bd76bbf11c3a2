package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"atalaya"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/crawler"
)

const rulesHelp = `Audit the classification rules.

Subcommands:
  check [FILE]                          validate a rules file (default: the configured rules) and run its examples
  explain (--file F | --url U | ID)     classify one release (a file, or archived by URL or ID; --gold G ID
                                        for a gold release) and show the evidence and near misses
  eval --gold FILE.jsonl... [--cv K] [--json]
                                        score the rules against gold files; --cv K adds K-fold
                                        cross-validation (as written, and with weights fitted per fold)
  fit --gold FILE.jsonl... [--out NEW.yaml]
                                        fit weights and thresholds to the gold (logistic regression over
                                        rule hits) and write a NEW rules file; the rules in force are unchanged
  suggest --gold FILE.jsonl...          phrases that separate the labels on the gold, from the releases the
                                        rules get wrong (and archived neither-but-relevant ones)
  diff OLD.yaml NEW.yaml [--gold FILE] [--exit-code]
                                        list the archived (and gold) releases whose label changes;
                                        --exit-code exits 1 when any does, like git diff --exit-code
  codebook [--format md|html] [--gold FILE]
                                        write the codebook for replication
  show                                  print the rules in force (the configured file, else the embedded rules)
  report [--gold FILE]                  rule overlaps, conflicts, dead rules and gaps, over the archive or a gold file

Every subcommand but check and diff takes --rules FILE (default: the rules the configuration names,
else the embedded rules).`

// runRules runs "atalaya rules <subcommand>".
func runRules(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "rules", rulesHelp, map[string]subcommand{
		"check": rulesCheck, "explain": rulesExplain, "eval": rulesEval, "fit": rulesFit, "suggest": rulesSuggest,
		"diff": rulesDiff, "codebook": rulesCodebook, "report": rulesReport, "show": rulesShow,
	}, args)
}

// rulesShow prints the rules file in force (the configured one, else the
// embedded default) as it is written, to copy and edit.
func rulesShow(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules show", "rules show")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	src := classify.DefaultSource()
	if cfg.Rules != "" {
		if src, err = os.ReadFile(cfg.Rules); err != nil {
			return fmt.Errorf("reading the configured rules: %w", err)
		}
	}
	_, err = e.stdout.Write(src)
	return err
}

// rulesFor compiles the rules file at path or, when path is empty, the one
// the configuration names (by default the embedded rules).
func (e *env) rulesFor(path string) (*classify.Rules, error) {
	if path == "" {
		cfg, err := e.loadConfig()
		if err != nil {
			return nil, err
		}
		path = cfg.Rules
	}
	return loadRules(path)
}

// archivedRelease opens the archive read-only and looks a release up with
// find; a running service is asked for release id instead.
func (e *env) archivedRelease(ctx context.Context, id atalaya.ID, notFound func(error) error, find func(*archive.Archive) (atalaya.Release, error)) (atalaya.Release, error) {
	if c := e.runningService(ctx); c != nil {
		return c.release(ctx, id)
	}
	a, err := e.openArchiveReadOnly()
	if err != nil {
		return atalaya.Release{}, err
	}
	defer a.Close()
	rel, err := find(a)
	if errors.Is(err, archive.ErrNotFound) {
		return rel, notFound(err)
	}
	return rel, err
}

// withArchivedReleases opens the archive and calls fn with its releases;
// an error met while reading them is returned after fn. Releases whose
// records are damaged are passed over through sv: the caller writes its
// output, then returns sv.result(). On a terminal the status line counts
// the releases read, under the name of the command.
func (e *env) withArchivedReleases(ctx context.Context, command string, sv *salvage, fn func(iter.Seq[atalaya.Release])) error {
	a, err := e.openArchiveReadOnly()
	if err != nil {
		return err
	}
	defer a.Close()
	defer e.progressDone()
	var readErr error
	n := 0
	fn(func(yield func(atalaya.Release) bool) {
		for rel, err := range a.Releases(ctx, archive.Filter{}) {
			if sv.skip(err) {
				continue
			}
			if err != nil {
				readErr = err
				return
			}
			n++
			e.progress("%s: archived releases read: %d", command, n)
			if !yield(rel) {
				return
			}
		}
	})
	return readErr
}

// loadRules compiles the rules file at path, or the embedded default.
func loadRules(path string) (*classify.Rules, error) {
	if path == "" {
		return classify.Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &fileError{what: "rules file", path: path, err: err}
	}
	defer f.Close()
	return classify.Parse(f, path)
}

// rulesAndGold compiles the rules at rulesPath (see rulesFor) and reads
// the gold files, checking their labels against the rules.
func (e *env) rulesAndGold(rulesPath string, gold []string) (*classify.Rules, []classify.GoldRelease, error) {
	rs, err := e.rulesFor(rulesPath)
	if err != nil {
		return nil, nil, err
	}
	g, err := loadGold(gold, rs)
	return rs, g, err
}

// loadGold reads gold files, checking their labels against rs.
func loadGold(paths []string, rs *classify.Rules) ([]classify.GoldRelease, error) {
	if len(paths) == 0 {
		return nil, &usageError{msg: "--gold FILE is required"}
	}
	var all []classify.GoldRelease
	seen := make(map[string]string)
	for _, p := range paths {
		g, err := loadGoldFile(p, rs)
		if err != nil {
			return nil, err
		}
		for _, r := range g {
			if prev, dup := seen[r.ID]; dup {
				return nil, fmt.Errorf("%s: line %d: id %q is also in %s: ids must be unique across gold files", p, r.Line, r.ID, prev)
			}
			seen[r.ID] = p
		}
		all = append(all, g...)
	}
	return all, nil
}

// loadGoldFile reads one gold file, checking its labels against rs.
func loadGoldFile(path string, rs *classify.Rules) ([]classify.GoldRelease, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &fileError{what: "gold file", path: path, err: err}
	}
	defer f.Close()
	gold, err := classify.ReadGold(f, rs.LabelNames()...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return gold, nil
}

func rulesCheck(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules check", "rules check [FILE]")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		fs.Usage()
		return errUsage
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	rs, err := e.rulesFor(path)
	if err != nil {
		return err
	}
	problems := rs.Check()
	for _, p := range problems {
		fmt.Fprintln(e.stdout, p.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d rule examples fail", len(problems))
	}
	fmt.Fprintf(e.stdout, "%s: %d rules, version %s: ok\n", rs.Name(), len(rs.Rules()), rs.Version())
	return nil
}

func rulesEval(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules eval", "rules eval --gold FILE.jsonl... [--cv K] [--rules FILE] [--json]")
	var gold listFlag
	fs.Var(&gold, "gold", "gold `file` (JSON Lines); repeat or separate with commas for several")
	folds := fs.Int("cv", 0, "also cross-validate over `K` folds: the rules as written, and with weights fitted on the other folds")
	lambda := fs.Float64("lambda", 0.1, "L2 penalty of the fit in the cross-validation")
	rulesPath := fs.String("rules", "", "rules `file` (default: the configured rules)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *folds == 1 || *folds < 0 {
		return badUsage(fs, "--cv needs at least 2 folds")
	}
	rs, g, err := e.rulesAndGold(*rulesPath, gold)
	if err != nil {
		return err
	}
	rep := classify.Evaluate(rs, g)
	if *folds == 0 {
		if *asJSON {
			return writeJSON(e.stdout, reportJSONOf(rep))
		}
		return rep.WriteText(e.stdout)
	}
	cv := crossValidations(rs, g, *folds, *lambda)
	if *asJSON {
		return writeJSON(e.stdout, struct {
			Eval reportJSON `json:"eval"`
			CV   cvPair     `json:"cv"`
		}{reportJSONOf(rep), cv})
	}
	if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	return cv.writeText(e.stdout)
}

func rulesDiff(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules diff", "rules diff OLD.yaml NEW.yaml [--gold FILE] [--no-archive] [--json] [--exit-code]")
	gold := fs.String("gold", "", "gold `file` (JSON Lines) whose releases are classified under both rule sets too")
	noArchive := fs.Bool("no-archive", false, "classify only the gold releases, not the archived ones")
	asJSON := fs.Bool("json", false, "print the differences as one JSON object")
	exitCode := fs.Bool("exit-code", false, "exit with status 1 when a release changes label (like git diff --exit-code)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *noArchive && *gold == "" {
		fs.Usage()
		return errUsage
	}
	oldRules, err := loadRules(pos[0])
	if err != nil {
		return err
	}
	newRules, err := loadRules(pos[1])
	if err != nil {
		return err
	}
	out := diffOutput{OldRulesVersion: oldRules.Version(), NewRulesVersion: newRules.Version()}
	sv := salvage{w: e.stderr}
	if !*noArchive {
		var rep classify.DiffReport
		if err := e.withArchivedReleases(ctx, "rules diff", &sv, func(rels iter.Seq[atalaya.Release]) {
			rep = classify.Diff(oldRules, newRules, rels)
		}); err != nil {
			return err
		}
		out.Archive = &rep
	}
	if *gold != "" {
		g, err := loadGold([]string{*gold}, newRules)
		if err != nil {
			return err
		}
		rep := classify.Diff(oldRules, newRules, classify.GoldReleases(g))
		out.Gold = &rep
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		if out.Archive != nil {
			fmt.Fprintf(e.stdout, "== archive (%s)\n", e.archiveDir())
			writeDiff(e.stdout, *out.Archive, oldRules, newRules)
		}
		if out.Gold != nil {
			fmt.Fprintf(e.stdout, "== gold (%s)\n", *gold)
			writeDiff(e.stdout, *out.Gold, oldRules, newRules)
		}
	}
	if n := out.changed(); *exitCode && n > 0 {
		return errLabelsChanged{n}
	}
	return sv.result()
}

// errLabelsChanged fails "rules diff --exit-code" (exit status 1) when
// releases change label.
type errLabelsChanged struct{ n int }

func (e errLabelsChanged) Error() string {
	return plural(e.n, "release changes", "releases change") + " label (--exit-code)"
}

// changed counts the releases, archived and gold, whose label changes.
func (d diffOutput) changed() int {
	n := 0
	for _, rep := range []*classify.DiffReport{d.Archive, d.Gold} {
		if rep != nil {
			n += len(rep.Changed)
		}
	}
	return n
}

// diffOutput is "rules diff --json".
type diffOutput struct {
	OldRulesVersion string               `json:"old_rules_version"`
	NewRulesVersion string               `json:"new_rules_version"`
	Archive         *classify.DiffReport `json:"archive,omitempty"`
	Gold            *classify.DiffReport `json:"gold,omitempty"`
}

// writeDiff prints the counts per label transition, then each release whose
// label changes.
func writeDiff(w io.Writer, rep classify.DiffReport, oldRules, newRules *classify.Rules) {
	fmt.Fprintf(w, "%d releases, %d change label (%s → %s)\n", rep.Total, len(rep.Changed), oldRules.Version(), newRules.Version())
	for _, t := range slices.Sorted(maps.Keys(rep.Transitions)) {
		fmt.Fprintf(w, "  %-28s %d\n", t, rep.Transitions[t])
	}
	for _, c := range rep.Changed {
		fmt.Fprintf(w, "%s: %s → %s  %s\n", c.ID, c.Old, c.New, c.Title)
	}
}

func rulesCodebook(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules codebook", "rules codebook [--format md|html] [--gold FILE] [--rules FILE]")
	format := fs.String("format", "md", "output `format`: md or html")
	gold := fs.String("gold", "", "gold `file` for coverage and precision")
	rulesPath := fs.String("rules", "", "rules `file` (default: the configured rules)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rs, err := e.rulesFor(*rulesPath)
	if err != nil {
		return err
	}
	var rep *classify.Report
	if *gold != "" {
		g, err := loadGold([]string{*gold}, rs)
		if err != nil {
			return err
		}
		r := classify.Evaluate(rs, g)
		rep = &r
	}
	return classify.Codebook(rs, rep, *format, e.stdout)
}

func rulesReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules report", "rules report [--gold FILE] [--rules FILE] [--json]")
	gold := fs.String("gold", "", "gold `file` (JSON Lines) to report on instead of the archive")
	rulesPath := fs.String("rules", "", "rules `file` (default: the configured rules)")
	asJSON := fs.Bool("json", false, "print the report (rule coverage, overlaps, conflicts, dead rules, gaps) as one JSON object")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rs, err := e.rulesFor(*rulesPath)
	if err != nil {
		return err
	}
	if *gold != "" {
		g, err := loadGold([]string{*gold}, rs)
		if err != nil {
			return err
		}
		return writeReport(e.stdout, classify.Evaluate(rs, g), *asJSON)
	}
	var rep classify.Report
	sv := salvage{w: e.stderr}
	err = e.withArchivedReleases(ctx, "rules report", &sv, func(rels iter.Seq[atalaya.Release]) {
		rep = classify.EvaluateSeq(rs, unlabelled(rs, rels))
	})
	if err != nil {
		return err
	}
	if err := writeReport(e.stdout, rep, *asJSON); err != nil {
		return err
	}
	return sv.result()
}

func writeReport(w io.Writer, rep classify.Report, asJSON bool) error {
	if asJSON {
		return writeJSON(w, reportJSONOf(rep))
	}
	return writeMatrix(w, rep)
}

// reportJSON is an evaluation report as "rules eval --json" and "rules
// report --json" print it: classify.Report, whose misclassified releases'
// evidence and near misses get snake_case keys.
type reportJSON struct {
	classify.Report
	Errors []misclassifiedJSON `json:"errors"` // shadows Report.Errors
}

// misclassifiedJSON is classify.Misclassified with snake_case keys all
// the way down.
type misclassifiedJSON struct {
	ID         string                     `json:"id"`
	Title      string                     `json:"title"`
	Gold       classify.Label             `json:"gold"`
	Got        classify.Label             `json:"got"`
	Scores     map[classify.Label]float64 `json:"scores"`
	Evidence   []evidenceJSON             `json:"evidence"`
	NearMisses []nearMissJSON             `json:"near_misses"`
}

func reportJSONOf(rep classify.Report) reportJSON {
	out := reportJSON{Report: rep, Errors: []misclassifiedJSON{}}
	for _, m := range rep.Errors {
		x := misclassifiedJSON{ID: m.ID, Title: m.Title, Gold: m.Gold, Got: m.Got, Scores: m.Scores,
			Evidence: []evidenceJSON{}, NearMisses: []nearMissJSON{}}
		for _, ev := range m.Evidence {
			x.Evidence = append(x.Evidence, evidenceJSON(ev))
		}
		for _, nm := range m.NearMisses {
			x.NearMisses = append(x.NearMisses, nearMissJSON(nm))
		}
		out.Errors = append(out.Errors, x)
	}
	return out
}

// unlabelled turns archived releases into gold releases without a label,
// relevant when rs finds them relevant, so that an evaluation reports
// coverage, overlaps, conflicts, dead rules and gaps over the archive.
func unlabelled(rs *classify.Rules, rels iter.Seq[atalaya.Release]) iter.Seq[classify.GoldRelease] {
	return func(yield func(classify.GoldRelease) bool) {
		for rel := range rels {
			g := classify.GoldRelease{
				ID: string(rel.ID), URL: rel.URL, Agency: rel.Agency, Country: string(rel.Country),
				Language: string(rel.Language), Title: rel.Title, Body: rel.Body,
				Relevant: rs.Classify(rel).Relevant,
			}
			if !yield(g) {
				return
			}
		}
	}
}

// writeMatrix writes the pairwise co-firing matrix of the label rules
// (overlaps with the same label, conflicts with another), dead rules and
// gaps.
func writeMatrix(w io.Writer, rep classify.Report) error {
	var ids []string
	pair := make(map[[2]string]int)
	for _, st := range rep.Rules {
		if st.Label == "" {
			continue
		}
		ids = append(ids, st.ID)
		for o, n := range st.Overlaps {
			pair[[2]string{st.ID, o}] = n
		}
		for o, n := range st.Conflicts {
			pair[[2]string{st.ID, o}] = -n
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d releases; co-firing of label rules (n = overlap, same label; -n = conflict, other label)\n\n", rep.Total)
	tw := tabwriter.NewWriter(&b, 2, 4, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for i := range ids {
		fmt.Fprintf(tw, "%d\t", i+1)
	}
	fmt.Fprintln(tw)
	for i, a := range ids {
		fmt.Fprintf(tw, "%d %s\t", i+1, a)
		for _, c := range ids {
			if n := pair[[2]string{a, c}]; n != 0 {
				fmt.Fprintf(tw, "%d\t", n)
			} else {
				fmt.Fprint(tw, ".\t")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\ndead rules (no hits): %s\n", strings.Join(rep.DeadRules, ", "))
	fmt.Fprintf(&b, "relevant releases no label rule fired on: %d\n", len(rep.Gaps))
	for _, g := range rep.Gaps {
		fmt.Fprintf(&b, "  %s: %s\n    %s\n    relevant because %s, but no label rule fired\n", g.ID, g.Title, g.URL, g.Reason)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func rulesExplain(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules explain", "rules explain (--file F | --url U | ID | --gold G ID) [--rules FILE] [--json]")
	file := fs.String("file", "", "release `file`: JSON {title, body, language} or plain text")
	url := fs.String("url", "", "explain the archived release at this `URL`")
	gold := fs.String("gold", "", "gold `file` in which to look up the release ID")
	rulesPath := fs.String("rules", "", "rules `file` (default: for an archived release, the rules that set its indexed verdict; else the configured rules)")
	color := fs.String("color", "auto", "highlight evidence: auto, always or never")
	asJSON := fs.Bool("json", false, "print the explanation as one JSON object")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	rs, err := e.rulesFor(*rulesPath)
	if err != nil {
		return err
	}
	var rel atalaya.Release
	archived := false
	switch {
	case *file != "" && len(pos) == 0:
		rel, err = readReleaseFile(*file)
	case *file == "" && len(pos) == 1 && *gold != "":
		rel, err = findGold(*gold, rs, pos[0])
	case *file == "" && *url != "" && len(pos) == 0:
		archived = true
		rel, err = e.archivedRelease(ctx, atalaya.NewID(crawler.Canonical(*url)), func(err error) error {
			return &notArchivedError{by: "URL", key: *url, err: err}
		}, func(a *archive.Archive) (atalaya.Release, error) {
			return releaseByLink(ctx, a, *url)
		})
	case *file == "" && *url == "" && len(pos) == 1:
		archived = true
		rel, err = e.archivedRelease(ctx, atalaya.ID(pos[0]), func(err error) error {
			return &notArchivedError{by: "id", key: pos[0], err: err}
		}, func(a *archive.Archive) (atalaya.Release, error) {
			return a.Release(ctx, atalaya.ID(pos[0]))
		})
	default:
		fs.Usage()
		return errUsage
	}
	if err != nil {
		return err
	}
	var prov *provenance
	inForce := rs
	if archived && *rulesPath == "" {
		set, now, p, err := e.rulesThatSet(ctx, rel.ID)
		if err != nil {
			return err
		}
		rs, inForce, prov = set, now, &p
	}
	v := rs.Classify(rel)
	if prov != nil {
		prov.compare(inForce, rel, v)
	}
	if *asJSON {
		return writeJSON(e.stdout, explanationJSON(rel, v, prov))
	}
	hl := *color == "always" || *color == "auto" && isTerminal(e.stdout)
	if err := writeExplanation(e.stdout, rel, v, hl); err != nil {
		return err
	}
	if prov != nil {
		fmt.Fprintf(e.stdout, "\nprovenance: %s\n", prov.Note)
	}
	return nil
}

// readReleaseFile reads a JSON release ({title, body, language}) or, if
// the file is not JSON, a plain-text body.
func readReleaseFile(path string) (atalaya.Release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return atalaya.Release{}, &fileError{what: "release file", path: path, err: err}
	}
	var j struct {
		Title    string `json:"title"`
		Body     string `json:"body"`
		Language string `json:"language"`
		URL      string `json:"url"`
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, &j); err != nil {
			return atalaya.Release{}, fmt.Errorf("%s: not a JSON release: %v", path, err)
		}
		return atalaya.Release{Title: j.Title, Body: j.Body, Language: atalaya.Language(j.Language), URL: j.URL}, nil
	}
	return atalaya.Release{Body: string(data)}, nil
}

func findGold(path string, rs *classify.Rules, id string) (atalaya.Release, error) {
	g, err := loadGold([]string{path}, rs)
	if err != nil {
		return atalaya.Release{}, err
	}
	for _, r := range g {
		if r.ID == id {
			return r.Release(), nil
		}
	}
	return atalaya.Release{}, fmt.Errorf("release %q is not in %s", id, path)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeExplanation prints a verdict with its evidence; hl highlights each
// match inside its sentence with ANSI colour.
func writeExplanation(w io.Writer, rel atalaya.Release, v classify.Verdict, hl bool) error {
	var b strings.Builder
	if rel.Title != "" {
		fmt.Fprintf(&b, "%s\n", rel.Title)
	}
	fmt.Fprintf(&b, "label: %s   relevant: %t   rules version: %s\n", v.Label, v.Relevant, v.RulesVersion)
	var scores []string
	for _, l := range slices.Sorted(maps.Keys(v.Scores)) {
		scores = append(scores, fmt.Sprintf("%s=%g", l, v.Scores[l]))
	}
	fmt.Fprintf(&b, "scores: %s\nthemes: %s\ntopics: %s\n", strings.Join(scores, " "), strings.Join(v.Themes, ", "), strings.Join(v.Topics, ", "))
	fmt.Fprintf(&b, "\nevidence (%d):\n", len(v.Evidence))
	for _, ev := range v.Evidence {
		target := string(ev.Label)
		if ev.Topic != "" {
			target = "topic:" + ev.Topic
		}
		fmt.Fprintf(&b, "  %s (%s, %s, weight %g) %s %d:%d\n    %s\n", ev.Rule, target, orDash(ev.Theme), ev.Weight, ev.Field, ev.Start, ev.End, highlight(ev, hl))
	}
	fmt.Fprintf(&b, "\nnear misses (%d):\n", len(v.NearMisses))
	for _, nm := range v.NearMisses {
		who := nm.Rule
		if who == "" {
			who = "label " + string(nm.Label)
		}
		fmt.Fprintf(&b, "  %s: %s (score %g)\n", who, nm.Reason, nm.Score)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// highlight returns the evidence sentence with the match marked: bold red
// on a terminal, between » and « otherwise.
func highlight(ev classify.Evidence, hl bool) string {
	open, end := "»", "«"
	if hl {
		open, end = "\x1b[1;31m", "\x1b[0m"
	}
	i := strings.Index(ev.Sentence, ev.Match)
	if i < 0 {
		return ev.Sentence
	}
	return ev.Sentence[:i] + open + ev.Match + end + ev.Sentence[i+len(ev.Match):]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
