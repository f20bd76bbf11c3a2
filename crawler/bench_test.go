package crawler

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"atalaya"
	"atalaya/internal/mirror"
)

// benchPage is an article page with the source that reads it.
type benchPage struct {
	src  Source
	page atalaya.Page
}

// mirrorPages returns every mirror article page, fetched in-process.
func mirrorPages(b *testing.B) []benchPage {
	b.Helper()
	m, err := mirror.Expected()
	if err != nil {
		b.Fatal(err)
	}
	h := mirror.Handler(mirror.Options{})
	var out []benchPage
	for _, a := range m.Articles {
		req := httptest.NewRequest(http.MethodGet, "https://"+a.Host+a.Path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s%s: status %d", a.Host, a.Path, rec.Code)
		}
		src := mirrorSources(b, a.Source)[0]
		out = append(out, benchPage{src, atalaya.Page{URL: "https://" + a.Host + a.Path, Status: 200, Header: rec.Header(), Body: rec.Body.Bytes()}})
	}
	return out
}

func BenchmarkExtract(b *testing.B) {
	pages := mirrorPages(b)
	var size int64
	for _, p := range pages {
		size += int64(len(p.page.Body))
	}
	b.SetBytes(size / int64(len(pages)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		p := pages[n%len(pages)]
		if _, err := Extract(p.src, p.page, Item{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pages/s")
}
