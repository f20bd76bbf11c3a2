package web

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"atalaya"
	"atalaya/index"
)

// filterParams are the URL parameters that filter a search, with the titles
// of their facets, in the order the sidebar shows them. They are the API's
// parameter names.
var filterParams = []struct{ param, title string }{
	{"label", "Label"}, {"theme", "Theme"}, {"source", "Source"}, {"agency", "Agency"},
	{"country", "Country"}, {"language", "Language"},
}

// maxQueryLen bounds the query text, in characters, as the API does.
const maxQueryLen = 1000

// The years a date filter may name: the index's date ranges hold
// nanoseconds since 1970 in 64 bits (1678 to 2262).
const minYear, maxYear = 1900, 2199

// searchForm is a search as the URL states it.
type searchForm struct {
	Q       string
	Filters map[string][]string // by parameter name
	Since   string              // YYYY-MM-DD or empty
	Until   string
	Sort    string // "relevance" or "date"
	Size    int
	Page    int
}

// queryError is a search the index refused, to show next to the query box.
type queryError struct {
	Message string
	// Before, At and After split the query at the position of a syntax
	// error; At is empty when the error has no position.
	Before, At, After string
	HasPos            bool
}

// segment is a run of text, marked when it matched the query or a rule.
type segment struct {
	Text  string
	Mark  bool
	Rule  string // the rules whose evidence this is, on the release page
	Label string // the label of those rules, when they agree
}

// hitView is one search hit as the result list shows it.
type hitView struct {
	ID        atalaya.ID
	Title     string
	Agency    string
	Published time.Time
	Language  string
	Label     string
	Themes    []string
	Fragments [][]segment
}

// facetEntry is one value of a facet, with the link that toggles it.
type facetEntry struct {
	Value    string
	Display  string // the value as a reader says it
	Count    int
	Selected bool
	URL      string
}

// facetGroup is one facet of the sidebar.
type facetGroup struct {
	Param, Title string
	Entries      []facetEntry
}

// queryForm is the query box of the search and trends pages.
type queryForm struct {
	Action, Button string
	Form           searchForm
	FormErrors     []string
	QueryErr       *queryError
	Hidden         []hiddenField  // active filters carried by the form
	Help           []queryExample // shown, with the sort control, on the search page
}

// newQueryForm reads the search of the request's URL for the query box at
// action. It reports whether the URL was valid.
func newQueryForm(r *http.Request, action, button string) (queryForm, bool) {
	form, problems := parseSearchForm(r.URL.Query())
	qf := queryForm{Action: action, Button: button, Form: form, FormErrors: problems}
	for _, p := range filterParams {
		for _, val := range form.Filters[p.param] {
			qf.Hidden = append(qf.Hidden, hiddenField{p.param, val})
		}
	}
	return qf, len(problems) == 0
}

// searchData is what the search page shows.
type searchData struct {
	Box        queryForm
	Searched   bool
	Total      uint64
	Hits       []hitView
	Facets     []facetGroup
	Page       int
	Pages      int
	Prev, Next string
	First      string // the first page of the search
	Capped     bool   // the search matches more than its pages reach
	Window     int
	Export     exportLinks
}

// hiddenField is a filter the search form carries along when it is
// submitted again.
type hiddenField struct{ Name, Value string }

// exportLinks point at the API routes that export or follow the search.
type exportLinks struct{ CSV, JSONL, Atom, Trends string }

// queryExample is an example of the query language, shown in the help.
type queryExample struct{ Query, Meaning string }

var queryExamples = []queryExample{
	{`fentanilo OR fentanyl`, "either word, in Spanish or English releases"},
	{`sanctions cartel`, "both words (AND is implied)"},
	{`extradición AND NOT label:neither`, "extradition news that was classified"},
	{`"arms trafficking"`, "the exact phrase"},
	{`extradi*`, "words starting with extradi: extradición, extradited…"},
	{`label:root_cause country:MX`, "root-cause measures announced in Mexico"},
	{`published:[2025-01-01 TO 2025-06-30]`, "published in the first half of 2025"},
	{`(prevención OR prevention) -theme:sanctions`, "prevention, without sanctions"},
}

