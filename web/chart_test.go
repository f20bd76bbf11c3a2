package web

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./web -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; if the change is right, run go test ./web -run %s -update\ngot:\n%s", path, t.Name(), got)
	}
}

func TestChartGolden(t *testing.T) {
	tests := []struct {
		name string
		c    chart
	}{
		{"months.svg", chart{
			ID: "chart-country-0", Title: "Mexico",
			Periods: []string{"2025-11", "2025-12", "2026-01", "2026-02", "2026-03"},
			Series: []chartSeries{
				{"kingpin", []int{4, 6, 2, 1, 0}},
				{"root_cause", []int{1, 2, 3, 5, 7}},
				{"mixed", []int{0, 1, 0, 1, 0}},
			},
			PeriodURLs: []string{"/?since=2025-11-01&until=2025-11-30", "/?since=2025-12-01&until=2025-12-31",
				"/?since=2026-01-01&until=2026-01-31", "/?since=2026-02-01&until=2026-02-28", "/?since=2026-03-01&until=2026-03-31"},
		}},
		{"escaped.svg", chart{
			ID: "chart-agency-0", Title: `<script>alert(1)</script> "Agency" & Co`,
			Periods:    []string{"2026-01"},
			Series:     []chartSeries{{"kingpin", []int{1}}, {"root_cause", []int{0}}, {"mixed", []int{0}}},
			PeriodURLs: []string{"javascript:alert(1)"},
		}},
		{"empty.svg", chart{ID: "chart-all-0", Title: "No releases"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := renderChart(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, string(svg))
			for _, bad := range []string{"<script>", `href="javascript:`} {
				if strings.Contains(string(svg), bad) {
					t.Errorf("the chart carries %q", bad)
				}
			}
		})
	}
}

func TestDominance(t *testing.T) {
	c := chart{Periods: []string{"2025-11", "2025-12", "2026-01", "2026-02"}, Series: []chartSeries{
		{"kingpin", []int{4, 6, 2, 0}}, {"root_cause", []int{1, 2, 3, 0}}, {"mixed", []int{9, 9, 9, 9}},
	}}
	want := "Of 3 months with releases, kingpin led in 2, root cause led in 1. The lead last changed in January 2026, from kingpin to root cause."
	if got := dominance(c); got != want {
		t.Errorf("dominance:\n got %q\nwant %q", got, want)
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 5: 5, 6: 10, 11: 20, 21: 40, 41: 50, 99: 100, 101: 200} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}
