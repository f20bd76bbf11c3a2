package index

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// translate turns a parsed query into a bleve query; fast chooses how
// phrases are matched (see translatePhrase).
func translate(e Expr, fast bool) query.Query {
	switch e := e.(type) {
	case *And:
		return translateAnd(e.X, fast)
	case *Or:
		qs := make([]query.Query, len(e.X))
		for i, x := range e.X {
			qs[i] = translate(x, fast)
		}
		return disjunction(qs)
	case *Not:
		return translateAnd([]Expr{e}, fast)
	case *Term:
		return translateTerm(e)
	case *Phrase:
		return translatePhrase(e, fast)
	case *DateRange:
		return dateQuery(fieldPublished, e.From, e.To)
	}
	panic("index: translate: unknown expression type") // unreachable: Parse makes only the types above
}

// translateAnd makes a conjunction of the positive operands, excluding the
// negated ones; with no positive operand it excludes from every release.
//
// Operands that only exclude by keyword or date ("NOT label:neither")
// become a filter (see filteredQuery), kept from search to search.
func translateAnd(xs []Expr, fast bool) query.Query {
	var must, mustNot []query.Query
	var excluded []string
	filters := true
	for _, x := range xs {
		if n, ok := x.(*Not); ok {
			mustNot = append(mustNot, translate(n.X, fast))
			excluded = append(excluded, n.String())
			filters = filters && isFilter(n.X)
			continue
		}
		must = append(must, translate(x, fast))
	}
	if len(mustNot) == 0 {
		return bleve.NewConjunctionQuery(must...)
	}
	if len(must) > 0 && filters {
		exclude := bleve.NewBooleanQuery()
		exclude.AddMust(bleve.NewMatchAllQuery())
		exclude.AddMustNot(mustNot...)
		text := must[0]
		if len(must) > 1 {
			text = bleve.NewConjunctionQuery(must...)
		}
		return &filteredQuery{text: text, filter: &filterQuery{q: exclude}, key: strings.Join(excluded, " ")}
	}
	b := bleve.NewBooleanQuery()
	if len(must) == 0 {
		b.AddMust(bleve.NewMatchAllQuery())
	} else {
		b.AddMust(must...)
	}
	b.AddMustNot(mustNot...)
	return b
}

// isFilter reports whether e matches by keyword fields and dates alone,
// which score nothing.
func isFilter(e Expr) bool {
	switch e := e.(type) {
	case *Term:
		return isKeywordField(e.Field)
	case *DateRange:
		return true
	case *And:
		return !slices.ContainsFunc(e.X, func(x Expr) bool { return !isFilter(x) })
	case *Or:
		return !slices.ContainsFunc(e.X, func(x Expr) bool { return !isFilter(x) })
	case *Not:
		return isFilter(e.X)
	}
	return false
}

func translateTerm(t *Term) query.Query {
	if isKeywordField(t.Field) {
		if t.Prefix {
			p := bleve.NewPrefixQuery(strings.ToLower(t.Text))
			p.SetField(t.Field)
			return p
		}
		return keywordQuery(t.Field, t.Text)
	}
	var qs []query.Query
	folded := foldAccents(t.Text)
	for _, f := range textFieldsFor(t.Field) {
		if t.Prefix {
			p := bleve.NewPrefixQuery(strings.ToLower(t.Text))
			p.SetField(f)
			qs = append(qs, p)
			continue
		}
		qs = append(qs, matchAll(t.Text, f))
		// The English analyzer keeps accents, which the Spanish one
		// folds: a word typed with accents ("cártel") also looks for its
		// unaccented form in English text.
		if folded != t.Text && (f == fieldTitleEN || f == fieldBodyEN) {
			qs = append(qs, matchAll(folded, f))
		}
	}
	return disjunction(qs)
}

// matchAll matches text analysed by field's analyzer, every word required.
func matchAll(text, field string) query.Query {
	return &wordsQuery{text: text, field: field}
}

// wordsQuery is bleve's match query with every word required, but a text
// of one word (the usual query term) is searched by that word's term
// searcher alone. Bleve wraps it in a conjunction of one, which scores
// the same and costs a quarter of a term query's time in passing every
// match through.
type wordsQuery struct {
	text  string
	field string
}

