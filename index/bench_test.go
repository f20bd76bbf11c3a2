package index

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"atalaya/classify"
	"atalaya/internal/synth"
)

var (
	benchN     = flag.Int("synth.n", 5000, "number of synthetic releases for the benchmarks")
	benchBatch = flag.Int("synth.batch", DefaultBatchSize, "batch size for BenchmarkIndex")
	benchDir   = flag.String("synth.dir", "", "BenchmarkSearch searches this index (as 'atalaya bench --keep' leaves) instead of building one of -synth.n releases")
)

// synthDocs yields n synthetic documents.
func synthDocs(n int) iter.Seq2[Document, error] {
	indexed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(Document, error) bool) {
		for s := range synth.Releases(n, 1) {
			d := Document{
				Release:   s.Release,
				Verdict:   classify.Verdict{Label: classify.Label(s.Label), Themes: s.Themes, RulesVersion: "synthetic"},
				IndexedAt: indexed,
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

func quiet() Options {
	return Options{Logger: slog.New(slog.DiscardHandler), BatchSize: *benchBatch}
}

// BenchmarkIndex rebuilds an index of -synth.n releases per iteration.
func BenchmarkIndex(b *testing.B) {
	cpu0 := cpuTime()
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "index")
		if err := Rebuild(context.Background(), dir, synthDocs(*benchN), quiet()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N**benchN)/b.Elapsed().Seconds(), "releases/s")
	b.ReportMetric(float64(b.N**benchN)/(cpuTime()-cpu0).Seconds(), "releases/cpu-s")
}

// cpuTime returns the user and system CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchQueries are the query types the search benchmarks measure; each
// returns the query for run i.
var benchQueries = []struct {
	name string
	q    func(i int) Query
}{
	{"term", func(i int) Query { return Query{Text: benchTerms[i%len(benchTerms)]} }},
	{"phrase", func(i int) Query { return Query{Text: benchPhrases[i%len(benchPhrases)]} }},
	{"filtered_facets", func(i int) Query {
		return Query{Text: benchTerms[i%len(benchTerms)], Labels: []string{"kingpin"},
			Since: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Facets: true}
	}},
	{"query_highlight", func(i int) Query {
		return Query{Text: fmt.Sprintf("(%s OR %s) AND NOT label:neither", benchTerms[i%len(benchTerms)], benchTerms[(i+3)%len(benchTerms)]), Highlight: true}
	}},
	{"all_by_date", func(i int) Query { return Query{Sort: SortDate, Page: 1 + i%5} }},
}

var (
	benchTerms   = []string{"sanctions", "extradición", "fentanyl", "prevención", "rifles", "treatment", "laboratorio", "delegations", "cartuchos", "overdose"}
	benchPhrases = []string{`"arms trafficking"`, `"lavado de dinero"`, `"substance use disorders"`, `"tráfico ilícito de armas"`, `"front companies"`}
)

func BenchmarkSearch(b *testing.B) {
	dir := *benchDir
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "index")
		if err := Rebuild(context.Background(), dir, synthDocs(*benchN), quiet()); err != nil {
			b.Fatal(err)
		}
	}
	x, err := Open(dir, quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for _, bq := range benchQueries {
		for _, cold := range []bool{false, true} {
			name := bq.name
			if cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) { benchSearch(b, x, bq.q, cold) })
		}
	}
}

// benchSearch runs the query q(i) b.N times and reports the p99. Cold, it
// forgets the postings that searches kept before each, as a search of
// words never searched before would find them (the filters and phrases
// kept stay: they have cold figures of their own).
func benchSearch(b *testing.B, x *Index, q func(int) Query, cold bool) {
	var lat []time.Duration
	i := 0
	for b.Loop() {
		if cold {
			forgetKept(&x.kept, "word ")
		}
		start := time.Now()
		if _, err := x.Search(context.Background(), q(i)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}

// forgetKept drops the values kept in c whose names start with prefix
// ("word " for the postings, "" for everything).
func forgetKept(c *keptCache, prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, e := range c.entries {
		if strings.HasPrefix(key.what, prefix) {
			c.remove(e)
		}
	}
}
