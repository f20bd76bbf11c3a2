package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/synth"
)

const benchSynopsis = "bench [--n 100000] [--batch 200] [--runs 200] [--dir D] [--keep] [--json]"

const benchHelp = `Bench measures the index on synthetic releases: it generates N releases,
rebuilds an index of them as 'atalaya reindex' does, and reports the
indexing rate, the peak memory of the process, the index size on disk and
search latencies for five kinds of query.
`

// benchReport is what bench measures.
type benchReport struct {
	Releases        int           `json:"releases"`
	BatchSize       int           `json:"batch_size"`
	IndexSeconds    float64       `json:"index_seconds"`
	ReleasesPerSec  float64       `json:"releases_per_second"`
	CPUSeconds      float64       `json:"index_cpu_seconds"` // user+system CPU time of the indexing
	Load            float64       `json:"load_average"`      // 1-minute load average after indexing, 0 if unknown
	PeakRSSMB       float64       `json:"peak_rss_mb"`
	IndexBytes      int64         `json:"index_bytes"`
	BytesPerRelease float64       `json:"bytes_per_release"`
	Searches        []benchSearch `json:"searches"`
	Dir             string        `json:"dir,omitempty"`
}

// benchSearch is the latency of one kind of query.
type benchSearch struct {
	Name  string  `json:"name"`
	Runs  int     `json:"runs"`
	Hits  uint64  `json:"mean_hits"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench", benchSynopsis)
	n := fs.Int("n", 100000, "number of synthetic releases")
	batch := fs.Int("batch", index.DefaultBatchSize, "releases per index batch")
	runs := fs.Int("runs", 200, "searches per kind of query")
	seed := fs.Int64("seed", 1, "seed of the synthetic releases")
	dir := fs.String("dir", "", "`directory` for the index (default: a temporary directory)")
	keep := fs.Bool("keep", false, "keep the index after the benchmark")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		e.usageShown = true
		fmt.Fprintf(&e.usage, "Usage: atalaya %s\n\n%s\n", benchSynopsis, benchHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *n <= 0 || *batch <= 0 || *runs <= 0 {
		fs.Usage()
		return errUsage
	}
	root := *dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "atalaya-bench-")
		if err != nil {
			return fmt.Errorf("creating a temporary directory: %w", err)
		}
		root = tmp
	}
	if !*keep {
		defer os.RemoveAll(root)
	}
	rep, err := bench(ctx, e, filepath.Join(root, "index"), *n, *batch, *runs, *seed)
	if err != nil {
		return err
	}
	if *keep {
		rep.Dir = root
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(e, rep)
	return nil
}

func bench(ctx context.Context, e *env, dir string, n, batch, runs int, seed int64) (*benchReport, error) {
	opts := index.Options{Logger: e.logger, BatchSize: batch}
	rep := &benchReport{Releases: n, BatchSize: batch}
	start, cpu0 := time.Now(), cpuTime()
	err := index.Rebuild(ctx, dir, synthDocuments(n, seed, func(i int) { e.progress("bench: %d of %d releases indexed", i, n) }), opts)
	e.progressDone()
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	rep.CPUSeconds = (cpuTime() - cpu0).Seconds()
	rep.Load = loadAverage()
	rep.IndexSeconds = elapsed.Seconds()
	rep.ReleasesPerSec = float64(n) / elapsed.Seconds()
	rep.PeakRSSMB = peakRSSMB()

	idx, err := index.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	defer e.progressDone()
	kinds := benchQueries()
	for i, bq := range kinds {
		e.progress("bench: searching, %s (%d of %d kinds of query)", bq.name, i+1, len(kinds))
		s, err := benchQuery(ctx, idx, bq.name, bq.query, runs)
		if err != nil {
			idx.Close()
			return nil, err
		}
		rep.Searches = append(rep.Searches, s)
	}
	// Measured after the searches: a rebuild can leave the files of
	// segments its last merge replaced, which scorch removes once the
	// index is opened again.
	if err := idx.Close(); err != nil {
		return nil, err
	}
	size, err := dirSize(dir)
	if err != nil {
		return nil, err
	}
	rep.IndexBytes, rep.BytesPerRelease = size, float64(size)/float64(n)
	return rep, nil
}

// synthDocuments yields n synthetic releases as index documents, calling
// progress with the number yielded so far.
func synthDocuments(n int, seed int64, progress func(int)) iter.Seq2[index.Document, error] {
	indexed := time.Now().UTC()
	return func(yield func(index.Document, error) bool) {
		i := 0
		for s := range synth.Releases(n, seed) {
			i++
			progress(i)
			d := index.Document{
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

// benchKind is one kind of query measured; query gives the query of run
// i, varying the words so that runs are not all alike.
type benchKind struct {
	name  string
	query func(i int) index.Query
}

// benchQueries returns the five kinds of query measured.
func benchQueries() []benchKind {
	benchTerms := []string{"sanctions", "extradición", "fentanyl", "prevención", "rifles", "treatment", "laboratorio", "delegations", "cartuchos", "overdose"}
	benchPhrases := []string{`"arms trafficking"`, `"lavado de dinero"`, `"substance use disorders"`, `"tráfico ilícito de armas"`, `"front companies"`}
	return []benchKind{
		{"one term", func(i int) index.Query { return index.Query{Text: benchTerms[i%len(benchTerms)]} }},
		{"phrase", func(i int) index.Query { return index.Query{Text: benchPhrases[i%len(benchPhrases)]} }},
		{"term+label+dates+facets", func(i int) index.Query {
			return index.Query{Text: benchTerms[i%len(benchTerms)], Labels: []string{"kingpin"}, Facets: true,
				Since: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}
		}},
		{"query+highlight", func(i int) index.Query {
			return index.Query{Highlight: true, Text: fmt.Sprintf("(%s OR %s) AND NOT label:neither",
				benchTerms[i%len(benchTerms)], benchTerms[(i+3)%len(benchTerms)])}
		}},
		{"all by date", func(i int) index.Query { return index.Query{Sort: index.SortDate, Page: 1 + i%5} }},
	}
}

func benchQuery(ctx context.Context, idx *index.Index, name string, query func(int) index.Query, runs int) (benchSearch, error) {
	lat := make([]time.Duration, 0, runs)
	var hits uint64
	for i := range runs {
		start := time.Now()
		res, err := idx.Search(ctx, query(i))
		if err != nil {
			return benchSearch{}, fmt.Errorf("bench %s: %w", name, err)
		}
		lat = append(lat, time.Since(start))
		hits += res.Total
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return benchSearch{
		Name: name, Runs: runs, Hits: hits / uint64(runs),
		P50MS: ms(lat[len(lat)/2]), P99MS: ms(lat[(len(lat)*99)/100]), MaxMS: ms(lat[len(lat)-1]),
	}, nil
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the 1-minute load average from /proc/loadavg, or 0.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var load float64
	fmt.Sscan(string(b), &load)
	return load
}

// peakRSSMB returns the peak resident memory of the process so far, in MB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports kilobytes
}

// dirSize returns the bytes of the files under dir, following dir itself if
// it is a symbolic link.
func dirSize(dir string) (int64, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	var total int64
	err = filepath.WalkDir(real, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return total, nil
}

func printBench(e *env, r *benchReport) {
	fmt.Fprintf(e.stdout, "indexed %d synthetic releases (batch %d) in %.1fs: %.0f releases/s\n",
		r.Releases, r.BatchSize, r.IndexSeconds, r.ReleasesPerSec)
	fmt.Fprintf(e.stdout, "indexing CPU time: %.1fs (%.0f releases per CPU-second); load average %.2f\n",
		r.CPUSeconds, float64(r.Releases)/r.CPUSeconds, r.Load)
	fmt.Fprintf(e.stdout, "peak memory (max RSS): %.0f MB\n", r.PeakRSSMB)
	fmt.Fprintf(e.stdout, "index size: %.1f MB, %.0f bytes per release\n\n", float64(r.IndexBytes)/1e6, r.BytesPerRelease)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "query\truns\tmean hits\tp50 ms\tp99 ms\tmax ms\t\n")
	for _, s := range r.Searches {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t\n", s.Name, s.Runs, s.Hits, s.P50MS, s.P99MS, s.MaxMS)
	}
	tw.Flush()
	if r.Dir != "" {
		fmt.Fprintf(e.stdout, "\nindex kept in %s\n", r.Dir)
	}
}
