// Package web serves Atalaya's user interface: server-rendered HTML pages for
// searching releases, reading a release with its evidence, its archived copy,
// the monthly trends, the rules in force and the health of the sources.
//
// Every page is rendered by html/template from templates embedded in the
// binary, styled by one embedded stylesheet, and works without JavaScript.
// Every response carries a Content-Security-Policy, X-Content-Type-Options and
// Referrer-Policy. The JSON API, exports and feeds are served by package api;
// the pages link to them by their routes.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
)

// ErrNotFound is what an Archive returns (wrapped or not) for a release or
// version it does not hold.
var ErrNotFound = errors.New("web: not found")

// Index is what the pages need from the search index; *index.Index
// implements it.
type Index interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Get(ctx context.Context, id atalaya.ID) (index.Document, error)
	Trends(ctx context.Context, req index.TrendsRequest) (index.Trends, error)
}

// Archive gives the pages as fetched and the versions of a release. Its
// errors wrap ErrNotFound for a release or version it does not hold.
type Archive interface {
	// Page returns the page archived with version of release id; version 0
	// means the latest.
	Page(ctx context.Context, id atalaya.ID, version int) (atalaya.Page, error)
	// Versions returns every archived version of release id, oldest first.
	Versions(ctx context.Context, id atalaya.ID) ([]atalaya.Release, error)
}

// Run is one crawl run as the sources page lists it.
type Run struct {
	atalaya.CrawlRun
	Trigger string   // what started it: "scheduled", "manual", …
	Outcome string   // how it went: "changed", "no change", "failed", …
	Errors  []string // its first errors, if it failed
}

// SourceStatus is one configured source as the sources page shows it.
type SourceStatus struct {
	Source   atalaya.Source
	Schedule string    // cron spec; empty when only crawled by hand
	NextRun  time.Time // zero when not scheduled
	Releases int       // releases archived from the source
	LastRun  atalaya.CrawlRun
	// Issues are the open health issues of the source.
	Issues []atalaya.SourceIssue
	// Runs are the recent runs, newest first.
	Runs []Run
}

// Sources reports the configured sources and their health.
type Sources interface {
	Sources(ctx context.Context) ([]SourceStatus, error)
}

// DigestStatus is one email digest as the sources page shows it.
type DigestStatus struct {
	Name      string
	Schedule  string    // cron spec; empty when sent only on demand
	NextRun   time.Time // zero when not scheduled
	LastSent  time.Time // zero when never sent
	Messages  int       // messages delivered
	Releases  int       // releases delivered, over every message
	LastCount int       // releases in the last message
	LastError string    // why the last attempt failed, if it did
}

// Digests reports the email digests and their deliveries.
type Digests interface {
	Digests(ctx context.Context) ([]DigestStatus, error)
}

// Crawler starts a crawl of one source now, on an administrator's request.
type Crawler interface {
	CrawlNow(ctx context.Context, src atalaya.SourceID) error
}

// Deps are what the pages are built on. Index is required; the others may
// be nil, and the pages that need them say what is missing.
type Deps struct {
	Index   Index
	Archive Archive
	// Catalog is the configured sources: the search page adds its agency
	// facet up from the source facet with it, and the trends page names
	// agencies with it.
	Catalog []atalaya.Source
	Sources Sources
	// Digests lists the email digests on the sources page.
	Digests Digests
	// Crawler serves the "crawl now" button, shown only when AdminToken is
	// set and the request carries it.
	Crawler Crawler
	// AdminToken is the administrator's token; empty disables every admin
	// action.
	AdminToken string
	// Rules returns the rules in force, which may be reloaded while the
	// server runs.
	Rules func() *classify.Rules
	// Gold is the evaluation of Rules against a gold file, if one is
	// configured: the rules page shows each rule's precision and coverage.
	Gold   *classify.Report
	Logger *slog.Logger
}

// New returns the handler of every page. It panics if the embedded templates
// do not parse, which the package tests rule out.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	h := &handler{deps: d, log: d.Logger, tpl: mustParseTemplates(), static: newStaticFiles()}
	return secureHeaders(withDeadline(h.routes()))
}

// rules returns the rules in force, or nil.
func (h *handler) rules() *classify.Rules {
	if h.deps.Rules == nil {
		return nil
	}
	return h.deps.Rules()
}

// handler holds the dependencies of every page handler.
type handler struct {
	deps   Deps
	log    *slog.Logger
	tpl    templates
	static staticFiles
}

// RequestDeadline bounds the work of one page: the searches, trends and
// reads behind it are cancelled past it.
const RequestDeadline = 10 * time.Second

// withDeadline gives every request a context that ends after
// RequestDeadline.
func withDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestDeadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
