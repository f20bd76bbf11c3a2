// Package httpx holds what every Atalaya HTTP handler shares: the JSON error
// shape, security headers, request logging and a response writer that
// remembers its status and still flushes.
package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// CSP is the Content-Security-Policy of every response: Atalaya serves no
// JavaScript.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	// Line and Column locate a query syntax error (1-based).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// RequestID names the request in the server's log, for errors whose
	// cause is logged rather than shown.
	RequestID string `json:"request_id,omitempty"`
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // a write error means the client left
}

// Error writes a JSON error with status.
func Error(w http.ResponseWriter, status int, body ErrorBody) {
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, status, body)
}

// ServerError logs err with the request and answers 500 without internals,
// naming the request so that the log line can be found.
func ServerError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	id := newRequestID()
	log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
	Error(w, http.StatusInternalServerError, ErrorBody{Error: "internal error; the server log has the details", RequestID: id})
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SecureHeaders sets the security headers on every response of h.
func SecureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", CSP)
		h.ServeHTTP(w, r)
	})
}

// Recorder is a ResponseWriter that remembers the status written. It
// passes Flush on and unwraps for http.ResponseController.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

// WriteHeader records status.
func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write records a 200 if nothing was written before.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.Bytes += int64(n)
	return n, err
}

// Flush flushes the underlying writer.
func (r *Recorder) Flush() {
	http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Observer is told of every request served: its route pattern (r.Pattern),
// method, status and duration.
type Observer func(pattern, method string, status int, d time.Duration)

// Logged logs every request of h at debug level (errors at warn), and tells
// observe, if not nil.
func Logged(h http.Handler, log *slog.Logger, observe Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &Recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		d := time.Since(start)
		level := slog.LevelDebug
		if rec.Status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path, "status", rec.Status, "bytes", rec.Bytes, "duration", d)
		if observe != nil {
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			observe(pattern, metricMethod(r.Method), rec.Status, d)
		}
	})
}

// metricMethod is the method as a metrics label: one of the standard
// methods, else "other", so that clients cannot grow the label set.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