// parseSearchForm reads a search from the URL. It returns the form as far as
// it could read it and one message per bad parameter.
func parseSearchForm(v url.Values) (searchForm, []string) {
	f := searchForm{Q: v.Get("q"), Filters: map[string][]string{}, Sort: "relevance", Size: index.DefaultPageSize, Page: 1}
	var problems []string
	if n := utf8.RuneCountInString(f.Q); n > maxQueryLen {
		problems = append(problems, fmt.Sprintf("The query is %d characters long; the limit is %d.", n, maxQueryLen))
	}
	for _, p := range filterParams {
		for _, val := range v[p.param] {
			if val = strings.TrimSpace(val); val != "" && !slices.Contains(f.Filters[p.param], val) {
				f.Filters[p.param] = append(f.Filters[p.param], val)
			}
		}
	}
	for _, d := range []struct {
		name string
		dst  *string
	}{{"since", &f.Since}, {"until", &f.Until}} {
		val := strings.TrimSpace(v.Get(d.name))
		if val == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, val)
		if err != nil {
			problems = append(problems, fmt.Sprintf("The %s date %q is not a date: write it as YYYY-MM-DD.", d.name, val))
			continue
		}
		if t.Year() < minYear || t.Year() > maxYear {
			problems = append(problems, fmt.Sprintf("The %s date %s is out of range: years %d to %d can be searched.", d.name, val, minYear, maxYear))
			continue
		}
		*d.dst = val
	}
	switch s := v.Get("sort"); s {
	case "", "relevance":
	case "date":
		f.Sort = s
	default:
		problems = append(problems, fmt.Sprintf("Sort %q is not known: use relevance or date.", s))
	}
	if s := v.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > index.MaxPageSize {
			problems = append(problems, fmt.Sprintf("Page size %q is not a number from 1 to %d.", s, index.MaxPageSize))
		} else {
			f.Size = n
		}
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("Page %q is not a number from 1 on.", s))
		} else {
			f.Page = min(n, index.MaxResultWindow/f.Size)
		}
	}
	return f, problems
}

// query returns the index query of the form.
func (f searchForm) query() index.Query {
	q := index.Query{
		Text: f.Q, Labels: f.Filters["label"], Themes: f.Filters["theme"], Sources: f.Filters["source"],
		Agencies: f.Filters["agency"], Countries: f.Filters["country"], Languages: f.Filters["language"],
		Sort: index.Sort(f.Sort), Page: f.Page, Size: f.Size, Facets: true, Highlight: true,
	}
	q.Since, _ = time.Parse(time.DateOnly, f.Since)
	q.Until, _ = time.Parse(time.DateOnly, f.Until)
	return q
}

// values returns the URL parameters of the search, without its page.
func (f searchForm) values() url.Values {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	for _, p := range filterParams {
		for _, val := range f.Filters[p.param] {
			v.Add(p.param, val)
		}
	}
	if f.Since != "" {
		v.Set("since", f.Since)
	}
	if f.Until != "" {
		v.Set("until", f.Until)
	}
	if f.Sort != "relevance" {
		v.Set("sort", f.Sort)
	}
	if f.Size != index.DefaultPageSize {
		v.Set("size", strconv.Itoa(f.Size))
	}
	return v
}

