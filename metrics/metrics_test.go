package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics checks the zero series of a source, a run counted by result
// and outcome, and releases per label read at scrape time.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, func() map[string]int { return map[string]int{"kingpin": 7} })
	m.InitSource("sre")
	if n := testutil.ToFloat64(m.runs.WithLabelValues("sre", "failed")); n != 0 {
		t.Errorf("failed runs before any run = %v", n)
	}
	m.ObserveRun(Run{Source: "sre", Result: "changed", Duration: time.Second, Finished: time.Unix(1000, 0), New: 3, Unchanged: 2})
	m.Skipped("sre")
	m.ObserveHTTP("GET /api/search", "GET", 200, time.Millisecond)
	for _, c := range []struct {
		got, want float64
	}{
		{testutil.ToFloat64(m.runs.WithLabelValues("sre", "changed")), 1},
		{testutil.ToFloat64(m.releases.WithLabelValues("sre", "new")), 3},
		{testutil.ToFloat64(m.releases.WithLabelValues("sre", "unchanged")), 2},
		{testutil.ToFloat64(m.lastSuccess.WithLabelValues("sre")), 1000},
		{testutil.ToFloat64(m.skipped.WithLabelValues("sre")), 1},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP atalaya_releases Indexed releases per label.
# TYPE atalaya_releases gauge
atalaya_releases{label="kingpin"} 7
`), "atalaya_releases")
	if err != nil {
		t.Error(err)
	}
}
