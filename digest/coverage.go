package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"atalaya"
	"atalaya/index"
)

// coverage fills in m's coverage section and label counts: for each source
// d's filter covers, the releases indexed since the watermark and its open
// health issues in plain words; the counts per label of those releases.
func (s *Sender) coverage(ctx context.Context, d Definition, m *Message) error {
	var health []SourceHealth
	if s.opts.Health != nil {
		h, err := s.opts.Health.SourceHealth(ctx)
		if err != nil {
			s.log.Warn("digest: source health unknown", "digest", d.Name, "error", err)
			m.HealthUnknown = true
		}
		health = h
	} else {
		m.HealthUnknown = true
	}
	covered := coveredSources(d.Query, health)
	q := index.Query{IndexedAfter: m.Since, Facets: true, Size: 1}
	if len(covered) < len(health) {
		for _, h := range covered {
			q.Sources = append(q.Sources, string(h.Source))
		}
	}
	var perSource map[string]int
	if len(covered) > 0 || len(health) == 0 {
		res, err := s.opts.Index.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("digest %s: counting the period's releases: %w", d.Name, err)
		}
		perSource = facetMap(res.Facets["source"])
		for _, fc := range res.Facets["label"] {
			m.Counts = append(m.Counts, LabelCount{Label: fc.Value, Count: fc.Count})
		}
		slices.SortFunc(m.Counts, func(a, b LabelCount) int { return compareLabels(a.Label, b.Label) })
	}
	for _, h := range covered {
		m.Coverage = append(m.Coverage, Coverage{
			Source: h.Source, Agency: oneLine(h.Agency), Fetched: perSource[string(h.Source)], Issues: issueWords(h, m.Date.Location()),
		})
	}
	return nil
}

func facetMap(fcs []index.FacetCount) map[string]int {
	out := map[string]int{}
	for _, fc := range fcs {
		out[fc.Value] = fc.Count
	}
	return out
}

// coveredSources returns the sources a query can match: all of them,
// unless the query requires (in a conjunct at its top) a source, country
// or agency.
func coveredSources(query string, health []SourceHealth) []SourceHealth {
	if strings.TrimSpace(query) == "" {
		return health
	}
	e, err := index.Parse(query)
	if err != nil {
		return health
	}
	var out []SourceHealth
	for _, h := range health {
		if mayMatch(e, h) {
			out = append(out, h)
		}
	}
	return out
}

// mayMatch reports whether e can match a release of source h, looking only
// at source, country and agency terms; anything else may match.
func mayMatch(e index.Expr, h SourceHealth) bool {
	switch e := e.(type) {
	case *index.And:
		for _, x := range e.X {
			if !mayMatch(x, h) {
				return false
			}
		}
		return true
	case *index.Or:
		return slices.ContainsFunc(e.X, func(x index.Expr) bool { return mayMatch(x, h) })
	case *index.Term:
		return fieldMayMatch(e.Field, e.Text, e.Prefix, h)
	case *index.Phrase:
		return fieldMayMatch(e.Field, e.Text, false, h)
	}
	return true
}

func fieldMayMatch(field, text string, prefix bool, h SourceHealth) bool {
	var value string
	switch field {
	case "source":
		value = string(h.Source)
	case "country":
		value = h.Country
	case "agency":
		value = h.Agency
	default:
		return true
	}
	value, text = strings.ToLower(value), strings.ToLower(text)
	if prefix {
		return strings.HasPrefix(value, text)
	}
	return value == text
}

// issuePhrases are the issue kinds in plain words.
var issuePhrases = map[atalaya.IssueKind][2]string{ // one issue, several
	atalaya.IssueBlocked:  {"blocked (an anti-bot page or 403)", "blocked (an anti-bot page or 403)"},
	atalaya.IssueSelector: {"a selector matched nothing", "selectors matched nothing"},
	atalaya.IssueFillRate: {"a field is missing on many releases", "fields are missing on many releases"},
	atalaya.IssueFetch:    {"a page could not be fetched", "%d pages could not be fetched"},
	atalaya.IssueDate:     {"a release date could not be read", "%d release dates could not be read"},
	atalaya.IssueRobots:   {"robots.txt disallows a page", "robots.txt disallows %d pages"},
}

// maxIssueDetail bounds the example message quoted for an issue kind.
const maxIssueDetail = 160

// issueWords describes h's open issues in plain words, one line per kind,
// with the earliest date and the first message as an example: "blocked
// (an anti-bot page or 403) since 2026-12-01 (…)". A source never crawled
// says so.
func issueWords(h SourceHealth, loc *time.Location) []string {
	if h.LastRun.IsZero() {
		return []string{"never crawled"}
	}
	type group struct {
		n     int
		since time.Time
		first atalaya.SourceIssue
	}
	var kinds []atalaya.IssueKind
	groups := map[atalaya.IssueKind]*group{}
	for _, is := range h.Issues {
		g := groups[is.Kind]
		if g == nil {
			g = &group{since: is.At, first: is}
			groups[is.Kind] = g
			kinds = append(kinds, is.Kind)
		}
		g.n++
		if !is.At.IsZero() && is.At.Before(g.since) {
			g.since = is.At
		}
	}
	var out []string
	for _, k := range kinds {
		g := groups[k]
		phrase, ok := issuePhrases[k]
		what := string(k) + " issue"
		if ok {
			what = phrase[0]
			if g.n > 1 {
				what = phrase[1]
				if strings.Contains(what, "%d") {
					what = fmt.Sprintf(what, g.n)
				}
			}
		}
		if !g.since.IsZero() {
			what += " since " + g.since.In(loc).Format(time.DateOnly)
		}
		detail := oneLine(g.first.Message)
		if g.first.Selector != "" {
			detail = fmt.Sprintf("selector %q: %s", oneLine(g.first.Selector), detail)
		}
		if detail != "" {
			what += " (" + cutAround(detail, "", maxIssueDetail) + ")"
		}
		out = append(out, what)
	}
	return out
}
