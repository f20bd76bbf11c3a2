package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"atalaya/classify"
)

// cvPair is a cross-validation of the rules as written and of the same
// rules with weights and thresholds fitted on the other folds.
type cvPair struct {
	AsWritten classify.CVReport `json:"as_written"`
	Fitted    classify.CVReport `json:"fitted"`
}

func crossValidations(rs *classify.Rules, gold []classify.GoldRelease, folds int, lambda float64) cvPair {
	return cvPair{
		AsWritten: classify.CrossValidate(rs, gold, classify.CVOptions{Folds: folds}),
		Fitted:    classify.CrossValidate(rs, gold, classify.CVOptions{Folds: folds, Fit: &classify.FitOptions{Lambda: lambda}}),
	}
}

func (p cvPair) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\ncross-validation, %d folds stratified by label (%d releases):\n", p.AsWritten.Folds, p.AsWritten.Total)
	for _, c := range []struct {
		name string
		rep  classify.CVReport
	}{{"rules as written", p.AsWritten}, {"weights fitted on the other folds", p.Fitted}} {
		fmt.Fprintf(&b, "  %s: macro-F1 %s; relevance accuracy %s\n", c.name, formatSpread(c.rep.MacroF1), formatSpread(c.rep.RelevanceAccuracy))
		fmt.Fprintf(&b, "    per label (pooled):")
		for _, l := range slices.Sorted(maps.Keys(c.rep.PerLabel)) {
			fmt.Fprintf(&b, " %s %.3f", l, c.rep.PerLabel[l].F1)
		}
		fmt.Fprintf(&b, "\n    %s\n    %s\n", formatGroups("language", c.rep.PerLanguage), formatGroups("country", c.rep.PerCountry))
	}
	b.WriteString("  (the rules as written were tuned on the gold: their figures say how stable the rules are across it, not how they do on unseen text)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func formatSpread(s classify.Spread) string {
	folds := make([]string, len(s.Folds))
	for i, f := range s.Folds {
		folds[i] = fmt.Sprintf("%.3f", f)
	}
	return fmt.Sprintf("%.3f ± %.3f (min %.3f, max %.3f; folds %s)", s.Mean, s.SD, s.Min, s.Max, strings.Join(folds, " "))
}

// formatGroups writes "per language: en 0.912 (n=70), es …".
func formatGroups(what string, groups map[string]classify.GroupStats) string {
	parts := []string{"per " + what + ":"}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		parts = append(parts, fmt.Sprintf("%s macro-F1 %.3f relevance %.3f (n=%d)", k, g.MacroF1, g.RelevanceAccuracy, g.Total))
	}
	return strings.Join(parts, " ")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fitResult is what "rules fit --json" prints.
type fitResult struct {
	From      string            `json:"from_rules_version"`
	To        string            `json:"rules_version"`
	Out       string            `json:"out,omitempty"`
	Fitted    classify.Fitted   `json:"fitted"`
	InSample  classify.Report   `json:"in_sample"`
	CV        classify.CVReport `json:"cv"`
	AsWritten classify.CVReport `json:"cv_as_written"`
}

func rulesFit(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rules fit", "rules fit --gold FILE.jsonl... [--out NEW.yaml] [--rules FILE] [--cv K] [--lambda L] [--json]")
	var gold listFlag
	fs.Var(&gold, "gold", "gold `file` (JSON Lines); repeat or separate with commas for several")
	out := fs.String("out", "", "write the fitted rules to this new `file` (it must not exist; default: stdout)")
	folds := fs.Int("cv", 5, "cross-validate the fit over `K` folds")
	lambda := fs.Float64("lambda", 0.1, "L2 penalty on the weights")
	rulesPath := fs.String("rules", "", "rules `file` to fit (default: the configured rules)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *folds < 2 {
		return badUsage(fs, "--cv needs at least 2 folds")
	}
	if *lambda < 0 {
		return badUsage(fs, "--lambda must not be negative")
	}
	rs, src, err := e.rulesWithSource(*rulesPath)
	if err != nil {
		return err
	}
	g, err := loadGold(gold, rs)
	if err != nil {
		return err
	}
	opt := classify.FitOptions{Lambda: *lambda}
	fitted := classify.FitWeights(rs, g, opt)
	data, err := classify.WriteFitted(src, fitted)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Weights and thresholds fitted by `atalaya rules fit` (L2 logistic regression, lambda %g)\n# from rules %s on %s.\n",
		*lambda, rs.Version(), strings.Join(gold, ", "))
	data = append([]byte(header), data...)
	newRules, err := classify.Parse(strings.NewReader(string(data)), orStdout(*out))
	if err != nil {
		return fmt.Errorf("the fitted rules do not compile (please report this): %w", err)
	}
	res := fitResult{From: rs.Version(), To: newRules.Version(), Out: *out, Fitted: fitted,
		InSample:  classify.Evaluate(newRules, g),
		CV:        classify.CrossValidate(rs, g, classify.CVOptions{Folds: *folds, Fit: &opt}),
		AsWritten: classify.CrossValidate(rs, g, classify.CVOptions{Folds: *folds})}
	summary := e.stdout
	if *out == "" {
		if _, err := e.stdout.Write(data); err != nil {
			return err
		}
		summary = e.stderr
	} else if err := writeNewFile(*out, data); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(summary, res)
	}
	return res.writeText(summary)
}

func (r fitResult) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "fitted rules %s from %s", r.To, r.From)
	if r.Out != "" {
		fmt.Fprintf(&b, ", written to %s (the rules in force are unchanged)", r.Out)
	}
	fmt.Fprintf(&b, "\nthresholds:")
	for _, l := range slices.Sorted(maps.Keys(r.Fitted.Thresholds)) {
		fmt.Fprintf(&b, " %s %g", l, r.Fitted.Thresholds[l])
	}
	fmt.Fprintf(&b, "; relevance %g\n", r.Fitted.Relevance)
	fmt.Fprintf(&b, "in sample (the gold it was fitted on): macro-F1 %.3f, relevance accuracy %.3f\n", r.InSample.MacroF1, r.InSample.RelevanceAccuracy)
	fmt.Fprintf(&b, "cross-validated, %d folds, fitted on the other folds: macro-F1 %s\n", r.CV.Folds, formatSpread(r.CV.MacroF1))
	fmt.Fprintf(&b, "cross-validated, %d folds, hand-set weights:           macro-F1 %s\n", r.AsWritten.Folds, formatSpread(r.AsWritten.MacroF1))
	better := "hand-set weights generalise at least as well: keep the rules in force"
	if r.CV.MacroF1.Mean > r.AsWritten.MacroF1.Mean {
		better = "fitted weights score higher under cross-validation: review the new file with 'atalaya rules diff', then point the configuration at it"
	}
	fmt.Fprintf(&b, "%s\n", better)
	_, err := io.WriteString(w, b.String())
	return err
}

// rulesWithSource is rulesFor that also returns the bytes of the rules
// file.
func (e *env) rulesWithSource(path string) (*classify.Rules, []byte, error) {
	if path == "" {
		cfg, err := e.loadConfig()
		if err != nil {
			return nil, nil, err
		}
		path = cfg.Rules
	}
	if path == "" {
		return classify.Default(), classify.DefaultSource(), nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading rules: %w", err)
	}
	rs, err := classify.Parse(strings.NewReader(string(src)), path)
	return rs, src, err
}

func orStdout(path string) string {
	if path == "" {
		return "fitted.yaml"
	}
	return path
}
