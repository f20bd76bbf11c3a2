package api

import (
	"time"

	"atalaya"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/index"
)

// The JSON the API answers. Keys are snake_case, the names the CLI's
// --json output uses.

// SearchResponse answers GET /api/search.
type SearchResponse struct {
	Total  uint64                `json:"total"`
	Hits   []HitDTO              `json:"hits"`
	Facets map[string][]FacetDTO `json:"facets,omitempty"`
	Next   string                `json:"next,omitempty"` // cursor: pass as after= for the next page
	TookMS float64               `json:"took_ms"`
}

// HitDTO is one search hit.
type HitDTO struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	Title        string     `json:"title"`
	Source       string     `json:"source"`
	Agency       string     `json:"agency"`
	Country      string     `json:"country"`
	Language     string     `json:"language"`
	Published    *time.Time `json:"published,omitempty"`
	Label        string     `json:"label"`
	Themes       []string   `json:"themes"`
	Version      int        `json:"version"`
	RulesVersion string     `json:"rules_version"`
	IndexedAt    *time.Time `json:"indexed_at,omitempty"`
	Score        float64    `json:"score,omitempty"`
	// Fragments are HTML: text escaped, matches in <mark>.
	Fragments []string `json:"fragments,omitempty"`
}

// FacetDTO is one facet value and its count.
type FacetDTO struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// OptionalTime is nil for the zero time, so that JSON leaves it out.
func OptionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func hitDTO(h index.Hit) HitDTO {
	themes := h.Themes
	if themes == nil {
		themes = []string{}
	}
	return HitDTO{
		ID: string(h.ID), URL: h.URL, Title: h.Title, Source: string(h.Source), Agency: h.Agency,
		Country: h.Country, Language: h.Language, Published: OptionalTime(h.Published), Label: h.Label,
		Themes: themes, Version: h.Version, RulesVersion: h.RulesVersion, IndexedAt: OptionalTime(h.IndexedAt),
		Score: h.Score, Fragments: h.Fragments,
	}
}

// ReleaseMeta is what identifies and describes a release, without its
// text: the first keys of GET /api/releases/{id} and of
// `atalaya releases --json`.
type ReleaseMeta struct {
	ID        string     `json:"id"`
	URL       string     `json:"url"`
	Source    string     `json:"source"`
	Agency    string     `json:"agency"`
	Country   string     `json:"country"`
	Language  string     `json:"language"`
	Type      string     `json:"type,omitempty"`
	Title     string     `json:"title"`
	Published *time.Time `json:"published,omitempty"`
}

// ReleaseMetaOf returns rel's ReleaseMeta.
func ReleaseMetaOf(rel atalaya.Release) ReleaseMeta {
	return ReleaseMeta{
		ID: string(rel.ID), URL: rel.URL, Source: string(rel.Source), Agency: rel.Agency, Country: string(rel.Country),
		Language: string(rel.Language), Type: rel.Type, Title: rel.Title, Published: OptionalTime(rel.Published),
	}
}

// ReleaseResponse answers GET /api/releases/{id}.
type ReleaseResponse struct {
	ReleaseMeta
	Body         string             `json:"body"`
	Version      int                `json:"version"`
	Label        string             `json:"label"`
	Themes       []string           `json:"themes"`
	Scores       map[string]float64 `json:"scores,omitempty"`
	RulesVersion string             `json:"rules_version"`
	Evidence     []EvidenceDTO      `json:"evidence"`
	IndexedAt    *time.Time         `json:"indexed_at,omitempty"`
	Versions     []VersionDTO       `json:"versions"`
}

// EvidenceDTO is one rule firing.
type EvidenceDTO struct {
	Rule     string  `json:"rule"`
	Label    string  `json:"label,omitempty"`
	Topic    string  `json:"topic,omitempty"`
	Theme    string  `json:"theme,omitempty"`
	Field    string  `json:"field"`
	Match    string  `json:"match"`
	Sentence string  `json:"sentence"`
	Weight   float64 `json:"weight"`
}

func evidenceDTOs(ev []classify.Evidence) []EvidenceDTO {
	out := make([]EvidenceDTO, 0, len(ev))
	for _, e := range ev {
		out = append(out, EvidenceDTO{Rule: e.Rule, Label: string(e.Label), Topic: e.Topic, Theme: e.Theme,
			Field: e.Field, Match: e.Match, Sentence: e.Sentence, Weight: e.Weight})
	}
	return out
}

// VersionDTO is one archived version of a release.
type VersionDTO struct {
	Version   int        `json:"version"`
	FetchedAt time.Time  `json:"fetched_at"` // when this version was first seen
	Title     string     `json:"title"`
	Published *time.Time `json:"published,omitempty"`
	Hash      string     `json:"hash"`
	Body      string     `json:"body,omitempty"` // only in /versions/{n}
}

// DiffResponse answers GET /api/releases/{id}/diff.
type DiffResponse struct {
	ID    string     `json:"id"`
	From  int        `json:"from"`
	To    int        `json:"to"`
	Title []DiffLine `json:"title"`
	Body  []DiffLine `json:"body"`
}

