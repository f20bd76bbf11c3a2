package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/textdiff"
)

// validID matches the release IDs a page accepts.
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ruleEvidence is the evidence of one rule, as the release page lists it.
type ruleEvidence struct {
	Rule, Label, Topic, Theme string
	Weight                    float64
	Matches                   []evidenceMatch
}

// evidenceMatch is one place a rule fired: the sentence with the match marked.
type evidenceMatch struct {
	Field    string
	Sentence []segment
}

// versionView is one archived version of a release.
type versionView struct {
	Version   int
	FetchedAt time.Time
	Published time.Time
	DiffURL   string // the diff from the version before, when there is one
	Shown     bool   // the diff shown is this version's
}

// releaseData is what the release page shows.
type releaseData struct {
	ID           atalaya.ID
	Title        []segment
	Agency       string
	Source       atalaya.SourceID
	Country      atalaya.Country
	Language     atalaya.Language
	Type         string
	Published    time.Time
	URL          string // the original page, as text
	SafeURL      string // the original page as a link; empty when not http(s)
	Archived     bool
	Label        string
	Themes       []string
	Topics       []string
	Relevant     bool
	Scores       []labelScore
	RulesVersion string
	IndexedAt    time.Time
	Body         [][]segment
	Evidence     []ruleEvidence
	NearMisses   []classify.NearMiss
	Versions     []versionView
	VersionsErr  string
	Diff         []diffLine
	DiffFrom     int
	DiffTo       int
	DiffTooLarge bool
}

// labelScore is one label's score in a verdict.
type labelScore struct {
	Label string
	Score float64
}

// httpURL returns raw when it is an absolute http or https URL, and ""
// otherwise, so that a javascript: or data: URL from a page is never a link.
func httpURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// releaseDoc reads the release of the request's {id}, or writes a 404 or
// 500 page and returns false.
func (h *handler) releaseDoc(w http.ResponseWriter, r *http.Request) (index.Document, bool) {
	id := r.PathValue("id")
	if !validID.MatchString(id) {
		h.errorPage(w, r, http.StatusNotFound, "No such release", "There is no release with this ID.")
		return index.Document{}, false
	}
	doc, err := h.deps.Index.Get(r.Context(), atalaya.ID(id))
	if errors.Is(err, index.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such release",
			"The index holds no release with this ID. It may have been removed; search for it by its title.")
		return index.Document{}, false
	}
	if err != nil {
		h.serverError(w, r, "read the release", err)
		return index.Document{}, false
	}
	return doc, true
}

// release serves the page of one release.
func (h *handler) release(w http.ResponseWriter, r *http.Request) {
	doc, ok := h.releaseDoc(w, r)
	if !ok {
		return
	}
	rel, v := doc.Release, doc.Verdict
	data := releaseData{
		ID: rel.ID, Agency: rel.Agency, Source: rel.Source, Country: rel.Country, Language: rel.Language,
		Type: rel.Type, Published: rel.Published, URL: rel.URL, SafeURL: httpURL(rel.URL),
		Archived: h.deps.Archive != nil, Label: string(v.Label), Themes: v.Themes, Topics: v.Topics,
		Relevant: v.Relevant, RulesVersion: v.RulesVersion, IndexedAt: doc.IndexedAt, NearMisses: v.NearMisses,
	}
	data.Title = markedSegments(rel.Title, 0, len(rel.Title), evidenceSpans(rel.Title, classify.FieldTitle, v.Evidence))
	data.Body = paragraphs(rel.Body, evidenceSpans(rel.Body, classify.FieldBody, v.Evidence))
	for label, score := range v.Scores {
		data.Scores = append(data.Scores, labelScore{string(label), score})
	}
	slices.SortFunc(data.Scores, func(a, b labelScore) int {
		if a.Label < b.Label {
			return -1
		}
		return 1
	})
	data.Evidence = groupEvidence(v.Evidence)
	h.addVersions(r, &data)
	h.render(w, r, http.StatusOK, "release", rel.Title, data)
}

