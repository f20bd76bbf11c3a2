package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// keyPattern is a documented JSON key: its path from the top, one segment
// per object level; "x[]" is an array of objects under key x and "*" a
// key that is data.
type keyPattern struct {
	segs     []string
	optional bool
}

func (p keyPattern) String() string { return strings.Join(p.segs, ".") }

// docRow is one row of a schema table: a key and its type.
type docRow struct{ key, typ string }

var (
	docRowLine = regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]*) \\|")
	docRef     = regexp.MustCompile(`\[(\w+)\]\(#\w+\)`)
	snakeCase  = regexp.MustCompile(`^([a-z][a-z0-9_]*|\*)$`)
	docCommand = regexp.MustCompile("^## `atalaya ([^`]+)`$")
)

// readJSONDoc reads docs/json.md: the documented keys of each command's
// output, under the command as its heading writes it, with the references
// to shared objects expanded.
func readJSONDoc(t *testing.T, path string) map[string][]keyPattern {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	commands := map[string][]docRow{}
	objects := map[string][]docRow{}
	var section map[string][]docRow // commands or objects; nil outside tables
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case docCommand.MatchString(line):
			section, name = commands, docCommand.FindStringSubmatch(line)[1]
			commands[name] = []docRow{}
		case strings.HasPrefix(line, "### "):
			section, name = objects, strings.TrimPrefix(line, "### ")
			objects[name] = []docRow{}
		case strings.HasPrefix(line, "## "):
			section = nil
		case section != nil && docRowLine.MatchString(line):
			m := docRowLine.FindStringSubmatch(line)
			section[name] = append(section[name], docRow{m[1], m[2]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var expand func(rows []docRow, prefix []string, optional bool, depth int) []keyPattern
	expand = func(rows []docRow, prefix []string, optional bool, depth int) []keyPattern {
		if depth > 10 {
			t.Fatal("docs/json.md: objects refer to each other in a loop")
		}
		var out []keyPattern
		for _, r := range rows {
			opt := optional || strings.Contains(r.typ, "optional")
			segs := prefix
			if r.key != "*" || !docRef.MatchString(r.typ) { // "*" → object: the object's keys at this level
				segs = slices.Concat(prefix, strings.Split(r.key, "."))
				for _, s := range strings.Split(r.key, ".") {
					if !snakeCase.MatchString(strings.TrimSuffix(s, "[]")) {
						t.Errorf("docs/json.md: key %q is not snake_case", r.key)
					}
				}
				out = append(out, keyPattern{segs: segs, optional: opt})
			}
			if m := docRef.FindStringSubmatch(r.typ); m != nil {
				obj, ok := objects[m[1]]
				if !ok {
					t.Fatalf("docs/json.md: key %q refers to object %q, which Shared objects does not define", r.key, m[1])
				}
				out = append(out, expand(obj, segs, opt, depth+1)...)
			}
		}
		return out
	}
	doc := map[string][]keyPattern{}
	for cmd, rows := range commands {
		doc[cmd] = expand(rows, nil, false, 0)
	}
	return doc
}

// jsonPaths returns the key paths of every JSON value in out (one value,
// or JSON Lines). An array of objects is the segment "k[]", an empty array
// "k[?]" (either kind), an array of scalars "k".
func jsonPaths(t *testing.T, out string) [][]string {
	t.Helper()
	var paths [][]string
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		if arr, ok := v.([]any); ok && path == nil { // a top-level array of objects
			for _, e := range arr {
				walk(e, nil)
			}
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range obj {
			seg := k
			if arr, ok := x.([]any); ok {
				switch {
				case len(arr) == 0:
					seg = k + "[?]"
				case slices.ContainsFunc(arr, func(e any) bool { _, ok := e.(map[string]any); return ok }):
					seg = k + "[]"
				}
				p := slices.Concat(path, []string{seg})
				paths = append(paths, p)
				for _, e := range arr {
					walk(e, p)
				}
				continue
			}
			p := slices.Concat(path, []string{seg})
			paths = append(paths, p)
			walk(x, p)
		}
	}
	dec := json.NewDecoder(strings.NewReader(out))
	n := 0
	for {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("output is not JSON: %v\n%.2000s", err, out)
		}
		n++
		walk(v, nil)
	}
	if n == 0 {
		t.Fatal("no JSON on stdout")
	}
	return paths
}

// segMatches reports whether output segment s fits documented segment p.
func segMatches(p, s string) bool {
	if name, ok := strings.CutSuffix(s, "[?]"); ok { // empty array
		return p == name || p == name+"[]" || p == "*" || p == "*[]"
	}
	switch p {
	case "*":
		return !strings.HasSuffix(s, "[]")
	case "*[]":
		return strings.HasSuffix(s, "[]")
	}
	return p == s
}

func pathMatches(p keyPattern, path []string) bool {
	if len(p.segs) != len(path) {
		return false
	}
	for i := range path {
		if !segMatches(p.segs[i], path[i]) {
			return false
		}
	}
	return true
}

// checkKeys reports the keys of out that docs leave out, and the keys docs
// require (not optional, not inside an array or a map) that out lacks.
func checkKeys(t *testing.T, docs []keyPattern, out string) {
	t.Helper()
	paths := jsonPaths(t, out)
	seen := map[string]bool{}
	for _, path := range paths {
		documented := false
		for _, p := range docs {
			if pathMatches(p, path) {
				documented = true
			}
		}
		if !documented {
			t.Errorf("key %s is not in docs/json.md", strings.Join(path, "."))
		}
		seen[strings.ReplaceAll(strings.Join(path, "."), "[?]", "")] = true
	}
	for _, p := range docs {
		s := p.String()
		if p.optional || strings.Contains(s, "[]") || strings.Contains(s, "*") {
			continue
		}
		if !seen[s] {
			t.Errorf("key %s, documented without optional, is missing", s)
		}
	}
}

// TestJSONSchemas runs every command docs/json.md documents and checks
// that its JSON has exactly the documented keys.
func TestJSONSchemas(t *testing.T) {
	doc := readJSONDoc(t, "../../docs/json.md")
	data := t.TempDir()
	t.Setenv("ATALAYA_DATA", data)
	// The first crawl archives the mirror; the mirror holds links that fail
	// on purpose, so it may exit 1.
	code, crawlOut, errOut := runCmd(t, "--log-level", "error", "crawl", "--offline", "--json")
	if code > 1 {
		t.Fatalf("crawl: exit %d: %s", code, errOut)
	}
	rels := archivedReleases(t, data)
	if len(rels) == 0 {
		t.Fatal("crawl --offline archived nothing")
	}
	gold := "testdata/gold-small.jsonl"
	runs := map[string][][]string{
		"releases --json":                                 {{"releases", "--json"}},
		"sources --json":                                  {{"sources", "--json"}},
		"runs --json":                                     {{"runs", "--json"}},
		"search QUERY --json":                             {{"search", "--json", "cartel"}, {"search", "--json", "--sort", "date", "--size", "2", ""}},
		"rules explain ID --json":                         {{"rules", "explain", "--json", string(rels[0].ID)}, {"rules", "explain", "--json", "--file", "testdata/rules-ok/release.json"}},
		"rules eval --gold FILE --json":                   {{"rules", "eval", "--json", "--gold", gold}, {"rules", "eval", "--json", "--gold", gold, "--rules", "testdata/rules-ok/old.yaml"}},
		"rules eval --gold FILE --cv K --json":            {{"rules", "eval", "--json", "--gold", gold, "--cv", "2"}},
		"rules report --json":                             {{"rules", "report", "--json"}, {"rules", "report", "--json", "--gold", gold}},
		"rules diff OLD.yaml NEW.yaml --gold FILE --json": {{"rules", "diff", "--json", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml", "--gold", gold}},
		"archive verify --json":                           {{"archive", "verify", "--json"}},
		"digest list --json":                              {{"digest", "list", "--json"}},
		"reclassify --json":                               {{"reclassify", "--json"}},
		"reindex --json":                                  {{"reindex", "--json"}},
		"bench --json":                                    {{"bench", "--json", "--n", "60", "--runs", "2"}},
		"rules suggest --gold FILE --json":                {{"rules", "suggest", "--json", "--gold", gold, "--rules", "testdata/rules-ok/old.yaml", "--min-support", "1"}},
		"rules fit --gold FILE --out NEW.yaml --json":     {{"rules", "fit", "--json", "--gold", gold, "--cv", "2", "--out", filepath.Join(t.TempDir(), "fitted.yaml")}},
		"search QUERY --format jsonl --fields id,url,title,agency,source,country,language,label,themes,published,version,score,fragment,rules_version,body,evidence": {
			{"search", "--format", "jsonl", "--fields", strings.Join(exportFields, ","), "cartel"}},
	}
	t.Run("crawl --offline --json", func(t *testing.T) {
		checkKeys(t, doc["crawl --offline --json"], crawlOut)
	})
	delete(doc, "crawl --offline --json")
	for cmd := range runs {
		if _, ok := doc[cmd]; !ok {
			t.Errorf("docs/json.md has no section for atalaya %s", cmd)
		}
	}
	for cmd, patterns := range doc {
		t.Run(cmd, func(t *testing.T) {
			argLists, ok := runs[cmd]
			if !ok {
				t.Fatalf("docs/json.md documents atalaya %s, which this test does not run", cmd)
			}
			for _, args := range argLists {
				code, out, errOut := runCmd(t, append([]string{"--log-level", "error"}, args...)...)
				if code != 0 {
					t.Fatalf("%s: exit %d: %s", args, code, errOut)
				}
				checkKeys(t, patterns, out)
			}
		})
	}
}
