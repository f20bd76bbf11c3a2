package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"atalaya/index"
	"atalaya/internal/httpx"
)

// queryParams are the parameters every search-like endpoint takes.
var queryParams = []string{"q", "label", "theme", "source", "agency", "country", "language", "since", "until"}

// badRequest is a request error shown to the client as is.
type badRequest struct {
	msg          string
	line, column int
}

func (e *badRequest) Error() string { return e.msg }

func badParam(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// onlyParams refuses the parameters of v other than known.
func onlyParams(v url.Values, known ...string) error {
	for name := range v {
		if !slices.Contains(known, name) {
			return badParam("unknown parameter %q; known: %s", name, strings.Join(known, ", "))
		}
	}
	return nil
}

// parseQuery reads the search parameters of v into an index.Query,
// refusing parameters other than allowed (beside queryParams).
func parseQuery(v url.Values, allowed ...string) (index.Query, error) {
	var q index.Query
	if err := onlyParams(v, append(slices.Clone(queryParams), allowed...)...); err != nil {
		return q, err
	}
	q.Text = v.Get("q")
	if n := utf8.RuneCountInString(q.Text); n > MaxQueryLen {
		return q, badParam("query of %d characters is over the limit of %d", n, MaxQueryLen)
	}
	list := func(name string) []string {
		var out []string
		for _, s := range v[name] {
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
		return out
	}
	q.Labels, q.Themes, q.Sources = list("label"), list("theme"), list("source")
	q.Agencies, q.Countries, q.Languages = list("agency"), list("country"), list("language")
	var err error
	if q.Since, err = day(v, "since"); err != nil {
		return q, err
	}
	if q.Until, err = day(v, "until"); err != nil {
		return q, err
	}
	return q, nil
}

func day(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, badParam("%s=%q: want a date like 2025-01-31", name, s)
	}
	return t, nil
}

// intParam reads an integer parameter; def when absent.
func intParam(v url.Values, name string, def int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badParam("%s=%q: want a whole number", name, s)
	}
	return n, nil
}

// boolParam reads a boolean parameter; def when absent.
func boolParam(v url.Values, name string, def bool) (bool, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badParam("%s=%q: want true or false", name, s)
	}
	return b, nil
}

func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := parseQuery(v, "sort", "size", "page", "after", "facets", "highlight")
	if err == nil {
		err = searchOptions(v, &q)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.Index.Search(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := SearchResponse{Total: res.Total, Hits: make([]HitDTO, 0, len(res.Hits)), Next: res.Next, TookMS: float64(res.Took.Microseconds()) / 1000}
	for _, hit := range res.Hits {
		out.Hits = append(out.Hits, hitDTO(hit))
	}
	if res.Facets != nil {
		out.Facets = map[string][]FacetDTO{}
		for name, counts := range res.Facets {
			list := make([]FacetDTO, 0, len(counts))
			for _, c := range counts {
				list = append(list, FacetDTO{Value: c.Value, Count: c.Count})
			}
			out.Facets[name] = list
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// searchOptions reads sort, size, page, after, facets and highlight.
func searchOptions(v url.Values, q *index.Query) error {
	switch s := v.Get("sort"); s {
	case "": // relevance, or date with a cursor
	case "relevance":
		q.Sort = index.SortRelevance
	case "date", "-published":
		q.Sort = index.SortDate
	default:
		return badParam("sort=%q: want relevance or date", s)
	}
	var err error
	if q.Size, err = intParam(v, "size", index.DefaultPageSize); err != nil {
		return err
	}
	if q.Page, err = intParam(v, "page", 1); err != nil {
		return err
	}
	q.After = v.Get("after")
	if q.Facets, err = boolParam(v, "facets", true); err != nil {
		return err
	}
	q.Highlight, err = boolParam(v, "highlight", true)
	return err
}

// positionRE reads the line and column of a query syntax error.
var positionRE = regexp.MustCompile(`^query:(\d+):(\d+): `)

// fail answers an error: 400 for a bad request or query (with the line and
// column of a syntax error), 404 for a release not found, 503 when the
// index is closed or too busy to take the search in time (with
// Retry-After), 504 past the deadline, 500 otherwise.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequest
	var syntax *index.SyntaxError
	switch {
	case errors.As(err, &bad):
		httpx.Error(w, http.StatusBadRequest, httpx.ErrorBody{Error: bad.msg, Line: bad.line, Column: bad.column})
	case errors.As(err, &syntax):
		body := httpx.ErrorBody{Error: syntax.Error()}
		if m := positionRE.FindStringSubmatch(syntax.Error()); m != nil {
			body.Line, _ = strconv.Atoi(m[1])
			body.Column, _ = strconv.Atoi(m[2])
		}
		httpx.Error(w, http.StatusBadRequest, body)
	case errors.Is(err, index.ErrBadQuery):
		httpx.Error(w, http.StatusBadRequest, httpx.ErrorBody{Error: strings.TrimPrefix(err.Error(), "index: ")})
	case errors.Is(err, index.ErrNotFound) || errors.Is(err, errNotFound):
		httpx.Error(w, http.StatusNotFound, httpx.ErrorBody{Error: err.Error()})
	case errors.Is(err, index.ErrClosed):
		httpx.Error(w, http.StatusServiceUnavailable, httpx.ErrorBody{Error: "the index is closed: the service is stopping"})
	case errors.Is(err, index.ErrBusy):
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, httpx.ErrorBody{Error: "the service is busy with other searches; try again in a moment"})
	case errors.Is(err, context.DeadlineExceeded):
		httpx.Error(w, http.StatusGatewayTimeout, httpx.ErrorBody{Error: "the request took longer than its deadline; narrow the query"})
	default:
		httpx.ServerError(w, r, h.Log, err)
	}
}

// errNotFound marks a missing release or version.
var errNotFound = errors.New("not found")

func (h *handler) trends(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := parseQuery(v, "by", "split", "group")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s := v.Get("split"); s != "" && s != "label" {
		h.fail(w, r, badParam("split=%q: trends are split by label", s))
		return
	}
	req := index.TrendsRequest{Query: q, Period: index.Period(v.Get("by")), Group: index.Group(v.Get("group"))}
	t, err := h.Index.Trends(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := TrendsResponse{Period: string(t.Period), Group: string(t.Group), Periods: t.Periods, Series: make([]SeriesDTO, 0, len(t.Series)), Total: t.Total, Undated: t.Undated}
	for _, s := range t.Series {
		out.Series = append(out.Series, SeriesDTO{Label: s.Label, Group: s.Group, Counts: s.Counts})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
