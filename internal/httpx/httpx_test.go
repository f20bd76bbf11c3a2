package httpx

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLoggedKeepsFlushAndObserves checks that the logging wrapper passes
// flushes through (http.ResponseController works on it), records the status
// and route pattern, and that every response carries the security headers.
func TestLoggedKeepsFlushAndObserves(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("part"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
	})
	var pattern string
	var status int
	h := SecureHeaders(Logged(mux, slog.New(slog.DiscardHandler), func(p, _ string, s int, _ time.Duration) { pattern, status = p, s }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/stream/42", nil))
	if !rec.Flushed || status != http.StatusTeapot || pattern != "GET /stream/{id}" {
		t.Errorf("flushed %v, status %d, pattern %q", rec.Flushed, status, pattern)
	}
	if rec.Header().Get("Content-Security-Policy") != CSP || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", rec.Header())
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nothing", nil))
	if pattern != "unmatched" || status != http.StatusNotFound {
		t.Errorf("unmatched request observed as %q %d", pattern, status)
	}
}

// TestServerErrorHidesInternals checks that a 500 names a request ID and
// not the error.
func TestServerErrorHidesInternals(t *testing.T) {
	var log strings.Builder
	rec := httptest.NewRecorder()
	ServerError(rec, httptest.NewRequest("GET", "/x", nil), slog.New(slog.NewTextHandler(&log, nil)), errTest("open /secret/path: permission denied"))
	body := rec.Body.String()
	if rec.Code != 500 || strings.Contains(body, "/secret/path") || !strings.Contains(body, "request_id") {
		t.Errorf("500 body: %s", body)
	}
	if !strings.Contains(log.String(), "/secret/path") {
		t.Errorf("the error is not logged: %s", log.String())
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestMetricMethodIsBounded checks that a client inventing methods cannot
// grow the method label of the request metrics.
func TestMetricMethodIsBounded(t *testing.T) {
	var methods []string
	h := Logged(http.NewServeMux(), slog.New(slog.DiscardHandler), func(_, m string, _ int, _ time.Duration) { methods = append(methods, m) })
	for _, m := range []string{"GET", "POST", "BREW", "X-A1", "DELETE"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/", nil))
	}
	want := []string{"GET", "POST", "other", "other", "DELETE"}
	if strings.Join(methods, ",") != strings.Join(want, ",") {
		t.Errorf("observed methods %v, want %v", methods, want)
	}
}
