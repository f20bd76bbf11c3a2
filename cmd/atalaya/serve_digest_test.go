package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"atalaya"
	"atalaya/api"
	"atalaya/internal/smtptest"
)

// outboxCounts parses the .eml files of data's outbox and returns, per
// release, the number of distinct messages that listed it.
func outboxCounts(t *testing.T, data string) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, "outbox", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []smtptest.Received
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, smtptest.Received{Data: b})
	}
	counts, err := smtptest.DeliveryCounts(msgs)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// TestServeSendsDigests runs `atalaya serve --offline` with a digest sent
// every 2 s and no smtp section: the digests written to <data>/outbox list
// every mirror release exactly once, and /api/digests reports the sends.
func TestServeSendsDigests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cfg := shortScheduleConfig(t)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(`
digests:
  - name: every
    schedule: "@every 2s"
    to: [team@example.org]
    base_url: http://localhost:8080
`)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	s := startService(t, bin, cfg, data)
	want := map[string]bool{}
	for u := range reachableArticles(t) {
		want[string(atalaya.NewID(u))] = true
	}
	eventually(t, "every mirror release in a digest", func() bool { return len(outboxCounts(t, data)) >= len(want) })

	var got api.DigestsResponse
	eventually(t, "/api/digests reporting every release sent", func() bool {
		s.get(t, "/api/digests", &got)
		return len(got.Digests) == 1 && got.Digests[0].Releases == len(want)
	})
	if d := got.Digests[0]; d.Name != "every" || d.LastSent.IsZero() || d.NextRun == nil || d.Messages == 0 || d.LastError != "" {
		t.Errorf("/api/digests: %+v; want a last send, a next run, messages and no error", d)
	}
	resp, err := http.Get(s.base + "/sources")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `<tr id="digest-every">`) {
		t.Errorf("the sources page does not list the digest:\n%s", page)
	}

	// Later runs find nothing new: once one more has started, stop the
	// service (which lets it finish) and count again.
	next := *got.Digests[0].NextRun
	eventually(t, "a later run of the digest", func() bool {
		s.get(t, "/api/digests", &got)
		return got.Digests[0].NextRun != nil && got.Digests[0].NextRun.After(next)
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-s.done; err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, s.logs)
	}
	counts := outboxCounts(t, data)
	for id := range want {
		if counts[id] != 1 {
			t.Errorf("release %s is in %d digests, want exactly 1", id, counts[id])
		}
	}
	for id := range counts {
		if !want[id] {
			t.Errorf("release %s is in a digest but not in the mirror", id)
		}
	}
}
