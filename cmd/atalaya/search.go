package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/classify"
	"atalaya/index"
)

const searchSynopsis = "search QUERY [--label L] [--theme T] [--source S] [--agency A] [--country C] [--language L] [--since D] [--until D] [--sort relevance|date] [--page N] [--size N] [--facets] [--json | --format text|csv|jsonl [--fields F,…] [--all]]"

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

// searchOutput is "search --json": the API's search response
// (GET /api/search) with the page asked for.
type searchOutput struct {
	api.SearchResponse
	Page int `json:"page"`
	Size int `json:"size"`
}

// maxCLIPageSize bounds --size: larger pages are read from the index
// MaxPageSize hits at a time.
const maxCLIPageSize = 1000

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
	fs.IntVar(&q.Size, "size", index.DefaultPageSize, "hits per `page`, up to 1000")
	all := fs.Bool("all", false, "stream every hit, newest first, with no limit (with --format jsonl or csv; --page and --size do not apply)")
	fields := fs.String("fields", strings.Join(defaultExportFields, ","), "`columns` of csv and jsonl, comma-separated, from: "+strings.Join(exportFields, ", "))
	fs.BoolVar(&q.Facets, "facets", false, "count the matches by label, theme, source, country, language and year")
	asJSON := fs.Bool("json", false, "print the result as one JSON object, with facets (same as --format json)")
	format := fs.String("format", "text", "output `format`: text, json, jsonl or csv")
	fs.Usage = func() {
		e.usageShown = true
		fmt.Fprintf(&e.usage, "Usage: atalaya %s\n\n%s\n", searchSynopsis, searchHelp)
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
	if q.Page < 1 {
		return &usageError{msg: fmt.Sprintf("--page %d: pages are numbered from 1", q.Page)}
	}
	if q.Size < 1 || q.Size > maxCLIPageSize {
		return &usageError{msg: fmt.Sprintf("--size %d: want 1 to %d; --all streams every hit", q.Size, maxCLIPageSize)}
	}
	if *all && *format != "jsonl" && *format != "csv" {
		return &usageError{msg: "--all streams every hit: use it with --format jsonl or csv"}
	}
	cols, err := parseFields(*fields)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	export := *format == "jsonl" || *format == "csv"
	if flagGiven(fs, "fields") && !export {
		return &usageError{msg: "--fields chooses the columns of --format csv or jsonl"}
	}
	// Fragments cost a pass over each hit's body: only when shown.
	q.Highlight = !export || slices.Contains(cols, "fragment")
	if *format == "json" {
		q.Facets = true
	}

	if err := e.checkFilters(&q); err != nil {
		return err
	}
	e.warnIfReclassifying(e.stderr)
	b, err := e.openSearch(ctx)
	if err != nil {
		return err
	}
	defer b.close()
	if *all {
		return exportAll(ctx, b, q, *format, cols, e.stdout)
	}
	res, err := widePage(ctx, b, q)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return writeSearchJSON(e.stdout, &q, res)
	case "jsonl", "csv":
		w := newExportWriter(*format, cols, e.stdout)
		if err := w.header(); err != nil {
			return err
		}
		if err := w.hits(ctx, b, res.Hits); err != nil {
			return err
		}
		return w.flush()
	}
	writeSearchText(e.stdout, &q, res, e.colorOn(e.stdout))
	return nil
}

// searchBackend is where search reads: the running service, or the index.
type searchBackend interface {
	search(ctx context.Context, q index.Query) (*index.Result, error)
	// document returns a release in full: body and verdict with evidence.
	document(ctx context.Context, id atalaya.ID) (index.Document, error)
	close() error
}

// openSearch returns the running service if there is one, else the index.
func (e *env) openSearch(ctx context.Context) (searchBackend, error) {
	if c := e.runningService(ctx); c != nil {
		return c, nil
	}
	if _, err := os.Stat(e.indexDir()); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no index in %s yet; run 'atalaya crawl' or 'atalaya reindex' first", e.dataDir)
	}
	idx, err := e.openIndex()
	if err != nil {
		return nil, err
	}
	return localSearch{idx}, nil
}

// localSearch reads the index directly.
type localSearch struct{ idx *index.Index }

func (l localSearch) search(ctx context.Context, q index.Query) (*index.Result, error) {
	return l.idx.Search(ctx, q)
}

