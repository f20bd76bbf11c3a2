package index

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Highlighting a page of hits needs the positions of the query's words in
// those releases' bodies. Bleve finds them by running the query again,
// restricted to the page's IDs, with term vectors: its searchers, and
// their term searchers in every field, walk every segment. For queries of
// words (the usual ones), highlightWords reads the positions of each word
// in each body field, in the segments that hold the page's releases only,
// and hands them to Bleve's highlighter as the search would have: the
// same fragments, in less than half the time. Queries with phrases or
// prefixes, whose positions only their searchers know, are highlighted
// by Bleve's search.

// isHighlightField reports whether fragments come from field: the body
// fields, textFieldsFor("body").
func isHighlightField(field string) bool { return field == fieldBodyEN || field == fieldBodyES }

// highlight adds fragments to the hits of r.
func highlight(ctx context.Context, bi bleve.Index, q *Query, r *Result, filters *keptCache) error {
	bq, err := buildQuery(q, false)
	if err != nil {
		return err
	}
	if words, ok := wordsToHighlight(bq, bi.Mapping()); ok {
		return highlightWords(ctx, bi, words, r)
	}
	return highlightBySearch(ctx, bi, withKept(bq, filters), r)
}

// highlightBySearch runs bq again on the hits of r only, asking Bleve
// for fragments: asking for highlights in the main search would make
// every matching document's term positions be read, not just the page's.
func highlightBySearch(ctx context.Context, bi bleve.Index, bq query.Query, r *Result) error {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = string(h.ID)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(bq, bleve.NewDocIDQuery(ids)), len(ids), 0, false)
	req.Highlight = bleve.NewHighlightWithStyle(html.Name)
	req.Highlight.Fields = textFieldsFor("body")
	res, err := bi.SearchInContext(ctx, req)
	if err != nil {
		return searchError(ctx, err)
	}
	fragments := make(map[string][]string, len(res.Hits))
	for _, h := range res.Hits {
		fragments[h.ID] = append(h.Fragments[fieldBodyEN], h.Fragments[fieldBodyES]...)
	}
	for i := range r.Hits {
		r.Hits[i].Fragments = fragments[string(r.Hits[i].ID)]
	}
	return nil
}

// highlightWord is a word of a query in a body field, as indexed.
type highlightWord struct {
	field string
	term  []byte
}

// wordsToHighlight returns the words in body fields whose positions a
// search of bq would report: those of its operands that are not negated.
// It is not ok when bq has operands whose positions only their searchers
// know (phrases, prefixes, words the analyzer splits, which match only
// together).
func wordsToHighlight(bq query.Query, m mapping.IndexMapping) ([]highlightWord, bool) {
	var words []highlightWord
	var walk func(q query.Query) bool
	walk = func(q query.Query) bool {
		switch q := q.(type) {
		case *orQuery:
			return !slices.ContainsFunc(q.operands, func(op query.Query) bool { return !walk(op) })
		case *query.ConjunctionQuery:
			return !slices.ContainsFunc(q.Conjuncts, func(op query.Query) bool { return !walk(op) })
		case *filteredQuery:
			return walk(q.text)
		case *query.BooleanQuery:
			return q.Should == nil && (q.Must == nil || walk(q.Must)) // MustNot finds no positions
		case *wordsQuery:
			toks := m.AnalyzerNamed(m.AnalyzerNameForPath(q.field)).Analyze([]byte(q.text))
			if len(toks) > 1 {
				return false
			}
			if len(toks) == 1 && isHighlightField(q.field) {
				words = append(words, highlightWord{q.field, toks[0].Term})
			}
			return true
		case *query.TermQuery:
			if isHighlightField(q.FieldVal) {
				words = append(words, highlightWord{q.FieldVal, []byte(q.Term)})
			}
			return true
		case *query.PrefixQuery:
			return isKeywordField(q.FieldVal)
		case *query.MatchAllQuery, *query.MatchNoneQuery, *query.DateRangeQuery, *filterQuery:
			return true
		}
		return false
	}
	if !walk(bq) {
		return nil, false
	}
	// Bleve reports a word's positions once, however often the query
	// has it.
	return slices.CompactFunc(slices.SortedFunc(slices.Values(words), func(a, b highlightWord) int {
		return cmp.Or(cmp.Compare(a.field, b.field), bytes.Compare(a.term, b.term))
	}), func(a, b highlightWord) bool { return a.field == b.field && bytes.Equal(a.term, b.term) }), true
}

