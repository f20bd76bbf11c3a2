package index

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atalaya"
	"atalaya/classify"
)

// corpus is a small set of releases written for these tests, three in
// English and three in Spanish. Keys are the release IDs.
func corpus() []Document {
	mx := time.FixedZone("CST", -6*3600)
	et := time.FixedZone("EST", -5*3600)
	doc := func(id, src, agency string, c atalaya.Country, lang atalaya.Language, date time.Time, title, body string, label string, themes ...string) Document {
		return Document{
			Release: atalaya.Release{
				ID: atalaya.ID(id), URL: "https://example.test/" + id, Source: atalaya.SourceID(src), Agency: agency,
				Country: c, Language: lang, Title: title, Body: body, Published: date,
				DateOrigin: atalaya.DateFromArticle,
			},
			Verdict:   classify.Verdict{Label: classify.Label(label), Themes: themes, RulesVersion: "r1"},
			IndexedAt: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC),
		}
	}
	return []Document{
		doc("en1", "state", "Department of State", atalaya.US, atalaya.English, time.Date(2025, 3, 10, 0, 0, 0, 0, et),
			"Department imposes sanctions on cartel leaders",
			"Today the Department sanctioned three leaders of a smuggling network.\n\nThe measures freeze their property held in the United States.",
			"kingpin", "sanctions"),
		doc("en2", "state", "Department of State", atalaya.US, atalaya.English, time.Date(2024, 7, 1, 0, 0, 0, 0, et),
			"New grants for community prevention",
			"The grants fund treatment clinics and prevention programs in schools and neighborhoods.",
			"root_cause", "prevention", "treatment"),
		doc("en3", "treasury", "Department of the Treasury", atalaya.US, atalaya.English, time.Date(2025, 11, 20, 0, 0, 0, 0, et),
			"Designation of an arms trafficking network",
			"The Office designated five people who moved rifles across the border. This arms trafficking ring supplied a cartel, and further sanctions may follow.",
			"kingpin", "arms", "sanctions"),
		doc("es1", "sre", "Secretaría de Relaciones Exteriores", atalaya.MX, atalaya.Spanish, time.Date(2025, 5, 15, 0, 0, 0, 0, mx),
			"México concreta la extradición de un operador financiero",
			"La cancillería informó que se concretó la extradición de un operador financiero de una red delictiva.",
			"kingpin", "extradition"),
		doc("es2", "salud", "Secretaría de Salud", atalaya.MX, atalaya.Spanish, time.Date(2023, 2, 1, 0, 0, 0, 0, mx),
			"Estrategia nacional de prevención de adicciones",
			"La estrategia ofrece atención a jóvenes en escuelas y centros comunitarios con programas de prevención.",
			"root_cause", "prevention"),
		doc("es3", "fgr", "Fiscalía General de la República", atalaya.MX, atalaya.Spanish, time.Date(2026, 1, 5, 0, 0, 0, 0, mx),
			"Extradiciones a Estados Unidos durante el semestre",
			"En el semestre se realizaron extradiciones y, al mismo tiempo, se abrieron clínicas de atención a las adicciones.",
			"mixed", "extradition", "treatment"),
	}
}

