package index

import (
	"context"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"

	"atalaya"
)

// TestDaySortMatchesBleve checks that pages sorted by date come in the
// order of bleve's sort by dateOrder, with the same cursors (so that a
// cursor given before keeps its place), releases without a date last, on
// releases in many segments, some indexed again.
func TestDaySortMatchesBleve(t *testing.T) {
	x, docs := indexSynth(t, 600, Options{BatchSize: 50})
	var more []Document
	for k := range 4 {
		d := docs[k]
		d.Release.ID, d.Release.URL, d.Release.Published = atalaya.ID("undated"+string(rune('a'+k))), "https://example.test/undated/"+string(rune('a'+k)), time.Time{}
		more = append(more, d)
	}
	for k := 10; k < len(docs); k += 7 {
		docs[k].Release.Published = docs[k].Release.Published.AddDate(0, -3, 0)
		more = append(more, docs[k])
	}
	if err := x.Put(context.Background(), more...); err != nil {
		t.Fatal(err)
	}
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, q := range []Query{{}, {Text: "sanctions OR prevención"}, {Labels: []string{"kingpin"}}} {
		q.Sort, q.Size = SortDate, 40
		bq, err := buildQuery(&q, true)
		if err != nil {
			t.Fatal(err)
		}
		var after []string
		for page := 1; ; page++ {
			q.After = encodeCursorOrEmpty(after)
			got, err := x.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			req := bleve.NewSearchRequestOptions(bq, q.Size, 0, false)
			req.SortBy(dateOrder)
			req.SearchAfter = after
			want, err := bi.Search(req)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs, wantIDs []string
			for _, h := range got.Hits {
				gotIDs = append(gotIDs, string(h.ID))
			}
			for _, h := range want.Hits {
				wantIDs = append(wantIDs, h.ID)
			}
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
				t.Fatalf("%+v page %d: hits mismatch (-bleve +daySort):\n%s", q, page, diff)
			}
			if len(want.Hits) < q.Size {
				break
			}
			after = want.Hits[len(want.Hits)-1].Sort
			if got.Next != encodeCursor(after) {
				t.Fatalf("%+v page %d: cursor %q, bleve's sort gives %q", q, page, got.Next, encodeCursor(after))
			}
		}
	}
}

func encodeCursorOrEmpty(values []string) string {
	if values == nil {
		return ""
	}
	return encodeCursor(values)
}
