package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLineErrors(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring of stderr
	}{
		{"extra argument", []string{"--data", data, "crawl", "state"}, `atalaya crawl: unexpected argument "state"`},
		{"extra argument to releases", []string{"--data", data, "releases", "state"}, `unexpected argument "state"`},
		{"unknown flag printed once", []string{"--data", data, "crawl", "--nope"}, "flag provided but not defined: -nope"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"extra argument to rules eval", []string{"rules", "eval", "--gold", "testdata/gold-small.jsonl", "extra"}, `atalaya rules eval: unexpected argument "extra"`},
		{"bad date", []string{"--data", data, "crawl", "--offline", "--since", "yesterday"}, "want a date like 2025-01-31"},
		{"unknown source for releases", []string{"--data", data, "releases", "--source", "nosuch"}, "nosuch"},
		{"unknown source filter", []string{"--data", data, "search", "--source", "nosuch", "cartel"}, `unknown source "nosuch"`},
		{"unknown theme filter", []string{"--data", data, "search", "--theme", "astrology", "cartel"}, `unknown theme "astrology"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
			if n := strings.Count(errOut, tt.wantErr); n > 1 {
				t.Errorf("stderr says %q %d times, want once:\n%s", tt.wantErr, n, errOut)
			}
		})
	}
}

// TestConfigPaths checks that a configuration's data_dir and rules paths
// are used, relative to the file, and that config check compiles the rules.
func TestConfigPaths(t *testing.T) {
	dir := t.TempDir()
	def, err := os.ReadFile("../../config/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, rules string) string {
		cfg := "data_dir: data\nrules: " + rules + "\n" + string(def)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("labels: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("../../classify/rules/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Setenv("ATALAYA_DATA", "")
	good := write("good.yaml", "rules.yaml")
	if code, out, errOut := runCmd(t, "--config", good, "config", "check"); code != 0 || !strings.Contains(out, "ok:") {
		t.Errorf("config check %s: exit %d, %s %s", good, code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "--config", good, "generate", "--n", "3"); code != 0 || !strings.Contains(out, filepath.Join(dir, "data", "archive")) {
		t.Errorf("generate with data_dir: exit %d, stdout %q, stderr %q; want the archive under %s/data", code, out, errOut, dir)
	}
	bad := write("bad.yaml", "broken.yaml")
	if code, _, errOut := runCmd(t, "--config", bad, "config", "check"); code == 0 || !strings.Contains(errOut, "broken.yaml") {
		t.Errorf("config check with a broken rules file: exit %d, stderr %q; want an error naming it", code, errOut)
	}
}

// TestBrokenRulesKeepVerdicts reclassifies with a rules file that does not
// compile: the command fails naming the file and line, and the verdicts in
// the index stay those of the rules in force.
func TestBrokenRulesKeepVerdicts(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline"); code != 0 {
		t.Fatalf("crawl: %s", errOut)
	}
	before := searchJSON(t, data, "label:kingpin")
	def, err := os.ReadFile("../../config/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := "labels:\n  - name: kingpin\n    threshold: 3\nrules:\n  - id: a\n    label: boss\n    patterns: [x]\n"
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, append([]byte("rules: rules.yaml\n"), def...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "--data", data, "--config", cfg, "reclassify")
	if code == 0 || !strings.Contains(errOut, `rules.yaml:6: rule "a": unknown label "boss"`) {
		t.Errorf("reclassify with broken rules: exit %d, stderr %q; want the rule, its line and the problem", code, errOut)
	}
	if after := searchJSON(t, data, "label:kingpin"); after.Total != before.Total || before.Total == 0 {
		t.Errorf("kingpin releases: %d before, %d after a failed reclassify; want the same, non-zero", before.Total, after.Total)
	}
}
