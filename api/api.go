// Package api is the JSON API of `atalaya serve`: search with facets,
// highlights and cursors, releases with their versions and diffs, sources,
// runs, trends, streaming exports (JSON lines, CSV), an Atom feed, health,
// metrics and the admin actions. Every value that came from a crawled page
// is encoded for its output: JSON escapes <, > and &; Atom is XML-escaped
// text; CSV cells that a spreadsheet would run as a formula are neutralised.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"atalaya"
	"atalaya/archive"
	"atalaya/index"
	"atalaya/internal/httpx"
	"atalaya/schedule"
)

// Index is what the API reads from the index.
type Index interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Get(ctx context.Context, id atalaya.ID) (index.Document, error)
	Trends(ctx context.Context, req index.TrendsRequest) (index.Trends, error)
	Export(ctx context.Context, q index.Query) iter.Seq2[index.Document, error]
	Count() (uint64, error)
}

// Archive is what the API reads from the archive.
type Archive interface {
	Versions(ctx context.Context, id atalaya.ID) ([]atalaya.Release, error)
	Sources(ctx context.Context) ([]archive.SourceStatus, error)
	Runs(ctx context.Context, f archive.RunFilter) ([]archive.RunRecord, error)
	Count(ctx context.Context) (int, error)
}

// Scheduler reports the schedule of each source.
type Scheduler interface {
	Status() []schedule.Status
}

// Admin carries out the admin actions.
type Admin interface {
	// CrawlNow starts a run of the source now; schedule.ErrUnknownJob,
	// schedule.ErrRunning.
	CrawlNow(source atalaya.SourceID) error
	// ReloadRules reads the rules file again; on error the old rules stay.
	ReloadRules(ctx context.Context) (version string, err error)
}

// Digests reports the email digests and their deliveries.
type Digests interface {
	Digests(ctx context.Context) ([]DigestDTO, error)
}

// Source is a configured source, as /api/sources lists it.
type Source struct {
	ID       atalaya.SourceID
	Agency   string
	Country  atalaya.Country
	Language atalaya.Language
	Enabled  bool
	Schedule string
}

// Deps are what the handler needs. Scheduler, Admin, Digests and Gatherer
// may be nil.
type Deps struct {
	Index     Index
	Archive   Archive
	Scheduler Scheduler
	Admin     Admin
	Sources   []Source
	// Digests serves /api/digests; nil lists none.
	Digests Digests
	// AdminToken is the bearer token of the admin actions; "" disables
	// them (403).
	AdminToken string
	// Gatherer serves /metrics; nil: no /metrics.
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// Observe is told of every request (for latency metrics); may be nil.
	Observe httpx.Observer
	// BaseURL is the URL readers reach the service at, for the links of
	// the Atom feed; "" means DefaultBaseURL. Links never follow a
	// request's Host header, which anyone can set.
	BaseURL string
}

// DefaultBaseURL is the service's URL when Deps.BaseURL is empty.
const DefaultBaseURL = "http://localhost"

// Limits of requests.
const (
	MaxQueryLen     = 1000    // characters of q
	MaxBodyBytes    = 1 << 16 // of a POST body
	RequestDeadline = 10 * time.Second
	// ExportWriteWindow is how long one batch of an export or feed may take
	// to write: a client that stops reading is cut off after it.
	ExportWriteWindow = 30 * time.Second
)

type handler struct {
	Deps
}

// New returns the API: every route under /api/, plus /feed.atom, /healthz
// and /metrics. Unknown paths under /api/ answer a JSON 404.
func New(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.BaseURL == "" {
		d.BaseURL = DefaultBaseURL
	}
	d.BaseURL = strings.TrimSuffix(d.BaseURL, "/")
	h := &handler{Deps: d}
	mux := http.NewServeMux()
	route := func(pattern, method string, f http.HandlerFunc, deadline bool) {
		var next http.Handler = f
		if deadline {
			next = withDeadline(next)
		}
		mux.Handle(pattern, onlyMethod(method, next))
	}
	route("/api/search", http.MethodGet, h.search, true)
	route("/api/releases/{id}", http.MethodGet, h.release, true)
	route("/api/releases/{id}/versions/{n}", http.MethodGet, h.version, true)
	route("/api/releases/{id}/diff", http.MethodGet, h.diff, true)
	route("/api/sources", http.MethodGet, h.sources, true)
	route("/api/runs", http.MethodGet, h.runs, true)
	route("/api/digests", http.MethodGet, h.digests, true)
	route("/api/trends", http.MethodGet, h.trends, true)
	route("/api/export", http.MethodGet, h.export, false)
	route("/feed.atom", http.MethodGet, h.feed, true)
	route("/healthz", http.MethodGet, h.health, true)
	route("/api/sources/{name}/crawl", http.MethodPost, h.admin(h.crawlNow), true)
	route("/api/rules/reload", http.MethodPost, h.admin(h.reloadRules), true)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpx.Error(w, http.StatusNotFound, httpx.ErrorBody{Error: "no such API endpoint: " + r.URL.Path})
	})
	if d.Gatherer != nil {
		mux.Handle("/metrics", onlyMethod(http.MethodGet, promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	}
	return httpx.SecureHeaders(httpx.Logged(mux, d.Log, d.Observe))
}

// onlyMethod answers 405 with a JSON error to other methods than method
// (and HEAD for GET).
func onlyMethod(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			httpx.Error(w, http.StatusMethodNotAllowed, httpx.ErrorBody{Error: "method " + r.Method + " not allowed; use " + method})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// withDeadline gives the request's context a deadline.
func withDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestDeadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// hasAdminToken reports whether an admin token is configured and r carries
// it as "Authorization: Bearer <token>", compared in constant time.
func (h *handler) hasAdminToken(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && h.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(h.AdminToken)) == 1
}

// admin guards an admin action: POST with "Authorization: Bearer <token>",
// a body of at most MaxBodyBytes.
func (h *handler) admin(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.AdminToken == "" || h.Admin == nil {
			httpx.Error(w, http.StatusForbidden, httpx.ErrorBody{Error: "admin actions are disabled: set serve.admin_token_env in the configuration and that environment variable"})
			return
		}
		if !h.hasAdminToken(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atalaya"`)
			httpx.Error(w, http.StatusUnauthorized, httpx.ErrorBody{Error: "missing or wrong admin token (Authorization: Bearer …)"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if _, err := io.Copy(io.Discard, r.Body); err != nil { // admin actions take no body
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				httpx.Error(w, http.StatusRequestEntityTooLarge, httpx.ErrorBody{Error: "request body over the limit of 64 KiB"})
				return
			}
			httpx.Error(w, http.StatusBadRequest, httpx.ErrorBody{Error: "reading the request body: " + err.Error()})
			return
		}
		f(w, r)
	}
}
