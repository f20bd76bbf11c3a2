package index

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Period is the length of the periods Trends counts releases in.
type Period string

// The periods Trends knows.
const (
	PeriodMonth Period = "month" // "2006-01"; the default
	PeriodYear  Period = "year"  // "2006"
)

// Group names the release field Trends splits each label's counts by.
type Group string

// The groups Trends knows. GroupNone counts each label over all releases.
const (
	GroupNone    Group = ""
	GroupCountry Group = "country"
	GroupAgency  Group = "agency"
	GroupSource  Group = "source"
)

// TrendsRequest asks for counts of matching releases per period and label.
type TrendsRequest struct {
	// Query selects the releases, with the text and filters of Search;
	// its Sort, Page, Size, Facets and Highlight are ignored.
	Query  Query
	Period Period // "" means PeriodMonth
	Group  Group
}

// Trends is the answer to a TrendsRequest.
type Trends struct {
	Period Period
	Group  Group
	// Periods are every period from the first to the last in which a
	// matching release was published, in order, empty ones included.
	Periods []string
	// Series holds one count per period (aligned with Periods) for each
	// label, or for each label and group value, that has a match; ordered
	// by group, then label.
	Series []TrendSeries
	// Total is the number of matching releases; Undated of them have no
	// publication date and are in no period.
	Total   uint64
	Undated uint64
}

// TrendSeries is the number of matching releases with one label (and one
// group value) in each period.
type TrendSeries struct {
	Label string
	// Group is the group value: a country (upper-case), a source ID or an
	// agency (lower-case, as indexed); "" without a group.
	Group  string
	Counts []int
}

// groupFields maps a Group to the index field it reads.
var groupFields = map[Group]string{
	GroupCountry: fieldCountry,
	GroupAgency:  fieldAgency,
	GroupSource:  fieldSource,
}

// Trends counts the releases matching req.Query per period and label,
// optionally per group value. It returns an error wrapping ErrBadQuery for
// an invalid query, period or group, and ErrBusy when ctx ends while it
// waits its turn among the searches (see searchSlots).
func (x *Index) Trends(ctx context.Context, req TrendsRequest) (Trends, error) {
	if err := req.check(); err != nil {
		return Trends{}, err
	}
	free, _, err := x.slots.take(ctx)
	if err != nil {
		return Trends{}, err
	}
	defer free()
	bi, release, err := x.acquire()
	if err != nil {
		return Trends{}, err
	}
	defer release()
	q := req.Query
	q.Sort, q.Page, q.Size, q.Facets, q.Highlight = "", 0, 0, false, false
	if err := x.validate(bi, &q); err != nil {
		return Trends{}, err
	}
	bq, err := buildQuery(&q, true)
	if err != nil {
		return Trends{}, err
	}
	bq = withKept(bq, &x.kept)
	matches := &facetCounter{}
	defer matches.close()
	res, err := count(withPhraseScratch(ctx, &x.scratch), bi, bq, matches)
	if err != nil {
		return Trends{}, searchError(ctx, err)
	}
	tally := newTrendTally(req)
	if err := tally.addMatches(ctx, matches); err != nil {
		return Trends{}, fmt.Errorf("index: trends: %w", err)
	}
	t := tally.trends()
	t.Period, t.Group, t.Total = req.Period, req.Group, res.Total
	t.Undated = res.Total - tally.dated
	return t, nil
}

// check fills in the defaults of req and checks its period and group.
func (req *TrendsRequest) check() error {
	switch req.Period {
	case "":
		req.Period = PeriodMonth
	case PeriodMonth, PeriodYear:
	default:
		return fmt.Errorf("%w: unknown period %q; want month or year", ErrBadQuery, req.Period)
	}
	if _, ok := groupFields[req.Group]; !ok && req.Group != GroupNone {
		return fmt.Errorf("%w: unknown group %q; want country, agency or source", ErrBadQuery, req.Group)
	}
	return nil
}

// trendKey is one cell of the tally, but for its period.
type trendKey struct{ group, label string }

// trendTally counts matches by period, label and group.
type trendTally struct {
	periodField, groupField string
	counts                  map[trendKey]map[string]int // by key, then period
	dated                   uint64
}

func newTrendTally(req TrendsRequest) *trendTally {
	t := &trendTally{periodField: fieldMonth, groupField: groupFields[req.Group], counts: map[trendKey]map[string]int{}}
	if req.Period == PeriodYear {
		t.periodField = fieldYear
	}
	return t
}

// addMatches counts the matches noted in c, segment by segment: the
// matches with one period, label and group value are the intersection of
// the matches with those three terms' postings bitmaps.
func (t *trendTally) addMatches(ctx context.Context, c *facetCounter) error {
	if c.snap == nil {
		return nil
	}
	for k, s := range c.snap.Segments() {
		if len(c.nums[k]) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		hits := roaring.New()
		hits.AddMany(c.nums[k])
		if err := t.addSegment(s.Segment(), hits); err != nil {
			return err
		}
	}
	return nil
}

