package config

import "time"

// Serve configures `atalaya serve`.
type Serve struct {
	// Listen is the address the service listens on; the --listen flag
	// wins. Empty means 127.0.0.1:8080.
	Listen string `yaml:"listen"`
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
