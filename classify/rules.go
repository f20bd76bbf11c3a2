package classify

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"atalaya"
	"atalaya/internal/yamlguard"
)

//go:embed rules/default.yaml
var defaultRules []byte

// Fields a rule can look at.
const (
	FieldTitle = "title"
	FieldBody  = "body"
)

// LabelDef is a label declared in a rules file.
type LabelDef struct {
	Name        Label
	Description string
	Threshold   float64 // the score at which the label can win
}

// Scoring holds the rules file's scoring parameters.
type Scoring struct {
	TitleFactor float64 // a rule that fires in the title counts weight × TitleFactor
	// Ratio is how many times the best label's score must exceed every
	// other label over its threshold for the best label to win alone;
	// otherwise the verdict is Mixed.
	Ratio float64
	// Relevance is the topic score at which a release is relevant; a
	// release with a label other than Neither is always relevant.
	Relevance float64
}

// Near is a proximity clause: two terms at most Within words apart.
type Near struct {
	Terms  [2]string
	Within int
}

// Examples are sentences a rule must fire on (Fire) and must not (Not).
type Examples struct {
	Fire []string
	Not  []string
}

// Rule is one compiled rule. Exactly one of Label and Topic is set.
type Rule struct {
	ID          string
	Label       Label
	Topic       string
	Theme       string
	Description string
	Weight      float64
	Languages   []atalaya.Language // empty: every language
	Fields      []string           // FieldTitle, FieldBody
	Patterns    []string
	Regex       []string
	Unless      []string
	Near        []Near
	Named       []string // phrases that count when a person's name follows
	Examples    Examples
	Line        int // line of the rule in its file

	regex []*regexp.Regexp
}

// Rules is a compiled rules file. It is immutable and safe for concurrent
// use by multiple goroutines.
type Rules struct {
	name    string
	version string
	labels  []LabelDef
	themes  []string
	topics  []string
	scoring Scoring
	rules   []Rule
	matcher *matcher
	regexes []int // indexes of rules with regular expressions
	pool    sync.Pool
}

// Problem is one thing wrong in a rules file, or one failing rule example.
type Problem struct {
	File string
	Line int
	Rule string // empty for problems outside a rule
	Msg  string
}

// Error formats the problem as "file:line: rule "id": message".
func (p Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", p.Rule)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a rules file. Parse returns it as
// its error.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return "classify: " + strings.Join(msgs, "\n")
}

// Default returns the embedded default rules (rules/default.yaml).
// It panics if they do not compile, which the package tests rule out.
func Default() *Rules {
	rs, err := Parse(bytes.NewReader(defaultRules), "default.yaml")
	if err != nil {
		panic(err)
	}
	return rs
}

// DefaultSource returns the text of the embedded default rules file.
func DefaultSource() []byte {
	return bytes.Clone(defaultRules)
}

// Version returns the rules version: a hash of the rules file's bytes.
func (rs *Rules) Version() string { return rs.version }

// Name returns the file name the rules were parsed from.
func (rs *Rules) Name() string { return rs.name }

// Labels returns the declared labels, in file order.
func (rs *Rules) Labels() []LabelDef { return slices.Clone(rs.labels) }

// Themes returns the declared themes.
func (rs *Rules) Themes() []string { return slices.Clone(rs.themes) }

// Topics returns the declared topics.
func (rs *Rules) Topics() []string { return slices.Clone(rs.topics) }

// Scoring returns the scoring parameters.
func (rs *Rules) Scoring() Scoring { return rs.scoring }

// Rules returns a copy of the compiled rules, in file order.
func (rs *Rules) Rules() []Rule {
	out := make([]Rule, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r
		out[i].regex = nil
	}
	return out
}

// The YAML shape of a rules file.
type fileSpec struct {
	Labels  []labelSpec `yaml:"labels"`
	Themes  []string    `yaml:"themes"`
	Topics  []string    `yaml:"topics"`
	Scoring scoringSpec `yaml:"scoring"`
	Rules   []ast.Node  `yaml:"rules"`
}

type labelSpec struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Threshold   float64 `yaml:"threshold"`
}

