package archive

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"atalaya"
)

// synthetic returns a page of about 20 KB and its release, numbered i.
func synthetic(i int) (atalaya.Page, atalaya.Release) {
	url := fmt.Sprintf("https://bench.test/prensa/comunicado-%d", i)
	para := fmt.Sprintf("Párrafo sintético número %d del comunicado de prueba, sin texto real. ", i)
	body := strings.Repeat(para, 40)
	page := atalaya.Page{
		URL:       url,
		Status:    http.StatusOK,
		Header:    http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Date": {"Mon, 02 Mar 2026 10:00:00 GMT"}},
		Body:      []byte("<html><head><title>x</title></head><body>" + strings.Repeat("<div class=\"nav\">menu</div>", 200) + "<p>" + body + "</p></body></html>"),
		FetchedAt: t0,
	}
	rel := testRelease("bench", url, body, time.Date(2020, 1, 1, 0, 0, 0, 0, mexico).AddDate(0, 0, i%2000))
	return page, rel
}

// BenchmarkPut measures archiving new releases, each durable on return.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	a, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		page, rel := synthetic(i)
		if _, err := a.Put(ctx, page, rel); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "releases/s")
}

// BenchmarkReleases measures streaming the latest version of every release.
func BenchmarkReleases(b *testing.B) {
	ctx := context.Background()
	a, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	const n = 2000
	for i := range n {
		page, rel := synthetic(i)
		if _, err := a.Put(ctx, page, rel); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range a.Releases(ctx, Filter{}) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "releases/s")
}
