package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"atalaya/index"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates that render a whole page; each is parsed with
// the layout and the partials. TestTemplatesWired checks that every file is
// one of these or of those.
var pageNames = []string{"search", "release", "archived", "trends", "rules", "sources", "error"}

// partialNames are the templates that pages include.
var partialNames = []string{"layout", "querybox"}

// templates maps a page name to its parsed template set.
type templates map[string]*template.Template

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "undated"
		}
		return t.Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"score":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"chipClass": func(label string) string {
		switch label {
		case "kingpin", "root_cause", "mixed", "neither":
			return "chip chip-" + label
		}
		return "chip"
	},
	"humanLabel": humanLabel,
	"language":   func(code any) string { return languageName(fmt.Sprint(code)) },
}

// humanLabel writes a label, theme or topic (a string or a string type) the
// way a reader says it: "root cause".
func humanLabel(label any) string { return strings.ReplaceAll(fmt.Sprint(label), "_", " ") }

func mustParseTemplates() templates {
	t := templates{}
	for _, name := range pageNames {
		files := []string{"templates/" + name + ".html"}
		for _, p := range partialNames {
			files = append(files, "templates/"+p+".html")
		}
		t[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...))
	}
	return t
}

// page is what the layout needs around every page's content.
type page struct {
	Title string // the page's <title> and <h1>
	Nav   string // the navigation entry of the page
	CSS   string // URL of the stylesheet
	Data  any    // the page's own data
}

// render executes the named page into a buffer and writes it with status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	var buf bytes.Buffer
	p := page{Title: title, Nav: name, CSS: h.static.cssURL, Data: data}
	if err := h.tpl[name].Execute(&buf, p); err != nil {
		h.log.Error("render page", "page", name, "path", r.URL.Path, "error", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// serverError logs err and renders a generic error page, or, when the
// index was too busy to take the search before the page's deadline, a page
// saying to try again (503, Retry-After).
func (h *handler) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, index.ErrBusy) {
		h.log.Warn(what, "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
		h.errorPage(w, r, http.StatusServiceUnavailable, "Too busy",
			"The server is busy with other searches and could not "+what+" in time. Try again in a moment.")
		return
	}
	h.log.Error(what, "path", r.URL.Path, "error", err)
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not "+what+". The error is in the server's log.")
}

// errorData is what an error page shows.
type errorData struct{ Title, Message string }

// errorPage renders a page that explains what went wrong.
func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, "error", title, errorData{title, msg})
}

// staticFiles are the embedded stylesheet, with its content-addressed URL,
// and the icon.
type staticFiles struct {
	css    []byte
	cssURL string
	icon   []byte
}

func newStaticFiles() staticFiles {
	css, err := fs.ReadFile(staticFS, "static/style.css")
	if err != nil {
		panic("web: embedded stylesheet missing: " + err.Error())
	}
	icon, err := fs.ReadFile(staticFS, "static/favicon.svg")
	if err != nil {
		panic("web: embedded icon missing: " + err.Error())
	}
	sum := sha256.Sum256(css)
	return staticFiles{css: css, cssURL: "/static/" + hex.EncodeToString(sum[:8]) + "/style.css", icon: icon}
}

// serveIcon serves the site's icon.
func (h *handler) serveIcon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(h.static.icon)
}

// serveCSS serves the stylesheet; its URL changes with its content, so it
// may be cached for ever.
func (h *handler) serveCSS(w http.ResponseWriter, r *http.Request) {
	if "/static/"+r.PathValue("hash")+"/style.css" != h.static.cssURL {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(h.static.css)
}
