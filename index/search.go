package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
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
	// IndexedAfter keeps releases indexed strictly after this instant
	// (Hit.IndexedAt); zero keeps all.
	IndexedAfter time.Time
	Sort         Sort
	// After is a cursor, Result.Next of the previous page: the page is the
	// hits after that one. Cursors page results sorted by date (After
	// implies SortDate), past MaxResultWindow; Page must be 0 or 1.
	After     string
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
	// Next is the cursor of the page after this one (Query.After), set
	// when hits are sorted by date and the page is full. The page it leads
	// to may be empty.
	Next string
	Took time.Duration
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
	// Version is the release's archived version: 1 for the first, more
	// when the release was revised after it was first published.
	Version int
	// RulesVersion is the version of the rules that set Label.
	RulesVersion string
	// IndexedAt is when the release was last indexed.
	IndexedAt time.Time
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
// *SyntaxError for query text that does not parse) when q is invalid, and
// ErrBusy when ctx ends while it waits its turn among the searches (see
// searchSlots).
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	free, spare, err := x.slots.take(ctx)
	if err != nil {
		return nil, err
	}
	defer free()
	ctx = withSearchTurn(ctx, x.slots, 1+spare)
	bi, release, err := x.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	if err := x.validate(bi, &q); err != nil {
		return nil, err
	}
	bq, err := buildQuery(&q, true)
	if err != nil {
		return nil, err
	}
	bq = withKept(bq, &x.kept)
	var facets *facetCounter
	if q.Facets {
		facets = &facetCounter{cache: &x.facets}
		defer facets.close()
	}
	ctx = withPhraseScratch(ctx, &x.scratch)
	var res *bleve.SearchResult
	if q.Sort == SortDate {
		res, err = searchByDate(ctx, bi, bq, &q, facets, &x.facets)
	} else {
		req := bleve.NewSearchRequestOptions(&yieldingQuery{withFacets(bq, facets)}, q.Size, (q.Page-1)*q.Size, false)
		req.Fields = []string{fieldMeta}
		res, err = bi.SearchInContext(ctx, req)
	}
	if err != nil {
		return nil, searchError(ctx, err)
	}
	r, err := toResult(res)
	if err != nil {
		return nil, err
	}
	if q.Sort == SortDate && len(res.Hits) == q.Size {
		r.Next = encodeCursor(res.Hits[len(res.Hits)-1].Sort)
	}
	if facets != nil {
		counts, err := facets.counts()
		if err != nil {
			return nil, fmt.Errorf("index: search: %v", err)
		}
		r.Facets = facetCounts(counts)
	}
	if q.Highlight && strings.TrimSpace(q.Text) != "" && len(r.Hits) > 0 {
		if err := highlight(ctx, bi, &q, r, &x.kept); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func searchError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("index: search: %w", ctx.Err())
	}
	return fmt.Errorf("index: search: %v", err)
}

// withFacets returns bq, made to note its matches in facets when facets
// are asked for.
func withFacets(bq query.Query, facets *facetCounter) query.Query {
	if facets == nil {
		return bq
	}
	return &facetQuery{q: bq, c: facets}
}