type scoringSpec struct {
	TitleFactor float64 `yaml:"title_factor"`
	Ratio       float64 `yaml:"ratio"`
	Relevance   float64 `yaml:"relevance"`
}

type ruleSpec struct {
	ID          string      `yaml:"id"`
	Label       string      `yaml:"label"`
	Topic       string      `yaml:"topic"`
	Theme       string      `yaml:"theme"`
	Description string      `yaml:"description"`
	Weight      *float64    `yaml:"weight"` // nil: 1
	Languages   []string    `yaml:"languages"`
	Fields      []string    `yaml:"fields"`
	Patterns    []string    `yaml:"patterns"`
	Regex       []string    `yaml:"regex"`
	Unless      []string    `yaml:"unless"`
	Near        []nearSpec  `yaml:"near"`
	Named       []string    `yaml:"named"`
	Examples    exampleSpec `yaml:"examples"`
}

type nearSpec struct {
	Terms  []string `yaml:"terms"`
	Within int      `yaml:"within"`
}

type exampleSpec struct {
	Fire []string `yaml:"fire"`
	Not  []string `yaml:"not"`
}

// parser collects the problems of one rules file.
type parser struct {
	name     string
	problems Problems
	phrases  *matcherBuilder
}

func (p *parser) add(line int, rule, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.name, Line: line, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

// addYAML records a YAML decoding error at its position.
func (p *parser) addYAML(err error, rule string, fallback int) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := fallback
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		p.add(line, rule, "%s", ye.GetMessage())
		return
	}
	p.add(fallback, rule, "%v", err)
}

// maxRulesSize bounds a rules file: the default rules are about 60 KB.
const maxRulesSize = 4 << 20

// Parse reads and compiles a rules file; name is used in problem
// positions. On any problem it returns nil and a [Problems] error listing
// every one, each with its file:line and rule id.
func Parse(r io.Reader, name string) (*Rules, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRulesSize+1))
	if err != nil {
		return nil, fmt.Errorf("classify: reading rules %s: %w", name, err)
	}
	p := &parser{name: name, phrases: newMatcherBuilder()}
	if err := yamlguard.Check(data, yamlguard.Limits{MaxSize: maxRulesSize}); err != nil {
		line := 1
		var ge *yamlguard.Error
		if errors.As(err, &ge) && ge.Line > 0 {
			line = ge.Line
		}
		p.add(line, "", "%v; the file was not decoded", err)
		return nil, p.problems
	}
	var spec fileSpec
	if err := safeDecode(func() error { return yaml.UnmarshalWithOptions(data, &spec, yaml.DisallowUnknownField()) }); err != nil {
		p.addYAML(err, "", 1)
		return nil, p.problems
	}
	sum := sha256.Sum256(data)
	rs := &Rules{name: name, version: hex.EncodeToString(sum[:6])}
	p.header(rs, &spec)
	seen := make(map[string]int)
	for _, node := range spec.Rules {
		p.rule(rs, node, seen)
	}
	if len(p.problems) > 0 {
		return nil, p.problems
	}
	rs.matcher = p.phrases.build()
	rs.pool.New = func() any { return new(scratch) }
	return rs, nil
}

// header checks and copies the labels, themes, topics and scoring.
func (p *parser) header(rs *Rules, spec *fileSpec) {
	if len(spec.Labels) == 0 {
		p.add(1, "", "no labels declared")
	}
	for _, l := range spec.Labels {
		name := Label(l.Name)
		switch {
		case l.Name == "":
			p.add(1, "", "a label has no name")
		case name == Mixed || name == Neither:
			p.add(1, "", "label %q is reserved", l.Name)
		case slices.ContainsFunc(rs.labels, func(d LabelDef) bool { return d.Name == name }):
			p.add(1, "", "label %q declared twice", l.Name)
		case l.Threshold <= 0:
			p.add(1, "", "label %q needs a threshold above 0", l.Name)
		}
		rs.labels = append(rs.labels, LabelDef{Name: name, Description: strings.TrimSpace(l.Description), Threshold: l.Threshold})
	}
	rs.themes = spec.Themes
	rs.topics = spec.Topics
	rs.scoring = Scoring{TitleFactor: spec.Scoring.TitleFactor, Ratio: spec.Scoring.Ratio, Relevance: spec.Scoring.Relevance}
	if rs.scoring.TitleFactor == 0 {
		rs.scoring.TitleFactor = 1
	}
	if rs.scoring.Ratio == 0 {
		rs.scoring.Ratio = 1
	}
	if rs.scoring.Relevance == 0 {
		rs.scoring.Relevance = 1
	}
	if rs.scoring.TitleFactor < 0 || rs.scoring.Ratio < 1 || rs.scoring.Relevance < 0 {
		p.add(1, "", "scoring: title_factor must be ≥ 0, ratio ≥ 1 and relevance ≥ 0")
	}
}

