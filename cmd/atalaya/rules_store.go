package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/rulestore"
)

func (e *env) rulesStoreDir() string { return filepath.Join(e.dataDir, "rules") }

func (e *env) openRulesStore() (*rulestore.Store, error) {
	return rulestore.Open(e.rulesStoreDir())
}

// rulesChoice is the rules a command classifies the archive with, and why.
type rulesChoice struct {
	rules   *classify.Rules
	inForce *classify.Rules // the configured rules
	store   *rulestore.Store
	// kept is true when rules are the version last applied to the index,
	// which differs from the rules in force.
	kept bool
}

// chooseRules loads the rules in force, keeps a copy of them in the rules
// store, and returns the rules to classify with: the version last applied
// to the index when it differs from the rules in force and useInForce is
// false, so that a rules edit never silently relabels; else the rules in
// force.
func (e *env) chooseRules(useInForce bool) (rulesChoice, error) {
	inForce, src, err := e.rulesWithSource("")
	if err != nil {
		return rulesChoice{}, err
	}
	store, err := e.openRulesStore()
	if err != nil {
		return rulesChoice{}, err
	}
	if err := store.Keep(inForce.Version(), src); err != nil {
		return rulesChoice{}, err
	}
	c := rulesChoice{rules: inForce, inForce: inForce, store: store}
	applied, ok, err := store.Applied()
	if err != nil || !ok || useInForce || applied.RulesVersion == inForce.Version() {
		return c, err
	}
	old, err := e.keptRules(store, applied.RulesVersion)
	if err != nil {
		return rulesChoice{}, fmt.Errorf("the index was last classified with rules %s, which are not kept: apply the rules in force with --rules-in-force or 'atalaya reclassify' (%w)", applied.RulesVersion, err)
	}
	c.rules, c.kept = old, true
	return c, nil
}

// keptRules compiles rules version from the store.
func (e *env) keptRules(store *rulestore.Store, version string) (*classify.Rules, error) {
	src, err := store.Source(version)
	if err != nil {
		return nil, err
	}
	return classify.Parse(bytes.NewReader(src), store.Path(version))
}

// describe says which rules a command applies, for its output.
func (c rulesChoice) describe(w io.Writer, command string) {
	if c.kept {
		fmt.Fprintf(w, "%s: applying rules %s, the rules last applied to the index (kept in %s); the rules in force (%s) differ: 'atalaya rules diff %s %s' shows what they would change, 'atalaya reclassify' or '%s --rules-in-force' applies them\n",
			command, c.rules.Version(), c.store.Path(c.rules.Version()), c.inForce.Version(), c.store.Path(c.rules.Version()), c.store.Path(c.inForce.Version()), command)
		return
	}
	fmt.Fprintf(w, "%s: applying the rules in force, %s (%s, kept in %s)\n", command, c.rules.Version(), orEmbedded(c.rules.Name()), c.store.Path(c.rules.Version()))
}

func orEmbedded(name string) string {
	if name == "default.yaml" {
		return "the embedded default rules"
	}
	return name
}

// warnIfReclassifying writes a warning to w when a reclassification was
// interrupted, so that output built on the index says its labels are a
// mix of two rules versions. It never fails the command.
func (e *env) warnIfReclassifying(w io.Writer) {
	store, err := e.openRulesStore()
	if err != nil {
		return
	}
	r, ok, err := store.Reclassifying()
	if err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
		return
	}
	if ok {
		fmt.Fprintf(w, "warning: %s\n", reclassifyWarning(r))
	}
}

func reclassifyWarning(r rulestore.Reclassification) string {
	from := r.From
	if from == "" {
		from = "earlier rules"
	}
	return fmt.Sprintf("a reclassification to rules %s started %s did not finish: labels are a mix of rules %s and %s until 'atalaya reclassify' (or 'atalaya serve' starting) completes it",
		r.To, r.Started.Format(time.RFC3339), from, r.To)
}

// rulesForIngest returns the rules new releases are classified with: the
// rules last applied to the index, so that it keeps one rules version
// (the rules in force when none was applied yet, which are then recorded
// as applied). It logs which, and warns when the rules in force differ.
func (e *env) rulesForIngest() (*classify.Rules, error) {
	c, err := e.chooseRules(false)
	if err != nil {
		return nil, err
	}
	if c.kept {
		e.logger.Warn("classifying with the rules last applied to the index; the rules in force differ: run 'atalaya reclassify' to apply them",
			"rules_version", c.rules.Version(), "rules_in_force", c.inForce.Version())
		return c.rules, nil
	}
	if _, ok, err := c.store.Applied(); err != nil {
		return nil, err
	} else if !ok {
		if err := c.store.SetApplied(c.rules.Version(), time.Now()); err != nil {
			return nil, err
		}
	}
	e.logger.Info("classifying with the rules in force", "rules_version", c.rules.Version(), "rules", orEmbedded(c.rules.Name()))
	return c.rules, nil
}

// provenance is which rules set an archived release's indexed verdict,
// compared with the rules in force.
type provenance struct {
	SetBy        string `json:"set_by_rules_version,omitempty"` // empty: not indexed
	KeptIn       string `json:"kept_in,omitempty"`
	InForce      string `json:"rules_in_force_version"`
	InForceLabel string `json:"rules_in_force_label,omitempty"` // when the rules in force would decide differently
	Note         string `json:"note"`
}