// searchByDate runs a query sorted by date, newest first. Sorting reads the
// date of every match, which is slow for queries matching most of the
// index; so when a query matches many releases, searchByDate first looks
// for the page among the releases of the last days (as many days as should
// hold four pages, from the query's matches per day over the years in the
// index), then in windows four times wider, and only then among all. The releases outside a window that
// holds the whole page are all older, so the page is the same. Total and
// facets come from a first search that neither sorts nor loads hits.
func searchByDate(ctx context.Context, bi bleve.Index, bq query.Query, q *Query, facets *facetCounter, kept *facetCache) (*bleve.SearchResult, error) {
	all, err := count(ctx, bi, bq, facets)
	if err != nil {
		return nil, err
	}
	need := uint64(q.Page * q.Size)
	after, err := decodeCursor(q.After)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
	}
	sorted := func(bq query.Query) (*bleve.SearchResult, error) {
		byDay := &daySort{}
		req := bleve.NewSearchRequestOptions(&yieldingQuery{&daySortQuery{q: bq, s: byDay, facets: kept}}, q.Size, (q.Page-1)*q.Size, false)
		req.Fields = []string{fieldMeta}
		// dateOrder: releases of one day come by ID, so that the order
		// does not depend on how the index was built.
		req.SortByCustom(search.SortOrder{byDay, &search.SortDocID{}})
		req.SearchAfter = after
		req.Score = bleve.ScoreNone
		return bi.SearchInContext(ctx, req)
	}
	var res *bleve.SearchResult
	if oldest, end, ok := dateSpan(bi, after); ok && all.Total > 4*need && all.Total > 2000 {
		spanDays := int(end.Sub(oldest).Hours() / 24)
		days := max(3, int(4*need*uint64(spanDays)/all.Total))
		for ; days < spanDays; days *= 4 {
			var window query.Query = &filterQuery{q: dateQuery(fieldPublished, end.AddDate(0, 0, -days), time.Time{})}
			if _, all := bq.(*query.MatchAllQuery); !all {
				window = bleve.NewConjunctionQuery(bq, window)
			}
			if res, err = sorted(window); err != nil {
				return nil, err
			}
			if len(res.Hits) == q.Size { // the page is whole within the window
				break
			}
			res = nil
		}
	}
	if res == nil {
		if res, err = sorted(bq); err != nil {
			return nil, err
		}
	}
	res.Total = all.Total
	return res, nil
}

// count returns the number of matches of bq, noting them in facets when
// facets are asked for.
func count(ctx context.Context, bi bleve.Index, bq query.Query, facets *facetCounter) (*bleve.SearchResult, error) {
	if _, all := bq.(*query.MatchAllQuery); all && facets == nil {
		n, err := bi.DocCount()
		return &bleve.SearchResult{Total: n}, err
	}
	req := bleve.NewSearchRequestOptions(&yieldingQuery{withFacets(bq, facets)}, 0, 0, false)
	req.Score = bleve.ScoreNone
	return bi.SearchInContext(ctx, req)
}

// dateOrder sorts newest first, then by ID; Query.After cursors hold a
// hit's values of these two.
var dateOrder = []string{"-" + fieldDay, "_id"}