func openCorpus(t *testing.T) *Index {
	t.Helper()
	x, err := OpenMemWith(Options{KnownLabels: []classify.Label{"kingpin", "root_cause"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	if err := x.Put(context.Background(), corpus()...); err != nil {
		t.Fatal(err)
	}
	return x
}

func hitIDs(r *Result) []string {
	ids := []string{}
	for _, h := range r.Hits {
		ids = append(ids, string(h.ID))
	}
	return ids
}

func sorted(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func TestSearchMatches(t *testing.T) {
	x := openCorpus(t)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"english stemming plural", Query{Text: "sanctions"}, []string{"en1", "en3"}},
		{"english stemming past", Query{Text: "sanctioned"}, []string{"en1", "en3"}},
		{"spanish stemming plural to accented singular", Query{Text: "extradiciones"}, []string{"es1", "es3"}},
		{"spanish stemming singular", Query{Text: "extradición"}, []string{"es1", "es3"}},
		{"phrase", Query{Text: `"arms trafficking"`}, []string{"en3"}},
		{"phrase in wrong order", Query{Text: `"trafficking arms"`}, []string{}},
		{"phrase by date", Query{Text: `"arms trafficking" OR "operador financiero"`, Sort: SortDate, Facets: true}, []string{"en3", "es1"}},
		{"phrase with filters", Query{Text: `"arms trafficking"`, Labels: []string{"kingpin"}, Since: day("2025-01-01")}, []string{"en3"}},
		{"phrase filtered out", Query{Text: `"arms trafficking"`, Labels: []string{"mixed"}}, []string{}},
		{"prefix", Query{Text: "extradi*"}, []string{"es1", "es3"}},
		{"implicit and", Query{Text: "prevention schools"}, []string{"en2"}},
		{"or", Query{Text: "rifles OR adicciones"}, []string{"en3", "es2", "es3"}},
		{"and not", Query{Text: "(sanctions OR extradición) AND NOT label:mixed"}, []string{"en1", "en3", "es1"}},
		{"minus", Query{Text: "sanctions -rifles"}, []string{"en1"}},
		{"only negative", Query{Text: "NOT country:mx"}, []string{"en1", "en2", "en3"}},
		{"title field", Query{Text: "title:sanctions"}, []string{"en1"}},
		{"body field", Query{Text: "body:sanctions"}, []string{"en1", "en3"}},
		{"title field only", Query{Text: "title:network"}, []string{"en3"}},
		{"keyword field ignores case", Query{Text: "source:TREASURY"}, []string{"en3"}},
		{"agency phrase", Query{Text: `agency:"Department of State"`}, []string{"en1", "en2"}},
		{"theme prefix", Query{Text: "theme:extra*"}, []string{"es1", "es3"}},
		{"year", Query{Text: "year:2025"}, []string{"en1", "en3", "es1"}},
		{"date range", Query{Text: "published:[2025-01-01 TO 2025-12-31]"}, []string{"en1", "en3", "es1"}},
		{"date from", Query{Text: "published:>=2025-05-15"}, []string{"en3", "es1", "es3"}},
		{"date after", Query{Text: "published:>2025-05-15"}, []string{"en3", "es3"}},
		{"date single day", Query{Text: "published:2025-05-15"}, []string{"es1"}},
		{"label and country filters", Query{Labels: []string{"kingpin"}, Countries: []string{"MX"}}, []string{"es1"}},
		{"label filter ORed", Query{Labels: []string{"mixed", "root_cause"}}, []string{"en2", "es2", "es3"}},
		{"theme filter", Query{Themes: []string{"treatment"}}, []string{"en2", "es3"}},
		{"source filter", Query{Sources: []string{"state", "fgr"}}, []string{"en1", "en2", "es3"}},
		{"agency filter", Query{Agencies: []string{"Secretaría de Salud"}}, []string{"es2"}},
		{"language filter", Query{Languages: []string{"es"}, Text: "atención"}, []string{"es2", "es3"}},
		{"since until", Query{Since: day("2024-07-01"), Until: day("2025-03-10")}, []string{"en1", "en2"}},
		{"since until over years", Query{Since: day("2023-01-01"), Until: day("2025-06-30")}, []string{"en1", "en2", "es1", "es2"}},
		{"date range over years", Query{Text: "published:[2023-02-01 TO 2025-11-20]"}, []string{"en1", "en2", "en3", "es1", "es2"}},
		{"date range over years, partial ends", Query{Text: "published:[2023-02-02 TO 2025-11-19]"}, []string{"en1", "en2", "es1"}},
		{"text and filters", Query{Text: "sanctions", Labels: []string{"kingpin"}, Since: day("2025-06-01")}, []string{"en3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Search(%+v): %v", tt.q, err)
			}
			if diff := cmp.Diff(tt.want, sorted(hitIDs(r))); diff != "" {
				t.Errorf("Search(%q) IDs mismatch (-want +got):\n%s", tt.q.Text, diff)
			}
			if r.Total != uint64(len(tt.want)) {
				t.Errorf("Search(%q).Total = %d, want %d", tt.q.Text, r.Total, len(tt.want))
			}
		})
	}
}

func TestSearchSortByDate(t *testing.T) {
	x := openCorpus(t)
	r, err := x.Search(context.Background(), Query{Sort: SortDate})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"es3", "en3", "es1", "en1", "en2", "es2"}
	if diff := cmp.Diff(want, hitIDs(r)); diff != "" {
		t.Errorf("date order mismatch (-want +got):\n%s", diff)
	}
	r, err = x.Search(context.Background(), Query{Sort: SortDate, Page: 2, Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"en2", "es2"}, hitIDs(r)); diff != "" {
		t.Errorf("page 2 mismatch (-want +got):\n%s", diff)
	}
}

