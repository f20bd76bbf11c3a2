package web

import (
	"errors"
	"mime"
	"net/http"
	"regexp"
	"time"

	"atalaya"
)

// archivedFrameCSP is the policy of the page that frames an archived copy:
// the page's own, plus a frame from this server.
const archivedFrameCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// archivedRawCSP is the policy of an archived page itself: sandboxed (no
// script runs, no form posts, no top-level navigation), nothing loaded from
// anywhere but its inline styles, framed only by this server.
const archivedRawCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; " +
	"frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// archivedData is what the archived-copy page shows around the copy.
type archivedData struct {
	ID        atalaya.ID
	Title     string
	URL       string
	SafeURL   string
	FetchedAt time.Time
	Status    int
}

// archivedPage reads the archived page of the request's release, or writes
// an error page and returns false.
func (h *handler) archivedPage(w http.ResponseWriter, r *http.Request) (atalaya.Release, atalaya.Page, bool) {
	if h.deps.Archive == nil {
		h.errorPage(w, r, http.StatusNotFound, "No archive", "This server has no archive of fetched pages.")
		return atalaya.Release{}, atalaya.Page{}, false
	}
	doc, ok := h.releaseDoc(w, r)
	if !ok {
		return atalaya.Release{}, atalaya.Page{}, false
	}
	p, err := h.deps.Archive.Page(r.Context(), doc.Release.ID, 0)
	if errors.Is(err, ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No archived copy",
			"The archive holds no copy of this release's page; the release page still shows its text.")
		return atalaya.Release{}, atalaya.Page{}, false
	}
	if err != nil {
		h.serverError(w, r, "read the archived page", err)
		return atalaya.Release{}, atalaya.Page{}, false
	}
	return doc.Release, p, true
}

// archived serves the archived copy in a frame, under a banner saying what
// it is and when it was fetched.
func (h *handler) archived(w http.ResponseWriter, r *http.Request) {
	rel, p, ok := h.archivedPage(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Security-Policy", archivedFrameCSP)
	h.render(w, r, http.StatusOK, "archived", "Archived copy: "+rel.Title, archivedData{
		ID: rel.ID, Title: rel.Title, URL: p.URL, SafeURL: httpURL(p.URL), FetchedAt: p.FetchedAt, Status: p.Status,
	})
}

// archivedRaw serves the archived page's bytes as fetched, sandboxed: its
// scripts never run and it loads nothing.
func (h *handler) archivedRaw(w http.ResponseWriter, r *http.Request) {
	_, p, ok := h.archivedPage(w, r)
	if !ok {
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", archivedRawCSP)
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	hdr.Set("Content-Type", archivedContentType(p.Header.Get("Content-Type")))
	w.Write(p.Body)
}

// archivedContentType returns the type an archived page is served as: HTML
// with the charset it was fetched with, and plain text for anything else, so
// that no stored bytes are ever served as a script or a plugin.
func archivedContentType(fetched string) string {
	mt, params, err := mime.ParseMediaType(fetched)
	charset := params["charset"]
	if !charsetName.MatchString(charset) {
		charset = "utf-8"
	}
	typ := "text/plain"
	if err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		typ = "text/html"
	}
	return typ + "; charset=" + charset
}

// charsetName matches the charset names an archived page is served with;
// anything else is served as UTF-8.
var charsetName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)
