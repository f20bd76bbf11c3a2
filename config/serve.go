package config

import (
	"net/url"
	"strings"
	"time"
)

// Serve configures `atalaya serve`.
type Serve struct {
	// Listen is the address the service listens on; the --listen flag
	// wins. Empty means 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// BaseURL is the URL readers reach the service at, such as
	// "https://atalaya.example.org": the Atom feed's links start with it.
	// Empty: made from the address the service listens on, never from a
	// request's Host header.
	BaseURL string `yaml:"base_url"`
	// AdminTokenEnv names the environment variable that holds the bearer
	// token of the admin API (crawl now, reload rules). Empty, or the
	// variable unset or empty, disables the admin API.
	AdminTokenEnv string `yaml:"admin_token_env"`
	// RunBudget bounds each scheduled or manual run of a source; 0 means
	// DefaultRunBudget.
	RunBudget time.Duration `yaml:"run_budget"`
	// ShutdownGrace is how long a stopping service lets running crawls
	// finish before cancelling them; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Gold lists gold files (JSON Lines, see the README) the rules page
	// measures each rule on: precision and coverage. Relative paths are
	// relative to the configuration file.
	Gold []string `yaml:"gold"`
}

// Defaults of the serve section.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultRunBudget     = 30 * time.Minute
	DefaultShutdownGrace = 20 * time.Second
)

// WithDefaults returns s with its empty keys set to their defaults.
func (s Serve) WithDefaults() Serve {
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if s.RunBudget <= 0 {
		s.RunBudget = DefaultRunBudget
	}
	if s.ShutdownGrace <= 0 {
		s.ShutdownGrace = DefaultShutdownGrace
	}
	return s
}

// checkServe checks the serve section's values that decoding alone does not.
func checkServe(c checker, s *Serve) {
	if c.has("serve.base_url") {
		checkBaseURL(c, "serve.base_url", s.BaseURL)
	}
}

// checkBaseURL checks the URL a service is reached at: http or https, with a
// host, and nothing a link could not be appended to (query, fragment) or
// should not carry (user and password).
func checkBaseURL(c checker, rel, raw string) {
	const example = "write it as \"https://atalaya.example.org\" or \"http://localhost:8080\""
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.problemf(rel, "URL %q does not parse: %v; %s", raw, err, example)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		c.problemf(rel, "%q is not an http or https URL with a host; %s", raw, example)
	case u.User != nil:
		c.problemf(rel, "URL %q carries a user name or password; remove them", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		c.problemf(rel, "URL %q has a query or fragment; %s", raw, example)
	}
}