// rulesThatSet returns the rules that set the indexed verdict of release
// id (kept in the rules store), or the rules in force when the release is
// not indexed or its rules were not kept, with a note that says which.
func (e *env) rulesThatSet(ctx context.Context, id atalaya.ID) (*classify.Rules, *classify.Rules, provenance, error) {
	inForce, err := e.rulesFor("")
	if err != nil {
		return nil, nil, provenance{}, err
	}
	p := provenance{InForce: inForce.Version()}
	version, err := e.indexedRulesVersion(ctx, id)
	switch {
	case err != nil:
		p.Note = fmt.Sprintf("the index could not be read (%v): explained with the rules in force", userMessage(err))
		return inForce, inForce, p, nil
	case version == "":
		p.Note = "not in the index: explained with the rules in force"
		return inForce, inForce, p, nil
	case version == inForce.Version():
		p.SetBy, p.Note = version, "verdict set by the rules in force"
		return inForce, inForce, p, nil
	}
	p.SetBy = version
	store, err := e.openRulesStore()
	if err != nil {
		return nil, nil, provenance{}, err
	}
	set, err := e.keptRules(store, version)
	if err != nil {
		p.Note = fmt.Sprintf("verdict set by rules %s, which are not kept (%v): explained with the rules in force", version, err)
		return inForce, inForce, p, nil
	}
	p.KeptIn, p.Note = store.Path(version), "verdict set by rules "+version+", not the rules in force"
	return set, inForce, p, nil
}

// indexedRulesVersion returns the rules version of the verdict indexed for
// id, "" when there is no index or the release is not in it, and an error
// when the index could not be read. Beside a running service it asks the
// service, which holds the index.
func (e *env) indexedRulesVersion(ctx context.Context, id atalaya.ID) (string, error) {
	if c := e.runningService(ctx); c != nil {
		return c.rulesVersion(ctx, id)
	}
	if _, err := os.Stat(e.indexDir()); err != nil {
		return "", nil
	}
	idx, err := e.openIndex()
	if err != nil {
		return "", err
	}
	defer idx.Close()
	doc, err := idx.Get(ctx, id)
	if errors.Is(err, index.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return doc.Verdict.RulesVersion, nil
}

// compare notes in p how the rules in force would decide rel when they
// are not the rules that set its verdict v.
func (p *provenance) compare(inForce *classify.Rules, rel atalaya.Release, v classify.Verdict) {
	if v.RulesVersion == inForce.Version() {
		return
	}
	now := inForce.Classify(rel)
	if now.Label == v.Label {
		p.Note += fmt.Sprintf("; the rules in force (%s) decide the same label", inForce.Version())
		return
	}
	p.InForceLabel = string(now.Label)
	p.Note += fmt.Sprintf("; the rules in force (%s) would now decide %s, not %s: 'atalaya reclassify' applies them", inForce.Version(), now.Label, v.Label)
}

// explanation is "rules explain --json": a verdict with snake_case keys.
type explanation struct {
	ID           string                     `json:"id,omitempty"`
	Title        string                     `json:"title"`
	Label        classify.Label             `json:"label"`
	Relevant     bool                       `json:"relevant"`
	Scores       map[classify.Label]float64 `json:"scores"`
	Themes       []string                   `json:"themes"`
	Topics       []string                   `json:"topics"`
	RulesVersion string                     `json:"rules_version"`
	Evidence     []evidenceJSON             `json:"evidence"`
	NearMisses   []nearMissJSON             `json:"near_misses"`
	Provenance   *provenance                `json:"provenance,omitempty"`
}

type evidenceJSON struct {
	Rule     string         `json:"rule"`
	Label    classify.Label `json:"label,omitempty"`
	Topic    string         `json:"topic,omitempty"`
	Theme    string         `json:"theme,omitempty"`
	Field    string         `json:"field"`
	Start    int            `json:"start"`
	End      int            `json:"end"`
	Match    string         `json:"match"`
	Sentence string         `json:"sentence"`
	Weight   float64        `json:"weight"`
}

type nearMissJSON struct {
	Rule   string         `json:"rule,omitempty"`
	Label  classify.Label `json:"label,omitempty"`
	Reason string         `json:"reason"`
	Score  float64        `json:"score"`
}

func explanationJSON(rel atalaya.Release, v classify.Verdict, prov *provenance) explanation {
	x := explanation{ID: string(rel.ID), Title: rel.Title, Label: v.Label, Relevant: v.Relevant, Scores: v.Scores,
		Themes: v.Themes, Topics: v.Topics, RulesVersion: v.RulesVersion, Provenance: prov,
		Evidence: []evidenceJSON{}, NearMisses: []nearMissJSON{}}
	for _, ev := range v.Evidence {
		x.Evidence = append(x.Evidence, evidenceJSON(ev))
	}
	for _, nm := range v.NearMisses {
		x.NearMisses = append(x.NearMisses, nearMissJSON(nm))
	}
	return x
}
