package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"atalaya"
)

// adminCookie marks a browser that signed in on the sources page. Its value
// is adminSessionValue of the admin token, never the token itself.
const adminCookie = "atalaya_admin"

// adminSessionLabel is the text whose HMAC keyed by the admin token is the
// admin cookie's value.
const adminSessionLabel = "atalaya admin session v1"

// adminSessionValue is the admin cookie's value for token: the hex
// HMAC-SHA256 of adminSessionLabel keyed by token. It does not reveal the
// token (a stolen cookie cannot call the API), and a new token in the
// environment makes every earlier cookie worthless.
func adminSessionValue(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(adminSessionLabel))
	return hex.EncodeToString(mac.Sum(nil))
}

// issueWords says what each kind of health issue means for a reader.
var issueWords = map[atalaya.IssueKind]string{
	atalaya.IssueBlocked:  "The site blocked the crawler (an anti-bot page or 403).",
	atalaya.IssueSelector: "The page layout seems to have changed: a selector found nothing, or far fewer items than usual.",
	atalaya.IssueFillRate: "Too many releases came without a field (title, date or text).",
	atalaya.IssueFetch:    "Pages could not be fetched (time-outs, server errors or redirect loops).",
	atalaya.IssueDate:     "Release dates could not be read.",
	atalaya.IssueRobots:   "robots.txt forbids the pages, or could not be read.",
}

// issueView is one open health issue in plain words.
type issueView struct {
	Words    string
	Message  string
	URL      string
	Selector string
	Since    time.Time
}

// sourceView is one source on the sources page.
type sourceView struct {
	SourceStatus
	Issues   []issueView
	Duration string
}

// sourcesData is what the sources page shows.
type sourcesData struct {
	Available  bool
	Sources    []sourceView
	CanCrawl   bool   // the request carries the admin token and crawls can start
	Crawled    string // the source a crawl was just started for
	ShowSignIn bool   // an admin token is configured and the request lacks it
	Digests    []DigestStatus
}

// sources serves the health of every source.
func (h *handler) sources(w http.ResponseWriter, r *http.Request) {
	admin := h.isAdmin(r)
	data := sourcesData{Crawled: r.URL.Query().Get("crawled"), CanCrawl: admin && h.deps.Crawler != nil,
		ShowSignIn: h.deps.AdminToken != "" && !admin}
	if h.deps.Sources != nil {
		statuses, err := h.deps.Sources.Sources(r.Context())
		if err != nil {
			h.serverError(w, r, "read the sources' status", err)
			return
		}
		data.Available = true
		for _, s := range statuses {
			data.Sources = append(data.Sources, newSourceView(s))
		}
	}
	if h.deps.Digests != nil {
		digests, err := h.deps.Digests.Digests(r.Context())
		if err != nil {
			h.serverError(w, r, "read the digests' status", err)
			return
		}
		data.Digests = digests
	}
	h.render(w, r, http.StatusOK, "sources", "Sources", data)
}

// newSourceView puts a source's issues in plain words.
func newSourceView(s SourceStatus) sourceView {
	v := sourceView{SourceStatus: s}
	if !s.LastRun.Started.IsZero() && !s.LastRun.Finished.IsZero() {
		v.Duration = s.LastRun.Finished.Sub(s.LastRun.Started).Round(time.Second).String()
	}
	for _, is := range s.Issues {
		words, ok := issueWords[is.Kind]
		if !ok {
			words = "Problem: " + string(is.Kind) + "."
		}
		v.Issues = append(v.Issues, issueView{Words: words, Message: is.Message, URL: is.URL, Selector: is.Selector, Since: is.At})
	}
	return v
}

// isAdmin reports whether the request carries the admin token in an
// Authorization: Bearer header, or else the sign-in cookie made from it.
// Both are compared in constant time.
func (h *handler) isAdmin(r *http.Request) bool {
	if h.deps.AdminToken == "" {
		return false
	}
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(token), []byte(h.deps.AdminToken)) == 1
	}
	c, err := r.Cookie(adminCookie)
	return err == nil && hmac.Equal([]byte(c.Value), []byte(adminSessionValue(h.deps.AdminToken)))
}

// sameOrigin reports whether a POST comes from this site's own pages: a
// browser sends Origin with every POST, and another site's form would carry
// its own.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// adminSession signs a browser in with the admin token: a cookie that only
// this site's own requests carry (SameSite=Strict), that scripts cannot read
// (HttpOnly), sent only over TLS when the sign-in came over TLS, and whose
// value is derived from the token without revealing it.
func (h *handler) adminSession(w http.ResponseWriter, r *http.Request) {
	if h.deps.AdminToken == "" {
		h.errorPage(w, r, http.StatusNotFound, "Admin actions are disabled", "No admin token is configured on this server.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	token := r.PostFormValue("token")
	if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(token), []byte(h.deps.AdminToken)) != 1 {
		h.errorPage(w, r, http.StatusForbidden, "Wrong token", "That is not the admin token. Go back to the sources page and try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: adminSessionValue(token), Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/sources", http.StatusSeeOther)
}

// crawlNow starts a crawl of one source on an administrator's request.
func (h *handler) crawlNow(w http.ResponseWriter, r *http.Request) {
	if !h.isAdmin(r) || !sameOrigin(r) {
		h.errorPage(w, r, http.StatusForbidden, "Not allowed", "Starting a crawl needs the admin token.")
		return
	}
	if h.deps.Crawler == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Crawls cannot be started here", "This server does not run crawls.")
		return
	}
	name := r.PathValue("name")
	if err := h.deps.Crawler.CrawlNow(r.Context(), atalaya.SourceID(name)); err != nil {
		h.log.Warn("start a crawl", "source_id", name, "error", err)
		h.errorPage(w, r, http.StatusBadRequest, "The crawl did not start", "The crawl of "+name+" did not start: "+err.Error())
		return
	}
	http.Redirect(w, r, "/sources?crawled="+url.QueryEscape(name), http.StatusSeeOther)
}
