package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"atalaya/index"
)

const searchSynopsis = "search QUERY [--label L] [--theme T] [--source S] [--agency A] [--country C] [--language L] [--since D] [--until D] [--sort relevance|date] [--page N] [--size N] [--facets] [--json | --format text|csv|jsonl]"

const searchHelp = `Search finds releases in the index with the query language: words,
"exact phrases", AND, OR, NOT or -word, parentheses, field:value for label,
theme, source, agency, country, language, year, title and body, prefixes
(extradi*) and dates (published:[2025-01-01 TO 2025-06-30],
published:>=2025-06-01). Words side by side must all match. The filter
flags may be repeated or given comma-separated values; dates are
YYYY-MM-DD. Quote the query, or put it after --, when it starts with "-":
  atalaya search -- -label:neither fentanyl
  atalaya search 'sanctions -rifles' --since 2025-01-01
`

// dateFlag is a YYYY-MM-DD flag.
type dateFlag struct{ t *time.Time }

func (d dateFlag) String() string {
	if d.t == nil || d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

func (d dateFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	*d.t = t
	return nil
}

// searchOutput is the machine-readable result (--json).
type searchOutput struct {
	Total  uint64                        `json:"total"`
	Page   int                           `json:"page"`
	Size   int                           `json:"size"`
	Hits   []searchHit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets,omitempty"`
}

// searchHit is one hit in machine-readable output. Fragment marks matches
// with « and ».
type searchHit struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Agency    string    `json:"agency"`
	Source    string    `json:"source"`
	Country   string    `json:"country"`
	Language  string    `json:"language"`
	Label     string    `json:"label"`
	Themes    []string  `json:"themes"`
	Published time.Time `json:"published"`
	Version   int       `json:"version"` // 1, or more for a release revised after it was first archived
	Score     float64   `json:"score"`
	Fragment  string    `json:"fragment,omitempty"`
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "search", searchSynopsis)
	var q index.Query
	fs.Var((*listFlag)(&q.Labels), "label", "only releases with this `label`")
	fs.Var((*listFlag)(&q.Themes), "theme", "only releases with this `theme`")
	fs.Var((*listFlag)(&q.Sources), "source", "only releases from this `source` (state, treasury, sre, …)")
	fs.Var((*listFlag)(&q.Agencies), "agency", "only releases from this `agency`")
	fs.Var((*listFlag)(&q.Countries), "country", "only releases from this `country` (US, MX)")
	fs.Var((*listFlag)(&q.Languages), "language", "only releases in this `language` (en, es)")
	fs.Var(dateFlag{&q.Since}, "since", "only releases published on or after this `date`")
	fs.Var(dateFlag{&q.Until}, "until", "only releases published on or before this `date`")
	sortBy := fs.String("sort", "relevance", "`order`: relevance or date (newest first)")
	fs.IntVar(&q.Page, "page", 1, "page `number`")
	fs.IntVar(&q.Size, "size", index.DefaultPageSize, "hits per `page`")
	fs.BoolVar(&q.Facets, "facets", false, "count the matches by label, theme, source, country, language and year")
	asJSON := fs.Bool("json", false, "print the result as one JSON object, with facets (same as --format json)")
	format := fs.String("format", "text", "output `format`: text, json, jsonl or csv")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: atalaya %s\n\n%s\n", searchSynopsis, searchHelp)
		fs.PrintDefaults()
	}
	words, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	q.Text = strings.Join(words, " ")
	q.Sort = index.Sort(*sortBy)
	if *asJSON {
		*format = "json"
	}
	switch *format {
	case "text", "json", "jsonl", "csv":
	default:
		fmt.Fprintf(e.stderr, "atalaya search: unknown format %q; want text, json, jsonl or csv\n", *format)
		return errUsage
	}
	q.Highlight = true
	if *format == "json" {
		q.Facets = true
	}

	if err := e.checkFilters(&q); err != nil {
		return err
	}
	res, err := e.search(ctx, q)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return writeSearchJSON(e.stdout, &q, res)
	case "jsonl":
		return writeSearchJSONL(e.stdout, res)
	case "csv":
		return writeSearchCSV(e.stdout, res)
	}
	writeSearchText(e.stdout, &q, res, isTerminal(e.stdout))
	return nil
}

// search runs q through the running service if there is one, else on the
// index.
func (e *env) search(ctx context.Context, q index.Query) (*index.Result, error) {
	if c := e.runningService(ctx); c != nil {
		return c.search(ctx, q)
	}
	if _, err := os.Stat(e.indexDir()); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no index in %s yet; run `atalaya crawl` or `atalaya reindex` first", e.dataDir)
	}
	idx, err := e.openIndex()
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	return idx.Search(ctx, q)
}

