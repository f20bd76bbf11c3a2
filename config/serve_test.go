package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestServeSection checks that the serve section decodes, gets its
// defaults, and reports a bad value at its line.
func TestServeSection(t *testing.T) {
	base := string(DefaultYAML())
	cfg, err := Parse(strings.NewReader(base+"\nserve:\n  listen: 127.0.0.1:9999\n  admin_token_env: ATALAYA_TOKEN\n  run_budget: 10m\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve.WithDefaults()
	if s.Listen != "127.0.0.1:9999" || s.AdminTokenEnv != "ATALAYA_TOKEN" || s.RunBudget != 10*time.Minute || s.ShutdownGrace != DefaultShutdownGrace {
		t.Errorf("serve = %+v", s)
	}
	if d := (Serve{}).WithDefaults(); d.Listen != DefaultListen || d.RunBudget != DefaultRunBudget {
		t.Errorf("defaults = %+v", d)
	}
	_, err = Parse(strings.NewReader(base+"\nserve:\n  run_budget: lots\n  colour: red\n"), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "serve.run_budget") || !strings.Contains(err.Error(), "colour") {
		t.Errorf("bad serve section: got %v", err)
	}
}

// TestServeBaseURL checks that serve.base_url decodes, and that a value
// that is not an http(s) URL a link can start with is reported at its line.
func TestServeBaseURL(t *testing.T) {
	base := string(DefaultYAML())
	prefix := base + "\nserve:\n  listen: 127.0.0.1:9999\n"
	line := strings.Count(prefix, "\n") + 1
	cfg, err := Parse(strings.NewReader(prefix+"  base_url: https://atalaya.example.org/monitor\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Serve.BaseURL; got != "https://atalaya.example.org/monitor" {
		t.Errorf("serve.base_url = %q", got)
	}
	for _, tt := range []struct{ value, want string }{
		{"ftp://atalaya.example.org", "not an http or https URL"},
		{"atalaya.example.org:8080", "not an http or https URL"},
		{"/feeds", "not an http or https URL"},
		{"https://", "not an http or https URL"},
		{"http://[::1", "does not parse"},
		{"https://admin:pw@atalaya.example.org", "user name or password"},
		{"https://atalaya.example.org/?a=b", "query or fragment"},
		{"https://atalaya.example.org/#top", "query or fragment"},
	} {
		_, err := Parse(strings.NewReader(fmt.Sprintf("%s  base_url: %q\n", prefix, tt.value)), "x.yaml")
		at := fmt.Sprintf("x.yaml:%d: serve.base_url: ", line)
		if err == nil || !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("base_url %q: got %v; want %q and %q", tt.value, err, at, tt.want)
		}
	}
}
