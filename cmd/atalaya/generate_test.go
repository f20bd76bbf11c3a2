package main

import (
	"strings"
	"testing"
)

func TestGenerateThenReindex(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCmd(t, "--data", data, "generate", "--n", "60")
	if code != 0 || !strings.Contains(out, "archived 60 synthetic releases (0 already there)") {
		t.Fatalf("generate: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, "--data", data, "generate", "--n", "60")
	if code != 0 || !strings.Contains(out, "archived 0 synthetic releases (60 already there)") {
		t.Errorf("generate again: exit %d, stdout %q; want nothing archived twice", code, out)
	}
	if n := len(archivedReleases(t, data)); n != 60 {
		t.Errorf("archive lists %d releases, want 60", n)
	}
	code, out, errOut = runCmd(t, "--data", data, "--log-level", "warn", "reindex")
	if code != 0 || !strings.Contains(out, "indexed 60 releases") {
		t.Errorf("reindex: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, n := range []string{"0", "200001", "many"} {
		if code, _, errOut := runCmd(t, "--data", data, "generate", "--n", n); code == 0 {
			t.Errorf("generate --n %s succeeded; want an error (stderr %q)", n, errOut)
		}
	}
}

// TestGenerateRefusesCrawledData checks that generate leaves a data
// directory with crawled releases alone unless --force is given, and that
// synthetic releases are on the reserved domain.
func TestGenerateRefusesCrawledData(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline", "--source", "sre"); code != 0 {
		t.Fatalf("crawl --offline: exit %d: %s", code, errOut)
	}
	before := len(archivedReleases(t, data))
	code, _, errOut := runCmd(t, "--data", data, "generate", "--n", "5")
	if code != 1 || !strings.Contains(errOut, "holds crawled releases") || !strings.Contains(errOut, "--force") {
		t.Fatalf("generate into crawled data: exit %d, stderr %q; want exit 1 naming --force", code, errOut)
	}
	if after := len(archivedReleases(t, data)); after != before {
		t.Fatalf("refused generate changed the archive: %d releases, had %d", after, before)
	}
	if code, _, errOut := runCmd(t, "--data", data, "generate", "--n", "5", "--force"); code != 0 {
		t.Fatalf("generate --force: exit %d: %s", code, errOut)
	}
	synthetic := 0
	for _, rel := range archivedReleases(t, data) {
		if strings.HasPrefix(rel.URL, "https://example.org/") {
			synthetic++
		}
	}
	if synthetic != 5 {
		t.Errorf("%d releases on example.org, want the 5 generated", synthetic)
	}
}
