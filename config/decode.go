package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxAliases bounds a chain of aliases and tags the decoder follows to reach
// a value. (Decoding itself cannot loop: each level descends into a field.)
const maxAliases = 16

var (
	durationType        = reflect.TypeFor[time.Duration]()
	fieldType           = reflect.TypeFor[Field]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// pos is where a value is: its path relative to the source or profile being
// decoded ("listing.item") and its path in the file ("sources[3].listing.item").
type pos struct {
	rel, abs string
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func (p pos) key(k string) pos {
	return pos{rel: joinPath(p.rel, k), abs: joinPath(p.abs, k)}
}

func (p pos) index(i int) pos {
	return pos{rel: fmt.Sprintf("%s[%d]", p.rel, i), abs: fmt.Sprintf("%s[%d]", p.abs, i)}
}

// location is where in the file a value was set.
type location struct {
	path string
	line int
}

// origins maps the relative path of every value set while resolving one
// source (or profile) to where in the file it was set. A source's own keys
// overwrite its profile's.
type origins map[string]location

// clearUnder forgets the elements of the list at rel, which is being replaced.
func (o origins) clearUnder(rel string) {
	for k := range o {
		if strings.HasPrefix(k, rel+"[") {
			delete(o, k)
		}
	}
}

// entry is one decoded source or profile, with where its values came from.
type entry struct {
	at      pos // rel is empty; abs is "sources[3]" or "profiles.gobmx"
	line    int
	origins origins
}

// decoder turns a YAML syntax tree into a Config, collecting problems.
type decoder struct {
	file     string
	anchors  map[string]ast.Node
	problems Problems
	profiles map[string]*ast.MappingValueNode // profile nodes by name
	// entries are parallel to Config.Sources; profileEntries are keyed by name.
	entries        []entry
	profileEntries map[string]entry
	top            origins // where the top-level keys are
	defaults       *ast.MappingValueNode
	defaultsEntry  entry
	shortSchedules bool // Options.ShortSchedules
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:           file,
		anchors:        map[string]ast.Node{},
		profiles:       map[string]*ast.MappingValueNode{},
		profileEntries: map[string]entry{},
		top:            origins{},
	}
}

func (d *decoder) addf(line int, path, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// addYAML records an error of the YAML library, at the position it carries.
func (d *decoder) addYAML(err error, line int, path string) {
	msg := err.Error()
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		msg = yerr.GetMessage()
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
	}
	d.addf(line, path, "%s", msg)
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	return d.problems.sorted()
}

// decodeFile parses data and decodes it. It returns nil when the file is
// not valid YAML.
func (d *decoder) decodeFile(data []byte) *Config {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.addYAML(err, 1, "")
		return nil
	}
	cfg := &Config{Profiles: map[string]Source{}}
	var body ast.Node
	for i, doc := range f.Docs {
		if i == 0 {
			body = doc.Body
			continue
		}
		line := lineOf(doc)
		if doc.Start != nil && doc.Start.Position != nil {
			line = doc.Start.Position.Line
		}
		d.addf(line, "", "the file holds more than one YAML document; put everything in one")
		break
	}
	if body == nil {
		return cfg
	}
	ast.Walk(anchorCollector(d.anchors), body)
	d.decodeTop(cfg, body)
	return cfg
}

// anchorCollector records every anchor of a tree by name.
type anchorCollector map[string]ast.Node

// Visit implements ast.Visitor.
func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil && an.Name.GetToken() != nil {
		a[an.Name.GetToken().Value] = an.Value
	}
	return a
}

// decodeTop decodes the top-level mapping. Defaults and profiles are
// decoded before sources wherever they appear in the file.
func (d *decoder) decodeTop(cfg *Config, body ast.Node) {
	pairs := d.pairs(body, pos{}, lineOf(body))
	var sources *ast.MappingValueNode
	for _, pair := range pairs {
		name, line := keyName(pair.Key), lineOf(pair.Key)
		switch name {
		case "profiles":
			d.decodeProfiles(cfg, pair.Value, line)
		case "defaults":
			d.defaults = pair
			cfg.Defaults, d.defaultsEntry = d.decodePartial(pair, "defaults")
		case "sources":
			sources = pair
		default:
			d.decodeKey(reflect.ValueOf(cfg).Elem(), name, pair.Value, pos{}, line, d.top)
		}
	}
	if sources != nil {
		d.decodeSources(cfg, sources.Value, lineOf(sources.Key))
	}
}