// searchURL returns the URL of the search page for v.
func searchURL(v url.Values) string {
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// toggled returns the search with value of param added, or removed when it is
// already there, from the first page.
func (f searchForm) toggled(param, value string) string {
	v := f.values()
	vals := v[param]
	if i := slices.Index(vals, value); i >= 0 {
		vals = slices.Delete(slices.Clone(vals), i, i+1)
	} else {
		vals = append(slices.Clone(vals), value)
	}
	if v[param] = vals; len(vals) == 0 {
		v.Del(param)
	}
	return searchURL(v)
}

// yearToggled returns the search restricted to year, or without its date
// range when it is already restricted to that year.
func (f searchForm) yearToggled(year string) (url string, selected bool) {
	v := f.values()
	since, until := year+"-01-01", year+"-12-31"
	selected = f.Since == since && f.Until == until
	if selected {
		v.Del("since")
		v.Del("until")
	} else {
		v.Set("since", since)
		v.Set("until", until)
	}
	return searchURL(v), selected
}

// search serves the search page.
func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	box, ok := newQueryForm(r, "/", "Search")
	box.Help = queryExamples
	form := box.Form
	data := searchData{Box: box, Page: form.Page}
	if !ok {
		h.render(w, r, http.StatusBadRequest, "search", "Search", data)
		return
	}
	res, err := h.deps.Index.Search(r.Context(), form.query())
	if err != nil {
		h.queryFailed(w, r, "search", "Search", &data.Box, &data, "run the search", err)
		return
	}
	data.Searched = true
	data.Total = res.Total
	for _, hit := range res.Hits {
		data.Hits = append(data.Hits, newHitView(hit))
	}
	data.Facets = h.facetGroups(form, res.Facets)
	window := min(res.Total, uint64(index.MaxResultWindow))
	data.Pages = int((window + uint64(form.Size) - 1) / uint64(form.Size))
	data.First, data.Window = pageURL(form, 1), index.MaxResultWindow
	data.Capped = res.Total > uint64(index.MaxResultWindow)
	if form.Page > 1 {
		data.Prev = pageURL(form, min(form.Page-1, max(data.Pages, 1)))
	}
	if form.Page < data.Pages {
		data.Next = pageURL(form, form.Page+1)
	}
	data.Export = newExportLinks(form)
	title := "Search"
	if form.Q != "" {
		title = "Search: " + form.Q
	}
	h.render(w, r, http.StatusOK, "search", title, data)
}

// queryFailed renders a page of the query box again (data, whose box is
// box) with the index's refusal of the query next to the box, or a server
// error when the index failed otherwise.
func (h *handler) queryFailed(w http.ResponseWriter, r *http.Request, name, title string, box *queryForm, data any, what string, err error) {
	if !errors.Is(err, index.ErrBadQuery) {
		h.serverError(w, r, what, err)
		return
	}
	box.QueryErr = newQueryError(box.Form.Q, err)
	h.render(w, r, http.StatusBadRequest, name, title, data)
}

// pageURL returns the URL of page n of the search.
func pageURL(f searchForm, n int) string {
	v := f.values()
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	return searchURL(v)
}

// newExportLinks returns the API links that export the search.
func newExportLinks(f searchForm) exportLinks {
	v := f.values()
	v.Del("size") // the API's exports and feed take only the search's
	v.Del("sort") // parameters, and refuse others
	with := func(path, key, val string) string {
		w := url.Values{}
		for k, vals := range v {
			w[k] = vals
		}
		if key != "" {
			w.Set(key, val)
		}
		if len(w) == 0 {
			return path
		}
		return path + "?" + w.Encode()
	}
	return exportLinks{
		CSV:    with("/api/export", "format", "csv"),
		JSONL:  with("/api/export", "format", "jsonl"),
		Atom:   with("/feed.atom", "", ""),
		Trends: with("/trends", "", ""),
	}
}

// newQueryError explains a query the index refused.
func newQueryError(q string, err error) *queryError {
	var syn *index.SyntaxError
	if errors.As(err, &syn) {
		qe := &queryError{Message: syn.Error(), HasPos: true}
		pos := min(max(syn.Pos, 0), len(q))
		qe.Before = q[:pos]
		if pos < len(q) {
			_, size := utf8.DecodeRuneInString(q[pos:])
			qe.At, qe.After = q[pos:pos+size], q[pos+size:]
		} else {
			qe.At = " "
		}
		return qe
	}
	return &queryError{Message: strings.TrimPrefix(err.Error(), "index: ")}
}

