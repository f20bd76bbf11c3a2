package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
	"atalaya/classify"
	"atalaya/crawler"
)

// noNetwork is a transport for a machine without a network.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: lookup www.example.test: no such host")
}

// TestRunWithoutNetwork runs the service on a machine with no network: the
// catch-up crawl fails with its error recorded, the service stays up and
// answers, /api/runs shows the failure, and cancelling the context stops
// it cleanly, removing serve.json.
func TestRunWithoutNetwork(t *testing.T) {
	data := t.TempDir()
	src := crawler.Source{
		Source:    atalaya.Source{ID: "sre", Agency: "SRE", Country: atalaya.MX, Language: atalaya.Spanish},
		Kind:      crawler.KindHTML,
		StartURLs: []string{"https://www.example.test/prensa"}, AllowedDomains: []string{"www.example.test"},
		Listing:    crawler.Listing{Item: "article", Title: crawler.Field{Selector: "h2"}, Link: "a"},
		Article:    crawler.Article{Title: []crawler.Field{{Selector: "h1"}}, Body: "main"},
		Location:   time.UTC,
		Politeness: crawler.Politeness{Timeout: time.Second, IgnoreRobots: true},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			DataDir: data, Listen: "127.0.0.1:0", Sources: []app.Source{{Source: src, Schedule: "@every 1h", Enabled: true}},
			Crawl:  crawler.Options{Transport: noNetwork{}, Logger: slog.New(slog.DiscardHandler)},
			Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
			Logger: slog.New(slog.DiscardHandler), Ready: func(addr string) { ready <- addr },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	var runs api.RunsResponse
	deadline := time.Now().Add(time.Minute)
	for len(runs.Runs) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no run recorded in a minute")
		}
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/api/runs")
		if err != nil {
			t.Fatalf("the service stopped answering: %v", err)
		}
		json.NewDecoder(resp.Body).Decode(&runs)
		resp.Body.Close()
	}
	r := runs.Runs[0]
	if r.Trigger != "catch-up" || (r.Outcome != "failed" && r.Outcome != "partial") || (len(r.Errors) == 0 && len(r.Issues) == 0) {
		t.Errorf("run without network: %+v", r)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz after a failed crawl: %v %v", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, app.ServeFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve.json left: %v", err)
	}
}
