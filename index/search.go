package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	"atalaya"
	"atalaya/classify"
)

// Sort orders search hits.
type Sort string

// The orders a Query can ask for.
const (
	SortRelevance Sort = "relevance" // best match first; the default
	SortDate      Sort = "date"      // newest first
)

// Limits on a Query.
const (
	DefaultPageSize = 10
	MaxPageSize     = 100
	// MaxResultWindow bounds Page×Size: deep pages cost as much as
	// everything before them.
	MaxResultWindow = 10000
)

// Query is one search: query-language text plus filters. Filters of one kind
// are ORed (Labels {"kingpin", "mixed"} matches either); different kinds
// are ANDed with each other and with Text.
type Query struct {
	Text      string   // query language (see QUERY.md); empty matches every release
	Labels    []string // verdict labels
	Themes    []string
	Sources   []string // source IDs: "state", "sre", …
	Agencies  []string
	Countries []string  // "US", "MX"
	Languages []string  // "en", "es"
	Since     time.Time // published on or after this day
	Until     time.Time // published on or before this day
	Sort      Sort
	Page      int // 1-based; 0 means 1
	Size      int // hits per page; 0 means DefaultPageSize
	Facets    bool
	Highlight bool
}

// Result is one page of hits.
type Result struct {
	Total uint64 // releases matching, over all pages
	Hits  []Hit
	// Facets holds, when asked, counts of the matching releases by "label",
	// "theme", "source", "country", "language" and "year".
	Facets map[string][]FacetCount
	Took   time.Duration
}

// FacetCount is the number of matching releases with one value of a field.
type FacetCount struct {
	Value string
	Count int
}

// Hit is one matching release.
type Hit struct {
	ID        atalaya.ID
	URL       string
	Title     string
	Agency    string
	Source    atalaya.SourceID
	Country   string
	Language  string
	Label     string
	Themes    []string
	Published time.Time
	Score     float64
	// Fragments are passages of the body around the matches, when
	// highlighting was asked. They are HTML: text is escaped and matches
	// are wrapped in <mark>…</mark>.
	Fragments []string
}

// Facet names and the number of values reported for each.
var facetSizes = map[string]int{
	fieldLabel: 10, fieldTheme: 30, fieldSource: 20, fieldCountry: 5, fieldLanguage: 5, fieldYear: 50,
}

// Search runs q. It returns an error wrapping ErrBadQuery (and a
// *SyntaxError for query text that does not parse) when q is invalid.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	bi, release, err := x.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	if err := x.validate(bi, &q); err != nil {
		return nil, err
	}
	bq, err := buildQuery(&q)
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(bq, q.Size, (q.Page-1)*q.Size, false)
	req.Fields = []string{fieldMeta}
	if q.Sort == SortDate {
		req.SortBy([]string{"-" + fieldPublished, "_id"})
	}
	if q.Facets {
		for name, size := range facetSizes {
			req.AddFacet(name, bleve.NewFacetRequest(name, size))
		}
	}
	if q.Highlight {
		req.Highlight = bleve.NewHighlightWithStyle(html.Name)
		req.Highlight.Fields = []string{fieldBodyEN, fieldBodyES}
	}
	res, err := bi.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("index: search: %w", ctx.Err())
		}
		return nil, fmt.Errorf("index: search: %v", err)
	}
	return toResult(res)
}

// validate checks q and fills in its defaults.
func (x *Index) validate(bi bleve.Index, q *Query) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch q.Sort {
	case "":
		q.Sort = SortRelevance
	case SortRelevance, SortDate:
	default:
		bad("unknown sort %q; want relevance or date", q.Sort)
	}
	if q.Page < 0 {
		bad("page %d is negative", q.Page)
	}
	if q.Page == 0 {
		q.Page = 1
	}
	switch {
	case q.Size < 0:
		bad("page size %d is negative", q.Size)
	case q.Size == 0:
		q.Size = DefaultPageSize
	case q.Size > MaxPageSize:
		bad("page size %d is over the limit of %d", q.Size, MaxPageSize)
	}
	if q.Page > 0 && q.Size > 0 && q.Page*q.Size > MaxResultWindow {
		bad("page %d of %d hits goes past the first %d hits; narrow the query instead", q.Page, q.Size, MaxResultWindow)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		bad("until %s is before since %s", q.Until.Format(time.DateOnly), q.Since.Format(time.DateOnly))
	}
	checkValues(bad, "country", q.Countries, []string{"us", "mx"})
	checkValues(bad, "language", q.Languages, []string{"en", "es"})
	if len(q.Labels) > 0 {
		labels, err := x.knownLabels(bi)
		if err != nil {
			return err
		}
		checkValues(bad, "label", q.Labels, labels)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadQuery, errors.Join(errs...))
	}
	return nil
}

