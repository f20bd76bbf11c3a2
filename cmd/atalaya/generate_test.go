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
