package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRulesCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{"check default", []string{"rules", "check"}, 0, []string{"default.yaml:", ": ok"}, nil},
		{"check file", []string{"rules", "check", "testdata/rules-ok/new.yaml"}, 0, []string{"2 rules"}, nil},
		{"check bad file", []string{"rules", "check", "testdata/rules-bad/rules.yaml"}, 1, nil,
			[]string{`testdata/rules-bad/rules.yaml:6: rule "a": duplicate id`, `rules.yaml:7: rule "b": unknown label "boss"`, `rule "b": bad regex`}},
		{"eval", []string{"rules", "eval", "--gold", "testdata/gold-small.jsonl"}, 0,
			[]string{"macro-F1 over kingpin, root_cause, neither: 1.000", "confusion", "relevance accuracy: 1.000", "dead rules"}, nil},
		{"eval bad label", []string{"rules", "eval", "--gold", "testdata/gold-badlabel.jsonl"}, 1, nil, []string{`gold line 1 (a): unknown label "boss"`}},
		{"eval needs gold", []string{"rules", "eval"}, 2, nil, []string{"atalaya rules eval: --gold FILE is required"}},
		{"diff", []string{"rules", "diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml", "--gold", "testdata/gold-small.jsonl", "--no-archive"}, 0,
			[]string{"7 releases, 2 change label", "neither → root_cause", "r1: neither → root_cause", "m1: kingpin → mixed"}, nil},
		{"explain file", []string{"rules", "explain", "--file", "testdata/rules-ok/release.json"}, 0,
			[]string{"label: kingpin", "extradition (kingpin, extradition", "»extradited«", "near misses"}, nil},
		{"explain gold id", []string{"rules", "explain", "--gold", "testdata/gold-small.jsonl", "r2"}, 0, []string{"label: root_cause"}, nil},
		{"explain colour", []string{"rules", "explain", "--color", "always", "--file", "testdata/rules-ok/release.json"}, 0, []string{"\x1b[1;31mextradited\x1b[0m"}, nil},
		{"codebook md", []string{"rules", "codebook", "--gold", "testdata/gold-small.jsonl"}, 0, []string{"# Atalaya classification codebook", "### reward-offer", "precision"}, nil},
		{"codebook html", []string{"rules", "codebook", "--format", "html"}, 0, []string{"<h3 id=\"extradition\">"}, nil},
		{"report", []string{"rules", "report", "--gold", "testdata/gold-small.jsonl"}, 0, []string{"co-firing", "dead rules"}, nil},
		{"suggest", []string{"rules", "suggest", "--gold", "testdata/gold-small.jsonl", "--min-support", "1", "--no-archive"}, 0,
			[]string{"Phrases from the gold releases the rules get wrong", "(no archive counts"}, nil},
		{"suggest bad words", []string{"rules", "suggest", "--gold", "testdata/gold-small.jsonl", "--words", "0"}, 2, nil, []string{"--words must be 1 to 6"}},
		{"eval cv", []string{"rules", "eval", "--gold", "testdata/gold-small.jsonl", "--cv", "2"}, 0,
			[]string{"cross-validation, 2 folds", "rules as written: macro-F1", "weights fitted on the other folds", "per language: en"}, nil},
		{"eval cv 1", []string{"rules", "eval", "--gold", "testdata/gold-small.jsonl", "--cv", "1"}, 2, nil, []string{"--cv needs at least 2 folds"}},
		{"eval two gold files with the same ids", []string{"rules", "eval", "--gold", "testdata/gold-small.jsonl,testdata/gold-small.jsonl"}, 1, nil, []string{`id "k1" is also in`}},
		{"diff json", []string{"rules", "diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml", "--gold", "testdata/gold-small.jsonl", "--no-archive", "--json"}, 0,
			[]string{`"old_rules_version"`, `"transitions"`, `"neither → root_cause": 1`}, nil},
		{"report json", []string{"rules", "report", "--gold", "testdata/gold-small.jsonl", "--json"}, 0, []string{`"dead_rules"`, `"coverage"`}, nil},
		{"explain json", []string{"rules", "explain", "--file", "testdata/rules-ok/release.json", "--json"}, 0, []string{`"label": "kingpin"`, `"evidence": [`, `"sentence"`}, nil},
		{"diff exit-code, labels change", []string{"rules", "diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml", "--gold", "testdata/gold-small.jsonl", "--no-archive", "--exit-code"}, 1,
			[]string{"7 releases, 2 change label"}, []string{"atalaya rules diff: 2 releases change label (--exit-code)"}},
		{"diff exit-code json, labels change", []string{"rules", "diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml", "--gold", "testdata/gold-small.jsonl", "--no-archive", "--exit-code", "--json"}, 1,
			[]string{`"changed"`}, []string{"2 releases change label"}},
		{"diff exit-code, same rules", []string{"rules", "diff", "testdata/rules-ok/new.yaml", "testdata/rules-ok/new.yaml", "--gold", "testdata/gold-small.jsonl", "--no-archive", "--exit-code"}, 0,
			[]string{"7 releases, 0 change label"}, nil},
		{"unknown subcommand", []string{"rules", "frob"}, 2, nil, []string{`unknown subcommand "frob"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("got exit code %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut+out, w) {
					t.Errorf("output lacks %q:\nstderr: %s", w, errOut)
				}
			}
		})
	}
}

func TestRulesEvalJSON(t *testing.T) {
	code, out, errOut := runCmd(t, "rules", "eval", "--gold", "testdata/gold-small.jsonl", "--json")
	if code != 0 {
		t.Fatalf("got exit code %d, want 0: %s", code, errOut)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v", err)
	}
	for _, key := range []string{"macro_f1", "per_label", "confusion", "relevance_accuracy", "rules", "errors"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks top-level key %q", key)
		}
	}
	var perLabel map[string]struct {
		Precision, Recall, F1 float64
		Support               int
	}
	if err := json.Unmarshal(got["per_label"], &perLabel); err != nil {
		t.Fatal(err)
	}
	if perLabel["kingpin"].Support != 2 || perLabel["kingpin"].F1 != 1 {
		t.Errorf("got kingpin %+v, want support 2 and f1 1", perLabel["kingpin"])
	}
}
