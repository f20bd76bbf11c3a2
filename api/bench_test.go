package api_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atalaya/api"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/synth"
)

var (
	benchN   = flag.Int("api.n", 5000, "synthetic releases indexed for the API benchmarks")
	benchDir = flag.String("api.dir", "", "serve this index of -api.n synthetic releases (as 'atalaya bench --keep' leaves) instead of building one; the writing cases write into it")
)

// benchShapes are the five query shapes of `atalaya bench`, as API
// requests; each returns the query string of request i.
var benchShapes = []struct {
	name string
	q    func(i int) url.Values
}{
	{"term", func(i int) url.Values { return url.Values{"q": {benchTerms[i%len(benchTerms)]}} }},
	{"phrase", func(i int) url.Values { return url.Values{"q": {benchPhrases[i%len(benchPhrases)]}} }},
	{"filtered_facets", func(i int) url.Values {
		return url.Values{"q": {benchTerms[i%len(benchTerms)]}, "label": {"kingpin"}, "since": {"2021-01-01"}, "until": {"2025-06-30"}, "facets": {"true"}}
	}},
	{"query_highlight", func(i int) url.Values {
		return url.Values{"q": {fmt.Sprintf("(%s OR %s) AND NOT label:neither", benchTerms[i%len(benchTerms)], benchTerms[(i+3)%len(benchTerms)])}, "highlight": {"true"}}
	}},
	{"all_by_date", func(i int) url.Values { return url.Values{"sort": {"date"}, "page": {fmt.Sprint(1 + i%5)}} }},
}

var (
	benchTerms   = []string{"sanctions", "extradición", "fentanyl", "prevención", "rifles", "treatment", "laboratorio", "delegations", "cartuchos", "overdose"}
	benchPhrases = []string{`"arms trafficking"`, `"lavado de dinero"`, `"substance use disorders"`, `"tráfico ilícito de armas"`, `"front companies"`}
)

func synthDocs(n int) func(func(index.Document, error) bool) {
	indexed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(index.Document, error) bool) {
		for s := range synth.Releases(n, 1) {
			d := index.Document{Release: s.Release, Verdict: classify.Verdict{Label: classify.Label(s.Label), Themes: s.Themes, RulesVersion: "synthetic"}, IndexedAt: indexed}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// benchServer indexes -api.n synthetic releases on disk and serves the API
// over loopback. It logs the time from opening the index to the first
// answer of the API.
func benchServer(b *testing.B) (*httptest.Server, *index.Index) {
	b.Helper()
	quiet := slog.New(slog.DiscardHandler)
	dir := *benchDir
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "index")
		if err := index.Rebuild(context.Background(), dir, synthDocs(*benchN), index.Options{Logger: quiet}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	idx, err := index.Open(dir, index.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close() })
	arch, err := archive.Open(b.TempDir(), archive.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { arch.Close() })
	srv := httptest.NewServer(api.New(api.Deps{Index: idx, Archive: arch, Log: quiet}))
	b.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/search?q=cartel")
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b.Logf("ready: %v from opening the index of %d releases to the first answer of the API", time.Since(start).Round(time.Millisecond), *benchN)
	return srv, idx
}

// BenchmarkAPISearch measures /api/search per query shape with 1 and 8
// concurrent clients, and with 8 while a writer indexes batches of 200
// releases: one a second as a crawl at 200 releases/s would (ingest
// indexes in batches of 200; the real sources, crawled politely, give a
// few releases a second), and back to back, as fast as the index takes
// them. b.N requests in all per case, split among the clients.
func BenchmarkAPISearch(b *testing.B) {
	srv, idx := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	// The cases without a writer come first, for every shape: after a
	// writer, the index merges segments for seconds, and a case run then
	// would measure the merges.
	for _, c := range []struct {
		clients int
		writing string        // "", "crawling" or "flat_out"
		every   time.Duration // between batches
	}{{1, "", 0}, {8, "", 0}, {8, "crawling", time.Second}, {8, "flat_out", 0}} {
		for _, shape := range benchShapes {
			name := fmt.Sprintf("%s/clients=%d", shape.name, c.clients)
			if c.writing != "" {
				name += "/" + c.writing
			}
			b.Run(name, func(b *testing.B) {
				stop := make(chan struct{})
				var writer sync.WaitGroup
				if c.writing != "" {
					writer.Go(func() { writeWhile(b, idx, stop, c.every) })
				}
				lat := load(b, client, srv.URL, shape.q, c.clients)
				close(stop)
				writer.Wait()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
				b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

// load sends b.N requests from clients goroutines and returns their
// latencies.
func load(b *testing.B, client *http.Client, base string, q func(int) url.Values, clients int) []time.Duration {
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				start := time.Now()
				v := q(i)
				for _, opt := range []string{"facets", "highlight"} { // the API's defaults are true
					if v.Get(opt) == "" {
						v.Set(opt, "false")
					}
				}
				resp, err := client.Get(base + "/api/search?" + v.Encode())
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	return lat
}

// writeWhile indexes a batch of 200 releases again and again until stop
// closes, every interval, or back to back if every is 0.
func writeWhile(b *testing.B, idx *index.Index, stop <-chan struct{}, every time.Duration) {
	var batch []index.Document
	for d := range synthDocs(200) {
		batch = append(batch, d)
	}
	for {
		if err := idx.Put(context.Background(), batch...); err != nil {
			b.Error(err)
			return
		}
		if every == 0 {
			select {
			case <-stop:
				return
			default:
				continue
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(every):
		}
	}
}

// BenchmarkAPIExport streams every release as JSON lines and reports the
// rate and the largest heap seen while streaming.
func BenchmarkAPIExport(b *testing.B) {
	srv, _ := benchServer(b)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	})
	lines := 0
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/api/export?format=jsonl")
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		n := 0
		for sc.Scan() {
			n++
		}
		resp.Body.Close()
		if n != *benchN {
			b.Fatalf("exported %d lines, want %d", n, *benchN)
		}
		lines += n
	}
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "releases/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak_heap_MB")
}
