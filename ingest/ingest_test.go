package ingest_test

import (
	"context"
	"errors"
	"iter"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/classify"
	"atalaya/ingest"
)

// memArchive stores releases by URL and hash, like the real archive does,
// and keeps the set of releases not yet indexed.
type memArchive struct {
	hashes    map[string][]string
	unindexed map[atalaya.ID]atalaya.Release
	runs      []atalaya.CrawlRun
}

func (a *memArchive) Unindexed(context.Context) iter.Seq2[atalaya.Release, error] {
	return func(yield func(atalaya.Release, error) bool) {
		for _, rel := range a.unindexed {
			if !yield(rel, nil) {
				return
			}
		}
	}
}

func (a *memArchive) MarkIndexed(_ context.Context, ids ...atalaya.ID) error {
	for _, id := range ids {
		delete(a.unindexed, id)
	}
	return nil
}

func (a *memArchive) Put(_ context.Context, _ atalaya.Page, rel atalaya.Release) (int, error) {
	if a.hashes == nil {
		a.hashes, a.unindexed = map[string][]string{}, map[atalaya.ID]atalaya.Release{}
	}
	versions := a.hashes[rel.URL]
	if n := len(versions); n > 0 && versions[n-1] == rel.Hash {
		return 0, nil
	}
	a.hashes[rel.URL] = append(versions, rel.Hash)
	rel.Version = len(a.hashes[rel.URL])
	a.unindexed[rel.ID] = rel
	return rel.Version, nil
}

func (a *memArchive) LastRun(_ context.Context, src atalaya.SourceID) (atalaya.CrawlRun, error) {
	for i := len(a.runs) - 1; i >= 0; i-- {
		if a.runs[i].Source == src {
			return a.runs[i], nil
		}
	}
	return atalaya.CrawlRun{}, nil
}

func (a *memArchive) RecordRun(_ context.Context, run atalaya.CrawlRun) error {
	a.runs = append(a.runs, run)
	return nil
}

// titleClassifier labels a release kingpin when its title says "sanctions".
type titleClassifier struct{}

func (titleClassifier) Classify(rel atalaya.Release) classify.Verdict {
	if rel.Title == "sanctions" {
		return classify.Verdict{Label: "kingpin"}
	}
	return classify.Verdict{Label: classify.Neither}
}

type memIndex struct {
	batches [][]string
	fail    bool
}

func (x *memIndex) Index(_ context.Context, batch []ingest.Classified) error {
	if x.fail {
		return errors.New("disk full")
	}
	var urls []string
	for _, c := range batch {
		urls = append(urls, c.Release.URL)
	}
	x.batches = append(x.batches, urls)
	return nil
}

func release(url, title, body string) atalaya.Release {
	return atalaya.Release{ID: atalaya.NewID(url), URL: url, Title: title, Body: body, Hash: atalaya.ContentHash(title, time.Time{}, body)}
}

// crawlOf returns a source whose crawl writes rels to the sink and counts outcomes as the crawler does.
func crawlOf(id atalaya.SourceID, err error, rels ...atalaya.Release) ingest.Source {
	return ingest.Source{ID: id, Crawl: func(ctx context.Context, sink ingest.Sink) (atalaya.CrawlRun, error) {
		run := atalaya.CrawlRun{Source: id}
		for _, rel := range rels {
			v, perr := sink.Put(ctx, atalaya.Page{URL: rel.URL}, rel)
			switch {
			case perr != nil:
				run.Failed++
			case v == 0:
				run.Unchanged++
			case v == 1:
				run.New++
			default:
				run.Revised++
			}
		}
		return run, err
	}}
}

func TestRunIndexesWhatTheArchiveStores(t *testing.T) {
	arch, idx := &memArchive{}, &memIndex{}
	r, err := ingest.New(ingest.Options{Archive: arch, Classifier: titleClassifier{}, Indexer: idx, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, b, c := release("u/a", "sanctions", "x"), release("u/b", "visit", "y"), release("u/c", "visit", "z")

	stats, err := r.Run(ctx, []ingest.Source{crawlOf("one", nil, a, b, c)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"u/a", "u/b"}, {"u/c"}}, idx.batches); diff != "" {
		t.Errorf("index batches (-want +got):\n%s", diff)
	}
	got := stats.Sources[0]
	if got.Indexed != 3 || got.Run.New != 3 || got.Labels["kingpin"] != 1 || got.Labels[classify.Neither] != 2 {
		t.Errorf("first pass stats = %+v, want 3 new, 3 indexed, 1 kingpin, 2 neither", got)
	}

	// Second pass: a is unchanged and not indexed again; b is revised and re-indexed.
	idx.batches = nil
	b2 := release("u/b", "visit", "y, revised")
	stats, err = r.Run(ctx, []ingest.Source{crawlOf("one", nil, a, b2)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"u/b"}}, idx.batches); diff != "" {
		t.Errorf("second pass batches (-want +got):\n%s", diff)
	}
	if got := stats.Sources[0].Run; got.Unchanged != 1 || got.Revised != 1 {
		t.Errorf("second pass run = %+v, want 1 unchanged, 1 revised", got)
	}
	if len(arch.runs) != 2 {
		t.Errorf("recorded %d runs, want 2", len(arch.runs))
	}
}

