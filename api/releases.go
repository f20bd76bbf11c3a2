package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"atalaya"
	"atalaya/archive"
	"atalaya/internal/httpx"
	"atalaya/internal/textdiff"
)

// maxDiffCells bounds the work of a diff: the product of the paragraph
// counts of the two versions past their common head and tail.
const maxDiffCells = 1 << 20

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
		ReleaseMeta: ReleaseMetaOf(rel),
		Body:        rel.Body, Version: rel.Version, Label: string(v.Label), Themes: themes, RulesVersion: v.RulesVersion,
		Evidence: evidenceDTOs(v.Evidence), IndexedAt: OptionalTime(doc.IndexedAt), Versions: []VersionDTO{},
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
	d := VersionDTO{Version: rel.Version, FetchedAt: rel.FetchedAt, Title: rel.Title, Published: OptionalTime(rel.Published), Hash: rel.Hash}
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
	if err := onlyParams(q, "from", "to"); err != nil {
		h.fail(w, r, err)
		return
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
		Body:  diffParagraphs(textdiff.Paragraphs(a.Body), textdiff.Paragraphs(b.Body))}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// diffOps are the API's names of textdiff's ops.
var diffOps = map[textdiff.Op]string{textdiff.Same: "=", textdiff.Added: "+", textdiff.Removed: "-"}

// diffParagraphs returns the diff of a and b (see textdiff.Diff, the web
// UI's). When the paragraphs that differ are too many to compare (past
// maxDiffCells), they are shown as removed and added whole.
func diffParagraphs(a, b []string) []DiffLine {
	lines, ok := textdiff.Diff(a, b, maxDiffCells)
	if !ok {
		lines = lines[:0]
		for _, p := range a {
			lines = append(lines, textdiff.Line{Op: textdiff.Removed, Text: p})
		}
		for _, p := range b {
			lines = append(lines, textdiff.Line{Op: textdiff.Added, Text: p})
		}
	}
	out := make([]DiffLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, DiffLine{Op: diffOps[l.Op], Text: l.Text})
	}
	return out
}
