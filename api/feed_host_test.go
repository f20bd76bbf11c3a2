package api_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"atalaya/api"
	"atalaya/index"
)

// TestFeedIgnoresHostHeader checks that the Atom feed's links start with
// the configured base URL, or the default one, and never with the Host
// header of the request, which anyone can set (a poisoned link would be
// kept by feed readers and caches).
func TestFeedIgnoresHostHeader(t *testing.T) {
	arch, idx := openStores(t, index.Options{})
	for _, tt := range []struct{ base, want string }{
		{"", api.DefaultBaseURL + "/feed.atom?q=cartel"},
		{"https://atalaya.example.org", "https://atalaya.example.org/feed.atom?q=cartel"},
		{"https://atalaya.example.org/monitor/", "https://atalaya.example.org/monitor/feed.atom?q=cartel"},
	} {
		h := api.New(api.Deps{Index: idx, Archive: arch, BaseURL: tt.base})
		req := httptest.NewRequest("GET", "/feed.atom?q=cartel", nil)
		req.Host = "evil.example"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 200 || strings.Contains(string(body), "evil.example") || !strings.Contains(string(body), `<link rel="self" href="`+tt.want+`">`) {
			t.Errorf("base %q: status %d; want a self link %s and no evil.example:\n%s", tt.base, rec.Code, tt.want, body)
		}
	}
}