func TestSearchFacets(t *testing.T) {
	x := openCorpus(t)
	r, err := x.Search(context.Background(), Query{Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]FacetCount{
		"label":    {{"kingpin", 3}, {"root_cause", 2}, {"mixed", 1}},
		"theme":    {{"extradition", 2}, {"prevention", 2}, {"sanctions", 2}, {"treatment", 2}, {"arms", 1}},
		"source":   {{"state", 2}, {"fgr", 1}, {"salud", 1}, {"sre", 1}, {"treasury", 1}},
		"country":  {{"MX", 3}, {"US", 3}},
		"language": {{"en", 3}, {"es", 3}},
		"year":     {{"2026", 1}, {"2025", 3}, {"2024", 1}, {"2023", 1}},
	}
	if diff := cmp.Diff(want, r.Facets); diff != "" {
		t.Errorf("facets mismatch (-want +got):\n%s", diff)
	}
	r, err = x.Search(context.Background(), Query{Text: "extradiciones", Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]FacetCount{{"kingpin", 1}, {"mixed", 1}}, r.Facets["label"]); diff != "" {
		t.Errorf("label facet of a query mismatch (-want +got):\n%s", diff)
	}
}

func TestSearchHighlight(t *testing.T) {
	x := openCorpus(t)
	r, err := x.Search(context.Background(), Query{Text: "extradición", Highlight: true, Sort: SortDate})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"es3", "es1"}, hitIDs(r)); diff != "" {
		t.Fatalf("IDs mismatch (-want +got):\n%s", diff)
	}
	for _, h := range r.Hits {
		if len(h.Fragments) == 0 {
			t.Fatalf("hit %s has no fragments", h.ID)
		}
	}
	if got, want := r.Hits[0].Fragments[0], "<mark>extradiciones</mark>"; !strings.Contains(got, want) {
		t.Errorf("fragment %q does not contain %q", got, want)
	}
	if got, want := r.Hits[1].Fragments[0], "<mark>extradición</mark>"; !strings.Contains(got, want) {
		t.Errorf("fragment %q does not contain %q", got, want)
	}
	h := r.Hits[1]
	if h.Title != "México concreta la extradición de un operador financiero" || h.Agency != "Secretaría de Relaciones Exteriores" ||
		h.Label != "kingpin" || h.Country != "MX" || h.Language != "es" || h.Source != "sre" ||
		!h.Published.Equal(time.Date(2025, 5, 15, 6, 0, 0, 0, time.UTC)) || h.URL != "https://example.test/es1" {
		t.Errorf("hit fields = %+v", h)
	}
}

