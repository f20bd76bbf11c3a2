package atalaya_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedImports maps each project package to the project packages it may
// import. This map is a statement of policy. Do not change it to fix a build:
// change the code so that lower layers never import higher ones.
var allowedImports = map[string][]string{
	"atalaya":          {},
	"atalaya/config":   {"atalaya/internal/yamlguard"},
	"atalaya/crawler":  {"atalaya"},
	"atalaya/archive":  {"atalaya"},
	"atalaya/classify": {"atalaya", "atalaya/internal/yamlguard"},
	"atalaya/index":    {"atalaya", "atalaya/classify"},
	"atalaya/ingest":   {"atalaya", "atalaya/classify"},
	"atalaya/schedule": {},
	"atalaya/digest":   {"atalaya", "atalaya/classify", "atalaya/index"},
	"atalaya/web":      {"atalaya", "atalaya/classify", "atalaya/index", "atalaya/internal/textdiff"},
	"atalaya/cmd/atalaya": {
		"atalaya", "atalaya/config", "atalaya/crawler", "atalaya/archive", "atalaya/classify",
		"atalaya/index", "atalaya/ingest", "atalaya/schedule", "atalaya/digest", "atalaya/web",
		"atalaya/internal/mirror", "atalaya/internal/synth", "atalaya/internal/rulestore",
		"atalaya/crawler/browser", "atalaya/app", "atalaya/api",
	},
	"atalaya/api": {
		"atalaya", "atalaya/archive", "atalaya/classify", "atalaya/index", "atalaya/internal/httpx", "atalaya/internal/textdiff",
		"atalaya/schedule",
	},
	"atalaya/metrics": {},
	"atalaya/app": {
		"atalaya", "atalaya/api", "atalaya/archive", "atalaya/classify", "atalaya/crawler", "atalaya/digest", "atalaya/index",
		"atalaya/ingest", "atalaya/metrics", "atalaya/schedule", "atalaya/web",
	},
	"atalaya/internal/httpx":    {},
	"atalaya/internal/textdiff": {},
	"atalaya/internal/mirror":   {},
	"atalaya/internal/synth":    {"atalaya"},
	// yamlguard bounds YAML input before decoding; config and classify
	// (rules files) share it. Standard library only.
	"atalaya/internal/yamlguard": {},

	"atalaya/crawler/browser":             {"atalaya"},
	"atalaya/crawler/browser/browsertest": {},
	"atalaya/internal/rulestore":          {},
	"atalaya/internal/smtptest":           {},
}

// confinedImports names third-party modules that only one package may import.
var confinedImports = map[string]string{
	"github.com/gocolly/colly":      "atalaya/crawler",
	"github.com/blevesearch/bleve":  "atalaya/index",
	"github.com/blevesearch/bleve_": "atalaya/index",

	"github.com/chromedp": "atalaya/crawler/browser",
}

func TestImportPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %s is not in the import policy; add it to allowedImports in deps_test.go", pkg)
			continue
		}
		for _, imp := range imports {
			if (imp == "atalaya" || strings.HasPrefix(imp, "atalaya/")) && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s, which the import policy forbids", pkg, imp)
			}
			for prefix, owner := range confinedImports {
				if strings.HasPrefix(imp, prefix) && pkg != owner {
					t.Errorf("%s imports %s; only %s may", pkg, imp, owner)
				}
			}
		}
	}
}
