package crawler

import (
	"fmt"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"atalaya"
)

// Inspection is what a source's selectors see on one fetched page, for
// debugging a site from the terminal (atalaya fetch).
type Inspection struct {
	// Block says why the page looks like an anti-bot page (the block
	// marker it carries, or markup escaped in a JavaScript string); empty
	// when it does not.
	Block string
	// Items are the listing (or feed) items the page holds, when the
	// listing item selector matches (or the source is a feed).
	Items []Item
	// Next is the next listing page read with the next-link selector.
	Next string
	// Release is the page read with the article selectors, when it is not
	// a listing; ArticleErr says why it could not be read.
	Release    *atalaya.Release
	ArticleErr error
}

// Inspect applies src's selectors to page as a crawl would: as a feed for
// a feed source, else as a listing page when the listing item selector
// matches, else as an article. It is pure, like [Extract].
func Inspect(src Source, page atalaya.Page) Inspection {
	text := decodeBody(page.Body, page.Header.Get("Content-Type"))
	ins := Inspection{Block: blockReason(src, page.URL, text)}
	if src.Kind == KindFeed && !strings.Contains(strings.ToLower(page.Header.Get("Content-Type")), "html") {
		items, err := parseFeed(src, page.URL, page.Body)
		ins.Items, ins.ArticleErr = items, err
		return ins
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(text))
	if err != nil {
		ins.ArticleErr = fmt.Errorf("crawler: parsing %s: %w", page.URL, err)
		return ins
	}
	if src.Listing.Item != "" {
		if l := parseListing(src, page.URL, doc); len(l.Items) > 0 {
			ins.Items, ins.Next = l.Items, l.Next
			return ins
		}
	}
	rel, err := Extract(src, page, Item{})
	if err != nil {
		ins.ArticleErr = err
		return ins
	}
	ins.Release = &rel
	return ins
}

// blockReason says why a page that lacks the expected content is an
// anti-bot page: it carries one of src's block markers (in its text or its
// URL), or it is markup escaped inside a JavaScript string. Empty when
// neither.
func blockReason(src Source, pageURL, text string) string {
	if why := markerReason(src.BlockMarkers, pageURL, text); why != "" {
		return why
	}
	if strings.Contains(text, `=\"`) || strings.Contains(text, `<\/`) {
		return "markup escaped in a JavaScript string; send a browser-style Accept header"
	}
	return ""
}

// markerReason names the block marker a page carries in its text or its
// URL; empty when it carries none.
func markerReason(markers []string, pageURL, text string) string {
	lower := strings.ToLower(text)
	for _, m := range markers {
		if m != "" && (strings.Contains(lower, strings.ToLower(m)) || strings.Contains(pageURL, m)) {
			return fmt.Sprintf("anti-bot page (marker %q)", m)
		}
	}
	return ""
}
