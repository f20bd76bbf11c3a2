package digest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"atalaya"
	"atalaya/index"
	"atalaya/internal/smtptest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// kingpinNew, kingpinOld, rootCause and neither are the releases of most
// tests: two kingpin, one root-cause (all matching daily) and one that does
// not match.
func testReleases() []index.Document {
	at := t0.Add(-2 * time.Hour)
	return []index.Document{
		release(1, "treasury", "kingpin", "Treasury Sanctions Leaders of the Sierra Roja Cartel", day(3), at),
		release(2, "state", "kingpin", "Reward Offer for a Cartel Leader", day(1), at),
		release(3, "sre", "root_cause", "México y EUA acuerdan ampliar el rastreo de armas", day(2), at),
		release(4, "state", "neither", "Public Schedule for December 2", day(2), at),
	}
}

func TestDeliver(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	docs := testReleases()
	f.put(docs...)
	s := f.sender(smtpTo(ms, 5*time.Second), daily)
	ctx := context.Background()

	rep, err := s.Run(ctx, "daily")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.Delivered || rep.Releases != 3 || rep.Attempts != 1 {
		t.Errorf("Run: got %+v, want 3 releases delivered in one attempt", rep)
	}
	got := ms.Received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if got[0].From != "atalaya@example.org" || !slices.Equal(got[0].To, daily.To) {
		t.Errorf("envelope: got from %q to %q, want from atalaya@example.org to %q", got[0].From, got[0].To, daily.To)
	}
	pm := mustParse(t, got[0].Data)
	if want := "Atalaya: 2 kingpin, 1 root-cause releases, 2026-12-05"; pm.Subject != want {
		t.Errorf("Subject: got %q, want %q", pm.Subject, want)
	}
	if got, want := pm.Header.Get("Message-Id"), "<"+rep.MessageID+">"; got != want {
		t.Errorf("Message-Id: got %q, want %q", got, want)
	}
	if got := pm.Header.Get("To"); !strings.Contains(got, "team@example.org") || !strings.Contains(got, "analyst@example.org") {
		t.Errorf("To: got %q", got)
	}
	id := func(i int) string { return string(docs[i].Release.ID) }
	inOrder(t, "text part", pm.Text,
		"== Kingpin (2) ==",
		"* Treasury Sanctions Leaders of the Sierra Roja Cartel",
		"U.S. Department of the Treasury, 2026-12-03 | kingpin | extradition",
		`Evidence: "Release 1 says the leader was extradited to face charges."`,
		"Original: https://treasury.example.gov/releases/1",
		"In Atalaya: http://localhost:8080/releases/"+id(0),
		"* Reward Offer for a Cartel Leader",
		"== Root cause (1) ==",
		"* México y EUA acuerdan ampliar el rastreo de armas",
		"== Coverage ==",
		"- state (U.S. Department of State): 2 releases indexed so far; blocked (an anti-bot page or 403) since 2026-12-01 (HTTP 403 Forbidden)",
		"- treasury (U.S. Department of the Treasury): 1 release indexed so far; no open issues",
		`- sre (Secretaría de Relaciones Exteriores): 1 release indexed so far; a selector matched nothing since 2026-12-03 (selector "#prensa article": listing selector matched nothing)`,
		"All releases indexed in the period, by label: kingpin 2, root-cause 1, neither 1",
	)
	if strings.Contains(pm.Text, "Public Schedule") {
		t.Errorf("text part lists a release the query does not match:\n%s", pm.Text)
	}
	inOrder(t, "HTML part", pm.HTML,
		"<h2>Kingpin (2)</h2>",
		`<a href="https://treasury.example.gov/releases/1"><strong>Treasury Sanctions Leaders of the Sierra Roja Cartel</strong></a>`,
		`<a href="http://localhost:8080/releases/`+id(0)+`">In Atalaya</a>`,
		"<h2>Root cause (1)</h2>",
		"<h2>Coverage</h2>",
	)

	// Nothing new: nothing is sent, and the watermark stays.
	f.clock.advance(24 * time.Hour)
	rep, err = s.Run(ctx, "daily")
	if err != nil || !rep.Skipped || rep.Delivered {
		t.Errorf("second Run: got %+v, %v; want skipped", rep, err)
	}
	if n := len(ms.Received()); n != 1 {
		t.Errorf("after a run with nothing new the server has %d messages, want 1", n)
	}
	if st, _, _ := f.store.State("daily"); !st.Watermark.Equal(f.clock.Now()) || !st.Covered.Equal(t0) {
		t.Errorf("State after nothing new: got %+v; want the watermark moved to now and the coverage still from the first message", st)
	}

	// One new release: the next message lists it alone.
	fresh := release(5, "treasury", "kingpin", "Treasury Designates a Fuel Theft Network", day(5), f.clock.Now().Add(-10*time.Minute))
	f.put(fresh)
	f.clock.advance(time.Hour)
	if rep, err = s.Run(ctx, "daily"); err != nil || rep.Releases != 1 {
		t.Fatalf("third Run: got %+v, %v; want 1 release", rep, err)
	}
	got = ms.Received()
	if len(got) != 2 {
		t.Fatalf("server has %d messages, want 2", len(got))
	}
	pm = mustParse(t, got[1].Data)
	if want := "Atalaya: 1 kingpin release, 2026-12-06"; pm.Subject != want {
		t.Errorf("Subject: got %q, want %q", pm.Subject, want)
	}
	if !strings.Contains(pm.Text, "- treasury (U.S. Department of the Treasury): 1 release indexed since the last digest; no open issues") {
		t.Errorf("coverage of the third message:\n%s", pm.Text)
	}
	checkExactlyOnce(t, got, append(docs[:3:3], fresh))
	st, pending, err := f.store.State("daily")
	if err != nil || pending != nil || st.Messages != 2 || st.Releases != 4 || !st.Watermark.Equal(f.clock.Now()) {
		t.Errorf("State: got %+v, pending %v, %v; want 2 messages, 4 releases, watermark now", st, pending, err)
	}
}

