package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"atalaya/api"
	"atalaya/app"
	"atalaya/classify"
	"atalaya/config"
	"atalaya/crawler/browser"
	"atalaya/internal/mirror"
	"atalaya/internal/rulestore"
)

// syncBuffer is a bytes.Buffer safe for the service's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// inProcessService is `atalaya serve` run in process by run.
type inProcessService struct {
	service
	cancel context.CancelFunc
	code   chan int
	stderr *syncBuffer
}

// serveInProcess runs `atalaya --config cfg --data data serve --listen
// 127.0.0.1:0 args...` in process until the test ends, and waits until it
// listens.
func serveInProcess(t *testing.T, cfg, data string, args ...string) *inProcessService {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &inProcessService{cancel: cancel, code: make(chan int, 1), stderr: &syncBuffer{}}
	argv := append([]string{"--config", cfg, "--data", data, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0", "--max-jitter", "1ms"}, args...)
	go func() { s.code <- run(ctx, argv, &syncBuffer{}, s.stderr) }()
	t.Cleanup(func() { s.stop(t) })
	eventually(t, "serve.json", func() bool {
		select {
		case code := <-s.code:
			s.code <- code
			t.Fatalf("serve exited with %d: %s", code, s.stderr)
		default:
		}
		sf, err := app.ReadServeFile(data)
		if err != nil || sf.PID != os.Getpid() {
			return false
		}
		s.base = "http://" + sf.Addr
		return true
	})
	return s
}

// stop stops the service and checks that it exits cleanly; it can be
// called more than once.
func (s *inProcessService) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.code:
		if code != 0 {
			t.Errorf("serve exited with %d: %s", code, s.stderr)
		}
	case <-time.After(time.Minute):
		t.Errorf("serve did not stop within a minute")
	}
}

// applyVariantRules keeps a variant of the default rules (another
// version) in the rules store of data, records it as the rules last
// applied to the index, and returns the store and the variant's version.
func applyVariantRules(t *testing.T, data string) (*rulestore.Store, string) {
	t.Helper()
	store, err := rulestore.Open(filepath.Join(data, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	src := append(classify.DefaultSource(), "\n# a variant, for a test\n"...)
	rules, err := classify.Parse(bytes.NewReader(src), "variant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Keep(rules.Version(), src); err != nil {
		t.Fatal(err)
	}
	if err := store.SetApplied(rules.Version(), time.Now()); err != nil {
		t.Fatal(err)
	}
	return store, rules.Version()
}

// TestServeClassifiesWithRulesLastApplied checks that serve classifies new
// releases with the rules last applied to the index, as crawl does, and
// that POST /api/rules/reload switches to the rules in force, keeps them in
// the rules store and does not record them as applied.
func TestServeClassifiesWithRulesLastApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the mirror")
	}
	data := t.TempDir()
	store, applied := applyVariantRules(t, data)
	t.Setenv("ATALAYA_TEST_TOKEN", "tok")
	s := serveInProcess(t, shortScheduleConfig(t), data, "--offline")
	var res api.SearchResponse
	eventually(t, "an indexed release", func() bool {
		s.get(t, "/api/search?size=1&facets=false&highlight=false", &res)
		return len(res.Hits) > 0
	})
	if got := res.Hits[0].RulesVersion; got != applied {
		t.Errorf("release classified with rules %s, want %s, the rules last applied", got, applied)
	}

	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/rules/reload", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload: %s", resp.Status)
	}
	inForce := classify.Default().Version()
	if _, err := store.Source(inForce); err != nil {
		t.Errorf("reloaded rules not kept in the rules store: %v", err)
	}
	if a, _, err := store.Applied(); err != nil || a.RulesVersion != applied {
		t.Errorf("applied rules after reload = %q, %v; want %s, unchanged", a.RulesVersion, err, applied)
	}
}

