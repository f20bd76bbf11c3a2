package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"atalaya/config"

	_ "time/tzdata" // time zones of the sources, on machines without a zone database
)

const configHelp = `Check or print the configuration.

Subcommands:
  check [--offline] [FILE]
                       validate FILE (default: the --config file, else the
                       embedded configuration); print every problem with its
                       line and YAML path, or the host mapping and
                       "ok: N sources"; --offline accepts @every schedules
                       under a minute, for crawls of the local mirror
  show [--resolved]    print the --config file or the embedded configuration;
                       with --resolved, every source written out in full
                       (defaults and profiles applied)

Every key is documented in the README, section "Configuration".`

// runConfig runs "atalaya config <subcommand>".
func runConfig(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "config", configHelp, map[string]subcommand{"check": configCheck, "show": configShow}, args)
}

// loadConfig loads the --config file, or the embedded configuration.
//
// Schedules under a minute are refused only where sources are scheduled
// against the network (serve without --offline, see loadConfigFor, and
// config check): a command that reads the data or crawls once does not
// schedule anything.
func (e *env) loadConfig() (*config.Config, error) {
	return config.Options{ShortSchedules: true}.Load(e.configPath)
}

// loadConfigFor loads the configuration for a service that schedules
// crawls: schedules under a minute are refused unless the service crawls
// the local mirror (offline).
func (e *env) loadConfigFor(offline bool) (*config.Config, error) {
	return config.Options{ShortSchedules: offline}.Load(e.configPath)
}

func configCheck(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "config check", "config check [--offline] [FILE]")
	offline := fs.Bool("offline", false, "check for crawls of the local mirror: accept @every schedules under a minute")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	path := e.configPath
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	cfg, err := loadReporting(e, config.Options{ShortSchedules: *offline}, path)
	if err != nil {
		return err
	}
	if _, err := crawlerSources(cfg); err != nil {
		return err
	}
	if err := checkDigestQueries(e, path, cfg); err != nil {
		return err
	}
	if !*offline {
		warnNoBrowser(e.stderr, cfg)
	}
	for _, line := range networkOf(cfg).describe() {
		fmt.Fprintln(e.stdout, line)
	}
	if cfg.Rules != "" {
		if _, err := loadRules(cfg.Rules); err != nil {
			return fmt.Errorf("rules: %s: %w", cfg.Rules, err)
		}
	}
	fmt.Fprintf(e.stdout, "ok: %d sources\n", len(cfg.Sources))
	return nil
}

func configShow(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "config show", "config show [--resolved]")
	resolved := fs.Bool("resolved", false, "write every source in full, with defaults and profiles applied")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := loadReporting(e, config.Options{}, e.configPath)
	if err != nil {
		return err
	}
	var out []byte
	switch {
	case *resolved:
		out, err = cfg.Marshal()
	case e.configPath == "":
		out = config.DefaultYAML()
	default:
		out, err = os.ReadFile(e.configPath)
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// loadReporting loads the configuration at path (empty: the embedded one).
// If the file has problems, it prints them one per line to stdout and
// returns an error that counts them.
func loadReporting(e *env, opts config.Options, path string) (*config.Config, error) {
	cfg, err := opts.Load(path)
	var probs config.Problems
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintln(e.stdout, p)
		}
		noun := "problems"
		if len(probs) == 1 {
			noun = "problem"
		}
		return nil, fmt.Errorf("%d %s in %s", len(probs), noun, configName(path))
	}
	return cfg, err
}

// configName names a configuration file in messages.
func configName(path string) string {
	if path == "" {
		return "the embedded configuration"
	}
	return path
}
