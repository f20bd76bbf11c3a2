package index

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveapi "github.com/blevesearch/bleve_index_api"
)

// Sorting by date: bleve's sort by a field reads each match's value from
// the field's doc values, compressed in chunks, and the matches of a
// date-sorted page are spread over the index, so nearly every match
// decompressed a chunk of its own: that was most of the time of a page
// sorted by date. daySort reads each match's day from the days of its
// segment kept with the facet values (see facetCache) instead, and gives
// the values bleve's sort by "-day" gives: the day as the field holds it,
// or bleve's lowest term for a release without a date, so that it comes
// last. Cursors are the same either way.

// daySort orders matches by publication day, newest first.
type daySort struct {
	days *segmentDays // set when the search starts (see daySortQuery)
}

// segmentDays maps document numbers of a snapshot to days.
type segmentDays struct {
	offsets []uint64 // the first document number of each segment
	values  []*docValues
	seg     int // the segment of the last match
}

// day returns the day of release num, "" if it has none.
func (d *segmentDays) day(num uint64) string {
	d.seg = segmentOf(d.offsets, d.seg, num)
	dv := d.values[d.seg]
	local := num - d.offsets[d.seg]
	if ords := dv.ords[dv.start[local]:dv.start[local+1]]; len(ords) > 0 {
		return dv.values[ords[0]]
	}
	return ""
}

// UpdateVisitor is not called: daySort reads no field.
func (s *daySort) UpdateVisitor(string, []byte) {}

// Value is the day of a's release, or bleve's lowest term without one.
func (s *daySort) Value(a *search.DocumentMatch) string {
	if day := s.days.day(a.IndexInternalID.Value()); day != "" {
		return day
	}
	return search.LowTerm
}

// DecodeValue returns value: days are kept as text.
func (s *daySort) DecodeValue(value string) string { return value }

// Descending is true: newest first.
func (s *daySort) Descending() bool { return true }

// RequiresDocID is false.
func (s *daySort) RequiresDocID() bool { return false }

// RequiresScoring is false.
func (s *daySort) RequiresScoring() bool { return false }

// RequiresFields is none: the days are kept.
func (s *daySort) RequiresFields() []string { return nil }

// Reverse is not supported: searches never page backwards.
func (s *daySort) Reverse() {}

// Copy returns s; its days are shared.
func (s *daySort) Copy() search.SearchSort { return s }

// daySortQuery is q, setting s's days for the snapshot it is searched in.
type daySortQuery struct {
	q      query.Query
	s      *daySort
	facets *facetCache
}

// Searcher returns q's searcher, reading the days of the snapshot's
// segments first.
func (d *daySortQuery) Searcher(ctx context.Context, i bleveapi.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("sorting by date: index reader is a %T, not a scorch snapshot", i)
	}
	offsets, docs := segmentOffsets(snap)
	days := &segmentDays{offsets: offsets}
	for _, ss := range snap.Segments() {
		sf, err := d.facets.facets(ss.Segment(), docs)
		if err != nil {
			return nil, fmt.Errorf("sorting by date: %v", err)
		}
		days.values = append(days.values, &sf.day)
	}
	d.s.days = days
	return d.q.Searcher(ctx, i, m, options)
}
