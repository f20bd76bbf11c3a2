package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesFitReproducesItsFigures fits the test rules to the small gold
// and checks that the file written scores, under rules eval, the in-sample
// figures fit reported, and that cross-validating its fit reproduces the
// cross-validated figures fit reported; and that fit never overwrites a
// file.
func TestRulesFitReproducesItsFigures(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "fitted.yaml")
	rules := "testdata/rules-ok/fit.yaml"
	before, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCmd(t, "rules", "fit", "--rules", rules, "--gold", "testdata/gold-small.jsonl", "--cv", "3", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("rules fit: exit %d: %s", code, errOut)
	}
	var fit struct {
		To       string `json:"rules_version"`
		InSample struct {
			MacroF1 float64 `json:"macro_f1"`
		} `json:"in_sample"`
		CV struct {
			MacroF1 struct{ Mean, SD float64 } `json:"macro_f1"`
		} `json:"cv"`
	}
	if err := json.Unmarshal([]byte(stdout), &fit); err != nil {
		t.Fatalf("rules fit --json: %v\n%s", err, stdout)
	}
	code, stdout, errOut = runCmd(t, "rules", "eval", "--rules", out, "--gold", "testdata/gold-small.jsonl", "--cv", "3", "--json")
	if code != 0 {
		t.Fatalf("rules eval of the fitted file: exit %d: %s", code, errOut)
	}
	var eval struct {
		Eval struct {
			Version string  `json:"rules_version"`
			MacroF1 float64 `json:"macro_f1"`
		} `json:"eval"`
		CV struct {
			Fitted struct {
				MacroF1 struct{ Mean, SD float64 } `json:"macro_f1"`
			} `json:"fitted"`
		} `json:"cv"`
	}
	if err := json.Unmarshal([]byte(stdout), &eval); err != nil {
		t.Fatal(err)
	}
	if eval.Eval.Version != fit.To || eval.Eval.MacroF1 != fit.InSample.MacroF1 {
		t.Errorf("eval of the fitted file: version %s macro-F1 %g, want %s %g as fit reported", eval.Eval.Version, eval.Eval.MacroF1, fit.To, fit.InSample.MacroF1)
	}
	if eval.CV.Fitted.MacroF1 != fit.CV.MacroF1 {
		t.Errorf("cross-validated fit of the fitted file: %+v, want %+v as fit reported", eval.CV.Fitted.MacroF1, fit.CV.MacroF1)
	}
	if after, _ := os.ReadFile(rules); string(after) != string(before) {
		t.Errorf("rules fit changed the rules it fitted")
	}
	written, _ := os.ReadFile(out)
	code, _, errOut = runCmd(t, "rules", "fit", "--rules", rules, "--gold", "testdata/gold-small.jsonl", "--out", out)
	if code != 1 || !strings.Contains(errOut, "exists; remove it or name a new file") {
		t.Errorf("fit over an existing file: exit %d, stderr %q; want 1 and a refusal", code, errOut)
	}
	if again, _ := os.ReadFile(out); string(again) != string(written) {
		t.Errorf("rules fit overwrote an existing file")
	}
}
