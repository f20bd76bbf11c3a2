package crawler

import (
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"atalaya"
)

// decodeBody returns body as valid UTF-8. A body that already is valid UTF-8
// is taken as such whatever it declares (colly converts declared charsets
// before we see them); otherwise the charset comes from contentType, a BOM or
// a <meta> tag, defaulting to Windows-1252, and bytes that still do not
// decode are dropped.
func decodeBody(body []byte, contentType string) string {
	if utf8.Valid(body) {
		return strings.TrimPrefix(string(body), "\ufeff")
	}
	enc, name, _ := charset.DetermineEncoding(body, contentType)
	if name != "utf-8" {
		if out, err := enc.NewDecoder().Bytes(body); err == nil {
			return strings.ToValidUTF8(string(out), "")
		}
	}
	return strings.ToValidUTF8(string(body), "")
}

// skipped are elements whose text is never part of a release.
var skipped = map[string]bool{
	"script": true, "style": true, "noscript": true, "template": true, "svg": true,
	"iframe": true, "object": true, "head": true, "select": true,
}

// blocks are elements that start a new paragraph.
var blocks = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "caption": true,
	"dd": true, "details": true, "div": true, "dl": true, "dt": true, "fieldset": true,
	"figcaption": true, "figure": true, "footer": true, "form": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "header": true, "hr": true, "li": true,
	"main": true, "nav": true, "ol": true, "p": true, "pre": true, "section": true,
	"table": true, "tr": true, "ul": true,
}

// paragraphs renders the text of n as paragraphs: every block element
// starts a new one, white space is normalised and empty ones are dropped.
func paragraphs(n *html.Node) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if p := atalaya.NormalizeSpace(b.String()); p != "" {
			out = append(out, p)
		}
		b.Reset()
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if skipped[n.Data] {
				return
			}
			switch {
			case n.Data == "br" || n.Data == "td" || n.Data == "th":
				b.WriteByte(' ')
			case blocks[n.Data]:
				flush()
				defer flush()
			}
		case html.CommentNode:
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	flush()
	return out
}

// selText returns the normalised text of the first node of s, as one line.
func selText(s *goquery.Selection) string {
	if s.Length() == 0 {
		return ""
	}
	return strings.Join(paragraphs(s.Get(0)), " ")
}

// readField reads f inside scope: the attribute or text of the first element
// matching f.Selector (scope itself when the selector is empty).
func readField(scope *goquery.Selection, f Field) string {
	el := scope
	if f.Selector != "" {
		el = scope.Find(f.Selector)
	}
	el = el.First()
	if f.Attr != "" {
		v, _ := el.Attr(f.Attr)
		return atalaya.NormalizeSpace(v)
	}
	return selText(el)
}

// optField reads f inside scope; an unset field reads nothing.
func optField(scope *goquery.Selection, f Field) string {
	if f.Selector == "" && f.Attr == "" {
		return ""
	}
	return readField(scope, f)
}

// topLevel keeps the nodes of s that have no ancestor in s, so a part nested
// in another part ("p" inside "ul") is not read twice.
func topLevel(s *goquery.Selection) []*html.Node {
	in := make(map[*html.Node]bool, s.Length())
	for _, n := range s.Nodes {
		in[n] = true
	}
	var out []*html.Node
	for _, n := range s.Nodes {
		nested := false
		for p := n.Parent; p != nil; p = p.Parent {
			if in[p] {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, n)
		}
	}
	return out
}