// TestServeFinishesInterruptedReclassification checks that serve finishes
// a reclassification that was interrupted before it schedules crawls.
func TestServeFinishesInterruptedReclassification(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the mirror")
	}
	data := t.TempDir()
	cfg := shortScheduleConfig(t)
	if code, _, stderr := runCmd(t, "--config", cfg, "--data", data, "crawl", "--offline", "--source", "sre"); code != 0 {
		t.Fatalf("crawl: exit %d: %s", code, stderr)
	}
	store, variant := applyVariantRules(t, data)
	inForce := classify.Default().Version()
	if err := store.BeginReclassify(rulestore.Reclassification{From: variant, To: inForce, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s := serveInProcess(t, cfg, data, "--offline")
	if _, ok, err := store.Reclassifying(); ok || err != nil {
		t.Errorf("reclassification still under way once serve listens (err %v)", err)
	}
	if a, _, err := store.Applied(); err != nil || a.RulesVersion != inForce {
		t.Errorf("applied rules = %q, %v; want %s, the rules in force", a.RulesVersion, err, inForce)
	}
	s.stop(t)
}

// mirrorHostsConfig writes the default configuration with the hosts of the
// real sites mapped to the mirror at addr, and private networks allowed.
func mirrorHostsConfig(t *testing.T, addr, extra string) string {
	t.Helper()
	yaml := string(config.DefaultYAML())
	for _, d := range []string{"delay: 6s", "delay: 3s"} {
		yaml = strings.ReplaceAll(yaml, d, "delay: 0s")
	}
	yaml += "\nallow_private_networks: true\nhosts:\n"
	for _, h := range []string{"www.state.gov", "home.treasury.gov", "ofac.treasury.gov", "www.gob.mx"} {
		yaml += fmt.Sprintf("  %s: %q\n", h, addr)
	}
	path := filepath.Join(t.TempDir(), "mirror.yaml")
	if err := os.WriteFile(path, []byte(yaml+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeThroughHosts checks that serve, without --offline, crawls
// through the configuration's hosts mapping and private-network opt-in:
// the sites' hosts are mapped to the mirror on loopback.
func TestServeThroughHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the mirror")
	}
	srv, err := mirror.Start(mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := serveInProcess(t, mirrorHostsConfig(t, srv.URL(), ""), t.TempDir())
	eventually(t, "releases crawled through the hosts mapping", func() bool { return s.total(t) > 0 })
}

// browserConfig writes the default configuration with every gob.mx source
// fetched through the browser, and with edit applied.
func browserConfig(t *testing.T, edit func(string) string) string {
	t.Helper()
	yaml := strings.ReplaceAll(string(config.DefaultYAML()), "fetch: auto", "fetch: browser")
	path := filepath.Join(t.TempDir(), "browser.yaml")
	if err := os.WriteFile(path, []byte(edit(yaml)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sourceTotal is how many releases of src the service has indexed.
func (s *service) sourceTotal(t *testing.T, src string) int {
	var r api.SearchResponse
	s.get(t, "/api/search?size=1&facets=false&highlight=false&source="+src, &r)
	return int(r.Total)
}

// TestServeOfflineFetchesOverHTTP checks that serve --offline fetches
// sources configured with fetch: browser over HTTP from the mirror, as
// crawl --offline does (a browser would reach the real sites).
func TestServeOfflineFetchesOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the mirror")
	}
	cfg := browserConfig(t, func(yaml string) string {
		return regexp.MustCompile(`(?m)^(\s+schedule: ).*$`).ReplaceAllString(yaml, `${1}"@every 3s"`)
	})
	s := serveInProcess(t, cfg, t.TempDir(), "--offline")
	eventually(t, "sre releases crawled over HTTP", func() bool { return s.sourceTotal(t, "sre") > 0 })
}

// TestServeSharesBrowser checks that serve, without --offline, gives its
// crawls a browser: a gob.mx source with fetch: browser, moved to a
// loopback copy of the site, is crawled through headless Chromium.
func TestServeSharesBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls through a browser")
	}
	if _, err := browser.New(browser.Options{}); err != nil {
		t.Skipf("skipping: %v (on Debian: apt-get install chromium)", err)
	}
	site := httptest.NewServer(gobmxCopy())
	defer site.Close()
	cfg := browserConfig(t, func(yaml string) string {
		yaml = strings.ReplaceAll(yaml, "https://www.gob.mx/", site.URL+"/")
		yaml = strings.ReplaceAll(yaml, "allowed_domains: [www.gob.mx]", "allowed_domains: [127.0.0.1]")
		for _, d := range []string{"delay: 6s", "delay: 3s"} {
			yaml = strings.ReplaceAll(yaml, d, "delay: 0s")
		}
		return yaml + "\nallow_private_networks: true\n"
	})
	s := serveInProcess(t, cfg, t.TempDir())
	eventually(t, "gob.mx releases crawled through the browser", func() bool { return s.total(t) > 0 })
}

// TestServeMeasuresRulesOnGold checks that serve.gold, relative to the
// configuration file, gives the rules page each rule's precision and
// coverage on the gold.
func TestServeMeasuresRulesOnGold(t *testing.T) {
	gold, err := os.ReadFile("../../classify/testdata/gold-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := shortScheduleConfig(t)
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "gold.jsonl"), gold, 0o644); err != nil {
		t.Fatal(err)
	}
	addServeKeys(t, cfg, "gold: [gold.jsonl]")
	s := serveInProcess(t, cfg, t.TempDir(), "--offline")
	status, body := getBody(t, s.base+"/rules")
	if status != http.StatusOK || strings.Contains(body, "No gold file is configured") || !strings.Contains(body, "Measured against the configured gold file") {
		t.Errorf("rules page with serve.gold: status %d, no gold figures:\n%.3000s", status, body)
	}
}
