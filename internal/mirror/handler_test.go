package mirror

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func serve(h http.Handler, host, p, query string, header http.Header) *httptest.ResponseRecorder {
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p, RawQuery: query}, Host: host, Header: header}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func FuzzHandler(f *testing.F) {
	f.Add("www.state.gov", "/press-releases/page/2/", "")
	f.Add("www.gob.mx", "/sre/archivo/prensa", "page=2&order=DESC")
	f.Add("www.gob.mx:443", "/sre/prensa/canciller-inaugura-el-foro-iberoamericano-de-turismo-cultural", "idiom=es")
	f.Add("HOME.TREASURY.GOV", "/news/press-releases", "page=%zz;x")
	f.Add("", "", "")
	h := Handler(Options{})
	f.Fuzz(func(t *testing.T, host, p, query string) {
		first := serve(h, host, p, query, http.Header{})
		switch first.Code {
		case http.StatusOK:
			if first.Body.Len() == 0 {
				t.Errorf("200 with an empty body for %q %q %q", host, p, query)
			}
		case http.StatusNotFound:
		default:
			t.Fatalf("got status %d for %q %q %q, want 200 or 404", first.Code, host, p, query)
		}
		second := serve(h, host, p, query, http.Header{})
		if second.Code != first.Code || !bytes.Equal(second.Body.Bytes(), first.Body.Bytes()) {
			t.Errorf("two requests for %q %q %q got different answers", host, p, query)
		}
		if c := canonicalQuery(query); canonicalQuery(c) != c {
			t.Errorf("canonicalQuery is not idempotent on %q: %q then %q", query, c, canonicalQuery(c))
		}
	})
}

func TestRouteOf(t *testing.T) {
	tests := []struct {
		name                  string
		wantHost, wantPath, q string
		wantOK                bool
	}{
		{"site/www.state.gov/press-releases/index.html", "www.state.gov", "/press-releases/", "", true},
		{"site/www.state.gov/rss-feed/press-releases/feed/index.xml", "www.state.gov", "/rss-feed/press-releases/feed/", "", true},
		{"site/www.state.gov/robots.txt", "www.state.gov", "/robots.txt", "", true},
		{"site/home.treasury.gov/news/press-releases__page=1.html", "home.treasury.gov", "/news/press-releases", "page=1", true},
		{"site/www.gob.mx/sre/archivo/prensa__page=2&order=DESC.html", "www.gob.mx", "/sre/archivo/prensa", "order=DESC&page=2", true},
		{"site/blocked/challenge-validation.html", "", "", "", false},
		{"site/expected.json", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, p, q, ok := routeOf(tt.name)
			if host != tt.wantHost || p != tt.wantPath || q != tt.q || ok != tt.wantOK {
				t.Errorf("routeOf(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", tt.name, host, p, q, ok, tt.wantHost, tt.wantPath, tt.q, tt.wantOK)
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	h := Handler(Options{})
	for b.Loop() {
		rec := serve(h, HostTreasury, "/news/press-releases/sb0618", "", http.Header{})
		if rec.Code != http.StatusOK {
			b.Fatalf("got status %d", rec.Code)
		}
	}
}

func BenchmarkTransport(b *testing.B) {
	s, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := client(s)
	for b.Loop() {
		resp, err := c.Get("https://www.gob.mx/sre/archivo/prensa?order=DESC&page=2")
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("got status %d", resp.StatusCode)
		}
	}
}