func TestSearchBadQuery(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"syntax", Query{Text: "(sanctions"}, `query:1:11: expected ")"`},
		{"unknown field", Query{Text: "colour:red"}, `unknown field "colour"`},
		{"bad date", Query{Text: "published:2025-13-01"}, `bad date "2025-13-01"`},
		{"date before the first day", Query{Text: "published:<0001-01-01"}, "query:1:12: date 0001-01-01 is out of range: dates go from 1678-01-01"},
		{"day before the first day", Query{Text: "published:0001-01-01"}, "date 0001-01-01 is out of range"},
		{"day before Bleve's dates", Query{Text: "published:1500-01-01"}, "query:1:11: date 1500-01-01 is out of range"},
		{"day after Bleve's dates", Query{Text: "published:>=9999-12-31"}, "date 9999-12-31 is out of range"},
		{"after the last day", Query{Text: "published:>2261-12-31"}, "date >2261-12-31 is out of range"},
		{"range past the last day", Query{Text: "published:[* TO 9999-12-31]"}, "date 9999-12-31 is out of range"},
		{"range before the first day", Query{Text: "published:[1500-01-01 TO *]"}, "date 1500-01-01 is out of range"},
		{"year 10000", Query{Text: "published:10000-01-01"}, `bad date "10000-01-01"`},
		{"year 10000 compared", Query{Text: "published:>10000-01-01"}, `bad date "10000-01-01"`},
		{"since out of range", Query{Since: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}, "since 1500-01-01 is out of range"},
		{"until out of range", Query{Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, "until 9999-12-31 is out of range"},
		{"unknown label", Query{Labels: []string{"villain"}}, `unknown label "villain"`},
		{"unknown country", Query{Countries: []string{"FR"}}, `unknown country "FR"`},
		{"unknown language", Query{Languages: []string{"de"}}, `unknown language "de"`},
		{"size over limit", Query{Size: 101}, "over the limit of 100"},
		{"negative page", Query{Page: -1}, "page -1 is negative"},
		{"deep page", Query{Page: 200, Size: 100}, "past the first 10000 hits"},
		{"bad sort", Query{Sort: "title"}, `unknown sort "title"`},
		{"until before since", Query{Since: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, "is before since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := x.Search(context.Background(), tt.q)
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("Search error = %v, want ErrBadQuery", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Search error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPutReplacesAndGet(t *testing.T) {
	x := openCorpus(t)
	ctx := context.Background()
	d := corpus()[0]
	d.Release.Title = "Department lifts a designation"
	d.Release.Body = "The Department removed one person from the list after a review."
	d.Verdict.Label = "neither"
	d.Verdict.Evidence = []classify.Evidence{{Rule: "r", Field: "body", Start: 1, End: 2, Match: "x"}}
	if err := x.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	if n, err := x.Count(); err != nil || n != 6 {
		t.Errorf("Count() = %d, %v; want 6", n, err)
	}
	r, err := x.Search(ctx, Query{Text: "sanctioned"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"en3"}, sorted(hitIDs(r))); diff != "" {
		t.Errorf("old text still found (-want +got):\n%s", diff)
	}
	got, err := x.Get(ctx, "en1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}
	if _, err := x.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) error = %v, want ErrNotFound", err)
	}
	if err := x.Delete(ctx, "en1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := x.Count(); n != 5 {
		t.Errorf("Count() after Delete = %d, want 5", n)
	}
}

func TestPutRejectsBadDocuments(t *testing.T) {
	x := openCorpus(t)
	good := corpus()[0]
	good.Release.ID = "new"
	french := corpus()[1]
	french.Release.ID, french.Release.Language = "fr1", "fr"
	anonymous := corpus()[2]
	anonymous.Release.ID, anonymous.Release.URL = "", ""
	tests := []struct {
		name string
		doc  Document
		want string
	}{
		{"unknown language", french, `unknown language "fr"`},
		{"no ID or URL", anonymous, "neither an ID nor a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := x.Put(context.Background(), good, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Put error = %v, want %q", err, tt.want)
			}
			if n, _ := x.Count(); n != 6 {
				t.Errorf("Count() = %d after a failed Put, want 6: nothing written", n)
			}
		})
	}
}

func TestOpenReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ctx := context.Background()
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Put(ctx, corpus()...); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Count(); !errors.Is(err, ErrClosed) {
		t.Errorf("Count on closed index error = %v, want ErrClosed", err)
	}
	x, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n, err := x.Count(); err != nil || n != 6 {
		t.Errorf("Count() after reopen = %d, %v; want 6", n, err)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	_, err = Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open error = %v, want ErrLocked", err)
	}
}

func TestOpenIncompatible(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"garbage files", func(t *testing.T, dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{not json"), 0o644)
		}},
		{"no bleve index", func(t *testing.T, dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
		}},
		{"other schema", func(t *testing.T, dir string) {
			x, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			x.bi.SetInternal(schemaKey, []byte("atalaya-index-0"))
			x.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			tt.setup(t, dir)
			_, err := Open(dir, Options{})
			if !errors.Is(err, ErrIncompatible) {
				t.Fatalf("Open error = %v, want ErrIncompatible", err)
			}
			if !strings.Contains(err.Error(), "atalaya reindex") {
				t.Errorf("Open error = %q, want it to tell to run atalaya reindex", err)
			}
		})
	}
}

