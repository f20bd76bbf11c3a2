package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"atalaya/index"
	"atalaya/internal/httpx"
)

// feedSize is the number of entries of a feed.
const feedSize = 50

// summaryLen bounds an entry's summary, in bytes.
const summaryLen = 600

// The Atom document. encoding/xml escapes text, so a title holding
// <script> or ]]> stays text.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title      string         `xml:"title"`
	ID         string         `xml:"id"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published,omitempty"`
	Links      []atomLink     `xml:"link"`
	Author     atomPerson     `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Summary    string         `xml:"summary"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
}

// feed answers an Atom feed of the newest releases matching the query.
// Its updated time is the newest entry's, and its ETag a hash of the
// document, so an unchanged feed answers 304 to a conditional request.
func (h *handler) feed(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q.Sort, q.Size = index.SortDate, feedSize
	res, err := h.Index.Search(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	self := h.BaseURL + r.URL.RequestURI()
	f := atomFeed{
		Title:  "Atalaya: " + feedTitle(r.URL.Query()),
		ID:     "tag:atalaya," + self,
		Links:  []atomLink{{Rel: "self", Href: self}},
		Author: atomPerson{Name: "Atalaya"},
	}
	var newest time.Time
	for _, hit := range res.Hits {
		e := entryOf(hit)
		f.Entries = append(f.Entries, e)
		for _, t := range []time.Time{hit.IndexedAt, hit.Published} {
			if t.After(newest) {
				newest = t
			}
		}
	}
	if newest.IsZero() {
		newest = time.Unix(0, 0)
	}
	f.Updated = newest.UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		httpx.ServerError(w, r, h.Log, err)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", newest.UTC().Format(http.TimeFormat))
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write(buf.Bytes())
}

func entryOf(hit index.Hit) atomEntry {
	updated := hit.IndexedAt
	if updated.IsZero() {
		updated = hit.Published
	}
	e := atomEntry{
		Title:   hit.Title,
		ID:      "tag:atalaya,2026:release/" + string(hit.ID),
		Updated: updated.UTC().Format(time.RFC3339),
		Links:   []atomLink{{Rel: "alternate", Href: hit.URL}},
		Author:  atomPerson{Name: hit.Agency},
		Summary: hit.Title,
	}
	if !hit.Published.IsZero() {
		e.Published = hit.Published.UTC().Format(time.RFC3339)
	}
	if hit.Label != "" {
		e.Categories = append(e.Categories, atomCategory{Term: hit.Label, Scheme: "https://atalaya/label"})
	}
	for _, t := range hit.Themes {
		e.Categories = append(e.Categories, atomCategory{Term: t, Scheme: "https://atalaya/theme"})
	}
	return e
}

// feedTitle names the search of a feed.
func feedTitle(v url.Values) string {
	var parts []string
	if q := v.Get("q"); q != "" {
		parts = append(parts, q)
	}
	for _, name := range queryParams[1:] {
		if s := v.Get(name); s != "" {
			parts = append(parts, name+"="+s)
		}
	}
	if len(parts) == 0 {
		return "all releases"
	}
	t := strings.Join(parts, " ")
	if len(t) > summaryLen {
		t = t[:summaryLen]
	}
	return t
}
