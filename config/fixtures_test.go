package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// fixtureDir returns the shared page fixtures, or skips the test.
func fixtureDir(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/work/shared/sources/pages", "../../shared/sources/pages"} {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	t.Skip("shared page fixtures not found")
	return ""
}

func parseFixture(t *testing.T, path string) *html.Node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return doc
}

// TestDefaultSelectorsOnFixtures applies the default configuration's main
// selectors to the shared copies of each site's pages: a listing item must
// hold a title and a link, and an article page its title and body.
func TestDefaultSelectorsOnFixtures(t *testing.T) {
	dir := fixtureDir(t)
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][2]string{ // source: listing, article
		"state":    {"state/press-releases/index.html", "state/releases/office-of-the-spokesperson/2025/12/terrorist-designations-of-clan-del-golfo/index.html"},
		"treasury": {"treasury/news/press-releases.html", "treasury/news/press-releases/sb0469.html"},
		"ofac":     {"ofac/recent-actions.html", "ofac/recent-actions/20250814.html"},
		"fgr":      {"gobmx/composite/archivo/prensa.html", "gobmx/fgr/prensa/comunicado-fgr-293-21-fgr-entrega-en-extradicion-a-un-hombre-buscado-por-autoridades-de-los-estados-unidos-de-america.html"},
	}
	for _, s := range cfg.Sources {
		files, ok := pages[s.Name]
		if !ok {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			listing := parseFixture(t, filepath.Join(dir, files[0]))
			items := cascadia.MustCompile(s.Listing.Item).MatchAll(listing)
			if len(items) == 0 {
				t.Fatalf("listing.item %q matches nothing", s.Listing.Item)
			}
			for _, sel := range []string{s.Listing.Title.Selector, s.Listing.Link} {
				if cascadia.MustCompile(sel).MatchFirst(items[0]) == nil {
					t.Errorf("selector %q matches nothing in the first listing item", sel)
				}
			}
			article := parseFixture(t, filepath.Join(dir, files[1]))
			for _, sel := range []string{s.Article.Title[0].Selector, s.Article.Body, s.Article.Date[0].Selector} {
				if cascadia.MustCompile(sel).MatchFirst(article) == nil {
					t.Errorf("selector %q matches nothing in the article", sel)
				}
			}
		})
	}
}