// checkFilters rejects source and theme filters that the configuration and
// the rules do not know; the index checks the other filters.
func (e *env) checkFilters(q *index.Query) error {
	if len(q.Sources) == 0 && len(q.Themes) == 0 {
		return nil
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if _, err := e.selectSources(cfg, q.Sources); len(q.Sources) > 0 && err != nil {
		return err
	}
	rules, err := loadRules(cfg.Rules)
	if err != nil {
		return err
	}
	known := rules.Themes()
	for _, th := range q.Themes {
		if !slices.Contains(known, strings.ToLower(th)) {
			return fmt.Errorf("unknown theme %q; the rules declare: %s", th, strings.Join(known, ", "))
		}
	}
	return nil
}

func toSearchHit(h *index.Hit) searchHit {
	s := searchHit{
		ID: string(h.ID), URL: h.URL, Title: h.Title, Agency: h.Agency, Source: string(h.Source),
		Country: h.Country, Language: h.Language, Label: h.Label, Themes: h.Themes,
		Published: h.Published, Version: h.Version, Score: h.Score,
	}
	if len(h.Fragments) > 0 {
		s.Fragment = plainFragment(h.Fragments[0], "«", "»")
	}
	if s.Themes == nil {
		s.Themes = []string{}
	}
	return s
}

func writeSearchJSON(w io.Writer, q *index.Query, res *index.Result) error {
	out := searchOutput{Total: res.Total, Page: q.Page, Size: q.Size, Hits: []searchHit{}, Facets: res.Facets}
	for i := range res.Hits {
		out.Hits = append(out.Hits, toSearchHit(&res.Hits[i]))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeSearchJSONL(w io.Writer, res *index.Result) error {
	enc := json.NewEncoder(w)
	for i := range res.Hits {
		if err := enc.Encode(toSearchHit(&res.Hits[i])); err != nil {
			return err
		}
	}
	return nil
}

func writeSearchCSV(w io.Writer, res *index.Result) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "url", "title", "agency", "source", "country", "language", "label", "themes", "published", "version", "score", "fragment"})
	for i := range res.Hits {
		h := toSearchHit(&res.Hits[i])
		published := ""
		if !h.Published.IsZero() {
			published = h.Published.Format(time.DateOnly)
		}
		cw.Write([]string{h.ID, h.URL, h.Title, h.Agency, h.Source, h.Country, h.Language, h.Label,
			strings.Join(h.Themes, ";"), published, strconv.Itoa(h.Version), strconv.FormatFloat(h.Score, 'f', 4, 64), h.Fragment})
	}
	cw.Flush()
	return cw.Error()
}

func writeSearchText(w io.Writer, q *index.Query, res *index.Result, terminal bool) {
	first := (q.Page-1)*q.Size + 1
	switch {
	case res.Total == 0:
		fmt.Fprintf(w, "no releases match\n")
	case len(res.Hits) == 0:
		fmt.Fprintf(w, "%d releases match; page %d is past the last one\n", res.Total, q.Page)
	default:
		fmt.Fprintf(w, "%d releases match; %d–%d:\n", res.Total, first, first+len(res.Hits)-1)
	}
	open, close := "«", "»"
	if terminal {
		open, close = "\x1b[1m", "\x1b[0m"
	}
	for i, h := range res.Hits {
		date := "no date"
		if !h.Published.IsZero() {
			date = h.Published.Format(time.DateOnly)
		}
		revised := ""
		if h.Version > 1 {
			revised = fmt.Sprintf(" · revised (version %d)", h.Version)
		}
		fmt.Fprintf(w, "\n%d. %s\n   %s · %s · %s%s\n", first+i, h.Title, h.Agency, date, h.Label, revised)
		if len(h.Fragments) > 0 {
			fmt.Fprintf(w, "   %s\n", plainFragment(h.Fragments[0], open, close))
		}
		fmt.Fprintf(w, "   %s\n", h.URL)
	}
	for _, name := range []string{"label", "theme", "source", "country", "language", "year"} {
		counts, ok := res.Facets[name]
		if !ok {
			continue
		}
		parts := make([]string, len(counts))
		for i, c := range counts {
			parts[i] = fmt.Sprintf("%s %d", c.Value, c.Count)
		}
		fmt.Fprintf(w, "\n%s: %s", name, strings.Join(parts, " · "))
	}
	if len(res.Facets) > 0 {
		fmt.Fprintln(w)
	}
}

// plainFragment turns an HTML fragment from the index into text, with the
// matches between open and close.
func plainFragment(fragment, open, close string) string {
	r := strings.NewReplacer("<mark>", "\x00", "</mark>", "\x01")
	s := html.UnescapeString(r.Replace(fragment))
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("\x00", open, "\x01", close).Replace(s)
}