func (t *trendTally) addSegment(seg segment.Segment, hits *roaring.Bitmap) error {
	periods, err := termBitmaps(seg, t.periodField, hits)
	if err != nil {
		return err
	}
	labels, err := termBitmaps(seg, fieldLabel, hits)
	if err != nil {
		return err
	}
	groups := map[string]*roaring.Bitmap{"": hits}
	if t.groupField != "" {
		if groups, err = termBitmaps(seg, t.groupField, hits); err != nil {
			return err
		}
	}
	for period, inPeriod := range periods {
		t.dated += inPeriod.GetCardinality()
		for label, withLabel := range labels {
			both := roaring.And(inPeriod, withLabel)
			if both.IsEmpty() {
				continue
			}
			for group, inGroup := range groups {
				if n := int(both.AndCardinality(inGroup)); n > 0 {
					t.add(trendKey{group, label}, period, n)
				}
			}
		}
	}
	return nil
}

func (t *trendTally) add(k trendKey, period string, n int) {
	if t.counts[k] == nil {
		t.counts[k] = map[string]int{}
	}
	t.counts[k][period] += n
}

// termBitmaps returns, for each term of field in seg held by one of hits,
// the hits that hold it.
func termBitmaps(seg segment.Segment, field string, hits *roaring.Bitmap) (map[string]*roaring.Bitmap, error) {
	dict, err := seg.Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("reading field %s: %v", field, err)
	}
	out := map[string]*roaring.Bitmap{}
	var list segment.PostingsList
	var it segment.PostingsIterator
	terms := allTerms(dict)
	for {
		e, err := terms.Next()
		if err != nil {
			return nil, fmt.Errorf("reading field %s: %v", field, err)
		}
		if e == nil {
			return out, nil
		}
		if list, err = dict.PostingsList([]byte(e.Term), nil, list); err != nil {
			return nil, fmt.Errorf("reading field %s: %v", field, err)
		}
		it = list.Iterator(false, false, false, it)
		bm, err := postingsBitmap(it)
		if err != nil {
			return nil, fmt.Errorf("reading field %s: %v", field, err)
		}
		bm.And(hits)
		if !bm.IsEmpty() {
			out[e.Term] = bm
		}
	}
}

// postingsBitmap returns the documents of it as a bitmap the caller may
// change.
func postingsBitmap(it segment.PostingsIterator) (*roaring.Bitmap, error) {
	if o, ok := it.(segment.OptimizablePostingsIterator); ok {
		if bm := o.ActualBitmap(); bm != nil {
			return bm.Clone(), nil
		}
		if num, ok := o.DocNum1Hit(); ok {
			return roaring.BitmapOf(uint32(num)), nil
		}
	}
	bm := roaring.New()
	for {
		p, err := it.Next()
		if err != nil || p == nil {
			return bm, err
		}
		bm.Add(uint32(p.Number()))
	}
}

// trends returns the tally as Trends, with every period between the first
// and the last.
func (t *trendTally) trends() Trends {
	out := Trends{Series: []TrendSeries{}}
	seen := map[string]bool{}
	for _, byPeriod := range t.counts {
		for p := range byPeriod {
			seen[p] = true
		}
	}
	out.Periods = periodsSpanning(seen, t.periodField == fieldYear)
	pos := make(map[string]int, len(out.Periods))
	for i, p := range out.Periods {
		pos[p] = i
	}
	for k, byPeriod := range t.counts {
		s := TrendSeries{Label: k.label, Group: k.group, Counts: make([]int, len(out.Periods))}
		if t.groupField == fieldCountry {
			s.Group = strings.ToUpper(s.Group)
		}
		for p, n := range byPeriod {
			s.Counts[pos[p]] = n
		}
		out.Series = append(out.Series, s)
	}
	slices.SortFunc(out.Series, func(a, b TrendSeries) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
	return out
}

// periodsSpanning lists the periods from the first to the last of seen,
// both included: months ("2006-01") or years ("2006"). Periods that do not
// parse (none should), or that span more than maxFilledPeriods, are listed
// as seen.
func periodsSpanning(seen map[string]bool, years bool) []string {
	sorted := slices.Sorted(maps.Keys(seen))
	if len(sorted) == 0 {
		return []string{}
	}
	layout, step := "2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	if years {
		layout, step = "2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	}
	from, err1 := time.Parse(layout, sorted[0])
	to, err2 := time.Parse(layout, sorted[len(sorted)-1])
	if err1 != nil || err2 != nil {
		return sorted
	}
	var out []string
	for t := from; !t.After(to); t = step(t) {
		if len(out) == maxFilledPeriods {
			// An implausible date far from the others: list the periods
			// seen, without filling centuries of empty ones.
			return sorted
		}
		out = append(out, t.Format(layout))
	}
	return out
}

// maxFilledPeriods bounds the periods periodsSpanning fills in: a century
// of months.
const maxFilledPeriods = 1200
