package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atalaya/classify"
	"atalaya/internal/rulestore"
)

// crawlWithRules crawls the mirror into a new data directory with a
// configuration whose rules are the file it returns, holding the default
// rules.
func crawlWithRules(t *testing.T) (data, cfg, rules string) {
	t.Helper()
	dir, data := t.TempDir(), t.TempDir()
	def, err := os.ReadFile("../../config/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules = filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, classify.DefaultSource(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, append([]byte("rules: rules.yaml\n"), def...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "--data", data, "--config", cfg, "--log-level", "warn", "crawl", "--offline"); code != 0 {
		t.Fatalf("crawl: %s", errOut)
	}
	return data, cfg, rules
}

// TestVerdictExplainedByTheRulesThatSetIt edits the rules in force so that
// no release is kingpin any more, and checks that reindex keeps the
// verdicts of the rules last applied, that rules explain explains a
// verdict with the rules version that set it and says the rules in force
// would decide otherwise, and that reindex --rules-in-force applies them.
func TestVerdictExplainedByTheRulesThatSetIt(t *testing.T) {
	data, cfg, rules := crawlWithRules(t)
	before := searchJSON(t, data, "label:kingpin")
	if before.Total == 0 {
		t.Fatal("no kingpin release in the mirror")
	}
	id := before.Hits[0].ID
	oldVersion := classify.Default().Version()
	edited := strings.Replace(string(classify.DefaultSource()), "  - name: kingpin\n    threshold: 3\n", "  - name: kingpin\n    threshold: 1000\n", 1)
	if edited == string(classify.DefaultSource()) {
		t.Fatal("the default rules no longer declare kingpin with threshold 3; update the test")
	}
	if err := os.WriteFile(rules, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	newRules, err := classify.Parse(strings.NewReader(edited), "edited")
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCmd(t, "--data", data, "--config", cfg, "reindex")
	if code != 0 {
		t.Fatalf("reindex: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "applying rules "+oldVersion+", the rules last applied") || !strings.Contains(out, "rules in force ("+newRules.Version()+") differ") {
		t.Errorf("reindex does not say it keeps the rules last applied:\n%s", out)
	}
	if after := searchJSON(t, data, "label:kingpin"); after.Total != before.Total {
		t.Errorf("reindex after a rules edit: %d kingpin releases, want %d as before", after.Total, before.Total)
	}

	code, out, errOut = runCmd(t, "--data", data, "--config", cfg, "rules", "explain", "--json", id)
	if code != 0 {
		t.Fatalf("rules explain: exit %d: %s", code, errOut)
	}
	var x explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("rules explain --json: %v\n%s", err, out)
	}
	if x.Label != "kingpin" || x.RulesVersion != oldVersion || x.Provenance == nil || x.Provenance.SetBy != oldVersion ||
		x.Provenance.InForce != newRules.Version() || x.Provenance.InForceLabel == "" || x.Provenance.InForceLabel == "kingpin" {
		t.Errorf("explain: got label %s by rules %s, provenance %+v; want kingpin by %s, and the rules in force %s deciding otherwise",
			x.Label, x.RulesVersion, x.Provenance, oldVersion, newRules.Version())
	}

	code, out, errOut = runCmd(t, "--data", data, "--config", cfg, "reindex", "--rules-in-force")
	if code != 0 || !strings.Contains(out, "applying the rules in force, "+newRules.Version()) {
		t.Fatalf("reindex --rules-in-force: exit %d: %s%s", code, out, errOut)
	}
	if after := searchJSON(t, data, "label:kingpin"); after.Total != 0 {
		t.Errorf("after reindex --rules-in-force: %d kingpin releases, want 0", after.Total)
	}
	code, out, _ = runCmd(t, "--data", data, "--config", cfg, "rules", "explain", id)
	if code != 0 || !strings.Contains(out, "provenance: verdict set by the rules in force") {
		t.Errorf("explain after applying the rules in force: exit %d:\n%s", code, out)
	}
}

// TestInterruptedReclassifyIsReportedAndFinished leaves the record of a
// reclassification that was interrupted, as a killed reclassify does, and
// checks that releases, sources and search warn about mixed labels until
// reclassify finishes it, and that finishReclassify does nothing when
// none is under way.
func TestInterruptedReclassifyIsReportedAndFinished(t *testing.T) {
	data, cfg, _ := crawlWithRules(t)
	store, err := rulestore.Open(filepath.Join(data, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	version := classify.Default().Version()
	if err := store.BeginReclassify(rulestore.Reclassification{From: "0123456789ab", To: version, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{{"releases"}, {"sources"}, {"search", "cartel"}}
	for _, c := range commands {
		code, _, errOut := runCmd(t, append([]string{"--data", data, "--config", cfg}, c...)...)
		if code != 0 || !strings.Contains(errOut, "a reclassification to rules "+version) || !strings.Contains(errOut, "labels are a mix of rules 0123456789ab and "+version) {
			t.Errorf("%s during an interrupted reclassification: exit %d, stderr %q; want a warning", c[0], code, errOut)
		}
	}
	code, out, errOut := runCmd(t, "--data", data, "--config", cfg, "reclassify")
	if code != 0 || !strings.Contains(out, "finishing the reclassification to rules "+version) {
		t.Fatalf("reclassify: exit %d: %s%s", code, out, errOut)
	}
	for _, c := range commands {
		if _, _, errOut := runCmd(t, append([]string{"--data", data, "--config", cfg}, c...)...); strings.Contains(errOut, "reclassification") {
			t.Errorf("%s after reclassify finished: stderr still warns: %q", c[0], errOut)
		}
	}
	e := &env{dataDir: data, configPath: cfg, stdout: os.Stdout, stderr: os.Stderr}
	if finished, err := e.finishReclassify(context.Background(), os.Stdout); finished || err != nil {
		t.Errorf("finishReclassify with none under way: got %t, %v; want false, nil", finished, err)
	}
}
