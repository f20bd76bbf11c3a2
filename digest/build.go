package digest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
)

// overlap is how far before the watermark a run looks again for releases,
// so that one indexed just before a send but committed after it is not
// missed; the sent-log keeps those already sent out.
const overlap = time.Hour

// scanPage is the page size of the searches that collect releases.
const scanPage = index.MaxPageSize

// Message is one digest message: what it lists and its rendered text. It
// is stored while being delivered, so that a redelivery sends the same.
type Message struct {
	Digest    string   `json:"digest"`
	Seq       int      `json:"seq"`
	MessageID string   `json:"message_id"`
	To        []string `json:"to"`
	// Date is when the message was built; Since is when the digest's
	// last delivered message was built (zero for its first message): the
	// period the message covers.
	Date  time.Time `json:"date"`
	Since time.Time `json:"since"`
	// Watermark is what the digest's watermark becomes once the message
	// is delivered: Date, or the current watermark when releases were
	// left waiting.
	Watermark   time.Time  `json:"watermark"`
	BaseURL     string     `json:"base_url"`
	Groups      []Group    `json:"groups"`
	Corrections []Item     `json:"corrections,omitempty"`
	Coverage    []Coverage `json:"coverage"`
	// HealthUnknown reports that the sources' health could not be read.
	HealthUnknown bool         `json:"health_unknown,omitempty"`
	Counts        []LabelCount `json:"counts"`
	// Waiting counts matching releases left for the next message
	// (max_releases, or more than a search can reach).
	Waiting int    `json:"waiting,omitempty"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Group is the new releases of one label, newest first.
type Group struct {
	Label string `json:"label"`
	Title string `json:"title"` // "Kingpin", "Root cause"
	Items []Item `json:"items"`
}

// Item is one release in a message.
type Item struct {
	ID       atalaya.ID       `json:"id"`
	Version  int              `json:"version"`
	Title    string           `json:"title"` // one line
	Agency   string           `json:"agency"`
	Source   atalaya.SourceID `json:"source"`
	Date     string           `json:"date"` // publication day, "2026-12-05"; empty if unknown
	Label    string           `json:"label"`
	Themes   []string         `json:"themes,omitempty"`
	Evidence string           `json:"evidence,omitempty"` // the strongest evidence, one line
	URL      string           `json:"url"`                // the original
	Page     string           `json:"page"`               // the release page in the web UI
	// Was describes, for a correction, what was sent before:
	// "sent as kingpin, version 1".
	Was string `json:"was,omitempty"`
}

// Coverage is one source the digest's filter covers, in plain words.
type Coverage struct {
	Source  atalaya.SourceID `json:"source"`
	Agency  string           `json:"agency"`
	Fetched int              `json:"fetched"` // releases indexed (new or revised) since the last message
	Issues  []string         `json:"issues,omitempty"`
}

// LabelCount is the number of releases of one label indexed in the period.
type LabelCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Items returns every release of m: the new ones, then the corrections.
func (m *Message) Items() []Item {
	var out []Item
	for _, g := range m.Groups {
		out = append(out, g.Items...)
	}
	return append(out, m.Corrections...)
}

// Count returns the number of new releases in m.
func (m *Message) Count() int {
	n := 0
	for _, g := range m.Groups {
		n += len(g.Items)
	}
	return n
}

// Empty reports whether m lists nothing: no new release, no correction.
func (m *Message) Empty() bool {
	return m.Count() == 0 && len(m.Corrections) == 0
}

// Summary says what m holds, for the subject: "3 kingpin, 1 root-cause
// releases, 1 correction", or "nothing new".
func (m *Message) Summary() string {
	var parts []string
	for _, g := range m.Groups {
		parts = append(parts, fmt.Sprintf("%d %s", len(g.Items), labelWord(g.Label)))
	}
	s := strings.Join(parts, ", ")
	switch n := m.Count(); {
	case n == 1:
		s += " release"
	case n > 1:
		s += " releases"
	}
	if c := len(m.Corrections); c > 0 {
		if s != "" {
			s += ", "
		}
		s += plural(c, "correction", "corrections")
	}
	if s == "" {
		return "nothing new"
	}
	return s
}

// PeriodWords says what the period is, after a count of releases:
// "since the last digest", or "so far" for a digest's first message.
func (m *Message) PeriodWords() string {
	if m.Since.IsZero() {
		return "so far"
	}
	return "since the last digest"
}

// Day is the day the message was built, "2026-12-05".
func (m *Message) Day() string { return m.Date.Format(time.DateOnly) }

// SinceText says where the period starts: "2026-12-04 07:00 UTC", or
// "the first digest".
func (m *Message) SinceText() string {
	if m.Since.IsZero() {
		return "the start (this is the first digest)"
	}
	return m.Since.In(m.Date.Location()).Format("2006-01-02 15:04 MST")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// labelWord is a label as written in text: "root-cause".
func labelWord(label string) string { return strings.ReplaceAll(label, "_", "-") }

// labelTitle is a label as a heading: "Root cause".
func labelTitle(label string) string {
	w := strings.ReplaceAll(label, "_", " ")
	if w == "" {
		return "Unlabelled"
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// labelOrder puts the declared labels first, in the order people read them.
var labelOrder = []string{"kingpin", "root_cause", "mixed", "neither"}

func compareLabels(a, b string) int {
	ia, ib := slices.Index(labelOrder, a), slices.Index(labelOrder, b)
	if ia < 0 {
		ia = len(labelOrder)
	}
	if ib < 0 {
		ib = len(labelOrder)
	}
	return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
}

// build makes the next message of d from the index, the store and the
// sources' health; it changes nothing.
func (s *Sender) build(ctx context.Context, d Definition, st State) (*Message, error) {
	now := s.opts.Now().In(s.opts.Location)
	m := &Message{Digest: d.Name, Seq: st.Seq + 1, To: d.To, Date: now, Since: st.Covered, Watermark: now, BaseURL: strings.TrimRight(d.BaseURL, "/")}
	from := time.Time{}
	if !st.Watermark.IsZero() {
		from = st.Watermark.Add(-overlap)
	}
	matches, unreached, err := s.scan(ctx, index.Query{Text: d.Query, IndexedAfter: from})
	if err != nil {
		return nil, fmt.Errorf("digest %s: query %q: %w", d.Name, d.Query, err)
	}
	all, _, err := s.scan(ctx, index.Query{IndexedAfter: from})
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", d.Name, err)
	}
	// The sent-log is read for every release either search returned: the
	// matching ones may lie outside the window of the unfiltered search.
	ids := make([]atalaya.ID, 0, len(all)+len(matches))
	for _, h := range slices.Concat(all, matches) {
		ids = append(ids, h.ID)
	}
	sent, err := s.opts.Store.sent(d.Name, ids)
	if err != nil {
		return nil, err
	}
	var fresh []index.Hit
	for _, h := range matches {
		if _, ok := sent[h.ID]; !ok {
			fresh = append(fresh, h)
		}
	}
	if len(fresh) > d.MaxReleases {
		unreached += len(fresh) - d.MaxReleases
		fresh = fresh[:d.MaxReleases]
	}
	if unreached > 0 {
		m.Waiting, m.Watermark = unreached, st.Watermark
	}
	for _, h := range fresh {
		it, err := s.item(ctx, m, h)
		if err != nil {
			return nil, err
		}
		m.addToGroup(it)
	}
	for _, h := range all {
		was, ok := sent[h.ID]
		if !ok || (was.Version >= h.Version && was.Label == h.Label) {
			continue
		}
		it, err := s.item(ctx, m, h)
		if err != nil {
			return nil, err
		}
		it.Was = fmt.Sprintf("sent as %s, version %d", labelWord(was.Label), was.Version)
		m.Corrections = append(m.Corrections, it)
	}
	if err := s.coverage(ctx, d, m); err != nil {
		return nil, err
	}
	m.MessageID = messageID(d.Name, m, s.opts.From)
	if err := s.renderers[d.Name].render(m); err != nil {
		return nil, fmt.Errorf("digest %s: %w", d.Name, err)
	}
	return m, nil
}

// maxScan bounds the releases one search of a run collects, unless
// Options.MaxScan says otherwise.
const maxScan = 100_000

// scan returns the releases q matches, newest first, at most maxScan, and
// how many more matched. It pages with the index's cursors, which go past
// the 10,000 hits a page number reaches.
func (s *Sender) scan(ctx context.Context, q index.Query) ([]index.Hit, int, error) {
	limit := s.opts.MaxScan
	if limit <= 0 {
		limit = maxScan
	}
	q.Sort, q.Size = index.SortDate, min(scanPage, limit)
	var hits []index.Hit
	for {
		res, err := s.opts.Index.Search(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		hits = append(hits, res.Hits...)
		if res.Next == "" || len(res.Hits) == 0 || len(hits) >= limit {
			return hits, max(0, int(res.Total)-len(hits)), nil
		}
		q.After = res.Next
	}
}

// addToGroup adds it to the group of its label, keeping groups in label
// order and items newest first (the scan's order).
func (m *Message) addToGroup(it Item) {
	i, found := slices.BinarySearchFunc(m.Groups, it.Label, func(g Group, l string) int { return compareLabels(g.Label, l) })
	if !found {
		m.Groups = slices.Insert(m.Groups, i, Group{Label: it.Label, Title: labelTitle(it.Label)})
	}
	m.Groups[i].Items = append(m.Groups[i].Items, it)
}

// item makes the Item of hit h, reading its evidence from the index.
func (s *Sender) item(ctx context.Context, m *Message, h index.Hit) (Item, error) {
	doc, err := s.opts.Index.Get(ctx, h.ID)
	if err != nil && !errors.Is(err, index.ErrNotFound) {
		return Item{}, fmt.Errorf("digest %s: reading release %s: %w", m.Digest, h.ID, err)
	}
	it := Item{
		ID: h.ID, Version: h.Version, Title: oneLine(h.Title), Agency: oneLine(h.Agency), Source: h.Source,
		Label: h.Label, Themes: h.Themes, URL: h.URL,
		Page:     m.BaseURL + "/releases/" + url.PathEscape(string(h.ID)),
		Evidence: strongestEvidence(doc.Verdict),
	}
	if !h.Published.IsZero() {
		it.Date = h.Published.Format(time.DateOnly)
	}
	return it, nil
}

// maxSnippet bounds an evidence snippet, in characters.
const maxSnippet = 240

// strongestEvidence returns the sentence of the heaviest evidence for the
// verdict's label (title matches first on ties), on one line and cut to
// maxSnippet characters around the match.
func strongestEvidence(v classify.Verdict) string {
	var best *classify.Evidence
	for i := range v.Evidence {
		e := &v.Evidence[i]
		if e.Label == "" || (v.Label != "mixed" && e.Label != v.Label) {
			continue
		}
		if best == nil || e.Weight > best.Weight || (e.Weight == best.Weight && e.Field == "title" && best.Field != "title") {
			best = e
		}
	}
	if best == nil {
		return ""
	}
	sentence := best.Sentence
	if sentence == "" {
		sentence = best.Match
	}
	return cutAround(oneLine(sentence), oneLine(best.Match), maxSnippet)
}

// cutAround shortens s to at most n characters, cutting between words,
// keeping match in view and marking cuts with "…".
func cutAround(s, match string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	start := 0
	if i := strings.Index(s, match); i >= 0 {
		at := len([]rune(s[:i]))
		start = max(0, min(at-n/3, len(r)-n))
	}
	end := start + n - 2 // room for the two "…"
	if start > 0 && r[start-1] != ' ' {
		if sp := slices.Index(r[start:end], ' '); sp >= 0 {
			start += sp + 1
		}
	}
	if end < len(r) {
		for i := end - 1; i > start; i-- {
			if r[i] == ' ' {
				end = i
				break
			}
		}
	}
	out := strings.TrimSpace(string(r[start:end]))
	if start > 0 {
		out = "…" + out
	}
	if end < len(r) {
		out += "…"
	}
	return out
}

// oneLine replaces every run of white space and control characters
// (CR and LF among them) with one space.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == ' ' || r == '\u2028' || r == '\u2029' || r == '\u00a0'
	}), " ")
}

// messageID is a deterministic Message-ID: the same message delivered
// again after a crash carries the same one. Its domain is the sender's.
func messageID(name string, m *Message, from string) string {
	h := sha256.New()
	for _, it := range m.Items() {
		fmt.Fprintf(h, "%s@%d\n", it.ID, it.Version)
	}
	domain := "atalaya.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	return fmt.Sprintf("digest.%s.%d.%s.%s@%s", name, m.Seq, m.Date.UTC().Format("20060102T150405Z"), hex.EncodeToString(h.Sum(nil))[:12], domain)
}
