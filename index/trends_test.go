package index

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atalaya"
)

// TestTrendsCountEveryMatch checks Trends against counts made from the
// documents themselves, on synthetic releases in several segments, a third
// of them indexed again with another label and year (deleted versions must
// not count), for every period and group, with and without a query.
func TestTrendsCountEveryMatch(t *testing.T) {
	x, docs := indexSynthRevised(t)
	// want counts by period, then "group|label", from the documents.
	want := func(req TrendsRequest, match func(d *Document) bool) map[string]map[string]int {
		out := map[string]map[string]int{}
		for k := range docs {
			d := &docs[k]
			if !match(d) {
				continue
			}
			period := d.Release.Published.Format("2006-01")
			if req.Period == PeriodYear {
				period = strconv.Itoa(d.Release.Published.Year())
			}
			group := map[Group]string{
				GroupCountry: string(d.Release.Country), GroupSource: string(d.Release.Source),
				GroupAgency: strings.ToLower(d.Release.Agency),
			}[req.Group]
			if out[period] == nil {
				out[period] = map[string]int{}
			}
			out[period][group+"|"+string(d.Verdict.Label)]++
		}
		return out
	}
	all := func(*Document) bool { return true }
	tests := []struct {
		name  string
		req   TrendsRequest
		match func(d *Document) bool
	}{
		{"months", TrendsRequest{}, all},
		{"years", TrendsRequest{Period: PeriodYear}, all},
		{"months by country", TrendsRequest{Group: GroupCountry}, all},
		{"years by source", TrendsRequest{Period: PeriodYear, Group: GroupSource}, all},
		{"years by agency", TrendsRequest{Period: PeriodYear, Group: GroupAgency}, all},
		{"label filter", TrendsRequest{Query: Query{Labels: []string{"kingpin"}}}, func(d *Document) bool { return d.Verdict.Label == "kingpin" }},
		{"source in query", TrendsRequest{Query: Query{Text: "source:sre"}, Group: GroupCountry}, func(d *Document) bool { return d.Release.Source == "sre" }},
		{"none", TrendsRequest{Query: Query{Text: "zzzzunknownword"}}, func(*Document) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := x.Trends(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]map[string]int{}
			for _, s := range tr.Series {
				if len(s.Counts) != len(tr.Periods) {
					t.Fatalf("series %s|%s has %d counts for %d periods", s.Group, s.Label, len(s.Counts), len(tr.Periods))
				}
				for i, n := range s.Counts {
					if n == 0 {
						continue
					}
					if got[tr.Periods[i]] == nil {
						got[tr.Periods[i]] = map[string]int{}
					}
					got[tr.Periods[i]][s.Group+"|"+s.Label] = n
				}
			}
			w := want(tt.req, tt.match)
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("counts mismatch (-want +got):\n%s", diff)
			}
			var n uint64
			for _, c := range w {
				for _, k := range c {
					n += uint64(k)
				}
			}
			if tr.Total != n || tr.Undated != 0 {
				t.Errorf("total %d, undated %d; want %d, 0", tr.Total, tr.Undated, n)
			}
			for i := 1; i < len(tr.Periods); i++ {
				if tr.Periods[i] <= tr.Periods[i-1] {
					t.Fatalf("periods out of order: %v", tr.Periods)
				}
			}
		})
	}
}

