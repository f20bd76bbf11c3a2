package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"atalaya/index"
)

// fail's status and headers for the errors the index returns.
func TestFailStatus(t *testing.T) {
	busy := fmt.Errorf("%w: waited: %w", index.ErrBusy, context.DeadlineExceeded)
	for _, c := range []struct {
		err        error
		status     int
		retryAfter string
	}{
		{busy, http.StatusServiceUnavailable, "1"},
		{fmt.Errorf("index: search: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, ""},
		{index.ErrClosed, http.StatusServiceUnavailable, ""},
		{fmt.Errorf("%w: page size 101 is over the limit", index.ErrBadQuery), http.StatusBadRequest, ""},
		{errors.New("disk on fire"), http.StatusInternalServerError, ""},
	} {
		h := &handler{Deps: Deps{Log: slog.New(slog.DiscardHandler)}}
		w := httptest.NewRecorder()
		h.fail(w, httptest.NewRequest(http.MethodGet, "/api/search?q=x", nil), c.err)
		if w.Code != c.status || w.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%v: status %d, Retry-After %q; want %d, %q", c.err, w.Code, w.Header().Get("Retry-After"), c.status, c.retryAfter)
		}
		var body struct{ Error string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Errorf("%v: body %q is not a JSON error", c.err, w.Body.String())
		}
	}
}