// DiffLine is one paragraph of a diff: "=" kept, "-" removed, "+" added.
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// SourceDTO is one source in GET /api/sources.
type SourceDTO struct {
	ID       string     `json:"id"`
	Agency   string     `json:"agency"`
	Country  string     `json:"country"`
	Language string     `json:"language"`
	Enabled  bool       `json:"enabled"`
	Schedule string     `json:"schedule,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	Running  bool       `json:"running"`
	Releases int        `json:"releases"`
	LastRun  *RunDTO    `json:"last_run,omitempty"`
	Issues   []IssueDTO `json:"issues"`
}

// IssueDTO is an open health issue of a source.
type IssueDTO struct {
	Kind     string    `json:"kind"`
	URL      string    `json:"url,omitempty"`
	Selector string    `json:"selector,omitempty"`
	Message  string    `json:"message"`
	Since    time.Time `json:"since"`
}

// RunDTO is one crawl run.
type RunDTO struct {
	Source    string     `json:"source"`
	Trigger   string     `json:"trigger,omitempty"`
	Outcome   string     `json:"outcome,omitempty"`
	Started   *time.Time `json:"started,omitempty"`
	Finished  *time.Time `json:"finished,omitempty"`
	Listings  int        `json:"listings"`
	Items     int        `json:"items"`
	New       int        `json:"new"`
	Revised   int        `json:"revised"`
	Unchanged int        `json:"unchanged"`
	Failed    int        `json:"failed"`
	Gone      int        `json:"gone"`
	Blocked   bool       `json:"blocked"`
	Errors    []string   `json:"errors,omitempty"`
	Issues    []IssueDTO `json:"issues"`
}

// RunDTOOf returns the API form of a recorded run.
func RunDTOOf(r archive.RunRecord) RunDTO {
	issues := issueDTOs(r.Issues)
	return RunDTO{
		Source: string(r.Source), Trigger: string(r.Trigger), Outcome: string(r.Outcome),
		Started: OptionalTime(r.Started), Finished: OptionalTime(r.Finished), Listings: r.Listings, Items: r.Items,
		New: r.New, Revised: r.Revised, Unchanged: r.Unchanged, Failed: r.Failed, Gone: r.Gone,
		Blocked: r.Blocked, Errors: r.Errors, Issues: issues,
	}
}

func issueDTOs(issues []atalaya.SourceIssue) []IssueDTO {
	out := make([]IssueDTO, 0, len(issues))
	for _, is := range issues {
		out = append(out, IssueDTO{Kind: string(is.Kind), URL: is.URL, Selector: is.Selector, Message: is.Message, Since: is.At})
	}
	return out
}

// RunsResponse answers GET /api/runs.
type RunsResponse struct {
	Runs []RunDTO `json:"runs"`
}

// SourcesResponse answers GET /api/sources.
type SourcesResponse struct {
	Sources []SourceDTO `json:"sources"`
}

// DigestDTO is one email digest in GET /api/digests and `atalaya digest
// list --json`: its definition and delivery state.
type DigestDTO struct {
	Name      string     `json:"name"`
	Schedule  string     `json:"schedule"`
	To        []string   `json:"to"`        // recipients, masked ("j…@example.org") by /api/digests without the admin token
	ToMasked  bool       `json:"to_masked"` // To is masked
	Query     string     `json:"query"`
	NextRun   *time.Time `json:"next_run,omitempty"` // absent when not scheduled
	LastSent  time.Time  `json:"last_sent"`
	Watermark time.Time  `json:"watermark"`
	Messages  int        `json:"messages"`   // messages delivered
	Releases  int        `json:"releases"`   // releases delivered, over every message
	LastCount int        `json:"last_count"` // releases in the last message
	Failures  int        `json:"failures"`   // failed attempts since the last delivery
	LastError string     `json:"last_error,omitempty"`
	Pending   bool       `json:"pending"` // a message waits to be delivered again
}

// DigestsResponse answers GET /api/digests.
type DigestsResponse struct {
	Digests []DigestDTO `json:"digests"`
}

// TrendsResponse answers GET /api/trends.
type TrendsResponse struct {
	Period  string      `json:"period"`
	Group   string      `json:"group,omitempty"`
	Periods []string    `json:"periods"`
	Series  []SeriesDTO `json:"series"`
	Total   uint64      `json:"total"`
	Undated uint64      `json:"undated"`
}

// SeriesDTO is the count per period of one label (and group value).
type SeriesDTO struct {
	Label  string `json:"label"`
	Group  string `json:"group,omitempty"`
	Counts []int  `json:"counts"`
}

// ExportRecord is one line of a JSON-lines export, and the columns of a CSV
// export.
type ExportRecord struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	Source       string     `json:"source"`
	Agency       string     `json:"agency"`
	Country      string     `json:"country"`
	Language     string     `json:"language"`
	Published    *time.Time `json:"published,omitempty"`
	Title        string     `json:"title"`
	Body         string     `json:"body"`
	Label        string     `json:"label"`
	Themes       []string   `json:"themes"`
	Evidence     string     `json:"evidence"` // summary: rule: match; …
	RulesVersion string     `json:"rules_version"`
}

// HealthResponse answers GET /healthz.
type HealthResponse struct {
	Status  string `json:"status"` // "ok" or "degraded"
	Index   Health `json:"index"`
	Archive Health `json:"archive"`
}

// Health is the state of one store.
type Health struct {
	OK       bool   `json:"ok"`
	Releases int    `json:"releases"`
	Error    string `json:"error,omitempty"`
}
