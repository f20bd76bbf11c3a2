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
// feed's links start with it, whatever Host header the request carries.
func TestServeBaseURL(t *testing.T) {
	cfg := shortScheduleConfig(t)
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text = bytes.Replace(text, []byte("\nserve:\n"), []byte("\nserve:\n  base_url: https://atalaya.example.org/\n"), 1)
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}
	s := serveInProcess(t, cfg, t.TempDir(), "--offline")
	req, err := http.NewRequest("GET", s.base+"/feed.atom?country=MX", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(body), "evil.example") ||
		!strings.Contains(string(body), `href="https://atalaya.example.org/feed.atom?country=MX"`) {
		t.Errorf("status %d; want links on https://atalaya.example.org, none on evil.example:\n%s", resp.StatusCode, body)
	}
}