// dateSpan returns the span of publication days a date-sorted page can come
// from: from the first day of the oldest year in the index to the day after
// the cursor's or, without a cursor, to the end of the newest year. It
// is not ok when the index holds no dates or the cursor is past them (among
// releases without a date).
func dateSpan(bi bleve.Index, after []string) (from, end time.Time, ok bool) {
	oldest, newest, ok := yearSpan(bi)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	from, end = time.Date(oldest, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(newest+1, 1, 1, 0, 0, 0, 0, time.UTC)
	if after != nil {
		d, err := time.Parse("20060102", after[0])
		if err != nil {
			return time.Time{}, time.Time{}, false
		}
		end = d.AddDate(0, 0, 1)
	}
	return from, end, true
}

// yearSpan returns the first and last publication years in the index.
func yearSpan(bi bleve.Index) (oldest, newest int, ok bool) {
	dict, err := bi.FieldDict(fieldYear)
	if err != nil {
		return 0, 0, false
	}
	defer dict.Close()
	for {
		e, err := dict.Next()
		if err != nil || e == nil {
			break
		}
		y, err := strconv.Atoi(e.Term)
		if err != nil {
			continue
		}
		if oldest == 0 || y < oldest {
			oldest = y
		}
		newest = max(newest, y)
	}
	return oldest, newest, newest > 0
}

// validate checks q and fills in its defaults.
func (x *Index) validate(bi bleve.Index, q *Query) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if q.After != "" {
		if q.Sort == "" {
			q.Sort = SortDate
		}
		if q.Sort != SortDate {
			bad("a cursor (after) pages hits sorted by date, not by %s", q.Sort)
		}
		if q.Page > 1 {
			bad("page %d with a cursor (after); a cursor replaces page numbers", q.Page)
		}
		if _, err := decodeCursor(q.After); err != nil {
			errs = append(errs, err)
		}
	}
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
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"since", q.Since}, {"until", q.Until}} {
		if !f.t.IsZero() && !inDateRange(f.t) {
			bad("%s %s is out of range: %s", f.name, f.t.Format(time.DateOnly), dateRangeText)
		}
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

// buildQuery translates q's text and filters into one bleve query: the
// conjunction of the text's query with the unscored filters; fast is
// translate's.
func buildQuery(q *Query, fast bool) (query.Query, error) {
	var text query.Query
	if strings.TrimSpace(q.Text) != "" {
		e, err := Parse(q.Text)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
		}
		text = translate(e, fast)
	}
	var filters []query.Query
	var key strings.Builder // what the filters match, as text
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
		var values []string
		for _, v := range f.values {
			terms = append(terms, keywordQuery(f.field, v))
			values = append(values, strings.ToLower(v))
		}
		filters = append(filters, disjunction(terms))
		slices.Sort(values)
		fmt.Fprintf(&key, "%s:%q ", f.field, values)
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		filters = append(filters, dateQuery(fieldPublished, q.Since, q.Until))
		fmt.Fprintf(&key, "published:%s..%s ", q.Since.Format(time.DateOnly), q.Until.Format(time.DateOnly))
	}
	if !q.IndexedAfter.IsZero() {
		filters = append(filters, indexedAfter(q.IndexedAfter))
		fmt.Fprintf(&key, "indexed>%s ", q.IndexedAfter.Format(time.RFC3339Nano))
	}
	switch {
	case len(filters) == 0 && text == nil:
		return bleve.NewMatchAllQuery(), nil
	case len(filters) == 0:
		return text, nil
	}
	filter := &filterQuery{q: filters[0]}
	if len(filters) > 1 {
		filter.q = bleve.NewConjunctionQuery(filters...)
	}
	if text == nil {
		return filter, nil
	}
	return &filteredQuery{text: text, filter: filter, key: key.String()}, nil
}

// withKept returns bq, the matches of its filters and phrases and the
// postings of its words kept in c.
func withKept(bq query.Query, c *keptCache) query.Query {
	switch q := bq.(type) {
	case *phraseQuery:
		q.cache = c
	case *filteredQuery:
		q.cache = c
		withKept(q.text, c)
	case *query.ConjunctionQuery:
		for _, x := range q.Conjuncts {
			withKept(x, c)
		}
	case *orQuery:
		q.cache = c
		for _, x := range q.operands {
			withKept(x, c)
		}
	case *query.BooleanQuery:
		for _, x := range []query.Query{q.Must, q.Should, q.MustNot} {
			if x != nil {
				withKept(x, c)
			}
		}
	}
	return bq
}

// indexedAfter matches releases indexed strictly after t. Bleve compares
// the instants exactly: both are int64 nanoseconds.
func indexedAfter(t time.Time) query.Query {
	exclusive := false
	q := bleve.NewDateRangeInclusiveQuery(t, time.Time{}, &exclusive, nil)
	q.SetField(fieldIndexed)
	return q
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
		ID:           atalaya.ID(h.ID),
		URL:          r.URL,
		Title:        r.Title,
		Agency:       r.Agency,
		Source:       r.Source,
		Country:      string(r.Country),
		Language:     string(r.Language),
		Label:        string(s.Verdict.Label),
		Themes:       s.Verdict.Themes,
		Published:    r.Published,
		Version:      r.Version,
		RulesVersion: s.Verdict.RulesVersion,
		IndexedAt:    s.IndexedAt,
		Score:        h.Score,
	}
	for _, f := range []string{fieldBodyEN, fieldBodyES} {
		hit.Fragments = append(hit.Fragments, h.Fragments[f]...)
	}
	return hit, nil
}
