// Package metrics defines the Prometheus metrics of `atalaya serve`: crawl
// runs and their outcomes per source, releases fetched per outcome,
// releases indexed per label, and HTTP request latency per route.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// RunResults are the values of the result label of atalaya_crawl_runs_total:
// a run's outcome.
var RunResults = []string{"changed", "no change", "partial", "blocked", "failed"}

// ReleaseOutcomes are the values of the outcome label of
// atalaya_crawl_releases_total.
var ReleaseOutcomes = []string{"new", "revised", "unchanged", "failed", "gone"}

// Metrics are the service's metrics, registered with one registry.
type Metrics struct {
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	releases    *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	http        *prometheus.HistogramVec
}

// New creates the metrics and registers them with reg. labels, when not
// nil, is called at each scrape for the number of indexed releases per
// label (atalaya_releases).
func New(reg prometheus.Registerer, labels func() map[string]int) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "atalaya_crawl_runs_total", Help: "Crawl runs per source and result.",
		}, []string{"source", "result"}),
		runDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atalaya_crawl_duration_seconds", Help: "Duration of crawl runs per source.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"source"}),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "atalaya_crawl_last_success_timestamp_seconds", Help: "End of the last run of each source that did not fail.",
		}, []string{"source"}),
		releases: f.NewCounterVec(prometheus.CounterOpts{
			Name: "atalaya_crawl_releases_total", Help: "Release pages per source and outcome (new, revised, unchanged, failed, gone).",
		}, []string{"source", "outcome"}),
		skipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "atalaya_schedule_skipped_total", Help: "Scheduled runs skipped because the previous run of the source was still going.",
		}, []string{"source"}),
		http: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atalaya_http_request_duration_seconds", Help: "HTTP request latency per route, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"handler", "method", "code"}),
	}
	if labels != nil {
		reg.MustRegister(&labelCollector{
			desc:   prometheus.NewDesc("atalaya_releases", "Indexed releases per label.", []string{"label"}, nil),
			labels: labels,
		})
	}
	return m
}

// InitSource creates the zero series of a source, so that dashboards see
// it before its first run.
func (m *Metrics) InitSource(source string) {
	for _, r := range RunResults {
		m.runs.WithLabelValues(source, r)
	}
	for _, o := range ReleaseOutcomes {
		m.releases.WithLabelValues(source, o)
	}
	m.skipped.WithLabelValues(source)
}

// Run is what ObserveRun needs of a finished run.
type Run struct {
	Source                                 string
	Result                                 string // one of RunResults
	Duration                               time.Duration
	Finished                               time.Time
	New, Revised, Unchanged, Failed, GoneN int
}

// ObserveRun counts a finished run.
func (m *Metrics) ObserveRun(r Run) {
	m.runs.WithLabelValues(r.Source, r.Result).Inc()
	m.runDuration.WithLabelValues(r.Source).Observe(r.Duration.Seconds())
	if r.Result != "failed" {
		m.lastSuccess.WithLabelValues(r.Source).Set(float64(r.Finished.Unix()))
	}
	for outcome, n := range map[string]int{"new": r.New, "revised": r.Revised, "unchanged": r.Unchanged, "failed": r.Failed, "gone": r.GoneN} {
		m.releases.WithLabelValues(r.Source, outcome).Add(float64(n))
	}
}

// Skipped counts a scheduled run skipped.
func (m *Metrics) Skipped(source string) { m.skipped.WithLabelValues(source).Inc() }

// ObserveHTTP records one request; it fits httpx.Observer.
func (m *Metrics) ObserveHTTP(pattern, method string, status int, d time.Duration) {
	m.http.WithLabelValues(pattern, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// labelCollector reports releases per label, read at scrape time.
type labelCollector struct {
	desc   *prometheus.Desc
	labels func() map[string]int
}

func (c *labelCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *labelCollector) Collect(ch chan<- prometheus.Metric) {
	for label, n := range c.labels() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), label)
	}
}
