package digest

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/index"
	"atalaya/internal/smtptest"
)

// t0 is when the tests' first digest is sent.
var t0 = time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// staticHealth is the sources' health as a fixed list.
type staticHealth []SourceHealth

func (h staticHealth) SourceHealth(context.Context) ([]SourceHealth, error) { return h, nil }

var testHealth = staticHealth{
	{Source: "state", Agency: "U.S. Department of State", Country: "US", LastRun: t0.Add(-time.Hour),
		Issues: []atalaya.SourceIssue{{Source: "state", Kind: atalaya.IssueBlocked, Message: "HTTP 403 Forbidden", At: time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)}}},
	{Source: "treasury", Agency: "U.S. Department of the Treasury", Country: "US", LastRun: t0.Add(-time.Hour)},
	{Source: "sre", Agency: "Secretaría de Relaciones Exteriores", Country: "MX", LastRun: t0.Add(-time.Hour),
		Issues: []atalaya.SourceIssue{{Source: "sre", Kind: atalaya.IssueSelector, Selector: "#prensa article", Message: "listing selector matched nothing", At: time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)}}},
}

// fixture is a real Bleve index and a real store in a temporary directory.
type fixture struct {
	t     *testing.T
	dir   string
	idx   *index.Index
	store *Store
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	idx, err := index.Open(filepath.Join(dir, "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	store, err := OpenStore(filepath.Join(dir, "digest.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &fixture{t: t, dir: dir, idx: idx, store: store, clock: &clock{now: t0}}
}

// put indexes docs.
func (f *fixture) put(docs ...index.Document) {
	f.t.Helper()
	if err := f.idx.Put(context.Background(), docs...); err != nil {
		f.t.Fatal(err)
	}
}

// sender returns a sender of def through tr, with the fixture's clock,
// index and store, and no retries.
func (f *fixture) sender(tr Transport, def Definition) *Sender {
	f.t.Helper()
	return f.senderWith(tr, def, func(*Options) {})
}

// senderWith is sender with options changed by edit.
func (f *fixture) senderWith(tr Transport, def Definition, edit func(*Options)) *Sender {
	f.t.Helper()
	opts := Options{
		Digests: []Definition{def}, Index: f.idx, Health: testHealth, Store: f.store, Transport: tr,
		From: "Atalaya <atalaya@example.org>", Now: f.clock.Now, Location: time.UTC, RetryBackoff: 10 * time.Millisecond,
		Logger: testLogger(f.t),
	}
	edit(&opts)
	s, err := New(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// smtpTo returns the SMTP transport of server ms.
func smtpTo(ms *smtptest.Server, timeout time.Duration) *SMTP {
	return &SMTP{Host: "127.0.0.1", Port: ms.Port, TLS: "starttls", Username: smtptest.User, Password: smtptest.Password,
		Timeout: timeout, TLSConfig: ms.ClientTLS}
}

// daily is the digest of the issue's example.
var daily = Definition{
	Name: "daily", To: []string{"team@example.org", "analyst@example.org"}, Query: "label:kingpin OR label:root_cause",
	BaseURL: "http://localhost:8080/",
}

var agencies = map[string]string{"state": "U.S. Department of State", "treasury": "U.S. Department of the Treasury", "sre": "Secretaría de Relaciones Exteriores"}

// release returns release n of src, labelled label, published on day and
// indexed at indexed.
func release(n int, src, label, title string, day, indexed time.Time) index.Document {
	url := fmt.Sprintf("https://%s.example.gov/releases/%d", src, n)
	lang, country := atalaya.English, atalaya.Country("US")
	if src == "sre" {
		lang, country = atalaya.Spanish, "MX"
	}
	sentence := fmt.Sprintf("Release %d says the leader was extradited to face charges.", n)
	v := classify.Verdict{Label: classify.Label(label), Themes: []string{"extradition"}}
	if label != "neither" {
		v.Evidence = []classify.Evidence{
			{Rule: "weak", Label: classify.Label(label), Field: "body", Match: "charges", Sentence: "A weaker sentence about charges.", Weight: 1},
			{Rule: "strong", Label: classify.Label(label), Field: "body", Match: "extradited", Sentence: sentence, Weight: 3},
		}
	}
	return index.Document{
		Release: atalaya.Release{
			ID: atalaya.NewID(url), URL: url, Source: atalaya.SourceID(src), Agency: agencies[src], Country: country, Language: lang,
			Title: title, Published: day, Body: sentence, Version: 1,
		},
		Verdict:   v,
		IndexedAt: indexed,
	}
}

func day(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }

// mustParse takes a received message apart.
func mustParse(t *testing.T, data []byte) *smtptest.Mail {
	t.Helper()
	m, err := smtptest.Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return m
}

// checkExactlyOnce checks that every release of want arrived in exactly
// one message (copies of one message, same Message-ID, count once) and
// that nothing else arrived.
func checkExactlyOnce(t *testing.T, msgs []smtptest.Received, want []index.Document) {
	t.Helper()
	count, err := smtptest.DeliveryCounts(msgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range want {
		if n := count[string(d.Release.ID)]; n != 1 {
			t.Errorf("release %s (%q) arrived in %d messages, want exactly 1", d.Release.ID, d.Release.Title, n)
		}
		delete(count, string(d.Release.ID))
	}
	for id, n := range count {
		t.Errorf("release %s arrived %d times, want none", id, n)
	}
}

// testLogger logs through t, so that logs show only for failing tests.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
