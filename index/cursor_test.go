package index

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

// TestCursorWalksEveryHit walks every match page by page with cursors, on
// enough releases that date-sorted pages come from windows of recent days,
// and checks that the walk yields each match once, newest first, releases
// without a date last.
func TestCursorWalksEveryHit(t *testing.T) {
	x, docs := indexSynth(t, 2500, Options{BatchSize: 250})
	for k := 0; k < 5; k++ {
		d := docs[k]
		d.Release.ID, d.Release.URL, d.Release.Published = atalaya.ID("undated"+string(rune('a'+k))), "https://example.test/undated/"+string(rune('a'+k)), time.Time{}
		if err := x.Put(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	order := func(match func(*Document) bool) []atalaya.ID {
		var want []*Document
		for k := range docs {
			if match(&docs[k]) {
				want = append(want, &docs[k])
			}
		}
		slices.SortFunc(want, func(a, b *Document) int {
			da, db := dayKey(a), dayKey(b)
			if da != db {
				return strings.Compare(db, da)
			}
			return strings.Compare(string(a.Release.ID), string(b.Release.ID))
		})
		ids := make([]atalaya.ID, len(want))
		for i, d := range want {
			ids[i] = d.Release.ID
		}
		return ids
	}
	tests := []struct {
		name  string
		q     Query
		match func(*Document) bool
	}{
		{"all", Query{Size: 100}, func(*Document) bool { return true }},
		{"country", Query{Size: 77, Countries: []string{"MX"}}, func(d *Document) bool { return d.Release.Country == atalaya.MX }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []atalaya.ID
			q := tt.q
			q.Sort = SortDate
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("more than 100 pages: the walk does not end")
				}
				r, err := x.Search(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range r.Hits {
					got = append(got, h.ID)
				}
				if r.Next == "" {
					break
				}
				q.After, q.Sort = r.Next, ""
			}
			if diff := cmp.Diff(order(tt.match), got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// dayKey is the day a date sort orders d by; releases without a date sort
// after all others.
func dayKey(d *Document) string {
	if d.Release.Published.IsZero() {
		return "0"
	}
	return d.Release.Published.Format("20060102")
}

// TestCursorBadRequest checks that a cursor that is not one, or one used
// with relevance order or a page number, is refused with ErrBadQuery.
func TestCursorBadRequest(t *testing.T) {
	x := openCorpus(t)
	good := encodeCursor([]string{"20250101", "en1"})
	for _, q := range []Query{
		{After: "not base64!"},
		{After: encodeCursor([]string{"only one"})},
		{After: strings.Repeat("A", 2000)},
		{After: good, Sort: SortRelevance},
		{After: good, Page: 2},
	} {
		if _, err := x.Search(context.Background(), q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Search(%+v): got %v, want ErrBadQuery", q, err)
		}
	}
	if _, err := x.Search(context.Background(), Query{After: good}); err != nil {
		t.Errorf("good cursor: %v", err)
	}
}

// TestExportYieldsEveryMatch checks that Export yields every matching
// release once, in full, over several pages.
func TestExportYieldsEveryMatch(t *testing.T) {
	x, docs := indexSynth(t, 2*exportPageSize+17, Options{BatchSize: 200})
	byID := map[atalaya.ID]Document{}
	for _, d := range docs {
		byID[d.Release.ID] = d
	}
	for _, tt := range []struct {
		name  string
		q     Query
		match func(*Document) bool
	}{
		{"all", Query{Size: 3, Page: 7, Sort: SortDate}, func(*Document) bool { return true }},
		{"spanish", Query{Languages: []string{"es"}}, func(d *Document) bool { return d.Release.Language == atalaya.Spanish }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[atalaya.ID]bool{}
			for d, err := range x.Export(context.Background(), tt.q) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[d.Release.ID] {
					t.Fatalf("%s yielded twice", d.Release.ID)
				}
				seen[d.Release.ID] = true
				want := byID[d.Release.ID]
				if d.Release.Body != want.Release.Body || d.Verdict.Label != want.Verdict.Label || !d.IndexedAt.Equal(want.IndexedAt) {
					t.Fatalf("%s: exported document differs from the one indexed", d.Release.ID)
				}
			}
			n := 0
			for _, d := range docs {
				if tt.match(&d) {
					n++
					if !seen[d.Release.ID] {
						t.Errorf("%s not exported", d.Release.ID)
					}
				}
			}
			if len(seen) != n {
				t.Errorf("exported %d, want %d", len(seen), n)
			}
		})
	}
}

// TestExportBadQuery checks that Export of a bad query yields ErrBadQuery.
func TestExportBadQuery(t *testing.T) {
	x := openCorpus(t)
	for _, err := range x.Export(context.Background(), Query{Text: `title:"unclosed`}) {
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("got %v, want ErrBadQuery", err)
		}
		return
	}
	t.Error("Export yielded nothing")
}
