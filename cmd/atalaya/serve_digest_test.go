package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
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
	appendConfig(t, cfg, `
digests:
  - name: every
    schedule: "@every 2s"
    to: [team@example.org]
    base_url: http://localhost:8080
`)
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
	// digest list beside the service reads through it: the service holds
	// digest.db. It sees the recipients with the admin token, else masked.
	for _, tt := range []struct{ token, want string }{
		{"tok", `"team@example.org"`},
		{"", `"t…@example.org"`},
	} {
		list := exec.Command(bin, "--config", cfg, "--data", data, "digest", "list", "--json")
		list.Env = append(os.Environ(), "ATALAYA_TEST_TOKEN="+tt.token)
		if out, err := list.CombinedOutput(); err != nil || !strings.Contains(string(out), `"name": "every"`) || !strings.Contains(string(out), tt.want) {
			t.Errorf("digest list beside the service, token %q: %v; want %s\n%s", tt.token, err, tt.want, out)
		}
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

// TestServeKilledDuringDigestSends SIGKILLs `atalaya serve --offline`
// while it delivers a digest to a real SMTP server on loopback: in the
// middle of DATA, and at random moments, over several runs. A last run
// without kills delivers the rest: every mirror release then arrived in
// exactly one message (a message resent after a kill that came after the
// server accepted it keeps its Message-ID, and counts once).
func TestServeKilledDuringDigestSends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, runs and kills the binary")
	}
	bin := buildBinary(t)
	ms := smtptest.New(t)
	cfg := shortScheduleConfig(t)
	appendConfig(t, cfg, smtpSection(t, ms)+`
digests:
  - name: every
    schedule: "@every 1s"
    to: [team@example.org]
    base_url: http://localhost:8080
`)
	want := map[string]bool{}
	for u := range reachableArticles(t) {
		want[string(atalaya.NewID(u))] = true
	}
	data := t.TempDir()
	// The service running now is the one serve.json names; a kill in the
	// middle of DATA may come before startService has returned.
	var killsInData atomic.Int32
	killInData := func() {
		if sf, err := app.ReadServeFile(data); err == nil {
			if syscall.Kill(sf.PID, syscall.SIGKILL) == nil {
				killsInData.Add(1)
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 6 {
		if i%2 == 0 {
			ms.OnData(killInData)
		}
		s := startService(t, bin, cfg, data)
		select {
		case <-s.done:
		case <-time.After(time.Duration(200+rng.IntN(2500)) * time.Millisecond):
			s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
		}
		ms.OnData(nil)
	}
	s := startService(t, bin, cfg, data)
	eventually(t, "every mirror release delivered", func() bool {
		counts, err := smtptest.DeliveryCounts(ms.Received())
		return err == nil && len(counts) >= len(want)
	})
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-s.done; err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, s.logs)
	}
	counts, err := smtptest.DeliveryCounts(ms.Received())
	if err != nil {
		t.Fatal(err)
	}
	for id := range want {
		if counts[id] != 1 {
			t.Errorf("release %s arrived in %d messages, want exactly 1", id, counts[id])
		}
	}
	for id := range counts {
		if !want[id] {
			t.Errorf("release %s arrived but is not in the mirror", id)
		}
	}
	t.Logf("%d messages received for %d releases; %d kills in the middle of DATA", len(ms.Received()), len(want), killsInData.Load())
	if killsInData.Load() == 0 {
		t.Error("no kill came in the middle of DATA: the test did not test that")
	}
}

// smtpSection returns the smtp section of a configuration that sends to
// ms, and sets the environment (its password, and its certificate as the
// trusted root) for this process and the binaries it starts.
func smtpSection(t *testing.T, ms *smtptest.Server) string {
	t.Helper()
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certFile, ms.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", certFile)
	t.Setenv("ATALAYA_SMTP_PASSWORD", smtptest.Password)
	return fmt.Sprintf(`
smtp:
  host: 127.0.0.1
  port: %d
  tls: starttls
  username: %s
  password_env: ATALAYA_SMTP_PASSWORD
  from: "Atalaya <atalaya@example.org>"
  timeout: 5s
`, ms.Port, smtptest.User)
}

// appendConfig appends text to the configuration file at path.
func appendConfig(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