func (l localSearch) document(ctx context.Context, id atalaya.ID) (index.Document, error) {
	return l.idx.Get(ctx, id)
}

func (l localSearch) close() error { return l.idx.Close() }

// document reads release id in full from the service.
func (c *serviceClient) document(ctx context.Context, id atalaya.ID) (index.Document, error) {
	var r api.ReleaseResponse
	if err := c.get(ctx, "/api/releases/"+url.PathEscape(string(id)), nil, &r); err != nil {
		return index.Document{}, fmt.Errorf("release %s: %w", id, err)
	}
	d := index.Document{
		Release: atalaya.Release{ID: atalaya.ID(r.ID), URL: r.URL, Source: atalaya.SourceID(r.Source), Agency: r.Agency,
			Country: atalaya.Country(r.Country), Language: atalaya.Language(r.Language), Title: r.Title, Body: r.Body, Version: r.Version},
		Verdict: classify.Verdict{Label: classify.Label(r.Label), Themes: r.Themes, RulesVersion: r.RulesVersion},
	}
	if r.Published != nil {
		d.Release.Published = *r.Published
	}
	for _, ev := range r.Evidence {
		d.Verdict.Evidence = append(d.Verdict.Evidence, classify.Evidence{Rule: ev.Rule, Label: classify.Label(ev.Label),
			Topic: ev.Topic, Theme: ev.Theme, Field: ev.Field, Match: ev.Match, Sentence: ev.Sentence, Weight: ev.Weight})
	}
	return d, nil
}

func (c *serviceClient) close() error { return nil }

// widePage runs q, whose page may hold up to maxCLIPageSize hits, as
// searches of at most index.MaxPageSize hits. The cursor (Next) is kept
// only when the page ends where the last search does.
func widePage(ctx context.Context, b searchBackend, q index.Query) (*index.Result, error) {
	if q.Size <= index.MaxPageSize {
		return b.search(ctx, q)
	}
	offset := (q.Page - 1) * q.Size
	if offset+q.Size > index.MaxResultWindow {
		return nil, fmt.Errorf("page %d of %d hits goes past the first %d hits; narrow the query, or stream every hit with --all --format jsonl", q.Page, q.Size, index.MaxResultWindow)
	}
	sub := q
	sub.Size = index.MaxPageSize
	var out *index.Result
	var hits []index.Hit
	skip := offset % index.MaxPageSize
	for sub.Page = offset/index.MaxPageSize + 1; len(hits) < skip+q.Size; sub.Page++ {
		res, err := b.search(ctx, sub)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = res
			sub.Facets = false
		}
		out.Next = res.Next
		hits = append(hits, res.Hits...)
		if len(res.Hits) < sub.Size {
			out.Next = ""
			break
		}
	}
	if skip+q.Size < len(hits) || skip > 0 {
		out.Next = ""
	}
	hits = hits[min(skip, len(hits)):]
	out.Hits = hits[:min(q.Size, len(hits))]
	return out, nil
}

// exportAll streams every hit of q, newest first, a page of
// index.MaxPageSize at a time through the date cursor: no result window
// limits it.
func exportAll(ctx context.Context, b searchBackend, q index.Query, format string, cols []string, w io.Writer) error {
	q.Sort, q.Page, q.Size, q.Facets = index.SortDate, 1, index.MaxPageSize, false
	out := newExportWriter(format, cols, w)
	if err := out.header(); err != nil {
		return err
	}
	for {
		res, err := b.search(ctx, q)
		if err != nil {
			return err
		}
		if err := out.hits(ctx, b, res.Hits); err != nil {
			return err
		}
		if res.Next == "" || len(res.Hits) == 0 {
			return out.flush()
		}
		q.After, q.Sort, q.Page = res.Next, "", 0
	}
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

func writeSearchJSON(w io.Writer, q *index.Query, res *index.Result) error {
	out := searchOutput{Page: q.Page, Size: q.Size, SearchResponse: api.SearchResponse{
		Total: res.Total, Hits: make([]api.HitDTO, 0, len(res.Hits)), Facets: api.FacetDTOsOf(res.Facets),
		Next: res.Next, TookMS: float64(res.Took.Microseconds()) / 1000,
	}}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, api.HitDTOOf(h))
	}
	return writeJSON(w, out)
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