// Searcher returns the searcher of the words of q.text in q.field.
func (q *wordsQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	toks := m.AnalyzerNamed(m.AnalyzerNameForPath(q.field)).Analyze([]byte(q.text))
	if len(toks) == 1 {
		t := bleve.NewTermQuery(string(toks[0].Term))
		t.SetField(q.field)
		return t.Searcher(ctx, i, m, options)
	}
	match := bleve.NewMatchQuery(q.text)
	match.SetField(q.field)
	match.SetOperator(query.MatchQueryOperatorAnd)
	return match.Searcher(ctx, i, m, options)
}

// foldAccents removes the accents of s: "cártel" becomes "cartel".
func foldAccents(s string) string {
	if isASCII(s) {
		return s // nothing to fold, and the transform allocates its buffers
	}
	folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		return s
	}
	return folded
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// translatePhrase matches a phrase in the text fields it names. When
// fast, it uses phraseQuery; the highlighter, which needs the positions of
// the phrase alone, asks for bleve's match-phrase query (fast false).
func translatePhrase(p *Phrase, fast bool) query.Query {
	if isKeywordField(p.Field) {
		return keywordQuery(p.Field, p.Text)
	}
	var qs []query.Query
	for _, f := range textFieldsFor(p.Field) {
		if fast {
			qs = append(qs, &phraseQuery{text: p.Text, field: f})
			continue
		}
		qs = append(qs, matchPhrase(p.Text, f))
	}
	return disjunction(qs)
}

func matchPhrase(text, field string) query.Query {
	q := bleve.NewMatchPhraseQuery(text)
	q.SetField(field)
	return q
}

func isKeywordField(field string) bool {
	for _, f := range keywordFields {
		if f == field {
			return true
		}
	}
	return false
}

// keywordQuery matches a keyword field's value; keyword fields are indexed
// lower-case, so the match ignores case.
func keywordQuery(field, value string) query.Query {
	t := bleve.NewTermQuery(strings.ToLower(value))
	t.SetField(field)
	return t
}

// dateQuery matches days from..to, both inclusive; a zero end is open.
// A numeric range over months or years is a disjunction of many terms, slow
// to intersect with; so the whole years inside a closed range are matched by
// their year terms, the whole months left by their month terms, and only
// the days left at the ends by numeric ranges.
func dateQuery(field string, from, to time.Time) query.Query {
	if from.IsZero() || to.IsZero() {
		return numericDays(field, from, to)
	}
	from, to = day(from), day(to)
	var parts []query.Query
	for !from.After(to) {
		switch {
		case from.YearDay() == 1 && !lastDayOfYear(from).After(to):
			parts = append(parts, keywordQuery(fieldYear, strconv.Itoa(from.Year())))
			from = from.AddDate(1, 0, 0)
		case from.Day() == 1 && !from.AddDate(0, 1, -1).After(to):
			parts = append(parts, keywordQuery(fieldMonth, from.Format("2006-01")))
			from = from.AddDate(0, 1, 0)
		default:
			end := from.AddDate(0, 1, -from.Day()) // the end of from's month
			if to.Before(end) {
				end = to
			}
			parts = append(parts, numericDays(field, from, end))
			from = end.AddDate(0, 0, 1)
		}
	}
	if len(parts) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	return disjunction(parts)
}

func lastDayOfYear(t time.Time) time.Time { return time.Date(t.Year(), 12, 31, 0, 0, 0, 0, time.UTC) }

// numericDays matches days from..to with a numeric range query.
func numericDays(field string, from, to time.Time) query.Query {
	var start, end time.Time
	if !from.IsZero() {
		start = day(from)
	}
	if !to.IsZero() {
		end = day(to).AddDate(0, 0, 1)
	}
	inclusive, exclusive := true, false
	q := bleve.NewDateRangeInclusiveQuery(start, end, &inclusive, &exclusive)
	q.SetField(field)
	return q
}

// day returns t's calendar day at midnight UTC.
func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func disjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return &orQuery{operands: qs}
}
