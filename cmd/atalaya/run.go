package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// env is what every subcommand gets: the global flags and the output streams.
type env struct {
	stdout, stderr io.Writer
	configPath     string // --config; empty means the embedded default
	dataDir        string // --data, else $ATALAYA_DATA, the configuration's data_dir or the default
	logger         *slog.Logger
	usageShown     bool // a subcommand printed its usage (and the flag package its error)
}

// command is one subcommand. run gets the arguments after the subcommand name.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand; each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		// One entry per subcommand, one line each, sorted by name.
		"bench":      {summary: "measure indexing and search speed on synthetic releases", run: runBench},
		"config":     {summary: "check the configuration file or print it", run: runConfig},
		"crawl":      {summary: "crawl the sources once: archive, classify and index new releases", run: runCrawl},
		"demo":       {summary: "crawl the embedded mirror of the sites offline, classify, index and search", run: runDemo},
		"digest":     {summary: "list, preview and send the email digests", run: runDigest},
		"generate":   {summary: "archive N synthetic releases, for benchmarks", run: runGenerate},
		"reclassify": {summary: "rerun the current rules over the archive and update the index", run: runReclassify},
		"reindex":    {summary: "rebuild the index from the archive, without the network", run: runReindex},
		"releases":   {summary: "list the archived releases", run: runReleases},
		"rules":      {summary: "check, explain, evaluate and document the classification rules", run: runRules},
		"sources":    {summary: "show each source's last run, counts and open health issues", run: runSources},
		"search":     {summary: "search the index with the query language", run: runSearch},
	}
}

// errUsage marks an error whose message is the usage text: the command
// already printed what is wrong.
var errUsage = errors.New("usage")

// usageError is a command line that does not fit a subcommand's synopsis.
type usageError struct{ msg string }

func (u *usageError) Error() string        { return u.msg }
func (u *usageError) Is(target error) bool { return target == errUsage }

// badUsage prints the subcommand's usage and returns an error saying what
// is wrong with the command line.
func badUsage(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// noArgs rejects positional arguments after a subcommand's flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return badUsage(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// run is the whole program: it parses the global flags, picks the
// subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("atalaya", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.configPath, "config", "", "configuration `file` (default: the embedded configuration)")
	fs.StringVar(&e.dataDir, "data", "", "data `directory` for the archive, crawl state and index\n(default: $ATALAYA_DATA, else data_dir of the configuration, else "+defaultDataDir()+")")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "atalaya: --log-level: %v\n", err)
		return 2
	}
	e.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	e.resolveDataDir()
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return 2
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "atalaya: unknown command %q; commands: %s\n", name, strings.Join(commandNames(), ", "))
		return 2
	}
	if err := cmd.run(ctx, e, rest); err != nil {
		var u *usageError
		switch {
		case errors.As(err, &u):
			fmt.Fprintf(stderr, "atalaya %s: %s\n", name, u.msg)
			return 2
		case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp), e.usageShown:
			// The usage, and any flag error, are printed already.
			return 2
		}
		fmt.Fprintf(stderr, "atalaya %s: %v\n", name, err)
		return 1
	}
	return 0
}

// resolveDataDir picks the data directory when --data is not given:
// $ATALAYA_DATA, else the configuration's data_dir, else the default.
func (e *env) resolveDataDir() {
	if e.dataDir != "" {
		return
	}
	if d := os.Getenv("ATALAYA_DATA"); d != "" {
		e.dataDir = d
		return
	}
	// A configuration that does not load is reported by the command that
	// needs it; here it just has no data_dir.
	if cfg, err := e.loadConfig(); err == nil && cfg.DataDir != "" {
		e.dataDir = cfg.DataDir
		return
	}
	e.dataDir = defaultDataDir()
}

func commandNames() []string {
	var names []string
	for name := range commands() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: atalaya [flags] <command> [arguments]\n\nCommands:\n")
	cmds := commands()
	for _, name := range commandNames() {
		fmt.Fprintf(w, "  %-12s %s\n", name, cmds[name].summary)
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nRun 'atalaya <command> -h' for a command's own flags.\n")
}

// defaultDataDir is $XDG_DATA_HOME/atalaya, else ~/.local/share/atalaya.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "atalaya")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "atalaya")
	}
	return "atalaya-data"
}

// newFlagSet returns a subcommand's flag set, printing help to stderr.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		e.usageShown = true
		fmt.Fprintf(e.stderr, "Usage: atalaya [--config FILE] [--data DIR] [--log-level L] %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