// groupEvidence lists the evidence by rule, in the order the rules first
// fired, each match in its sentence.
func groupEvidence(evidence []classify.Evidence) []ruleEvidence {
	var groups []ruleEvidence
	for _, e := range evidence {
		i := slices.IndexFunc(groups, func(g ruleEvidence) bool { return g.Rule == e.Rule })
		if i < 0 {
			groups = append(groups, ruleEvidence{Rule: e.Rule, Label: string(e.Label), Topic: e.Topic, Theme: e.Theme, Weight: e.Weight})
			i = len(groups) - 1
		}
		groups[i].Matches = append(groups[i].Matches, evidenceMatch{Field: e.Field, Sentence: sentenceSegments(e)})
	}
	return groups
}

// sentenceSegments returns the sentence of e with its match marked.
func sentenceSegments(e classify.Evidence) []segment {
	s := e.Sentence
	if s == "" {
		return []segment{{Text: e.Match, Mark: true, Rule: e.Rule}}
	}
	// The match is the first occurrence of its text in the sentence, which
	// is right unless the sentence repeats it: then the first is marked.
	i := -1
	if e.Match != "" {
		i = indexFold(s, e.Match)
	}
	if i < 0 {
		return []segment{{Text: s}}
	}
	return markedSegments(s, 0, len(s), []span{{Start: i, End: i + len(e.Match), Rules: []string{e.Rule}, Label: string(e.Label)}})
}

// indexFold is strings.Index, falling back to a case-insensitive search for
// a part of s of the same byte length.
func indexFold(s, sub string) int {
	if i := strings.Index(s, sub); i >= 0 {
		return i
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// addVersions adds the archived versions of the release and, when it was
// revised, the diff the request asks for (?diff=N: from version N-1 to N;
// the latest revision by default).
func (h *handler) addVersions(r *http.Request, data *releaseData) {
	if h.deps.Archive == nil {
		return
	}
	versions, err := h.deps.Archive.Versions(r.Context(), data.ID)
	if errors.Is(err, ErrNotFound) {
		data.VersionsErr = "The archive holds no copy of this release."
		data.Archived = false
		return
	}
	if err != nil {
		h.log.Warn("read the versions of a release", "release_id", data.ID, "error", err)
		data.VersionsErr = "The versions of this release could not be read; the error is in the server's log."
		return
	}
	shown := len(versions) - 1
	if n, err := strconv.Atoi(r.URL.Query().Get("diff")); err == nil && n >= 2 && n <= len(versions) {
		shown = n - 1
	}
	for i, v := range versions {
		vv := versionView{Version: v.Version, FetchedAt: v.FetchedAt, Published: v.Published, Shown: i == shown && i > 0}
		if i > 0 {
			vv.DiffURL = "/releases/" + url.PathEscape(string(data.ID)) + "?diff=" + strconv.Itoa(i+1) + "#diff"
		}
		data.Versions = append(data.Versions, vv)
	}
	if shown < 1 {
		return
	}
	from, to := versions[shown-1], versions[shown]
	data.DiffFrom, data.DiffTo = from.Version, to.Version
	lines, ok := textdiff.Diff(
		append([]string{"Title: " + from.Title}, textdiff.Paragraphs(from.Body)...),
		append([]string{"Title: " + to.Title}, textdiff.Paragraphs(to.Body)...), maxDiffCells)
	for _, l := range lines {
		data.Diff = append(data.Diff, diffLine{l})
	}
	data.DiffTooLarge = !ok
}

// maxDiffCells bounds the work of a diff: the product of the paragraph
// counts of the two versions, past their common head and tail.
const maxDiffCells = 1 << 20

// diffLine is one paragraph of a diff, as the template shows it.
type diffLine struct{ textdiff.Line }

// Added and Removed let the template test a line's op.
func (l diffLine) Added() bool   { return l.Op == textdiff.Added }
func (l diffLine) Removed() bool { return l.Op == textdiff.Removed }
