package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"atalaya"
	"atalaya/archive"
	"atalaya/internal/httpx"
)

// maxDiffParagraphs bounds the paragraphs a diff compares on each side: the
// comparison takes their product in time and memory.
const maxDiffParagraphs = 2000

func (h *handler) release(w http.ResponseWriter, r *http.Request) {
	id := atalaya.ID(r.PathValue("id"))
	doc, err := h.Index.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rel, v := doc.Release, doc.Verdict
	themes := v.Themes
	if themes == nil {
		themes = []string{}
	}
	out := ReleaseResponse{
		ID: string(id), URL: rel.URL, Source: string(rel.Source), Agency: rel.Agency, Country: string(rel.Country),
		Language: string(rel.Language), Type: rel.Type, Title: rel.Title, Published: timePtr(rel.Published),
		Body: rel.Body, Version: rel.Version, Label: string(v.Label), Themes: themes, RulesVersion: v.RulesVersion,
		Evidence: evidenceDTOs(v.Evidence), IndexedAt: timePtr(doc.IndexedAt), Versions: []VersionDTO{},
	}
	if len(v.Scores) > 0 {
		out.Scores = map[string]float64{}
		for l, s := range v.Scores {
			out.Scores[string(l)] = s
		}
	}
	versions, err := h.Archive.Versions(r.Context(), id)
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	for _, ver := range versions {
		out.Versions = append(out.Versions, versionDTO(ver, false))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func versionDTO(rel atalaya.Release, body bool) VersionDTO {
	d := VersionDTO{Version: rel.Version, FetchedAt: rel.FetchedAt, Title: rel.Title, Published: timePtr(rel.Published), Hash: rel.Hash}
	if body {
		d.Body = rel.Body
	}
	return d
}

// versions returns the archived versions of the release in the path.
func (h *handler) versions(r *http.Request) ([]atalaya.Release, error) {
	id := atalaya.ID(r.PathValue("id"))
	vs, err := h.Archive.Versions(r.Context(), id)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, fmt.Errorf("%w: no archived release %s", errNotFound, id)
	}
	return vs, err
}

// pick returns version n of vs.
func pick(vs []atalaya.Release, n int) (atalaya.Release, error) {
	for _, v := range vs {
		if v.Version == n {
			return v, nil
		}
	}
	return atalaya.Release{}, fmt.Errorf("%w: release %s has versions 1 to %d, not %d", errNotFound, vs[0].ID, len(vs), n)
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		h.fail(w, r, badParam("version %q: want a number from 1", r.PathValue("n")))
		return
	}
	vs, err := h.versions(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := pick(vs, n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, versionDTO(v, true))
}

// diff answers the differences between two versions, paragraph by
// paragraph: from= (default the one before to) and to= (default the
// latest).
func (h *handler) diff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		if name != "from" && name != "to" {
			h.fail(w, r, badParam("unknown parameter %q; known: from, to", name))
			return
		}
	}
	vs, err := h.versions(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	to, err := intParam(q, "to", vs[len(vs)-1].Version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	from, err := intParam(q, "from", max(1, to-1))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := pick(vs, from)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := pick(vs, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := DiffResponse{ID: string(a.ID), From: from, To: to,
		Title: diffParagraphs([]string{a.Title}, []string{b.Title}),
		Body:  diffParagraphs(paragraphs(a.Body), paragraphs(b.Body))}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func paragraphs(body string) []string {
	var out []string
	for _, p := range strings.Split(body, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// diffParagraphs returns the longest-common-subsequence diff of a and b.
// Past maxDiffParagraphs on either side, the rest is shown as removed and
// added whole.
func diffParagraphs(a, b []string) []DiffLine {
	var tail []DiffLine
	if len(a) > maxDiffParagraphs || len(b) > maxDiffParagraphs {
		for _, p := range a[min(len(a), maxDiffParagraphs):] {
			tail = append(tail, DiffLine{Op: "-", Text: p})
		}
		for _, p := range b[min(len(b), maxDiffParagraphs):] {
			tail = append(tail, DiffLine{Op: "+", Text: p})
		}
		a, b = a[:min(len(a), maxDiffParagraphs)], b[:min(len(b), maxDiffParagraphs)]
	}
	// lcs[i][j] is the length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	out := []DiffLine{}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, DiffLine{Op: "=", Text: a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, DiffLine{Op: "+", Text: b[j]})
			j++
		default:
			out = append(out, DiffLine{Op: "-", Text: a[i]})
			i++
		}
	}
	return append(out, tail...)
}