func (d *decoder) decodeProfiles(cfg *Config, n ast.Node, line int) {
	for _, pair := range d.pairs(n, pos{abs: "profiles"}, line) {
		name := keyName(pair.Key)
		p, e := d.decodePartial(pair, "profiles."+name)
		if !validName(name) {
			d.addf(e.line, e.at.abs, "profile name %q must be lower-case letters, digits and dashes", name)
		}
		d.profiles[name] = pair
		d.profileEntries[name] = e
		cfg.Profiles[name] = p
	}
}

// decodePartial decodes the defaults or a profile on its own, so that its
// problems are reported even when no source uses it.
func (d *decoder) decodePartial(pair *ast.MappingValueNode, abs string) (Source, entry) {
	e := entry{at: pos{abs: abs}, line: lineOf(pair.Key), origins: origins{}}
	var p Source
	d.decodeValue(pair.Value, reflect.ValueOf(&p).Elem(), e.at, e.line, e.origins)
	for _, key := range []string{"name", "profile"} {
		if loc, ok := e.origins[key]; ok {
			d.addf(loc.line, loc.path, "only a source can set %s", key)
		}
	}
	return p, e
}

func (d *decoder) decodeSources(cfg *Config, n ast.Node, line int) {
	d.top["sources"] = location{path: "sources", line: line}
	n = d.resolve(n, line, "sources")
	if n == nil || n.Type() == ast.NullType {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.addf(line, "sources", "want a list of sources, got %s", describe(n))
		return
	}
	for i, item := range seq.Values {
		e := entry{at: pos{abs: fmt.Sprintf("sources[%d]", i)}, line: lineOf(item), origins: origins{}}
		src := defaultSource()
		v := reflect.ValueOf(&src).Elem()
		if d.defaults != nil {
			d.decodeValue(d.defaults.Value, v, pos{abs: "defaults"}, lineOf(d.defaults.Key), e.origins)
		}
		if name, line := d.profileName(item); name != "" {
			if p, ok := d.profiles[name]; ok {
				d.decodeValue(p.Value, v, pos{abs: "profiles." + name}, lineOf(p.Key), e.origins)
			} else {
				d.addf(line, e.at.abs+".profile", "unknown profile %q; profiles: %s", name, strings.Join(sortedKeys(d.profiles), ", "))
			}
		}
		d.decodeValue(item, v, e.at, e.line, e.origins)
		if len(src.AllowedDomains) == 0 {
			src.AllowedDomains = hosts(src.StartURLs)
		}
		cfg.Sources = append(cfg.Sources, src)
		d.entries = append(d.entries, e)
	}
}

// profileName returns the profile a source item names, if any, and the line.
func (d *decoder) profileName(item ast.Node) (string, int) {
	var pairs []*ast.MappingValueNode
	switch n := d.unwrap(item).(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	}
	for _, pair := range pairs {
		if keyName(pair.Key) != "profile" {
			continue
		}
		if s, ok := d.unwrap(pair.Value).(*ast.StringNode); ok {
			return s.Value, lineOf(pair.Key)
		}
	}
	return "", 0
}

// decodeValue decodes n into v, which is at position at; line is the line
// of the key (or list item) n belongs to. A null value leaves v unchanged.
func (d *decoder) decodeValue(n ast.Node, v reflect.Value, at pos, line int, o origins) {
	n = d.resolve(n, line, at.abs)
	if n == nil || n.Type() == ast.NullType {
		return
	}
	o[at.rel] = location{path: at.abs, line: line}
	t := v.Type()
	switch {
	case t == durationType:
		d.decodeDuration(n, v, at, line)
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		d.decodeText(n, v, at, line)
	case t == fieldType && isScalar(n):
		d.decodeLeaf(n, v.FieldByName("Selector"), at, line)
	case t.Kind() == reflect.Struct:
		d.decodeStruct(n, v, at, line, o)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.decodeStructs(n, v, at, line, o)
	case t.Kind() == reflect.Map:
		d.decodeMap(n, v, at, line)
	default:
		d.decodeLeaf(n, v, at, line)
		d.recordItems(n, at, o)
	}
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, at pos, line int, o origins) {
	for _, pair := range d.pairs(n, at, line) {
		d.decodeKey(v, keyName(pair.Key), pair.Value, at, lineOf(pair.Key), o)
	}
}