// inOrder checks that text holds every string of want, in this order.
func inOrder(t *testing.T, what, text string, want ...string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Errorf("%s: %q missing after byte %d:\n%s", what, w, at, text)
			return
		}
		at += i + len(w)
	}
}

func TestSendEmpty(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	def := daily
	def.SendEmpty = true
	rep, err := f.sender(smtpTo(ms, 5*time.Second), def).Run(context.Background(), "daily")
	if err != nil || !rep.Delivered || rep.Releases != 0 {
		t.Fatalf("Run: got %+v, %v; want an empty message delivered", rep, err)
	}
	got := ms.Received()
	if len(got) != 1 {
		t.Fatalf("server has %d messages, want 1", len(got))
	}
	pm := mustParse(t, got[0].Data)
	if want := "Atalaya: nothing new, 2026-12-05"; pm.Subject != want {
		t.Errorf("Subject: got %q, want %q", pm.Subject, want)
	}
	inOrder(t, "text part", pm.Text, "Nothing new matched this digest.", "== Coverage ==", "- state (U.S. Department of State): 0 releases indexed so far; blocked")
}

// TestFaults makes the server fail in each way once, with a release
// indexed between the failure and the next run, and checks the failure is
// recorded, the watermark stays, and then every release arrives exactly
// once.
func TestFaults(t *testing.T) {
	tests := []struct {
		fault    smtptest.Fault
		reason   Reason
		certain  bool // the server cannot have taken the message
		received int  // messages the server got from the failed run
	}{
		{smtptest.RefuseAuth, ReasonAuth, true, 0},
		{smtptest.RejectRecipient, ReasonRecipient, true, 0},
		{smtptest.CloseMidData, ReasonData, false, 0},
		{smtptest.Silent, ReasonTimeout, true, 0},
		{smtptest.SilentAfterData, ReasonTimeout, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			f := newFixture(t)
			ms := smtptest.New(t)
			docs := testReleases()[:3]
			f.put(docs...)
			def := daily
			def.To = []string{"team@example.org", smtptest.RejectedRecipient}
			s := f.sender(smtpTo(ms, time.Second), def)
			ms.Fail(tt.fault)

			_, err := s.Run(context.Background(), "daily")
			var de *DeliveryError
			if !errors.As(err, &de) || de.Reason != tt.reason || de.Certain != tt.certain {
				t.Fatalf("Run: got error %v (%+v), want a DeliveryError with reason %s, certain %t", err, de, tt.reason, tt.certain)
			}
			if n := len(ms.Received()); n != tt.received {
				t.Errorf("server received %d messages, want %d", n, tt.received)
			}
			st, pending, err := f.store.State("daily")
			if err != nil || !st.Watermark.IsZero() || st.Failures != 1 || pending == nil || pending.Certain != tt.certain {
				t.Errorf("State after the failure: got %+v, pending %+v, %v; want no watermark, 1 failure, a pending message (certain %t)", st, pending, err, tt.certain)
			}
			attempts, err := f.store.Attempts("daily")
			if err != nil || len(attempts) != 1 || attempts[0].OK || attempts[0].Reason != string(tt.reason) || attempts[0].Error == "" {
				t.Errorf("Attempts: got %+v, %v; want one failure with reason %s", attempts, err, tt.reason)
			}

			later := release(9, "state", "root_cause", "Joint Statement on Youth Violence Prevention", day(4), f.clock.Now().Add(-time.Minute))
			f.put(later)
			f.clock.advance(time.Hour)
			rep, err := s.Run(context.Background(), "daily")
			if err != nil {
				t.Fatalf("Run after recovery: %v", err)
			}
			if !rep.Delivered || (rep.Redelivered != "") == tt.certain {
				t.Errorf("Run after recovery: got %+v; want delivered, and an earlier message delivered again only when the server may have taken it", rep)
			}
			checkExactlyOnce(t, ms.Received(), append(docs, later))
			if st, pending, _ := f.store.State("daily"); pending != nil || st.Failures != 0 || !st.Watermark.Equal(f.clock.Now()) {
				t.Errorf("State after recovery: got %+v, pending %+v; want no pending message and the watermark now", st, pending)
			}
		})
	}
}

