package web

import (
	"context"
	"fmt"
	"iter"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/synth"
)

// benchIndex opens an index of synthetic releases: $ATALAYA_WEB_BENCH_N of
// them (100,000 by default), built in $ATALAYA_WEB_BENCH_DIR and kept there
// for the next run, or in a temporary directory.
func benchIndex(b *testing.B) *index.Index {
	b.Helper()
	n := 100_000
	if s := os.Getenv("ATALAYA_WEB_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("ATALAYA_WEB_BENCH_N=%q is not a positive number", s)
		}
	}
	root := os.Getenv("ATALAYA_WEB_BENCH_DIR")
	if root == "" {
		root = b.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("index-%d", n))
	if _, err := os.Stat(dir); err != nil {
		b.Logf("indexing %d synthetic releases in %s", n, dir)
		if err := index.Rebuild(context.Background(), dir, synthDocs(n), index.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	idx, err := index.Open(dir, index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close() })
	if count, err := idx.Count(); err != nil || count != uint64(n) {
		b.Fatalf("the index in %s holds %d releases (%v), want %d: remove it", dir, count, err, n)
	}
	return idx
}

// synthDocs are n synthetic releases with the verdicts their topics suggest,
// as `atalaya bench` indexes them.
func synthDocs(n int) iter.Seq2[index.Document, error] {
	return func(yield func(index.Document, error) bool) {
		for s := range synth.Releases(n, 1) {
			d := index.Document{Release: s.Release, IndexedAt: time.Now().UTC(),
				Verdict: classify.Verdict{Label: classify.Label(s.Label), Themes: s.Themes, RulesVersion: "synthetic"}}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// cpuTime is the CPU time this process has used, user and system: on a
// machine other processes load, it says what a page costs better than the
// time it takes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSearchPage measures the whole search page (parse, search with
// facets and highlights, render) for the five query shapes of `atalaya
// bench`, and reports the p50 and p99 latency of each and the CPU time per
// page.
//
//	ATALAYA_WEB_BENCH_DIR=/tmp/atalaya-web-bench go test -run '^$' -bench SearchPage -benchtime 200x ./web
func BenchmarkSearchPage(b *testing.B) {
	idx := benchIndex(b)
	h := New(Deps{Index: idx, Catalog: synth.Sources, Rules: classify.Default})
	terms := []string{"sanctions", "extradición", "fentanyl", "prevención", "rifles", "treatment", "laboratorio", "delegations", "cartuchos", "overdose"}
	phrases := []string{`"arms trafficking"`, `"lavado de dinero"`, `"substance use disorders"`, `"tráfico ilícito de armas"`, `"front companies"`}
	shapes := []struct {
		name string
		url  func(i int) string
	}{
		{"one term", func(i int) string { return "/?q=" + url.QueryEscape(terms[i%len(terms)]) }},
		{"phrase", func(i int) string { return "/?q=" + url.QueryEscape(phrases[i%len(phrases)]) }},
		{"term+label+dates+facets", func(i int) string {
			return "/?label=kingpin&since=2021-01-01&until=2025-06-30&q=" + url.QueryEscape(terms[i%len(terms)])
		}},
		{"query+highlight", func(i int) string {
			return "/?q=" + url.QueryEscape(fmt.Sprintf("(%s OR %s) AND NOT label:neither", terms[i%len(terms)], terms[(i+3)%len(terms)]))
		}},
		{"all by date", func(i int) string { return "/?sort=date&page=" + strconv.Itoa(1+i%5) }},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest("GET", s.url(i), nil)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("%s: status %d\n%s", req.URL, rec.Code, rec.Body)
				}
				i++
			}
			cpu := cpuTime() - cpu0
			slices.Sort(lat)
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
