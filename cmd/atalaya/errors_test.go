package main

import (
	"errors"
	"strings"
	"testing"

	"atalaya/archive"
)

// TestErrorMessages checks that common errors read as one sentence a user
// can act on, without package prefixes, on stderr with exit status 1.
func TestErrorMessages(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "error", "crawl", "--offline", "--source", "sre"); code > 1 {
		t.Fatalf("crawl: exit %d: %s", code, errOut)
	}
	empty := t.TempDir()
	missing := t.TempDir() + "/missing.yaml"
	tests := []struct {
		name string
		args []string
		want string // the whole of stderr
	}{
		{"unknown release id", []string{"--data", data, "rules", "explain", "3f2a"},
			"atalaya rules explain: no archived release with id 3f2a; list them with 'atalaya releases'\n"},
		{"unknown release URL", []string{"--data", data, "rules", "explain", "--url", "https://example.org/nope"},
			"atalaya rules explain: no archived release with URL https://example.org/nope; list them with 'atalaya releases'\n"},
		{"no archive", []string{"--data", empty, "releases"},
			"atalaya releases: no archive in " + empty + "/archive yet: run 'atalaya crawl' first (or pass --data)\n"},
		{"no archive for rules explain", []string{"--data", empty, "rules", "explain", "3f2a"},
			"atalaya rules explain: no archive in " + empty + "/archive yet: run 'atalaya crawl' first (or pass --data)\n"},
		{"no index", []string{"--data", empty, "search", "x"},
			"atalaya search: no index in " + empty + " yet; run 'atalaya crawl' or 'atalaya reindex' first\n"},
		{"missing --config", []string{"--config", missing, "--data", data, "releases"},
			"atalaya releases: --config " + missing + ": the file does not exist; name an existing configuration file, or leave --config out to use the embedded one\n"},
		{"missing gold file", []string{"rules", "eval", "--gold", "testdata/nope.jsonl"},
			"atalaya rules eval: gold file testdata/nope.jsonl does not exist\n"},
		{"missing rules file", []string{"rules", "check", "testdata/nope.yaml"},
			"atalaya rules check: rules file testdata/nope.yaml does not exist\n"},
		{"missing release file", []string{"rules", "explain", "--file", "testdata/nope.json"},
			"atalaya rules explain: release file testdata/nope.json does not exist\n"},
		{"gold label unknown", []string{"rules", "eval", "--gold", "testdata/gold-badlabel.jsonl"},
			"atalaya rules eval: testdata/gold-badlabel.jsonl: gold line 1 (a): unknown label \"boss\" (known: [kingpin root_cause], mixed, neither)\n"},
		{"query syntax", []string{"--data", data, "search", "label:"},
			"atalaya search: bad query: query:1:7: expected a value after \"label:\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"--log-level", "error"}, tt.args...)...)
			if code != 1 || stdout != "" || stderr != tt.want {
				t.Errorf("exit %d, stdout %q\nstderr %q\nwant exit 1, no stdout and stderr %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestUserMessageDropsPackagePrefixes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"archive: release x: archive: release not found", "release x: release not found"},
		{"index: bad query: query:1:2: expected", "bad query: query:1:2: expected"},
		{"--config f.yaml: config: open f.yaml: no such file", "--config f.yaml: open f.yaml: no such file"},
		{"no index in /data/index yet", "no index in /data/index yet"},
		{"the word archive: stays inside a sentence", "the word archive: stays inside a sentence"},
	}
	for _, tt := range tests {
		if got := userMessage(errors.New(tt.in)); got != tt.want {
			t.Errorf("userMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The wrapped error is kept for errors.Is.
	err := &notArchivedError{by: "id", key: "x", err: archive.ErrNotFound}
	if !errors.Is(err, archive.ErrNotFound) {
		t.Error("notArchivedError does not wrap archive.ErrNotFound")
	}
	if strings.Contains(err.Error(), "archive:") {
		t.Errorf("message %q has a package prefix", err.Error())
	}
}
