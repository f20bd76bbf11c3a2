package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"atalaya"
	"atalaya/classify"
	"atalaya/config"
	"atalaya/index"
	"atalaya/internal/smtptest"
)

// digestConfig writes the embedded configuration with extra appended (an
// smtp section, a digests section) to a file and returns its path.
func digestConfig(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atalaya.yaml")
	if err := os.WriteFile(path, append(config.DefaultYAML(), extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const dailyDigest = `
digests:
  - name: daily
    schedule: "0 7 * * *"
    to: [team@example.org]
    query: "label:kingpin OR label:root_cause"
    base_url: http://localhost:8080
`

// indexKingpins indexes n kingpin releases numbered from first into the
// index of data, and returns them.
func indexKingpins(t *testing.T, data string, first, n int) []atalaya.Release {
	t.Helper()
	idx, err := index.Open(filepath.Join(data, "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	var rels []atalaya.Release
	var docs []index.Document
	for i := first; i < first+n; i++ {
		url := fmt.Sprintf("https://www.state.gov/releases/%d", i)
		rel := atalaya.Release{ID: atalaya.NewID(url), URL: url, Source: "state", Agency: "U.S. Department of State", Country: "US",
			Language: atalaya.English, Title: fmt.Sprintf("Reward Offer %d for a Cartel Leader", i), Published: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			Body: "A reward for information leading to the arrest of a cartel leader.", Version: 1}
		verdict := classify.Verdict{Label: "kingpin", Themes: []string{"rewards"}, Evidence: []classify.Evidence{
			{Rule: "reward", Label: "kingpin", Field: "body", Match: "reward", Sentence: rel.Body, Weight: 2}}}
		docs = append(docs, index.Document{Release: rel, Verdict: verdict, IndexedAt: time.Now()})
		rels = append(rels, rel)
	}
	if err := idx.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return rels
}

func TestDigestCommands(t *testing.T) {
	data := t.TempDir()
	cfg := digestConfig(t, dailyDigest)
	indexKingpins(t, data, 1, 3)
	run := func(args ...string) (int, string, string) {
		return runCmd(t, append([]string{"--config", cfg, "--data", data, "--log-level", "error"}, args...)...)
	}
	if code, out, errOut := run("digest", "list"); code != 0 || !strings.Contains(out, "daily") || !strings.Contains(out, "never") {
		t.Errorf("digest list: exit %d\n%s\n%s", code, out, errOut)
	}
	htmlFile := filepath.Join(t.TempDir(), "digest.html")
	code, out, errOut := run("digest", "preview", "daily", "--html", htmlFile)
	if code != 0 || !strings.Contains(out, "Subject: Atalaya: 3 kingpin releases, ") || !strings.Contains(out, "* Reward Offer 1 for a Cartel Leader") {
		t.Errorf("digest preview: exit %d\n%s\n%s", code, out, errOut)
	}
	if html, err := os.ReadFile(htmlFile); err != nil || !strings.Contains(string(html), "<h2>Kingpin (3)</h2>") {
		t.Errorf("digest preview --html: %v\n%s", err, html)
	}
	if code, _, errOut := run("digest", "preview", "daily", "--html", htmlFile); code != 1 || !strings.Contains(errOut, "exists; remove it or name a new file") {
		t.Errorf("digest preview onto an existing file: exit %d, %s; want exit 1 and the file kept", code, errOut)
	}
	if code, out, errOut := run("digest", "send", "daily"); code != 0 || !strings.Contains(out, "daily: delivered <") || !strings.Contains(out, ": 3 releases") {
		t.Errorf("digest send: exit %d\n%s\n%s", code, out, errOut)
	}
	emls, _ := filepath.Glob(filepath.Join(data, "outbox", "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("outbox holds %v, want one message", emls)
	}
	eml, _ := os.ReadFile(emls[0])
	if m, err := smtptest.Parse(eml); err != nil || len(smtptest.ReleaseIDs(m.Text)) != 3 {
		t.Errorf("outbox message: %v", err)
	}
	if code, out, _ := run("digest", "send", "daily"); code != 0 || out != "daily: nothing new; no message sent\n" {
		t.Errorf("second digest send: exit %d, %q", code, out)
	}
	code, out, _ = run("digest", "list", "--json")
	var list struct {
		Digests []struct {
			Name     string `json:"name"`
			Messages int    `json:"messages"`
			Releases int    `json:"releases"`
		} `json:"digests"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Digests) != 1 || list.Digests[0].Releases != 3 {
		t.Errorf("digest list --json: exit %d, %v\n%s", code, err, out)
	}
	if code, _, errOut := run("digest", "send", "weekly"); code != 1 || !strings.Contains(errOut, `no such digest "weekly"`) {
		t.Errorf("digest send weekly: exit %d, %s", code, errOut)
	}
	if code, _, _ := run("digest"); code != 2 {
		t.Errorf("digest without a subcommand: exit %d, want 2", code)
	}
	if code, _, errOut := run("digest", "send"); code != 2 || !strings.Contains(errOut, "want one digest name") {
		t.Errorf("digest send without a name: exit %d, %s", code, errOut)
	}
}

func TestConfigCheckDigestQuery(t *testing.T) {
	cfg := digestConfig(t, strings.Replace(dailyDigest, "label:kingpin OR label:root_cause", "(label:kingpin OR", 1))
	lines := strings.Count(string(config.DefaultYAML()), "\n")
	code, out, _ := runCmd(t, "config", "check", cfg)
	want := fmt.Sprintf("%s:%d: digests[0].query: query:1:", cfg, lines+6)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("config check: exit %d\n%s\nwant exit 1 and %q", code, out, want)
	}
}

// TestDigestSendKilled kills the real binary with SIGKILL while it sends
// digests, over many runs with new releases indexed between them: inside
// DATA (the server has the message, the binary has not recorded it), at
// random moments, or not at all. Every release must then have arrived in
// exactly one message; a message may arrive twice only as copies with
// one Message-ID (the window the README documents).
func TestDigestSendKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := filepath.Join(t.TempDir(), "atalaya")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ms := smtptest.New(t)
	cfg := digestConfig(t, smtpSection(t, ms)+dailyDigest)
	data := t.TempDir()

	var mu sync.Mutex
	var current *exec.Cmd
	killCurrent := func() {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Process.Signal(syscall.SIGKILL)
		}
	}
	send := func() (*exec.Cmd, <-chan error) {
		cmd := exec.Command(bin, "--config", cfg, "--data", data, "--log-level", "error", "digest", "send", "daily")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		current = cmd
		mu.Unlock()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done
	}

	rng := rand.New(rand.NewPCG(12, 12))
	var all []atalaya.Release
	kills := 0
	for i := range 15 {
		all = append(all, indexKingpins(t, data, 1+3*i, 3)...)
		mode := i % 3
		if mode == 0 {
			ms.OnData(killCurrent)
		}
		_, done := send()
		switch mode {
		case 0:
			<-done
		case 1:
			select {
			case <-done:
			case <-time.After(time.Duration(rng.IntN(120)) * time.Millisecond):
				killCurrent()
				<-done
				kills++
			}
		case 2:
			if err := <-done; err != nil {
				t.Logf("run %d without a kill: %v", i, err)
			}
		}
		ms.OnData(nil)
	}
	// Runs without kills deliver what is left.
	for range 2 {
		if _, done := send(); <-done != nil {
			t.Fatalf("digest send after the kills failed")
		}
	}
	counts, err := smtptest.DeliveryCounts(ms.Received())
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range all {
		if n := counts[string(rel.ID)]; n != 1 {
			t.Errorf("release %s (%q) arrived in %d messages, want exactly 1", rel.ID, rel.Title, n)
		}
	}
	if len(counts) != len(all) {
		t.Errorf("%d releases arrived, want %d", len(counts), len(all))
	}
	t.Logf("%d messages received for %d releases; %d random kills", len(ms.Received()), len(all), kills)
}

// TestREADMEDigestExamples checks that every YAML example of the README's
// Digests section is a valid addition to the default configuration.
func TestREADMEDigestExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Digests\n")
	if !ok {
		t.Fatal("README.md has no Digests section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := strings.Split(section, "```yaml\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("found %d YAML examples in the Digests section, want the digest, a provider and Mailpit", len(blocks))
	}
	for _, block := range blocks {
		example, _, _ := strings.Cut(block, "```")
		cfg := digestConfig(t, "\n"+example)
		if code, out, errOut := runCmd(t, "config", "check", cfg); code != 0 {
			t.Errorf("README example does not check: exit %d\n%s%s\n%s", code, out, errOut, example)
		}
	}
}