// rule decodes, checks and compiles one rule.
func (p *parser) rule(rs *Rules, node ast.Node, seen map[string]int) {
	line := nodeLine(node)
	var spec ruleSpec
	if err := safeDecode(func() error { return yaml.NodeToValue(node, &spec, yaml.DisallowUnknownField()) }); err != nil {
		p.addYAML(err, ruleIDOf(node), line)
		return
	}
	id := spec.ID
	at := func(key string, i int) int { return keyLine(node, key, i, line) }
	before := len(p.problems)
	switch prev, dup := seen[id]; {
	case id == "":
		p.add(line, "", "rule has no id")
	case dup:
		p.add(at("id", -1), id, "duplicate id (first defined on line %d)", prev)
	default:
		seen[id] = line
	}
	r := Rule{ID: id, Label: Label(spec.Label), Topic: spec.Topic, Theme: spec.Theme, Description: strings.TrimSpace(spec.Description),
		Weight: 1, Patterns: spec.Patterns, Regex: spec.Regex, Unless: spec.Unless, Named: spec.Named,
		Examples: Examples{Fire: spec.Examples.Fire, Not: spec.Examples.Not}, Line: line}
	p.ruleTarget(rs, &r, &spec, at)
	p.ruleScope(&r, &spec, at)
	for i, n := range spec.Near {
		if len(n.Terms) != 2 || n.Within < 1 {
			p.add(at("near", i), id, "near needs two terms and within ≥ 1")
			continue
		}
		r.Near = append(r.Near, Near{Terms: [2]string{n.Terms[0], n.Terms[1]}, Within: n.Within})
	}
	if len(r.Patterns)+len(r.Regex)+len(r.Near)+len(r.Named) == 0 {
		p.add(line, id, "rule has no patterns, regex, near or named clauses")
	}
	for i, expr := range r.Regex {
		re, err := regexp.Compile("(?i)" + expr)
		if err != nil {
			p.add(at("regex", i), id, "bad regex %s: %v", quote(expr), err)
			continue
		}
		if re.MatchString("") {
			p.add(at("regex", i), id, "regex %s matches the empty string, so it would fire on every text; make it require at least one character", quote(expr))
			continue
		}
		r.regex = append(r.regex, re)
	}
	ruleIdx := len(rs.rules)
	p.compilePhrases(rs, ruleIdx, &r, at)
	if len(p.problems) > before {
		return
	}
	if len(r.regex) > 0 {
		rs.regexes = append(rs.regexes, ruleIdx)
	}
	rs.rules = append(rs.rules, r)
}

// ruleTarget checks the rule's label or topic, theme and weight; at gives
// the line of a key of the rule, or of an element of its value.
func (p *parser) ruleTarget(rs *Rules, r *Rule, spec *ruleSpec, at func(key string, i int) int) {
	line, id := r.Line, r.ID
	switch {
	case spec.Label == "" && spec.Topic == "":
		p.add(line, id, "rule needs a label or a topic")
	case spec.Label != "" && spec.Topic != "":
		p.add(at("topic", -1), id, "rule has both a label and a topic")
	case spec.Label != "" && !slices.ContainsFunc(rs.labels, func(d LabelDef) bool { return d.Name == r.Label }):
		p.add(at("label", -1), id, "unknown label %q (declared: %s)", spec.Label, labelNames(rs.labels))
	case spec.Topic != "" && !slices.Contains(rs.topics, spec.Topic):
		p.add(at("topic", -1), id, "unknown topic %q (declared: %s)", spec.Topic, strings.Join(rs.topics, ", "))
	}
	if spec.Theme != "" && !slices.Contains(rs.themes, spec.Theme) {
		p.add(at("theme", -1), id, "unknown theme %q (declared: %s)", spec.Theme, strings.Join(rs.themes, ", "))
	}
	switch {
	case spec.Weight == nil:
	case *spec.Weight < 0:
		p.add(at("weight", -1), id, "weight must not be negative")
	default:
		r.Weight = *spec.Weight
	}
}

