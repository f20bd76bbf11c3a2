package crawler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atalaya"
)

// Extract reads a release from a fetched article page. It is pure: it uses
// only src, page and hint, so archived pages can be re-extracted offline.
//
// The URL is the canonical form of hint.URL (the link the listing gave),
// or of page.URL when hint has none. The title is the first non-empty
// src.Article.Title field, else hint.Title. The date comes from the article's
// date rules, else from hint (listing or feed), else DateOrigin is
// DateMissing and Published is zero: the release is kept. The body is the
// text of src.Article.Body after removing Exclude, one paragraph per Parts
// element (or per block element when Parts is empty), cut at the first Stop
// marker, with paragraphs separated by a blank line.
//
// Extract returns an error wrapping [ErrNoMatch] when src.Article.Required
// is set and none of its selectors matches: the page is not an article.
func Extract(src Source, page atalaya.Page, hint Item) (atalaya.Release, error) {
	text := decodeBody(page.Body, page.Header.Get("Content-Type"))
	doc, err := parseHTML(text)
	if err != nil {
		return atalaya.Release{}, fmt.Errorf("crawler: parsing %s: %w", page.URL, err)
	}
	if err := checkRequired(doc, src.Article.Required); err != nil {
		return atalaya.Release{}, fmt.Errorf("crawler: extracting %s: %w", page.URL, err)
	}
	loc := location(src)
	rel := atalaya.Release{
		Source:    src.ID,
		Agency:    src.Agency,
		Country:   src.Country,
		Language:  src.Language,
		FetchedAt: page.FetchedAt,
	}
	rel.URL = Canonical(page.URL)
	if hint.URL != "" {
		rel.URL = Canonical(hint.URL)
	}
	rel.ID = atalaya.NewID(rel.URL)
	for _, f := range src.Article.Title {
		if rel.Title = readField(doc.Selection, f); rel.Title != "" {
			break
		}
	}
	if rel.Title == "" {
		rel.Title = atalaya.NormalizeSpace(hint.Title)
	}
	rel.Type = optField(doc.Selection, src.Article.Type)
	if rel.Type == "" {
		rel.Type = atalaya.NormalizeSpace(hint.Type)
	}
	rel.Published, rel.PublishedRaw, rel.DateOrigin = articleDate(doc, src.Article.Date, loc, hint)
	rel.Body = bodyText(doc, src.Article)
	rel.Hash = atalaya.ContentHash(rel.Title, rel.Published, rel.Body)
	return rel, nil
}

// parseHTML parses a page. The parser refuses a page that nests elements
// more than 512 deep: that error wraps ErrTooDeep.
func parseHTML(text string) (*goquery.Document, error) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(text))
	if err != nil && strings.Contains(err.Error(), "open stack of elements exceeds") {
		return nil, ErrTooDeep
	}
	return doc, err
}

// issueKindOf says what kind of health issue a page that cannot be read is:
// a limit, a selector that matched nothing, or a fetch problem.
func issueKindOf(err error) atalaya.IssueKind {
	switch {
	case errors.Is(err, ErrTooDeep):
		return atalaya.IssueLimit
	case errors.Is(err, ErrNoMatch):
		return atalaya.IssueSelector
	}
	return atalaya.IssueFetch
}

// location returns the source's time zone, UTC when unset.
func location(src Source) *time.Location {
	if src.Location == nil {
		return time.UTC
	}
	return src.Location
}

func checkRequired(doc *goquery.Document, required []string) error {
	if len(required) == 0 {
		return nil
	}
	for _, sel := range required {
		if doc.Find(sel).Length() > 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: none of %q", ErrNoMatch, required)
}

// articleDate applies the article's date rules, then falls back to hint.
func articleDate(doc *goquery.Document, rules []DateRule, loc *time.Location, hint Item) (time.Time, string, atalaya.DateOrigin) {
	if t, raw, ok := readDate(doc.Selection, rules, loc); ok {
		return t, raw, atalaya.DateFromArticle
	}
	if !hint.Published.IsZero() {
		origin := hint.DateOrigin
		if origin == "" {
			origin = atalaya.DateFromListing
		}
		t := hint.Published.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), hint.DateRaw, origin
	}
	return time.Time{}, "", atalaya.DateMissing
}

// readDate tries rules in order inside scope and returns the first date read.
func readDate(scope *goquery.Selection, rules []DateRule, loc *time.Location) (time.Time, string, bool) {
	for _, r := range rules {
		raw := pick(scope, r)
		if raw == "" {
			continue
		}
		if r.Pattern != "" {
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				continue
			}
			m := re.FindStringSubmatch(raw)
			switch {
			case m == nil:
				continue
			case len(m) > 1:
				raw = m[1]
			default:
				raw = m[0]
			}
		}
		if t, err := ParseDate(raw, r.Layouts, loc); err == nil {
			return t, atalaya.NormalizeSpace(raw), true
		}
	}
	return time.Time{}, "", false
}

// pick returns the value a date rule selects: the first non-empty, the last
// non-empty or the nth (1-based) element matching its selector.
func pick(scope *goquery.Selection, r DateRule) string {
	els := scope
	if r.Selector != "" {
		els = scope.Find(r.Selector)
	}
	values := make([]string, 0, els.Length())
	els.Each(func(_ int, s *goquery.Selection) {
		if r.Attr != "" {
			v, _ := s.Attr(r.Attr)
			values = append(values, atalaya.NormalizeSpace(v))
			return
		}
		values = append(values, selText(s))
	})
	switch r.Pick {
	case "", "first":
		for _, v := range values {
			if v != "" {
				return v
			}
		}
	case "last":
		for i := len(values) - 1; i >= 0; i-- {
			if values[i] != "" {
				return values[i]
			}
		}
	default:
		n, err := strconv.Atoi(r.Pick)
		if err == nil && n >= 1 && n <= len(values) {
			return values[n-1]
		}
	}
	return ""
}

// bodyText reads the body container as paragraphs.
func bodyText(doc *goquery.Document, a Article) string {
	if a.Body == "" {
		return ""
	}
	body := doc.Find(a.Body).First()
	if body.Length() == 0 {
		return ""
	}
	for _, sel := range a.Exclude {
		body.Find(sel).Remove()
	}
	var paras []string
	if a.Parts == "" {
		paras = paragraphs(body.Get(0))
	} else {
		for _, n := range topLevel(body.Find(a.Parts)) {
			paras = append(paras, paragraphs(n)...)
		}
	}
	return strings.Join(cutAtStop(paras, a.Stop), "\n\n")
}

// cutAtStop ends paras at the first stop marker, keeping any text before it.
func cutAtStop(paras []string, stops []string) []string {
	for i, p := range paras {
		cut := -1
		for _, s := range stops {
			s = atalaya.NormalizeSpace(s)
			if j := strings.Index(p, s); s != "" && j >= 0 && (cut < 0 || j < cut) {
				cut = j
			}
		}
		if cut < 0 {
			continue
		}
		if head := strings.TrimSpace(p[:cut]); head != "" {
			return append(paras[:i:i], head)
		}
		return paras[:i]
	}
	return paras
}
