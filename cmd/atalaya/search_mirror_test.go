package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya/crawler"
	"atalaya/internal/mirror"
)

// TestSearchMirror crawls the mirror into an index and checks searches
// against what the mirror's articles say: stemming in both languages,
// filters, facets, date order and highlighting.
func TestSearchMirror(t *testing.T) {
	data := t.TempDir()
	if code, out, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline"); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	// articles returns the canonical URLs of the articles that keep.
	articles := func(keep func(mirror.Article) bool) []string {
		var urls []string
		for _, a := range m.Articles {
			if keep(a) {
				urls = append(urls, crawler.Canonical(a.URL))
			}
		}
		sort.Strings(urls)
		return urls
	}
	mentions := func(lang, pattern string) func(mirror.Article) bool {
		re := regexp.MustCompile(`(?i)\b(` + pattern + `)\b`)
		return func(a mirror.Article) bool {
			return a.Language == lang && re.MatchString(a.Title+"\n"+a.Body)
		}
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"english stemming", []string{"--language", "en", "sanctioned"},
			articles(mentions("en", "sanction|sanctions|sanctioned|sanctioning"))},
		{"spanish stemming", []string{"--language", "es", "extradiciones"},
			articles(mentions("es", "extradición|extradicion|extradiciones"))},
		{"country and source filters", []string{"--country", "MX", "--source", "sspc", "--source", "fgr", ""},
			articles(func(a mirror.Article) bool { return a.Source == "sspc" || a.Source == "fgr" })},
		{"date range", []string{"--since", "2026-03-01", "--until", "2026-03-31", ""},
			articles(func(a mirror.Article) bool { return a.Date >= "2026-03-01" && a.Date <= "2026-03-31" })},
		{"query language", []string{`source:treasury AND NOT published:<2026-01-01`},
			articles(func(a mirror.Article) bool { return a.Source == "treasury" && a.Date >= "2026-01-01" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.want) == 0 {
				t.Fatal("the mirror has no article for this case; the test would prove nothing")
			}
			res := searchJSON(t, data, append([]string{"--size", "100"}, tt.args...)...)
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.URL)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}

	t.Run("date order", func(t *testing.T) {
		res := searchJSON(t, data, "--sort", "date", "--size", "100", "")
		var got, want []string
		for _, h := range res.Hits {
			if h.Published != nil { // undated releases come last, without the key
				got = append(got, h.Published.Format("2006-01-02"))
			}
		}
		for _, a := range m.Articles {
			if a.Date != "" {
				want = append(want, a.Date)
			}
		}
		slices.Sort(want)
		slices.Reverse(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("dates in date order (-want +got):\n%s", diff)
		}
	})

	t.Run("facets", func(t *testing.T) {
		res := searchJSON(t, data, "--size", "1", "")
		want := map[string]uint64{}
		for _, a := range m.Articles {
			src := a.Source
			if src == "sre" && a.Language == "en" {
				src = "sre-en"
			}
			want[src]++
		}
		got := map[string]uint64{}
		for _, f := range res.Facets["source"] {
			got[f.Value] = uint64(f.Count)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("source facet (-want +got):\n%s", diff)
		}
	})

	t.Run("highlighting", func(t *testing.T) {
		res := searchJSON(t, data, "naloxona")
		if len(res.Hits) == 0 {
			t.Fatal("no hit for naloxona")
		}
		for _, h := range res.Hits {
			if len(h.Fragments) == 0 || !strings.Contains(strings.ToLower(h.Fragments[0]), "<mark>naloxona</mark>") {
				t.Errorf("fragments of %s do not mark the match: %q", h.URL, h.Fragments)
			}
		}
	})
}

func searchJSON(t *testing.T, data string, args ...string) searchOutput {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"--data", data, "search", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("search %q: exit %d: %s", args, code, errOut)
	}
	var res searchOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("search %q: %v\n%s", args, err, out)
	}
	return res
}