// ruleScope checks the rule's languages and fields; at is ruleTarget's.
func (p *parser) ruleScope(r *Rule, spec *ruleSpec, at func(key string, i int) int) {
	for i, l := range spec.Languages {
		switch lang := atalaya.Language(l); lang {
		case atalaya.English, atalaya.Spanish:
			r.Languages = append(r.Languages, lang)
		default:
			p.add(at("languages", i), r.ID, "unknown language %q (known: en, es)", l)
		}
	}
	for i, f := range spec.Fields {
		if f != FieldTitle && f != FieldBody {
			p.add(at("fields", i), r.ID, "unknown field %q (known: title, body)", f)
			continue
		}
		r.Fields = append(r.Fields, f)
	}
	if len(r.Fields) == 0 {
		r.Fields = []string{FieldTitle, FieldBody}
	}
}

// compilePhrases adds the rule's patterns, unless phrases and near terms to
// the matcher; at is ruleTarget's.
func (p *parser) compilePhrases(rs *Rules, ruleIdx int, r *Rule, at func(key string, i int) int) {
	add := func(pattern string, ph phrase, line int) {
		words, msg := compilePhrase(pattern)
		if msg != "" {
			p.add(line, r.ID, "%s", msg)
			return
		}
		ph.rule, ph.text = ruleIdx, pattern
		p.phrases.add(words, ph)
	}
	for i, s := range r.Patterns {
		add(s, phrase{kind: kindPattern}, at("patterns", i))
	}
	for i, s := range r.Unless {
		add(s, phrase{kind: kindUnless}, at("unless", i))
	}
	for i, s := range r.Named {
		add(s, phrase{kind: kindNamed}, at("named", i))
	}
	for i, n := range r.Near {
		add(n.Terms[0], phrase{kind: kindNearA, near: i}, at("near", -1))
		add(n.Terms[1], phrase{kind: kindNearB, near: i}, at("near", -1))
	}
}

func labelNames(defs []LabelDef) string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = string(d.Name)
	}
	return strings.Join(names, ", ")
}

// nodeLine is the line a YAML node starts on.
func nodeLine(n ast.Node) int {
	if n == nil {
		return 1
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		n = m.Values[0]
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		n = mv.Key
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 1
}

// keyLine returns the line of key in the rule mapping n, or, when i ≥ 0
// and key's value is a sequence, the line of its element i; fallback when
// there is no such key or element.
func keyLine(n ast.Node, key string, i int, fallback int) int {
	for _, mv := range mappingEntries(n) {
		if mv.Key == nil || mv.Key.GetToken() == nil || mv.Key.GetToken().Value != key {
			continue
		}
		if seq, ok := mv.Value.(*ast.SequenceNode); ok && i >= 0 && i < len(seq.Values) {
			return lineOr(seq.Values[i], fallback)
		}
		return lineOr(mv.Key, fallback)
	}
	return fallback
}

// mappingEntries returns the key-value pairs of a mapping node.
func mappingEntries(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

// lineOr returns the line n starts on, or fallback.
func lineOr(n ast.Node, fallback int) int {
	if n == nil {
		return fallback
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return fallback
}

// ruleIDOf finds the id of a rule node that did not decode.
func ruleIDOf(n ast.Node) string {
	var id struct {
		ID string `yaml:"id"`
	}
	if err := safeDecode(func() error { return yaml.NodeToValue(n, &id) }); err != nil {
		return ""
	}
	return id.ID
}

// safeDecode runs a YAML decoding step, turning a panic inside the decoder
// (goccy/go-yaml panics on some malformed documents, found by FuzzParse)
// into an error, so that a bad rules file never takes a service down.
func safeDecode(decode func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML (decoder failed: %v)", r)
		}
	}()
	return decode()
}
