package web

import "net/http"

// routes registers every page.
func (h *handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.search)
	mux.HandleFunc("GET /releases/{id}", h.release)
	mux.HandleFunc("GET /releases/{id}/archived", h.archived)
	mux.HandleFunc("GET /releases/{id}/archived/raw", h.archivedRaw)
	mux.HandleFunc("GET /trends", h.trends)
	mux.HandleFunc("GET /trends.csv", h.trendsCSV)
	mux.HandleFunc("GET /rules", h.rulesPage)
	mux.HandleFunc("GET /sources", h.sources)
	mux.HandleFunc("POST /sources/{name}/crawl", h.crawlNow)
	mux.HandleFunc("POST /admin/session", h.adminSession)
	mux.HandleFunc("GET /static/{hash}/style.css", h.serveCSS)
	mux.HandleFunc("GET /favicon.svg", h.serveIcon)
	return mux
}
