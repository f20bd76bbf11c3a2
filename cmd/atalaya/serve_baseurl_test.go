package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestServeBaseURL checks that serve.base_url reaches the API: the Atom
// feed's links start with it, not with the address the service listens on
// (api and app test that a forged Host header is ignored).
func TestServeBaseURL(t *testing.T) {
	cfg := shortScheduleConfig(t)
	addServeKeys(t, cfg, "base_url: https://atalaya.example.org/")
	s := serveInProcess(t, cfg, t.TempDir(), "--offline")
	status, body := getBody(t, s.base+"/feed.atom?country=MX")
	if status != http.StatusOK || !strings.Contains(body, `href="https://atalaya.example.org/feed.atom?country=MX"`) {
		t.Errorf("status %d; want links on https://atalaya.example.org:\n%s", status, body)
	}
}

// addServeKeys adds lines to the serve section of the configuration file
// cfg.
func addServeKeys(t *testing.T, cfg string, lines ...string) {
	t.Helper()
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	add := "\nserve:\n"
	for _, l := range lines {
		add += "  " + l + "\n"
	}
	text = bytes.Replace(text, []byte("\nserve:\n"), []byte(add), 1)
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}
}

// getBody GETs url and returns the status and the body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
