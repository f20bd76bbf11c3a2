package classify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenVerdicts classifies testdata/*.json releases with the default
// rules and compares each verdict with its .verdict.golden file.
func TestGoldenVerdicts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	rs := Default()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in struct{ Title, Body, Language string }
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			v := rs.Classify(atalaya.Release{Title: in.Title, Body: in.Body, Language: atalaya.Language(in.Language)})
			v.RulesVersion = "" // changes with every edit of the default rules
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".json") + ".verdict.golden"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
				t.Errorf("verdict for %s (-want +got):\n%s", file, diff)
			}
		})
	}
}
