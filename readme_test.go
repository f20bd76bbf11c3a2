package atalaya_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEQueryReference keeps the README's query-language section and
// index/QUERY.md, which the UI shows, saying the same thing.
func TestREADMEQueryReference(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	query, err := os.ReadFile("index/QUERY.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(query), "\n") {
		if i == 0 || strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks line %d of index/QUERY.md: %q", i+1, line)
		}
	}
}