// newHitView returns what the result list shows of hit.
func newHitView(hit index.Hit) hitView {
	v := hitView{ID: hit.ID, Title: hit.Title, Agency: hit.Agency, Published: hit.Published,
		Language: hit.Language, Label: hit.Label, Themes: hit.Themes}
	for _, frag := range hit.Fragments {
		v.Fragments = append(v.Fragments, fragmentSegments(frag))
	}
	return v
}

// fragmentSegments splits a highlighted fragment from the index (escaped
// text with <mark>…</mark> around matches) into plain-text segments, so that
// the template escapes every byte of it again and nothing but the marks
// becomes markup.
func fragmentSegments(frag string) []segment {
	var segs []segment
	mark := false
	for frag != "" {
		tag := "<mark>"
		if mark {
			tag = "</mark>"
		}
		i := strings.Index(frag, tag)
		if i < 0 {
			i = len(frag)
		}
		if i > 0 {
			segs = append(segs, segment{Text: html.UnescapeString(frag[:i]), Mark: mark})
		}
		frag = frag[min(i+len(tag), len(frag)):]
		mark = !mark
	}
	return segs
}

// facetGroups returns the sidebar's facets with counts and toggle links.
// The agency facet is added up from the source facet, each source having
// one agency.
func (h *handler) facetGroups(f searchForm, facets map[string][]index.FacetCount) []facetGroup {
	var groups []facetGroup
	for _, p := range filterParams {
		counts := facets[p.param]
		if p.param == "agency" {
			counts = h.agencyCounts(facets["source"])
		}
		g := facetGroup{Param: p.param, Title: p.title}
		for _, c := range counts {
			sel := slices.ContainsFunc(f.Filters[p.param], func(s string) bool { return strings.EqualFold(s, c.Value) })
			g.Entries = append(g.Entries, facetEntry{Value: c.Value, Display: facetDisplay(p.param, c.Value), Count: c.Count,
				Selected: sel, URL: f.toggled(p.param, c.Value)})
		}
		groups = append(groups, g)
	}
	year := facetGroup{Param: "year", Title: "Year"}
	for _, c := range facets["year"] {
		u, sel := f.yearToggled(c.Value)
		year.Entries = append(year.Entries, facetEntry{Value: c.Value, Display: c.Value, Count: c.Count, Selected: sel, URL: u})
	}
	return append(groups, year)
}

// agencyCounts adds the source counts up by agency, with the agencies of
// the catalog.
func (h *handler) agencyCounts(sources []index.FacetCount) []index.FacetCount {
	agencyOf := map[string]string{}
	for _, src := range h.deps.Catalog {
		agencyOf[strings.ToLower(string(src.ID))] = src.Agency
	}
	var counts []index.FacetCount
	for _, c := range sources {
		agency, ok := agencyOf[strings.ToLower(c.Value)]
		if !ok {
			continue
		}
		i := slices.IndexFunc(counts, func(a index.FacetCount) bool { return a.Value == agency })
		if i < 0 {
			counts = append(counts, index.FacetCount{Value: agency})
			i = len(counts) - 1
		}
		counts[i].Count += c.Count
	}
	slices.SortStableFunc(counts, func(a, b index.FacetCount) int { return b.Count - a.Count })
	return counts
}

// facetDisplay writes a facet value as a reader says it: countries and
// languages by name, labels and themes without underscores.
func facetDisplay(param, value string) string {
	switch param {
	case "country":
		return countryName(value)
	case "language":
		return languageName(value)
	}
	return humanLabel(value)
}

// languageName names a language code.
func languageName(code string) string {
	switch strings.ToLower(code) {
	case "es":
		return "Spanish"
	case "en":
		return "English"
	}
	return code
}
