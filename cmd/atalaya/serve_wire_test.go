package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"atalaya/api"
	"atalaya/app"
	"atalaya/classify"
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

// keepRules keeps a variant of the default rules (another version) in the
// rules store of data and returns its version.
func keepRules(t *testing.T, store *rulestore.Store) string {
	t.Helper()
	src := append(classify.DefaultSource(), "\n# a variant, for a test\n"...)
	rules, err := classify.Parse(bytes.NewReader(src), "variant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Keep(rules.Version(), src); err != nil {
		t.Fatal(err)
	}
	return rules.Version()
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
	store, err := rulestore.Open(filepath.Join(data, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	applied := keepRules(t, store)
	if err := store.SetApplied(applied, time.Now()); err != nil {
		t.Fatal(err)
	}
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
	store, err := rulestore.Open(filepath.Join(data, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	variant := keepRules(t, store)
	if err := store.SetApplied(variant, time.Now()); err != nil {
		t.Fatal(err)
	}
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