// decodeKey decodes the value of key name into the matching field of the
// struct v, or reports the key as unknown.
func (d *decoder) decodeKey(v reflect.Value, name string, n ast.Node, at pos, line int, o origins) {
	t := v.Type()
	for i := range t.NumField() {
		if tagName(t.Field(i)) == name && name != "-" {
			d.decodeValue(n, v.Field(i), at.key(name), line, o)
			return
		}
	}
	d.addf(line, at.key(name).abs, "unknown key %q; known keys here: %s", name, strings.Join(tagNames(t), ", "))
}

func (d *decoder) decodeStructs(n ast.Node, v reflect.Value, at pos, line int, o origins) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.addf(line, at.abs, "want a list, got %s", describe(n))
		return
	}
	o.clearUnder(at.rel)
	list := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		d.decodeValue(item, list.Index(i), at.index(i), lineOf(item), o)
	}
	v.Set(list)
}

// decodeMap merges the keys of n into the map v.
func (d *decoder) decodeMap(n ast.Node, v reflect.Value, at pos, line int) {
	m := reflect.New(v.Type())
	if err := yaml.NodeToValue(n, m.Interface(), yaml.Strict()); err != nil {
		d.addYAML(err, line, at.abs)
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	iter := m.Elem().MapRange()
	for iter.Next() {
		v.SetMapIndex(iter.Key(), iter.Value())
	}
}

// decodeLeaf decodes a scalar or a list of scalars, replacing v.
func (d *decoder) decodeLeaf(n ast.Node, v reflect.Value, at pos, line int) {
	p := reflect.New(v.Type())
	if err := yaml.NodeToValue(n, p.Interface(), yaml.Strict()); err != nil {
		d.addYAML(err, line, at.abs)
		return
	}
	v.Set(p.Elem())
}

// recordItems records the lines of the items of a list of scalars.
func (d *decoder) recordItems(n ast.Node, at pos, o origins) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return
	}
	o.clearUnder(at.rel)
	for i, item := range seq.Values {
		p := at.index(i)
		o[p.rel] = location{path: p.abs, line: lineOf(item)}
	}
}

func (d *decoder) scalarText(n ast.Node, at pos, line int) (string, bool) {
	if !isScalar(n) {
		d.addf(line, at.abs, "want a single value, got %s", describe(n))
		return "", false
	}
	var s string
	if err := yaml.NodeToValue(n, &s, yaml.Strict()); err != nil {
		d.addYAML(err, line, at.abs)
		return "", false
	}
	return s, true
}

func (d *decoder) decodeDuration(n ast.Node, v reflect.Value, at pos, line int) {
	s, ok := d.scalarText(n, at, line)
	if !ok {
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.addf(line, at.abs, "duration %q does not parse; write a number with a unit, as in \"5s\", \"1m30s\" or \"72h\"", s)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeText(n ast.Node, v reflect.Value, at pos, line int) {
	s, ok := d.scalarText(n, at, line)
	if !ok {
		return
	}
	if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
		d.addf(line, at.abs, "%v", err)
	}
}

// pairs returns the key-value pairs of a mapping node, or reports that n is
// not a mapping.
func (d *decoder) pairs(n ast.Node, at pos, line int) []*ast.MappingValueNode {
	n = d.resolve(n, line, at.abs)
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.MappingNode:
		return n.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}
	case *ast.NullNode:
		return nil
	}
	what := "the file"
	if at.abs != "" {
		what = at.abs
	}
	d.addf(line, at.abs, "want a mapping of keys to values for %s, got %s", what, describe(n))
	return nil
}

// unwrap strips anchors and tags and follows aliases, without reporting.
func (d *decoder) unwrap(n ast.Node) ast.Node {
	for range maxAliases {
		switch t := n.(type) {
		case *ast.AnchorNode:
			n = t.Value
		case *ast.TagNode:
			n = t.Value
		case *ast.AliasNode:
			if t.Value == nil || t.Value.GetToken() == nil {
				return nil
			}
			n = d.anchors[t.Value.GetToken().Value]
		default:
			return n
		}
	}
	return nil
}

// resolve is unwrap that reports an alias to an unknown anchor.
func (d *decoder) resolve(n ast.Node, line int, path string) ast.Node {
	u := d.unwrap(n)
	if u == nil && n != nil {
		d.addf(line, path, "alias does not refer to a known anchor")
	}
	return u
}

func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		return false
	}
	return true
}

func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("the value %s", n.String())
}

func keyName(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

func lineOf(n ast.Node) int {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return 1
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 1
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func tagNames(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
