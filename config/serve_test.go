package config

import (
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
