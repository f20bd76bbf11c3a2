package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/crawler"
	"atalaya/internal/synth"
)

// offlineOptions are the options of a service in data with one hourly
// source on a host that noNetwork cannot reach; ready is called when it
// serves.
func offlineOptions(data string, ready func(addr string)) app.Options {
	return app.Options{
		DataDir: data, Listen: "127.0.0.1:0", Sources: []app.Source{{Source: crawler.Source{
			Source:    atalaya.Source{ID: "sre", Agency: "SRE", Country: atalaya.MX, Language: atalaya.Spanish},
			Kind:      crawler.KindHTML,
			StartURLs: []string{"https://www.example.test/prensa"}, AllowedDomains: []string{"www.example.test"},
			Listing:    crawler.Listing{Item: "article", Title: crawler.Field{Selector: "h2"}, Link: "a"},
			Article:    crawler.Article{Title: []crawler.Field{{Selector: "h1"}}, Body: "main"},
			Location:   time.UTC,
			Politeness: crawler.Politeness{Timeout: time.Second, IgnoreRobots: true},
		}, Schedule: "@every 1h", Enabled: true}},
		Crawl:  crawler.Options{Transport: noNetwork{}, Logger: slog.New(slog.DiscardHandler)},
		Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
		Logger: slog.New(slog.DiscardHandler), Ready: ready,
	}
}

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, offlineOptions(data, func(addr string) { ready <- addr })) }()
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

// hangingNetwork never answers requests to hang.test (a server that
// accepts the connection and says nothing) and refuses all others.
type hangingNetwork struct{}

func (hangingNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() == "hang.test" {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return nil, errors.New("dial tcp: connection refused")
}

func testSource(id, host string) crawler.Source {
	return crawler.Source{
		Source:    atalaya.Source{ID: atalaya.SourceID(id), Agency: id, Country: atalaya.MX, Language: atalaya.Spanish},
		Kind:      crawler.KindHTML,
		StartURLs: []string{"https://" + host + "/prensa"}, AllowedDomains: []string{host},
		Listing:    crawler.Listing{Item: "article", Title: crawler.Field{Selector: "h2"}, Link: "a"},
		Article:    crawler.Article{Title: []crawler.Field{{Selector: "h1"}}, Body: "main"},
		Location:   time.UTC,
		Politeness: crawler.Politeness{Timeout: time.Hour, IgnoreRobots: true},
	}
}

// TestHangingSiteAndGrace checks that a site that never answers does not
// delay a source on another host, and that a stop whose grace period ends
// while a run hangs cancels it, records it, and returns cleanly.
func TestHangingSiteAndGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := t.TempDir()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			DataDir: data, Listen: "127.0.0.1:0", ShutdownGrace: 100 * time.Millisecond,
			Sources: []app.Source{
				{Source: testSource("hangs", "hang.test"), Schedule: "@every 1h", Enabled: true},
				{Source: testSource("fast", "fast.test"), Schedule: "@every 1h", Enabled: true},
			},
			Crawl:  crawler.Options{Transport: hangingNetwork{}, Logger: slog.New(slog.DiscardHandler)},
			Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
			Logger: slog.New(slog.DiscardHandler), Ready: func(addr string) { ready <- addr },
		})
	}()
	addr := <-ready
	runsOf := func(src string) []api.RunDTO {
		resp, err := http.Get("http://" + addr + "/api/runs?source=" + src)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r api.RunsResponse
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Runs
	}
	deadline := time.Now().Add(time.Minute)
	for len(runsOf("fast")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the source on another host was not crawled while one hangs")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(runsOf("hangs")); n != 0 {
		t.Fatalf("the hanging run finished: %d runs", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after a stop that cut a run: %v", err)
	}
	arch, err := archive.Open(filepath.Join(data, "archive"), archive.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer arch.Close()
	runs, err := arch.Runs(context.Background(), archive.RunFilter{Source: "hangs"})
	if err != nil || len(runs) != 1 || runs[0].Outcome != archive.OutcomeFailed {
		t.Errorf("the cut run is not recorded as failed: %+v, %v", runs, err)
	}
}

// TestSlowHeadersCutOff checks that a client that never finishes its
// request headers (slowloris) is disconnected by the server instead of
// holding the connection.
func TestSlowHeadersCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the server's header timeout")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			DataDir: t.TempDir(), Listen: "127.0.0.1:0",
			Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
			Logger: slog.New(slog.DiscardHandler), Ready: func(addr string) { ready <- addr },
		})
	}()
	conn, err := net.Dial("tcp", <-ready)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a hang, not a speed check
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection whose headers never ended")
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestCatchUpBeforeCrawls checks that releases archived but not indexed
// are all indexed before the service starts its first crawl: a crawl
// running beside the catch-up could index a newer version of a release
// that the catch-up then overwrote with an older one.
func TestCatchUpBeforeCrawls(t *testing.T) {
	data := t.TempDir()
	arch, err := archive.Open(filepath.Join(data, "archive"), archive.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	for s := range synth.Releases(n, 1) {
		page := atalaya.Page{URL: s.Release.URL, Status: http.StatusOK, Body: []byte("<html></html>"), FetchedAt: s.Release.FetchedAt}
		if _, err := arch.Put(context.Background(), page, s.Release); err != nil {
			t.Fatal(err)
		}
	}
	if err := arch.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	indexedAtReady := make(chan int, 1)
	done := make(chan error, 1)
	// Ready is called once the scheduler has started.
	ready := func(addr string) { indexedAtReady <- indexedReleases(t, addr) }
	go func() { done <- app.Run(ctx, offlineOptions(data, ready)) }()
	select {
	case got := <-indexedAtReady:
		if got != n {
			t.Errorf("%d of %d archived releases indexed when the scheduler started, want all", got, n)
		}
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// indexedReleases asks the service at addr how many releases its index
// holds.
func indexedReleases(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Error(err)
		return -1
	}
	defer resp.Body.Close()
	var h api.HealthResponse
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Error(err)
		return -1
	}
	return h.Index.Releases
}
