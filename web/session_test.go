package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAdminCookie checks that signing in sets a cookie that does not reveal
// the admin token, with the right flags, and that only the cookie made from
// the token in force grants the admin actions: not the raw token (the old
// cookie), not a cookie made from an earlier token, not a forged value.
func TestAdminCookie(t *testing.T) {
	const token = "s3cret-token"
	f := newFixture(t, token)
	signIn := func(target string) *http.Cookie {
		t.Helper()
		req := httptest.NewRequest("POST", target, strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		cookies := rec.Result().Cookies()
		if rec.Code != http.StatusSeeOther || len(cookies) != 1 || cookies[0].Name != adminCookie {
			t.Fatalf("sign-in at %s: status %d, cookies %v", target, rec.Code, cookies)
		}
		return cookies[0]
	}
	for _, tt := range []struct {
		target string
		secure bool
	}{
		{"http://example.com/admin/session", false},
		{"https://example.com/admin/session", true},
	} {
		c := signIn(tt.target)
		if strings.Contains(c.Value, token) || c.Value == "" {
			t.Errorf("%s: the cookie %q reveals the token", tt.target, c.Value)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tt.secure {
			t.Errorf("%s: cookie %+v; want HttpOnly, SameSite=Strict, Path=/, Secure=%v", tt.target, c, tt.secure)
		}
		if !crawlButton(f, c.Value) {
			t.Errorf("%s: the cookie set at sign-in does not sign in", tt.target)
		}
	}
	for _, tt := range []struct{ name, value string }{
		{"the raw token", token},
		{"a cookie of an earlier token", adminSessionValue("old-token")},
		{"a forged value", strings.Repeat("0", 64)},
		{"an empty value", ""},
	} {
		if crawlButton(f, tt.value) {
			t.Errorf("%s as the cookie signs in", tt.name)
		}
		req := httptest.NewRequest("POST", "/sources/sre/crawl", nil)
		req.AddCookie(&http.Cookie{Name: adminCookie, Value: tt.value})
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("crawl with %s as the cookie: status %d, want 403", tt.name, rec.Code)
		}
	}
	if n := len(f.crawler.crawled); n != 0 {
		t.Errorf("%d crawls started with refused cookies", n)
	}
}

// crawlButton reports whether the sources page, asked with the admin cookie
// set to value, offers to crawl.
func crawlButton(f *fixture, value string) bool {
	req := httptest.NewRequest("GET", "/sources", nil)
	req.AddCookie(&http.Cookie{Name: adminCookie, Value: value})
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return strings.Contains(rec.Body.String(), `action="/sources/sre/crawl"`)
}