// highlightWords adds fragments to the hits of r around words, read from
// the index as it is now.
func highlightWords(ctx context.Context, bi bleve.Index, words []highlightWord, r *Result) error {
	adv, err := bi.Advanced()
	if err != nil {
		return fmt.Errorf("index: highlighting: %w", err)
	}
	reader, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("index: highlighting: %w", err)
	}
	defer reader.Close()
	snap, ok := reader.(*scorch.IndexSnapshot)
	if !ok {
		return fmt.Errorf("index: highlighting: index reader is a %T, not a scorch snapshot", reader)
	}
	highlighter, err := bleve.Config.Cache.HighlighterNamed(html.Name)
	if err != nil {
		return fmt.Errorf("index: highlighting: %w", err)
	}
	pages, err := hitsBySegment(snap, r.Hits)
	if err != nil {
		return fmt.Errorf("index: highlighting: %w", err)
	}
	segs := snap.Segments()
	for k, page := range pages {
		if err := ctx.Err(); err != nil {
			return searchError(ctx, err)
		}
		if err := wordPositions(segs[k], words, page); err != nil {
			return fmt.Errorf("index: highlighting: %w", err)
		}
		for _, h := range page {
			doc, err := bodies(segs[k], h)
			if err != nil {
				return fmt.Errorf("index: highlighting: %w", err)
			}
			for _, f := range textFieldsFor("body") {
				highlighter.BestFragmentsInField(h.match, doc, f, 1)
			}
			r.Hits[h.hit].Fragments = append(h.match.Fragments[fieldBodyEN], h.match.Fragments[fieldBodyES]...)
		}
	}
	return nil
}

// pageHit is a hit of a page, found in a segment.
type pageHit struct {
	hit   int    // its place in the page
	num   uint64 // its number within the segment
	match *search.DocumentMatch
}

// hitsBySegment returns the hits found in snap by segment, each
// segment's by number. Hits no longer in the index are left out.
func hitsBySegment(snap *scorch.IndexSnapshot, hits []Hit) (map[int][]pageHit, error) {
	offsets, _ := segmentOffsets(snap)
	pages := make(map[int][]pageHit)
	seg := 0
	for i, h := range hits {
		id, err := snap.InternalID(string(h.ID))
		if err != nil {
			return nil, err
		}
		if id == nil {
			continue
		}
		num := id.Value()
		seg = segmentOf(offsets, seg, num)
		match := &search.DocumentMatch{ID: string(h.ID), Locations: search.FieldTermLocationMap{}}
		pages[seg] = append(pages[seg], pageHit{hit: i, num: num - offsets[seg], match: match})
	}
	for _, page := range pages {
		slices.SortFunc(page, func(a, b pageHit) int { return cmp.Compare(a.num, b.num) })
	}
	return pages, nil
}

// wordPositions notes where each word is in each hit of page, which are
// in segment ss, as a search with term vectors would.
func wordPositions(ss *scorch.SegmentSnapshot, words []highlightWord, page []pageHit) error {
	for _, w := range words {
		dict, err := ss.Segment().Dictionary(w.field)
		if err != nil {
			return fmt.Errorf("the words of %s: %w", w.field, err)
		}
		list, err := dict.PostingsList(w.term, nil, nil)
		if err != nil {
			return fmt.Errorf("word %q in %s: %w", w.term, w.field, err)
		}
		it := list.Iterator(true, true, true, nil)
		var p segment.Posting // the last the iterator gave, past the hits before
		for _, h := range page {
			if p == nil || p.Number() < h.num {
				if p, err = it.Advance(h.num); err != nil {
					return fmt.Errorf("positions of %q in %s: %w", w.term, w.field, err)
				}
				if p == nil {
					break
				}
			}
			if p.Number() != h.num {
				continue
			}
			tlm := h.match.Locations[w.field]
			if tlm == nil {
				tlm = search.TermLocationMap{}
				h.match.Locations[w.field] = tlm
			}
			for _, loc := range p.Locations() {
				l := &search.Location{Pos: loc.Pos(), Start: loc.Start(), End: loc.End()}
				if ap := loc.ArrayPositions(); len(ap) > 0 {
					l.ArrayPositions = append(search.ArrayPositions(nil), ap...)
				}
				tlm.AddLocation(string(w.term), l)
			}
		}
	}
	return nil
}

// bodies returns the body fields of hit h of segment ss, as the document
// the highlighter reads them from.
func bodies(ss *scorch.SegmentSnapshot, h pageHit) (*document.Document, error) {
	doc := document.NewDocument(h.match.ID)
	err := ss.VisitDocument(h.num, func(name string, typ byte, val []byte, pos []uint64) bool {
		if typ == 't' && isHighlightField(name) {
			doc.AddField(document.NewTextField(name, append([]uint64(nil), pos...), append([]byte(nil), val...)))
		}
		return true
	})
	return doc, err
}