func seqOf(docs []Document) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func TestRebuildSwap(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	docs := corpus()
	if err := x.Put(ctx, docs[:2]...); err != nil {
		t.Fatal(err)
	}
	if err := Rebuild(ctx, dir, seqOf(docs), Options{BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	// The open index follows the swap on its next call.
	if n, err := x.Count(); err != nil || n != 6 {
		t.Errorf("Count() after Rebuild = %d, %v; want 6", n, err)
	}
	r, err := x.Search(ctx, Query{Text: "extradiciones"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"es1", "es3"}, sorted(hitIDs(r))); diff != "" {
		t.Errorf("search after Rebuild mismatch (-want +got):\n%s", diff)
	}
	x.Close()
	if got := generations(t, dir); len(got) != 1 {
		t.Errorf("generations after Rebuild and Close = %v, want one", got)
	}
	y, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if n, err := y.Count(); err != nil || n != 6 {
		t.Errorf("Count() after reopening rebuilt index = %d, %v; want 6", n, err)
	}
}

// generations lists the generation directories beside dir.
func generations(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(dir + ".gen-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRebuildInterrupted(t *testing.T) {
	tests := []struct {
		name string
		fail func(cancel context.CancelFunc) error // called at the fourth document
	}{
		{"context cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }},
		{"source error", func(context.CancelFunc) error { return errors.New("archive: bad record") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			x, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if err := x.Put(context.Background(), corpus()[:2]...); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			docs := func(yield func(Document, error) bool) {
				for i, d := range corpus() {
					if i == 3 {
						if err := tt.fail(cancel); err != nil {
							yield(Document{}, err)
							return
						}
					}
					if !yield(d, nil) {
						return
					}
				}
			}
			if err := Rebuild(ctx, dir, docs, Options{BatchSize: 2}); err == nil {
				t.Fatal("Rebuild succeeded, want an error")
			}
			if n, err := x.Count(); err != nil || n != 2 {
				t.Errorf("Count() of old index = %d, %v; want 2", n, err)
			}
			if got := generations(t, dir); len(got) != 1 {
				t.Errorf("generations after failed Rebuild = %v, want only the old one", got)
			}
		})
	}
}

func TestOpenCleansKilledRebuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	// What a killed rebuild leaves: a generation never linked, and a link.
	stale, err := newGeneration(dir)
	if err != nil {
		t.Fatal(err)
	}
	bi, err := newBleve(stale, nil)
	if err != nil {
		t.Fatal(err)
	}
	bi.Close()
	os.Symlink(filepath.Base(stale), dir+".tmp-x")
	x, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := generations(t, dir); len(got) != 1 || got[0] == stale {
		t.Errorf("generations after Open = %v, want only the linked one", got)
	}
	if _, err := os.Lstat(dir + ".tmp-x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stray link still there: %v", err)
	}
}

// TestSearchByDateWindows checks that a date-sorted search that goes through
// date windows returns the same pages as a plain sort over everything.
func TestSearchByDateWindows(t *testing.T) {
	x, err := OpenMemWith(quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var docs []Document
	published := map[atalaya.ID]string{}
	for d := range synthDocs(2600) {
		docs = append(docs, d)
		published[d.Release.ID] = d.Release.Published.Format(time.DateOnly)
	}
	if err := x.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, q := range []Query{
		{Sort: SortDate, Size: 10, Page: 1},
		{Sort: SortDate, Size: 100, Page: 3},
		{Sort: SortDate, Size: 20, Page: 2, Text: "NOT label:neither"},
	} {
		t.Run(fmt.Sprintf("%q page %d", q.Text, q.Page), func(t *testing.T) {
			r, err := x.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			bq, err := buildQuery(&q, true)
			if err != nil {
				t.Fatal(err)
			}
			req := bleve.NewSearchRequestOptions(bq, q.Size, (q.Page-1)*q.Size, false)
			req.SortBy([]string{"-" + fieldDay, "_id"})
			want, err := bi.Search(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != want.Total {
				t.Errorf("Total = %d, want %d", r.Total, want.Total)
			}
			var gotIDs, wantIDs []string
			for _, h := range r.Hits {
				gotIDs = append(gotIDs, string(h.ID)+" "+h.Published.Format(time.DateOnly))
			}
			for _, h := range want.Hits {
				wantIDs = append(wantIDs, h.ID+" "+published[atalaya.ID(h.ID)])
			}
			// Releases of one day come in the order of their IDs, in
			// every window.
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
				t.Errorf("page mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDateQuerySplit checks that splitting a date range into years, months
// and days matches what one numeric range matches.
func TestDateQuerySplit(t *testing.T) {
	x, _ := indexSynth(t, 1500, quiet())
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, r := range [][2]string{
		{"2021-01-01", "2025-06-30"}, {"2020-03-15", "2024-02-10"}, {"2022-05-01", "2022-05-31"},
		{"2022-05-02", "2022-05-30"}, {"2019-12-28", "2020-01-04"}, {"2023-01-01", "2023-12-31"},
		{"2024-02-01", "2024-03-31"}, {"2025-07-07", "2025-07-07"},
	} {
		t.Run(r[0]+"_"+r[1], func(t *testing.T) {
			count := func(q query.Query) uint64 {
				res, err := x.bi.Search(bleve.NewSearchRequestOptions(q, 0, 0, false))
				if err != nil {
					t.Fatal(err)
				}
				return res.Total
			}
			from, to := day(r[0]), day(r[1])
			got, want := count(dateQuery(fieldPublished, from, to)), count(numericDays(fieldPublished, from, to))
			if got != want {
				t.Errorf("split range matches %d releases, numeric range %d", got, want)
			}
			if want == 0 && r[0] != r[1] {
				t.Errorf("range matches nothing; pick a range with releases")
			}
		})
	}
}

// TestSearchPhrase checks that phraseQuery matches what bleve's
// match-phrase query matches, with the same scores.
func TestSearchPhrase(t *testing.T) {
	x := openCorpus(t)
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	tests := []struct {
		phrase string
		want   []string
	}{
		{`"sanctions"`, []string{"en1", "en3"}},
		{`"arms trafficking"`, []string{"en3"}},
		{`"arms trafficking network"`, []string{"en3"}},
		{`"operador financiero"`, []string{"es1"}},
		{`"extradición de un operador"`, []string{"es1"}},
		{`"extradición de operador"`, []string{}},
		{`"prevención de adicciones"`, []string{"es2"}},
		{`"estrategia nacional de prevención"`, []string{"es2"}},
		{`"the measures freeze their property"`, []string{"en1"}},
		{`"leaders of a smuggling network"`, []string{"en1"}},
		{`"leaders of smuggling"`, []string{}},
		{`"leaders today"`, []string{}}, // the end of a title and the start of its body
		{`"moved rifles across"`, []string{"en3"}},
		{`"rifles moved"`, []string{}},
		{`"de la"`, []string{}},
		{`"the"`, []string{}},
		{`"clínicas de atención a las adicciones"`, []string{"es3"}},
		{`title:"arms trafficking"`, []string{"en3"}},
		{`body:"smuggling network"`, []string{"en1"}},
		{`title:"smuggling network"`, []string{}},
		{`"arms trafficking" OR "prevención de adicciones"`, []string{"en3", "es2"}},
		{`"arms trafficking" -"rifles across"`, []string{}},
		{`"atención a" AND label:mixed`, []string{"es3"}},
	}
	for _, tt := range tests {
		t.Run(tt.phrase, func(t *testing.T) {
			q := Query{Text: tt.phrase, Size: MaxPageSize}
			r, err := x.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sorted(hitIDs(r))); diff != "" {
				t.Errorf("phraseQuery: IDs mismatch (-want +got):\n%s", diff)
			}
			scores := make(map[string]float64)
			for _, h := range r.Hits {
				scores[string(h.ID)] = h.Score
			}
			bq, err := buildQuery(&q, false)
			if err != nil {
				t.Fatal(err)
			}
			res, err := bi.Search(bleve.NewSearchRequestOptions(bq, MaxPageSize, 0, false))
			if err != nil {
				t.Fatal(err)
			}
			textIDs := []string{}
			for _, h := range res.Hits {
				textIDs = append(textIDs, h.ID)
				if got, want := scores[h.ID], h.Score; math.Abs(got-want) > 1e-9*want {
					t.Errorf("hit %s: got score %g, want %g", h.ID, got, want)
				}
			}
			if diff := cmp.Diff(tt.want, sorted(textIDs)); diff != "" {
				t.Errorf("match-phrase query: IDs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHitVersion checks that hits carry the version of their release, so
// that revised releases can be marked.
func TestHitVersion(t *testing.T) {
	x := openCorpus(t)
	docs := corpus()
	for _, v := range []int{1, 3} {
		d := docs[0]
		d.Release.Version = v
		if err := x.Put(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		r, err := x.Search(context.Background(), Query{Text: "title:cartel"})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) != 1 {
			t.Fatalf("got %d hits, want 1", len(r.Hits))
		}
		if got := r.Hits[0].Version; got != v {
			t.Errorf("got version %d, want %d", got, v)
		}
	}
}

// TestPhraseQueryMatchesBleve checks, on synthetic releases, that
// phraseQuery matches the releases bleve's match-phrase query matches, with
// the same scores, for phrases of two to five words taken from them (stop
// words included) and for the same words in another order. The releases
// are in several segments, and a third of them were indexed again with
// another release's body, so that segments hold deleted versions whose
// words must not match.
func TestPhraseQueryMatchesBleve(t *testing.T) {
	x, bi, docs, phrases := indexPhrases(t, 300, Options{BatchSize: 50})
	var changed []Document
	for k := 0; k+1 < len(docs); k += 3 {
		d := docs[k]
		d.Release.Body = docs[k+1].Release.Body
		changed = append(changed, d)
	}
	if err := x.Put(context.Background(), changed...); err != nil {
		t.Fatal(err)
	}
	matched := 0
	for _, p := range phrases {
		t.Run(p, func(t *testing.T) {
			scores := func(fast bool) map[string]float64 {
				bq, err := buildQuery(&Query{Text: p}, fast)
				if err != nil {
					t.Fatal(err)
				}
				res, err := bi.Search(bleve.NewSearchRequestOptions(bq, len(docs), 0, false))
				if err != nil {
					t.Fatal(err)
				}
				m := make(map[string]float64)
				for _, h := range res.Hits {
					m[h.ID] = h.Score
				}
				return m
			}
			got, want := scores(true), scores(false)
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("scores by ID mismatch (-bleve +phraseQuery):\n%s", diff)
			}
			if len(got) > 0 {
				matched++
			}
		})
	}
	if matched < len(phrases)/3 {
		t.Errorf("only %d of %d phrases match: the test phrases are too rare", matched, len(phrases))
	}
}

// synthPhrases returns n synthetic documents and phrases of two to five
// words taken from every tenth of them (stop words included), each also
// with its words in reverse order.
func synthPhrases(n int) ([]Document, []string) {
	var docs []Document
	var phrases []string
	for d := range synthDocs(n) {
		docs = append(docs, d)
		if len(docs)%10 == 0 {
			words := strings.Fields(d.Release.Body)
			n := 2 + len(docs)/10%4
			at := len(words) / 3
			phrase := words[at : at+n]
			reversed := slices.Clone(phrase)
			slices.Reverse(reversed)
			for _, p := range [][]string{phrase, reversed} {
				phrases = append(phrases, `"`+strings.Trim(strings.Join(p, " "), `.,;:"`)+`"`)
			}
		}
	}
	return docs, phrases
}

// TestFacetsCountEveryMatch checks facet counts against counts made from
// the documents themselves, on synthetic releases in several segments, a
// third of them indexed again with another label and year (so segments
// hold deleted versions that must not count), for queries that match all,
// some or none of them, sorted by relevance or date.
func TestFacetsCountEveryMatch(t *testing.T) {
	x, docs := indexSynthRevised(t)
	want := func(match func(d *Document) bool) map[string][]FacetCount {
		counts := make(map[string]map[string]int)
		for _, f := range facetFields {
			counts[f] = make(map[string]int)
		}
		for k := range docs {
			d := &docs[k]
			if !match(d) {
				continue
			}
			addFacets(counts, d)
		}
		return facetCounts(counts)
	}
	kingpin := func(d *Document) bool { return d.Verdict.Label == "kingpin" }
	tests := []struct {
		name  string
		q     Query
		match func(d *Document) bool
	}{
		{"all", Query{}, func(*Document) bool { return true }},
		{"all by date", Query{Sort: SortDate}, func(*Document) bool { return true }},
		{"label filter", Query{Labels: []string{"kingpin"}}, kingpin},
		{"label filter by date", Query{Labels: []string{"kingpin"}, Sort: SortDate}, kingpin},
		{"label in query", Query{Text: "label:kingpin"}, kingpin},
		{"none", Query{Text: "zzzzunknownword"}, func(*Document) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Facets = true
			r, err := x.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want(tt.match), r.Facets); diff != "" {
				t.Errorf("facets mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// addFacets adds d's values of the facet fields to counts.
func addFacets(counts map[string]map[string]int, d *Document) {
	r := &d.Release
	counts[fieldLabel][string(d.Verdict.Label)]++
	for _, th := range d.Verdict.Themes {
		counts[fieldTheme][th]++
	}
	counts[fieldSource][string(r.Source)]++
	counts[fieldCountry][strings.ToLower(string(r.Country))]++
	counts[fieldLanguage][string(r.Language)]++
	counts[fieldYear][strconv.Itoa(r.Published.Year())]++
}

// TestFacetQuerySearchedTwice checks that a facet query refuses a second
// search, whose matches would mix with the first's, instead of counting
// them wrong.
func TestFacetQuerySearchedTwice(t *testing.T) {
	x := openCorpus(t)
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c := &facetCounter{}
	defer c.close()
	q := &facetQuery{q: bleve.NewMatchAllQuery(), c: c}
	if _, err := bi.Search(bleve.NewSearchRequest(q)); err != nil {
		t.Fatalf("first search: %v", err)
	}
	if _, err := bi.Search(bleve.NewSearchRequest(q)); err == nil || !strings.Contains(err.Error(), "only once") {
		t.Errorf("second search: got error %v, want one saying a facet query is searched only once", err)
	}
}

// indexSynth returns an in-memory index, closed when t ends, holding n
// synthetic documents, and the documents.
func indexSynth(t *testing.T, n int, opts Options) (*Index, []Document) {
	t.Helper()
	x, err := OpenMemWith(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	var docs []Document
	for d := range synthDocs(n) {
		docs = append(docs, d)
	}
	if err := x.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return x, docs
}

// indexSynthRevised returns an in-memory index of 400 synthetic releases in
// several segments, a third of them indexed again with another label and
// year (so that segments hold deleted versions), and the documents as
// indexed last.
func indexSynthRevised(t *testing.T) (*Index, []Document) {
	t.Helper()
	x, docs := indexSynth(t, 400, Options{BatchSize: 40})
	for k := 0; k < len(docs); k += 3 {
		docs[k].Verdict.Label = "neither"
		docs[k].Release.Published = docs[k].Release.Published.AddDate(-1, 0, 0)
		if err := x.Put(context.Background(), docs[k]); err != nil {
			t.Fatal(err)
		}
	}
	return x, docs
}

// indexPhrases returns an in-memory index holding synthPhrases(n), the
// Bleve index under it, the documents and the phrases; all are let go when
// t ends.
func indexPhrases(t *testing.T, n int, opts Options) (*Index, bleve.Index, []Document, []string) {
	t.Helper()
	x, err := OpenMemWith(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	docs, phrases := synthPhrases(n)
	if err := x.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	bi, release, err := x.acquire()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return x, bi, docs, phrases
}

// TestRuleField checks that rule:ID finds the releases a rule fired on and
// only those.
func TestRuleField(t *testing.T) {
	x, err := OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	doc := func(id, rule string) Document {
		d := Document{Release: atalaya.Release{ID: atalaya.ID(id), URL: "https://example.org/" + id, Language: atalaya.English, Title: "t " + id, Body: "b"}}
		if rule != "" {
			d.Verdict.Evidence = []classify.Evidence{{Rule: rule}, {Rule: rule}}
		}
		return d
	}
	if err := x.Put(context.Background(), doc("a", "Reward-Offer"), doc("b", "extradition"), doc("c", "")); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]uint64{`rule:reward-offer`: 1, `rule:"reward-offer"`: 1, `rule:extradition`: 1, `rule:extra*`: 1, `rule:nothing`: 0, `-rule:reward-offer`: 2} {
		res, err := x.Search(context.Background(), Query{Text: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if res.Total != want {
			t.Errorf("%s: %d releases, want %d", q, res.Total, want)
		}
	}
}

// TestAccentsDoNotMatter checks that a word typed with or without accents
// finds the same releases, English ones included.
func TestAccentsDoNotMatter(t *testing.T) {
	x, err := OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rel := func(id string, lang atalaya.Language, body string) Document {
		return Document{Release: atalaya.Release{ID: atalaya.ID(id), URL: "https://example.org/" + id, Language: lang, Title: "t", Body: body}}
	}
	if err := x.Put(context.Background(), rel("en", atalaya.English, "The cartel was sanctioned."), rel("es", atalaya.Spanish, "El cártel fue sancionado.")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"cartel", "cártel", "CÁRTEL", "Cartel"} {
		res, err := x.Search(context.Background(), Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 2 {
			t.Errorf("%s: %d releases, want both", q, res.Total)
		}
	}
}