func TestRunGoesOnWhenOneSourceFails(t *testing.T) {
	arch, idx := &memArchive{}, &memIndex{}
	r, err := ingest.New(ingest.Options{Archive: arch, Classifier: titleClassifier{}, Indexer: idx})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := r.Run(context.Background(), []ingest.Source{
		crawlOf("broken", errors.New("listing: 503"), release("u/a", "t", "b")),
		crawlOf("fine", nil, release("u/b", "t", "b")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Failed() != 1 || stats.Sources[0].Err == nil || stats.Sources[1].Err != nil {
		t.Fatalf("stats = %+v, want only the first source failed", stats)
	}
	if stats.Sources[0].Indexed != 1 || stats.Sources[1].Indexed != 1 {
		t.Errorf("releases archived before the failure must still be indexed: %+v", stats)
	}
	if len(arch.runs) != 2 || arch.runs[0].Source != "broken" {
		t.Errorf("runs = %+v, want both recorded", arch.runs)
	}
}

func TestIndexFailureKeepsArchiving(t *testing.T) {
	arch, idx := &memArchive{}, &memIndex{fail: true}
	r, err := ingest.New(ingest.Options{Archive: arch, Classifier: titleClassifier{}, Indexer: idx, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := r.Run(context.Background(), []ingest.Source{crawlOf("one", nil, release("u/a", "t", "1"), release("u/b", "t", "2"))})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Sources[0].Err == nil {
		t.Error("an index failure must be reported")
	}
	if len(arch.hashes) != 2 || stats.Sources[0].Run.New != 2 {
		t.Errorf("archived %d releases (run %+v), want 2: the archive is the source of truth", len(arch.hashes), stats.Sources[0].Run)
	}

	// Once the index works again, the next pass indexes what it missed.
	idx.fail = false
	stats, err = r.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.CaughtUp != 2 || len(arch.unindexed) != 0 {
		t.Errorf("next pass caught up %d releases, %d still unindexed; want 2 and 0", stats.CaughtUp, len(arch.unindexed))
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	r, err := ingest.New(ingest.Options{Archive: &memArchive{}, Classifier: titleClassifier{}, Indexer: &memIndex{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stats, err := r.Run(ctx, []ingest.Source{crawlOf("one", nil)})
	if !errors.Is(err, context.Canceled) || len(stats.Sources) != 0 {
		t.Errorf("Run on a cancelled context = %+v, %v; want no source run and context.Canceled", stats, err)
	}
}

func TestFarFewerItemsIsAnIssue(t *testing.T) {
	arch := &memArchive{}
	r, err := ingest.New(ingest.Options{Archive: arch, Classifier: titleClassifier{}, Indexer: &memIndex{}})
	if err != nil {
		t.Fatal(err)
	}
	listing := func(items int) ingest.Source {
		return ingest.Source{ID: "one", Crawl: func(context.Context, ingest.Sink) (atalaya.CrawlRun, error) {
			return atalaya.CrawlRun{Source: "one", Listings: 1, Items: items}, nil
		}}
	}
	for _, tt := range []struct {
		items     int
		wantIssue bool
	}{{10, false}, {9, false}, {3, true}, {10, false}} {
		stats, err := r.Run(context.Background(), []ingest.Source{listing(tt.items)})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(stats.Sources[0].Run.Issues) > 0; got != tt.wantIssue {
			t.Errorf("%d items after the previous run: issue %v, want %v (%+v)", tt.items, got, tt.wantIssue, stats.Sources[0].Run.Issues)
		}
	}
}

// TestItemCountComparesPagesRead checks the item-count rule at its edge
// (exactly half of the previous run is no issue, below half is) and that
// listings answered 304 are no pages with 0 items: an idle run whose every
// listing is not modified raises no issue, nor does a run where some are.
func TestItemCountComparesPagesRead(t *testing.T) {
	tests := []struct {
		name      string
		prev, run atalaya.CrawlRun
		wantIssue bool
	}{
		{"exactly half", atalaya.CrawlRun{Listings: 2, Items: 20}, atalaya.CrawlRun{Listings: 2, Items: 10}, false},
		{"below half", atalaya.CrawlRun{Listings: 2, Items: 20}, atalaya.CrawlRun{Listings: 2, Items: 8}, true},
		{"all not modified", atalaya.CrawlRun{Listings: 2, Items: 20}, atalaya.CrawlRun{NotModified: 2}, false},
		{"some not modified", atalaya.CrawlRun{Listings: 2, Items: 20}, atalaya.CrawlRun{Listings: 1, NotModified: 1, Items: 10}, false},
		{"feed not modified", atalaya.CrawlRun{Listings: 1, Items: 9}, atalaya.CrawlRun{NotModified: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.prev.Source, tt.run.Source = "one", "one"
			arch := &memArchive{}
			if err := arch.RecordRun(context.Background(), tt.prev); err != nil {
				t.Fatal(err)
			}
			r, err := ingest.New(ingest.Options{Archive: arch, Classifier: titleClassifier{}, Indexer: &memIndex{}})
			if err != nil {
				t.Fatal(err)
			}
			src := ingest.Source{ID: "one", Crawl: func(context.Context, ingest.Sink) (atalaya.CrawlRun, error) { return tt.run, nil }}
			stats, err := r.Run(context.Background(), []ingest.Source{src})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(stats.Sources[0].Run.Issues) > 0; got != tt.wantIssue {
				t.Errorf("run %+v after %+v: issue %v, want %v (%+v)", tt.run, tt.prev, got, tt.wantIssue, stats.Sources[0].Run.Issues)
			}
		})
	}
}
