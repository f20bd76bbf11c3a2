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
  check [FILE]         validate FILE (default: the --config file, else the
                       embedded configuration); print every problem with its
                       line and YAML path, or "ok: N sources"
  show [--resolved]    print the --config file or the embedded configuration;
                       with --resolved, every source written out in full
                       (defaults and profiles applied)

Every key is documented in the README, section "Configuration".`

// runConfig runs "atalaya config <subcommand>".
func runConfig(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: atalaya config <subcommand> [arguments]\n\n"+configHelp)
		return errUsage
	}
	subs := map[string]func(context.Context, *env, []string) error{
		"check": configCheck, "show": configShow,
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "atalaya config: unknown subcommand %q\n\n%s\n", args[0], configHelp)
		return errUsage
	}
	return sub(ctx, e, args[1:])
}

// loadConfig loads the --config file, or the embedded configuration.
func (e *env) loadConfig() (*config.Config, error) {
	return config.Load(e.configPath)
}

func configCheck(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "config check", "config check [FILE]")
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
	cfg, err := loadReporting(e, path)
	if err != nil {
		return err
	}
	if _, err := crawlerSources(cfg); err != nil {
		return err
	}
	if err := checkDigestQueries(e, path, cfg); err != nil {
		return err
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
	cfg, err := loadReporting(e, e.configPath)
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
func loadReporting(e *env, path string) (*config.Config, error) {
	cfg, err := config.Load(path)
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