func TestRetryWithinRun(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	f.put(testReleases()...)
	s := f.senderWith(smtpTo(ms, 5*time.Second), daily, func(o *Options) { o.Retries = 2 })
	ms.Fail(smtptest.CloseMidData, smtptest.CloseMidData)
	rep, err := s.Run(context.Background(), "daily")
	if err != nil || !rep.Delivered || rep.Attempts != 3 {
		t.Fatalf("Run: got %+v, %v; want delivered on the third attempt", rep, err)
	}
	checkExactlyOnce(t, ms.Received(), testReleases()[:3])
}

// TestHeaderInjection checks that titles with CR/LF, non-ASCII characters,
// markup and very long lines can neither add headers nor break the
// encoding, even in a subject template that puts titles in the subject.
func TestHeaderInjection(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	long := strings.Repeat("Extradición de “El Jefe” a los Estados Unidos ", 60)
	titles := []string{
		"Sanctions\r\nBcc: attacker@example.org\r\nX-Injected: yes",
		"Extradición de Ñoño “N” — año 2026 <script>alert(1)</script>",
		long,
	}
	for i, title := range titles {
		f.put(release(i+1, "sre", "kingpin", title, day(i+1), t0.Add(-time.Hour)))
	}
	def := daily
	def.Templates.Subject = `{{range .Groups}}{{range .Items}}{{.Title}} | {{end}}{{end}}`
	if _, err := f.sender(smtpTo(ms, 5*time.Second), def).Run(context.Background(), "daily"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := ms.Received()
	if len(got) != 1 {
		t.Fatalf("server has %d messages, want 1", len(got))
	}
	if !slices.Equal(got[0].To, def.To) {
		t.Errorf("envelope recipients: got %q, want %q", got[0].To, def.To)
	}
	pm := mustParse(t, got[0].Data)
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v := pm.Header.Get(h); v != "" {
			t.Errorf("header %s injected: %q", h, v)
		}
	}
	for _, title := range titles {
		one := oneLine(title)
		if !strings.Contains(pm.Subject, one) {
			t.Errorf("decoded subject %q lacks the title %q", pm.Subject, one)
		}
		if !strings.Contains(pm.Text, "* "+one+"\n") {
			t.Errorf("text part lacks the title %q on one line", one)
		}
	}
	if !strings.Contains(pm.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(pm.HTML, "<script>") {
		t.Errorf("HTML part does not escape the markup of a title:\n%s", pm.HTML)
	}
	if subject := pm.Header.Get("Subject"); !strings.HasPrefix(subject, "=?UTF-8?") {
		t.Errorf("the subject is not RFC 2047 encoded: %q", subject)
	}
	raw := string(got[0].Data)
	for i, line := range strings.Split(raw, "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long, over SMTP's limit of 998", i+1, len(line))
		}
		for _, b := range []byte(line) {
			if b >= 0x80 {
				t.Errorf("line %d holds a raw non-ASCII byte: %q", i+1, line)
				break
			}
		}
	}
}