func checkValues(bad func(string, ...any), name string, values, known []string) {
	for _, v := range values {
		if !slices.Contains(known, strings.ToLower(v)) {
			bad("unknown %s %q; known: %s", name, v, strings.Join(known, ", "))
		}
	}
}

// knownLabels returns the labels a query may filter on: those declared in
// the options, mixed, neither, and those in the index.
func (x *Index) knownLabels(bi bleve.Index) ([]string, error) {
	known := []string{string(classify.Mixed), string(classify.Neither)}
	for _, l := range x.opts.KnownLabels {
		known = append(known, strings.ToLower(string(l)))
	}
	dict, err := bi.FieldDict(fieldLabel)
	if err != nil {
		return nil, fmt.Errorf("index: reading labels: %v", err)
	}
	defer dict.Close()
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("index: reading labels: %v", err)
		}
		if e == nil {
			break
		}
		known = append(known, e.Term)
	}
	slices.Sort(known)
	return slices.Compact(known), nil
}

// buildQuery translates q's text and filters into one bleve query.
func buildQuery(q *Query) (query.Query, error) {
	var parts []query.Query
	if strings.TrimSpace(q.Text) != "" {
		e, err := Parse(q.Text)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
		}
		parts = append(parts, translate(e))
	}
	for _, f := range []struct {
		field  string
		values []string
	}{
		{fieldLabel, q.Labels}, {fieldTheme, q.Themes}, {fieldSource, q.Sources},
		{fieldAgency, q.Agencies}, {fieldCountry, q.Countries}, {fieldLanguage, q.Languages},
	} {
		if len(f.values) == 0 {
			continue
		}
		var terms []query.Query
		for _, v := range f.values {
			terms = append(terms, keywordQuery(f.field, v))
		}
		parts = append(parts, disjunction(terms))
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		parts = append(parts, dateQuery(fieldPublished, q.Since, q.Until))
	}
	switch len(parts) {
	case 0:
		return bleve.NewMatchAllQuery(), nil
	case 1:
		return parts[0], nil
	}
	return bleve.NewConjunctionQuery(parts...), nil
}

// toResult converts a bleve result.
func toResult(res *bleve.SearchResult) (*Result, error) {
	r := &Result{Total: res.Total, Took: res.Took, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		hit, err := toHit(h)
		if err != nil {
			return nil, err
		}
		r.Hits = append(r.Hits, hit)
	}
	if len(res.Facets) > 0 {
		r.Facets = make(map[string][]FacetCount, len(res.Facets))
		for name, f := range res.Facets {
			r.Facets[name] = facetCounts(name, f)
		}
	}
	return r, nil
}

func toHit(h *search.DocumentMatch) (Hit, error) {
	metaJSON, _ := h.Fields[fieldMeta].(string)
	var s stored
	if err := json.Unmarshal([]byte(metaJSON), &s); err != nil {
		return Hit{}, fmt.Errorf("index: hit %s: decoding stored fields: %v", h.ID, err)
	}
	r := &s.Release
	hit := Hit{
		ID:        atalaya.ID(h.ID),
		URL:       r.URL,
		Title:     r.Title,
		Agency:    r.Agency,
		Source:    r.Source,
		Country:   string(r.Country),
		Language:  string(r.Language),
		Label:     string(s.Verdict.Label),
		Themes:    s.Verdict.Themes,
		Published: r.Published,
		Score:     h.Score,
	}
	for _, f := range []string{fieldBodyEN, fieldBodyES} {
		hit.Fragments = append(hit.Fragments, h.Fragments[f]...)
	}
	return hit, nil
}

// facetCounts lists a facet's values by count, most first; years are
// listed newest first. Countries are reported upper-case, as atalaya.Country.
func facetCounts(name string, f *search.FacetResult) []FacetCount {
	out := []FacetCount{}
	if f.Terms != nil {
		for _, t := range f.Terms.Terms() {
			v := t.Term
			if name == fieldCountry {
				v = strings.ToUpper(v)
			}
			out = append(out, FacetCount{Value: v, Count: t.Count})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if name == fieldYear {
			return out[i].Value > out[j].Value
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}
