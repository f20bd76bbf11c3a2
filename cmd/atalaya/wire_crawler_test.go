package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/config"
	"atalaya/crawler"
)

// TestCrawlerSourcesDefault maps every default source and checks what the
// crawler needs from each: profiles applied, zones loaded, politeness set.
func TestCrawlerSourcesDefault(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatalf("config.Default: %v", err)
	}
	srcs, err := crawlerSources(cfg)
	if err != nil {
		t.Fatalf("crawlerSources: %v", err)
	}
	if len(srcs) != len(cfg.Sources) {
		t.Fatalf("crawlerSources: got %d sources, want %d", len(srcs), len(cfg.Sources))
	}
	gobmx := cfg.Profiles["gobmx"]
	for _, s := range srcs {
		t.Run(string(s.ID), func(t *testing.T) {
			if s.Location == nil || s.UserAgent == "" || s.Agency == "" || len(s.StartURLs) == 0 || len(s.AllowedDomains) == 0 {
				t.Errorf("incomplete source: %+v", s)
			}
			if s.Politeness.Parallelism != 1 || s.Politeness.Delay < 2*time.Second || s.Politeness.Timeout <= 0 || s.Politeness.MaxBodySize <= 0 {
				t.Errorf("politeness = %+v, want parallelism 1, delay ≥ 2s, a timeout and a body limit", s.Politeness)
			}
			if s.Country != atalaya.MX {
				return
			}
			if got, want := s.Location.String(), "America/Mexico_City"; got != want {
				t.Errorf("location = %s, want %s", got, want)
			}
			if got, want := s.Headers["Accept"], "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; got != want {
				t.Errorf("Accept header = %q, want %q", got, want)
			}
			want := crawler.Listing{
				Item:  gobmx.Listing.Item,
				Title: crawler.Field{Selector: gobmx.Listing.Title.Selector},
				Link:  gobmx.Listing.Link,
				Type:  crawler.Field{Selector: gobmx.Listing.Type.Selector},
				Date:  crawlerDates(gobmx.Listing.Date),
			}
			if diff := cmp.Diff(want, s.Listing); diff != "" {
				t.Errorf("listing differs from the gobmx profile (-want +got):\n%s", diff)
			}
			wantTemplate := "?order=DESC&page={n}"
			if s.ID == "sre-en" {
				wantTemplate = "?idiom=en&order=DESC&page={n}"
			}
			if s.Article.Body != "div.article-body" || s.Pagination.Template != wantTemplate || s.Pagination.FirstNumber != 1 {
				t.Errorf("article body %q, pagination %+v: want the gobmx profile's", s.Article.Body, s.Pagination)
			}
		})
	}
}

// TestCrawlerSourceMapping checks the mapping of one source field by field.
func TestCrawlerSourceMapping(t *testing.T) {
	cfg := &config.Config{UserAgent: "atalaya-test/0", Sources: []config.Source{{
		Name: "alpha", Agency: "Alpha", Country: "MX", Language: "es", Kind: "html",
		StartURLs: []string{"https://news.example.org/a"}, AllowedDomains: []string{"news.example.org"},
		Listing: config.Listing{
			Item: "li", Title: config.Field{Selector: "a", Attr: "title"}, Link: "a", Type: config.Field{Selector: "span"},
			Date: []config.DateRule{{Selector: "time", Attr: "datetime", Pick: "last", Pattern: `(\d+)`, Layouts: []string{"2006"}}},
		},
		Article: config.Article{
			Title: []config.Field{{Selector: "h1"}}, Date: []config.DateRule{{Selector: "p.date", Layouts: []string{"2006-01-02"}}},
			Type: config.Field{Selector: "p.type"}, Body: "main", Parts: "p", Exclude: []string{".x"}, Stop: []string{"# # #"}, Required: []string{"main"},
		},
		Pagination:   config.Pagination{Template: "?page={n}", FirstNumber: 1, MaxPages: 3},
		TimeZone:     "America/Mexico_City",
		Types:        config.TypeFilter{Include: []string{"Comunicado"}, Exclude: []string{"Aviso"}},
		Headers:      map[string]string{"Accept": "text/html"},
		BlockMarkers: []string{"Challenge Validation"},
		Politeness:   config.Politeness{Delay: 2 * time.Second, Parallelism: 1, Timeout: time.Minute, MaxBodySize: 1 << 20, Retries: 3, RetryBackoff: time.Second, IgnoreRobots: true, MaxCrawlDelay: time.Minute},
		Expect:       config.Expect{MinItems: 4, MinFillRate: 0.9},
		Revisit:      48 * time.Hour,
		GoneRetry:    24 * time.Hour,
	}}}
	got, err := crawlerSources(cfg)
	if err != nil {
		t.Fatalf("crawlerSources: %v", err)
	}
	mexico, _ := time.LoadLocation("America/Mexico_City")
	want := []crawler.Source{{
		Source:         atalaya.Source{ID: "alpha", Agency: "Alpha", Country: atalaya.MX, Language: atalaya.Spanish},
		Kind:           crawler.KindHTML,
		StartURLs:      []string{"https://news.example.org/a"},
		AllowedDomains: []string{"news.example.org"},
		Pagination:     crawler.Pagination{Template: "?page={n}", FirstNumber: 1, MaxPages: 3},
		Listing: crawler.Listing{
			Item: "li", Title: crawler.Field{Selector: "a", Attr: "title"}, Link: "a", Type: crawler.Field{Selector: "span"},
			Date: []crawler.DateRule{{Selector: "time", Attr: "datetime", Pick: "last", Pattern: `(\d+)`, Layouts: []string{"2006"}}},
		},
		Article: crawler.Article{
			Title: []crawler.Field{{Selector: "h1"}}, Date: []crawler.DateRule{{Selector: "p.date", Layouts: []string{"2006-01-02"}}},
			Type: crawler.Field{Selector: "p.type"}, Body: "main", Parts: "p", Exclude: []string{".x"}, Stop: []string{"# # #"}, Required: []string{"main"},
		},
		Location:     mexico,
		Types:        crawler.TypeFilter{Include: []string{"Comunicado"}, Exclude: []string{"Aviso"}},
		Headers:      map[string]string{"Accept": "text/html"},
		UserAgent:    "atalaya-test/0",
		BlockMarkers: []string{"Challenge Validation"},
		Politeness:   crawler.Politeness{Delay: 2 * time.Second, Parallelism: 1, Timeout: time.Minute, MaxBodySize: 1 << 20, Retries: 3, RetryBackoff: time.Second, IgnoreRobots: true, MaxCrawlDelay: time.Minute},
		Expect:       crawler.Expect{MinItems: 4, MinFillRate: 0.9},
		Revisit:      48 * time.Hour,
		GoneRetry:    24 * time.Hour,
	}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("crawlerSources (-want +got):\n%s", diff)
	}
}

func TestSelectSources(t *testing.T) {
	cfg, err := config.Load("testdata/config-good.yaml")
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	e := &env{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tests := []struct {
		name    string
		names   []string
		want    []atalaya.SourceID
		wantErr string
	}{
		{"enabled only", nil, []atalaya.SourceID{"alpha"}, ""},
		{"disabled by name", []string{"beta", "alpha"}, []atalaya.SourceID{"beta", "alpha"}, ""},
		{"unknown", []string{"alpha", "gamma"}, nil, `unknown source "gamma"; configured sources: alpha, beta`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs, err := e.selectSources(cfg, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("selectSources: got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("selectSources: %v", err)
			}
			var got []atalaya.SourceID
			for _, s := range srcs {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("selectSources(%q): got %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}