func TestOutbox(t *testing.T) {
	f := newFixture(t)
	docs := testReleases()
	f.put(docs[:2]...)
	outbox := &Outbox{Dir: filepath.Join(f.dir, "outbox")}
	s := f.sender(outbox, daily)
	ctx := context.Background()
	if rep, err := s.Run(ctx, "daily"); err != nil || !rep.Delivered {
		t.Fatalf("Run: got %+v, %v", rep, err)
	}
	first := filepath.Join(outbox.Dir, "daily-000001.eml")
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if pm := mustParse(t, data); pm.Subject != "Atalaya: 2 kingpin releases, 2026-12-05" {
		t.Errorf("Subject: got %q", pm.Subject)
	}
	if rep, err := s.Run(ctx, "daily"); err != nil || !rep.Skipped {
		t.Errorf("second Run: got %+v, %v; want skipped", rep, err)
	}

	// The crash window: the file was written, but the process died before
	// the store recorded it. The next run must not write it twice.
	docs[2].IndexedAt = f.clock.Now().Add(-time.Minute)
	f.put(docs[2])
	f.clock.advance(time.Hour)
	m, err := s.Preview(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.begin("daily", *m); err != nil {
		t.Fatal(err)
	}
	env, err := s.envelope(daily, *m)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Deliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Preview(ctx, "daily"); err != nil || again.MessageID != m.MessageID {
		t.Errorf("Preview with a pending message: got %v, %v; want the pending message %s", again, err, m.MessageID)
	}
	rep, err := s.Run(ctx, "daily")
	if err != nil || rep.Redelivered != m.MessageID || !rep.Skipped {
		t.Errorf("Run after the crash: got %+v, %v; want the pending message recorded and nothing more", rep, err)
	}
	files, _ := filepath.Glob(filepath.Join(outbox.Dir, "*"))
	if len(files) != 2 {
		t.Errorf("outbox holds %v, want two messages", files)
	}
	var all []smtptest.Received
	for _, name := range files {
		data, _ := os.ReadFile(name)
		all = append(all, smtptest.Received{Data: data})
	}
	checkExactlyOnce(t, all, docs[:3])
}

func TestPreview(t *testing.T) {
	f := newFixture(t)
	f.put(testReleases()...)
	s := f.sender(&Outbox{Dir: filepath.Join(f.dir, "outbox")}, daily)
	m, err := s.Preview(context.Background(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "preview.txt.golden", "Subject: "+m.Subject+"\n\n"+m.Text)
	golden(t, "preview.html.golden", m.HTML)
	st, pending, err := f.store.State("daily")
	attempts, _ := f.store.Attempts("daily")
	if err != nil || st != (State{}) || pending != nil || len(attempts) != 0 {
		t.Errorf("Preview changed the store: state %+v, pending %v, attempts %v, %v", st, pending, attempts, err)
	}
	if files, _ := filepath.Glob(filepath.Join(f.dir, "outbox", "*")); len(files) > 0 {
		t.Errorf("Preview wrote %v", files)
	}
	if _, err := s.Preview(context.Background(), "weekly"); !errors.Is(err, ErrUnknownDigest) {
		t.Errorf("Preview(weekly): got %v, want ErrUnknownDigest", err)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestCorrections(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	docs := testReleases()
	f.put(docs...)
	s := f.sender(smtpTo(ms, 5*time.Second), daily)
	ctx := context.Background()
	if _, err := s.Run(ctx, "daily"); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(24 * time.Hour)
	revised := docs[0]
	revised.Release.Version = 2
	revised.Release.Title += " (updated)"
	revised.Verdict.Label = "mixed"
	revised.IndexedAt = f.clock.Now().Add(-time.Minute)
	f.put(revised)
	rep, err := s.Run(ctx, "daily")
	if err != nil || rep.Corrections != 1 || rep.Releases != 0 {
		t.Fatalf("Run: got %+v, %v; want one correction", rep, err)
	}
	got := ms.Received()
	pm := mustParse(t, got[len(got)-1].Data)
	if want := "Atalaya: 1 correction, 2026-12-06"; pm.Subject != want {
		t.Errorf("Subject: got %q, want %q", pm.Subject, want)
	}
	inOrder(t, "text part", pm.Text, "== Corrections: releases sent before and revised since ==",
		"* Treasury Sanctions Leaders of the Sierra Roja Cartel (updated)", "Correction: revised since it was sent as kingpin, version 1")
	f.clock.advance(time.Hour)
	if rep, err := s.Run(ctx, "daily"); err != nil || !rep.Skipped {
		t.Errorf("Run after the correction: got %+v, %v; want nothing new", rep, err)
	}
}

func TestMaxReleases(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	var docs []index.Document
	for i := range 5 {
		docs = append(docs, release(i+1, "state", "kingpin", "Kingpin release", day(i+1), t0.Add(-time.Hour)))
	}
	f.put(docs...)
	def := daily
	def.MaxReleases = 2
	s := f.sender(smtpTo(ms, 5*time.Second), def)
	for i, want := range []struct{ releases, waiting int }{{2, 3}, {2, 1}, {1, 0}} {
		rep, err := s.Run(context.Background(), "daily")
		if err != nil || rep.Releases != want.releases || rep.Waiting != want.waiting {
			t.Fatalf("Run %d: got %+v, %v; want %d releases, %d waiting", i+1, rep, err, want.releases, want.waiting)
		}
		f.clock.advance(time.Hour)
	}
	got := ms.Received()
	if pm := mustParse(t, got[0].Data); !strings.Contains(pm.Text, "3 more matching releases wait for the next digest.") {
		t.Errorf("first message does not say releases are waiting:\n%s", pm.Text)
	}
	checkExactlyOnce(t, got, docs)
}

func TestCoveredSources(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"state", "treasury", "sre"}},
		{"label:kingpin OR label:root_cause", []string{"state", "treasury", "sre"}},
		{"source:treasury label:kingpin", []string{"treasury"}},
		{"country:MX", []string{"sre"}},
		{"(source:state OR source:sre) extradition", []string{"state", "sre"}},
		{`agency:"U.S. Department of State" OR country:mx`, []string{"state", "sre"}},
		{"NOT source:state", []string{"state", "treasury", "sre"}},
		{"(unclosed", []string{"state", "treasury", "sre"}},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range coveredSources(tt.query, testHealth) {
			got = append(got, string(h.Source))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("coveredSources(%q): got %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestCutAround(t *testing.T) {
	long := strings.Repeat("word ", 40) + "MATCH " + strings.Repeat("tail ", 40)
	tests := []struct {
		s, match string
		n        int
		want     string
	}{
		{"short sentence", "short", 50, "short sentence"},
		{long, "MATCH", 30, "…word word MATCH tail tail…"},
		{"Extradición de “El Jefe” a los Estados Unidos", "", 20, "Extradición de…"},
	}
	for _, tt := range tests {
		got := cutAround(tt.s, tt.match, tt.n)
		if got != tt.want || len([]rune(got)) > tt.n {
			t.Errorf("cutAround(%q, %q, %d): got %q, want %q", tt.s, tt.match, tt.n, got, tt.want)
		}
	}
}

// TestConcurrentRuns runs two digests at once, and a second run of one of
// them, while statuses and previews are read: each digest's releases
// arrive once, and the second run of a running digest is refused.
func TestConcurrentRuns(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	docs := testReleases()
	f.put(docs...)
	weekly := daily
	weekly.Name, weekly.To = "weekly", []string{"board@example.org"}
	s := f.senderWith(smtpTo(ms, 5*time.Second), daily, func(o *Options) { o.Digests = []Definition{daily, weekly} })
	ctx := context.Background()
	errs := make(chan error, 6)
	for _, name := range []string{"daily", "weekly", "daily"} {
		go func() {
			_, err := s.Run(ctx, name)
			errs <- err
		}()
	}
	for range 3 {
		go func() {
			_, err := s.Statuses()
			if err == nil {
				_, err = s.Preview(ctx, "weekly")
			}
			errs <- err
		}()
	}
	refused := 0
	for range 6 {
		switch err := <-errs; {
		case errors.Is(err, ErrRunning):
			refused++
		case err != nil:
			t.Errorf("concurrent call: %v", err)
		}
	}
	if refused > 1 {
		t.Errorf("%d runs refused, want at most the second run of daily", refused)
	}
	if refused == 0 {
		// The second run of daily came after the first: nothing new.
		t.Logf("both runs of daily ran in turn")
	}
	for _, name := range []string{"daily", "weekly"} {
		var mine []smtptest.Received
		for _, r := range ms.Received() {
			if mustParse(t, r.Data).Header.Get("X-Atalaya-Digest") == name {
				mine = append(mine, r)
			}
		}
		checkExactlyOnce(t, mine, docs[:3])
	}
}

// FuzzSnippet checks that any title or evidence text becomes one line with
// no control characters, and that a cut snippet fits its limit.
func FuzzSnippet(f *testing.F) {
	f.Add("Sanctions\r\nBcc: x@example.org", "Bcc", 20)
	f.Add("Extradición de “El Jefe”\u2028año\x00", "Jefe", 10)
	f.Fuzz(func(t *testing.T, s, match string, n int) {
		one := oneLine(s)
		if strings.ContainsFunc(one, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' }) {
			t.Errorf("oneLine(%q) = %q holds a control character", s, one)
		}
		n = 3 + int(uint(n)%300)
		if cut := cutAround(one, oneLine(match), n); len([]rune(cut)) > n {
			t.Errorf("cutAround(%q, %q, %d) = %q is longer than %d", one, match, n, cut, n)
		}
	})
}

// TestScanPastTheSearchWindow indexes more matching releases than one
// search reaches: the digest still lists each exactly once.
func TestScanPastTheSearchWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes over 10,000 releases")
	}
	f := newFixture(t)
	n := index.MaxResultWindow + 150
	docs := make([]index.Document, n)
	for i := range docs {
		docs[i] = release(i+1, "state", "kingpin", "Kingpin release", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/20), t0.Add(-time.Hour))
		docs[i].Verdict.Evidence = nil
	}
	f.put(docs...)
	def := daily
	def.MaxReleases = n
	s := f.sender(&Outbox{Dir: filepath.Join(f.dir, "outbox")}, def)
	hits, more, err := s.scan(context.Background(), index.Query{Text: def.Query})
	if err != nil || len(hits) != n || more != 0 {
		t.Fatalf("scan: got %d hits, %d more, %v; want %d and none more", len(hits), more, err, n)
	}
	seen := map[atalaya.ID]bool{}
	for _, h := range hits {
		if seen[h.ID] {
			t.Fatalf("scan returned %s twice", h.ID)
		}
		seen[h.ID] = true
	}
}

func TestTemplateErrors(t *testing.T) {
	f := newFixture(t)
	f.put(testReleases()...)
	def := daily
	def.Templates.HTML = "<p>{{.Digest"
	if _, err := New(Options{Digests: []Definition{def}, Index: f.idx, Store: f.store, Transport: &Outbox{Dir: f.dir}}); err == nil || !strings.Contains(err.Error(), "digest daily: HTML template") {
		t.Errorf("New with a template that does not parse: got %v", err)
	}
	def.Templates.HTML = ""
	def.Templates.Text = "{{.NoSuchField}}"
	s := f.sender(&Outbox{Dir: filepath.Join(f.dir, "outbox")}, def)
	if _, err := s.Run(context.Background(), "daily"); err == nil || !strings.Contains(err.Error(), "text template") {
		t.Errorf("Run with a template that fails: got %v", err)
	}
	if st, pending, _ := f.store.State("daily"); pending != nil || st.Seq != 0 {
		t.Errorf("a message that does not render was recorded: %+v, pending %v", st, pending)
	}
}

// TestSentOutsideTheScanWindow checks that releases already sent are
// recognised even when the unfiltered search does not reach them (newer
// releases that do not match fill its window): they used to be sent again
// on every run.
func TestSentOutsideTheScanWindow(t *testing.T) {
	f := newFixture(t)
	ms := smtptest.New(t)
	var docs []index.Document
	for i := range 15 {
		docs = append(docs, release(i+1, "state", "kingpin", "Kingpin release", day(1).AddDate(0, 0, i), t0.Add(-time.Hour)))
	}
	for i := range 10 {
		docs = append(docs, release(100+i, "state", "neither", "Other release", day(1).AddDate(0, 0, 20+i), t0.Add(-time.Hour)))
	}
	f.put(docs...)
	s := f.senderWith(smtpTo(ms, 5*time.Second), daily, func(o *Options) { o.MaxScan = 10 })
	for range 3 {
		if _, err := s.Run(context.Background(), "daily"); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(time.Hour)
	}
	counts, err := smtptest.DeliveryCounts(ms.Received())
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range counts {
		if n > 1 {
			t.Errorf("release %s was sent in %d messages", id, n)
		}
	}
	if len(counts) == 0 {
		t.Error("nothing was sent")
	}
}

// TestOutboxKeepsOtherMessages checks that when the digest store starts
// again (moved aside) and numbers its messages from 1, a message whose name
// is taken by an older message gets the next free name: neither is lost.
func TestOutboxKeepsOtherMessages(t *testing.T) {
	f := newFixture(t)
	docs := testReleases()
	f.put(docs[:2]...)
	outbox := &Outbox{Dir: filepath.Join(f.dir, "outbox")}
	ctx := context.Background()
	if rep, err := f.sender(outbox, daily).Run(ctx, "daily"); err != nil || !rep.Delivered {
		t.Fatalf("Run: got %+v, %v", rep, err)
	}
	first := filepath.Join(outbox.Dir, "daily-000001.eml")
	before, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	// A new store: the sent-log is gone, so both releases go out again,
	// as message 1.
	fresh, err := OpenStore(filepath.Join(t.TempDir(), "digest.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	f.store = fresh
	f.clock.advance(time.Hour)
	if rep, err := f.sender(outbox, daily).Run(ctx, "daily"); err != nil || !rep.Delivered {
		t.Fatalf("Run with a new store: got %+v, %v", rep, err)
	}
	after, err := os.ReadFile(first)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the first message was changed or lost: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outbox.Dir, "daily-000001-1.eml")); err != nil {
		t.Errorf("the new message 1 was not written beside the old one: %v", err)
	}
}
