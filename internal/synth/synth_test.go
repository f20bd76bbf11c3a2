package synth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

func collect(n int, seed int64) []Synthetic {
	var out []Synthetic
	for s := range Releases(n, seed) {
		out = append(out, s)
	}
	return out
}

func TestReleasesDeterministic(t *testing.T) {
	a, b := collect(50, 7), collect(80, 7)
	if diff := cmp.Diff(a, b[:50]); diff != "" {
		t.Errorf("Releases(50, 7) is not a prefix of Releases(80, 7) (-50 +80):\n%s", diff)
	}
	c := collect(50, 8)
	if cmp.Equal(a, c) {
		t.Error("Releases with seeds 7 and 8 are equal, want them to differ")
	}
}

func TestReleasesShape(t *testing.T) {
	const n = 2000
	var total int
	sources := map[atalaya.SourceID]int{}
	labels := map[string]int{}
	years := map[int]int{}
	ids := map[atalaya.ID]bool{}
	for s := range Releases(n, 1) {
		r := s.Release
		total += len(r.Body)
		if len(r.Body) < 900 || len(r.Body) > 9000 {
			t.Errorf("release %s body is %d bytes, want 1 to 8 KB", r.ID, len(r.Body))
		}
		if r.ID != atalaya.NewID(r.URL) || ids[r.ID] {
			t.Errorf("release %s: ID not derived from URL %s, or duplicate", r.ID, r.URL)
		}
		ids[r.ID] = true
		if r.Hash != atalaya.ContentHash(r.Title, r.Published, r.Body) {
			t.Errorf("release %s: bad content hash", r.ID)
		}
		if strings.Contains(r.Title+r.Body, "{") || strings.Contains(r.Title+r.Body, " de el ") || strings.HasPrefix(r.Body, " ") || strings.Contains(r.Body, "\n\n ") {
			t.Errorf("release %s has an unfilled slot or stray space: %q", r.ID, r.Title)
		}
		if (r.Country == atalaya.MX) != (r.Language == atalaya.Spanish) {
			t.Errorf("release %s: country %s with language %s", r.ID, r.Country, r.Language)
		}
		if !slices.IsSorted(s.Themes) {
			t.Errorf("release %s: themes %v not sorted", r.ID, s.Themes)
		}
		sources[r.Source]++
		labels[s.Label]++
		years[r.Published.Year()]++
	}
	if avg := total / n; avg < 3500 || avg > 5500 {
		t.Errorf("average body is %d bytes, want about 4 KB", avg)
	}
	if len(sources) != len(Sources) {
		t.Errorf("sources used: %v, want all %d", sources, len(Sources))
	}
	for _, l := range []string{"kingpin", "root_cause", "mixed", "neither"} {
		if labels[l] == 0 {
			t.Errorf("no release labelled %s; labels: %v", l, labels)
		}
	}
	for y := 2019; y <= 2026; y++ {
		if years[y] == 0 {
			t.Errorf("no release in %d", y)
		}
	}
}

func TestReleasesStopsEarly(t *testing.T) {
	n := 0
	for range Releases(100, 1) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("got %d releases after break, want 3", n)
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2025, 9, 4, 0, 0, 0, 0, time.UTC)
	if got, want := dateES(d), "4 de septiembre de 2025"; got != want {
		t.Errorf("dateES = %q, want %q", got, want)
	}
	if got, want := dateEN(d), "September 4, 2025"; got != want {
		t.Errorf("dateEN = %q, want %q", got, want)
	}
}

func BenchmarkReleases(b *testing.B) {
	var bytes int64
	for b.Loop() {
		for s := range Releases(1000, 1) {
			bytes += int64(len(s.Release.Body))
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "releases/s")
}
