package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"atalaya/api"
	"atalaya/app"
	"atalaya/config"
)

// shortScheduleConfig writes the default configuration with every source
// scheduled every few seconds, and returns its path.
func shortScheduleConfig(t *testing.T) string {
	t.Helper()
	cfg := regexp.MustCompile(`(?m)^(\s+schedule: ).*$`).ReplaceAll(config.DefaultYAML(), []byte(`${1}"@every 3s"`))
	cfg = append(cfg, []byte("\nserve:\n  admin_token_env: ATALAYA_TEST_TOKEN\n  shutdown_grace: 10s\n")...)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildBinary builds atalaya into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "atalaya")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// service is a running `atalaya serve` subprocess.
type service struct {
	cmd  *exec.Cmd
	done chan error
	base string
	logs *strings.Builder // stderr; read only once the process exited
}

func startService(t *testing.T, bin, cfg, data string) *service {
	t.Helper()
	os.Remove(filepath.Join(data, app.ServeFileName))
	cmd := exec.Command(bin, "--config", cfg, "--data", data, "--log-level", "warn", "serve", "--offline", "--listen", "127.0.0.1:0", "--max-jitter", "1ms")
	cmd.Env = append(os.Environ(), "ATALAYA_TEST_TOKEN=tok")
	s := &service{cmd: cmd, done: make(chan error, 1), logs: &strings.Builder{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually(t, "serve.json", func() bool {
		sf, err := app.ReadServeFile(data)
		if err != nil || sf.PID != cmd.Process.Pid {
			return false
		}
		s.base = "http://" + sf.Addr
		return true
	})
	return s
}

// eventually polls cond until it holds, failing after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *service) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("GET %s: %s: %s", path, resp.Status, e.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (s *service) total(t *testing.T) int {
	var r api.SearchResponse
	s.get(t, "/api/search?size=1&facets=false&highlight=false", &r)
	return int(r.Total)
}

// TestServeOffline runs `atalaya serve --offline` with short schedules:
// the catch-up runs archive every mirror release; the API and a second
// process answer while crawls run; later scheduled runs of the unchanged
// mirror record "no change" and raise no health issue; SIGTERM stops it
// cleanly and removes serve.json.
func TestServeOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cfg := shortScheduleConfig(t)
	data := t.TempDir()
	s := startService(t, bin, cfg, data)
	want := len(reachableArticles(t))
	eventually(t, "every mirror release indexed", func() bool { return s.total(t) == want })

	// A second process reads through the service: never a lock error.
	var first api.SearchResponse
	s.get(t, "/api/search?q=cartel&size=1", &first)
	for _, args := range [][]string{{"search", "--json", "cartel"}, {"releases"}, {"sources"}, {"runs", "--json"}, {"rules", "explain", first.Hits[0].ID}} {
		cmd := exec.Command(bin, append([]string{"--config", cfg, "--data", data}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("atalaya %s beside the service: %v\n%s", strings.Join(args, " "), err, out)
		}
		// The explanation names the rules that set the indexed verdict,
		// which it asks the service for.
		if args[0] == "rules" && !strings.Contains(string(out), "verdict set by the rules in force") {
			t.Errorf("rules explain beside the service does not name the rules that set the verdict:\n%s", out)
		}
	}
	// The API answers while scheduled runs write: a few seconds of searches.
	for i := range 60 {
		var r api.SearchResponse
		s.get(t, "/api/search?q="+url.QueryEscape("cartel OR cártel")+"&sort=date", &r)
		if r.Total == 0 {
			t.Fatalf("search %d while crawling found nothing", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A scheduled run of the unchanged mirror is "no change" without issues.
	eventually(t, "a scheduled no-change run of sre", func() bool {
		var r api.RunsResponse
		s.get(t, "/api/runs?source=sre", &r)
		for _, run := range r.Runs {
			if run.Trigger == "scheduled" {
				if run.Outcome != "no change" || len(run.Issues) > 0 || run.New > 0 {
					t.Fatalf("scheduled run of the unchanged mirror: %+v", run)
				}
				return true
			}
		}
		return false
	})
	// A command that writes says the service owns the data.
	if out, err := exec.Command(bin, "--config", cfg, "--data", data, "reindex").CombinedOutput(); err == nil || !strings.Contains(string(out), "atalaya serve is running on") {
		t.Errorf("reindex beside the service: %v\n%s", err, out)
	}
	// crawl asks the service.
	cmd := exec.Command(bin, "--config", cfg, "--data", data, "crawl", "--source", "fgr")
	cmd.Env = append(os.Environ(), "ATALAYA_TEST_TOKEN=tok")
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "running already") {
		t.Errorf("crawl beside the service: %v\n%s", err, out)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(data, app.ServeFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve.json left after a clean stop: %v", err)
	}
}

// TestServeKilledMidCrawl SIGKILLs a service while its first crawls write,
// checks that the CLI reads the data beside the stale serve.json, restarts
// the service, and checks that every mirror release ends up archived once
// and indexed once.
func TestServeKilledMidCrawl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	cfg := shortScheduleConfig(t)
	data := t.TempDir()
	warcDir := filepath.Join(data, "archive", "warc")
	s := startService(t, bin, cfg, data)
	killed := waitAndKill(t, s.cmd, s.done, func() bool { n, _ := dirSize(warcDir); return n >= 40_000 })
	if !killed {
		t.Log("the crawls ended before the kill")
	}
	if code, _, errOut := runCmd(t, "--config", cfg, "--data", data, "releases"); code != 0 {
		t.Errorf("releases beside a stale serve.json: exit %d: %s", code, errOut)
	}
	s = startService(t, bin, cfg, data)
	want := reachableArticles(t)
	eventually(t, "every mirror release indexed after the restart", func() bool { return s.total(t) == len(want) })
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	counts := warcResponses(t, warcDir)
	for u, n := range counts {
		if n != 1 {
			t.Errorf("%s archived %d times, want once", u, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("WARC files hold %d pages, want %d", len(counts), len(want))
	}
	if n := indexedCount(t, data); n != len(want) {
		t.Errorf("index holds %d releases, want %d", n, len(want))
	}
}