// TestTrendsFillsEmptyPeriods checks that the periods between the first
// and the last with a match are listed with zero counts, and that a
// release without a date is counted as undated.
func TestTrendsFillsEmptyPeriods(t *testing.T) {
	x := openCorpus(t)
	undated := corpus()[0]
	undated.Release.ID, undated.Release.URL, undated.Release.Published = "undated", "https://example.test/undated", time.Time{}
	if err := x.Put(context.Background(), undated); err != nil {
		t.Fatal(err)
	}
	tr, err := x.Trends(context.Background(), TrendsRequest{Period: PeriodYear, Group: GroupCountry})
	if err != nil {
		t.Fatal(err)
	}
	want := Trends{
		Period: PeriodYear, Group: GroupCountry,
		Periods: []string{"2023", "2024", "2025", "2026"},
		Series: []TrendSeries{
			{Label: "kingpin", Group: "MX", Counts: []int{0, 0, 1, 0}},
			{Label: "mixed", Group: "MX", Counts: []int{0, 0, 0, 1}},
			{Label: "root_cause", Group: "MX", Counts: []int{1, 0, 0, 0}},
			{Label: "kingpin", Group: "US", Counts: []int{0, 0, 2, 0}},
			{Label: "root_cause", Group: "US", Counts: []int{0, 1, 0, 0}},
		},
		Total: 7, Undated: 1,
	}
	if diff := cmp.Diff(want, tr); diff != "" {
		t.Errorf("trends mismatch (-want +got):\n%s", diff)
	}
}

// TestTrendsBadRequest checks that a bad period, group or query is
// refused with ErrBadQuery.
func TestTrendsBadRequest(t *testing.T) {
	x := openCorpus(t)
	for _, req := range []TrendsRequest{
		{Period: "week"},
		{Group: "language"},
		{Query: Query{Text: "title:("}},
		{Query: Query{Countries: []string{"FR"}}},
	} {
		if _, err := x.Trends(context.Background(), req); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Trends(%+v): got %v, want ErrBadQuery", req, err)
		}
	}
}

// TestIndexedAfter checks that Query.IndexedAfter keeps only releases
// indexed strictly after the instant, to the nanosecond, and that hits
// carry their indexing time and rules version.
func TestIndexedAfter(t *testing.T) {
	x := openCorpus(t)
	base := corpus()[0].IndexedAt
	later := corpus()[1]
	later.IndexedAt = base.Add(time.Nanosecond)
	later.Verdict.RulesVersion = "r2"
	if err := x.Put(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after time.Time
		want  []atalaya.ID
	}{
		{base.Add(-time.Nanosecond), []atalaya.ID{"en1", "en2", "en3", "es1", "es2", "es3"}},
		{base, []atalaya.ID{"en2"}},
		{base.Add(time.Nanosecond), nil},
	} {
		r, err := x.Search(context.Background(), Query{IndexedAfter: tt.after, Sort: SortDate})
		if err != nil {
			t.Fatal(err)
		}
		var got []atalaya.ID
		for _, h := range r.Hits {
			got = append(got, h.ID)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.SortSlices(func(a, b atalaya.ID) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("indexed after %s: (-want +got):\n%s", tt.after.Format(time.RFC3339Nano), diff)
		}
		for _, h := range r.Hits {
			wantRules, wantAt := "r1", base
			if h.ID == "en2" {
				wantRules, wantAt = "r2", later.IndexedAt
			}
			if h.RulesVersion != wantRules || !h.IndexedAt.Equal(wantAt) {
				t.Errorf("hit %s: rules %q indexed %s; want %q, %s", h.ID, h.RulesVersion, h.IndexedAt, wantRules, wantAt)
			}
		}
	}
}

// TestPeriodsSpanningIsBounded checks that one release dated centuries
// away from the others does not fill thousands of empty months.
func TestPeriodsSpanningIsBounded(t *testing.T) {
	got := periodsSpanning(map[string]bool{"1700-01": true, "2025-03": true, "2025-05": true}, false)
	if want := []string{"1700-01", "2025-03", "2025-05"}; !slices.Equal(got, want) {
		t.Errorf("periods = %d of them (%v…), want the three seen", len(got), got[:min(3, len(got))])
	}
	got = periodsSpanning(map[string]bool{"2025-03": true, "2025-05": true}, false)
	if want := []string{"2025-03", "2025-04", "2025-05"}; !slices.Equal(got, want) {
		t.Errorf("periods = %v, want %v", got, want)
	}
}
