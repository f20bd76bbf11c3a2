package main

import (
	"bytes"
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
	color          colorMode
	// status is the progress line when stderr is a terminal, else nil;
	// the logger writes through it.
	status     *statusLine
	usageShown bool // a subcommand printed its usage (and the flag package its error)
	// usage collects what flag sets print (their usage and flag errors):
	// it goes to stdout when help was asked for, else to stderr.
	usage bytes.Buffer
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
		"archive":    {summary: "verify the archive: every record and digest of the WARC files", run: runArchive},
		"bench":      {summary: "measure indexing and search speed on synthetic releases", run: runBench},
		"config":     {summary: "check the configuration file or print it", run: runConfig},
		"crawl":      {summary: "crawl the sources once: archive, classify and index new releases", run: runCrawl},
		"demo":       {summary: "crawl the embedded mirror of the sites offline, classify, index and search", run: runDemo},
		"completion": {summary: "print a shell completion script for bash, zsh or fish", run: runCompletion},
		"digest":     {summary: "list, preview and send the email digests", run: runDigest},
		"generate":   {summary: "archive N synthetic releases, for benchmarks", run: runGenerate},
		"help":       {summary: "show the commands, or one command's flags", run: runHelp},
		"fetch":      {summary: "fetch one page and print what its source's selectors see on it", run: runFetch},
		"reclassify": {summary: "rerun the current rules over the archive and update the index", run: runReclassify},
		"reindex":    {summary: "rebuild the index from the archive, without the network", run: runReindex},
		"releases":   {summary: "list the archived releases", run: runReleases},
		"rules":      {summary: "check, explain, evaluate and document the classification rules", run: runRules},
		"runs":       {summary: "list the recorded crawl runs, newest first", run: runRuns},
		"serve":      {summary: "run the service: scheduled crawls, the HTTP API, feeds and exports", run: runServe},
		"sources":    {summary: "show each source's last run, counts and open health issues", run: runSources},
		"search":     {summary: "search the index with the query language", run: runSearch},
		"version":    {summary: "print the version, commit and Go version", run: runVersion},
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
// subcommand and returns the exit code. Help that was asked for goes to
// stdout with exit 0; a usage error goes to stderr with exit 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	fs, g := globalFlags(e)
	logLevel, showVersion := g.logLevel, g.version
	if err := fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			err = errUsage // the flag package printed what is wrong
		}
		return e.finish(err, "")
	}
	if *showVersion {
		return e.finish(runVersion(ctx, e, nil), "")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "atalaya: --log-level: %v\n", err)
		return 2
	}
	logOut := stderr
	if isTerminal(stderr) {
		e.status = &statusLine{w: stderr}
		logOut = e.status
	}
	e.logger = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	e.resolveDataDir()
	if fs.NArg() == 0 {
		usage(&e.usage, fs)
		return e.finish(errUsage, "")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "atalaya: unknown command %q; commands: %s\n", name, strings.Join(commandNames(), ", "))
		return 2
	}
	if e.configPath != "" && needsConfig(name) {
		if _, err := e.loadConfig(); err != nil {
			return e.finish(configError(e.configPath, err), name)
		}
	}
	return e.finish(cmd.run(ctx, e, rest), name)
}

// needsConfig reports whether command name reads the configuration, so
// that a --config file that is missing or does not parse fails it at once.
// config check reports the problems itself, in full.
func needsConfig(name string) bool {
	switch name {
	case "help", "version", "completion", "config":
		return false
	}
	return true
}

// globals are the global flags that are not fields of env.
type globals struct {
	logLevel *string
	version  *bool
}

// globalFlags returns the flag set of the global flags, which set e's
// fields.
func globalFlags(e *env) (*flag.FlagSet, globals) {
	fs := flag.NewFlagSet("atalaya", flag.ContinueOnError)
	fs.SetOutput(&e.usage)
	fs.StringVar(&e.configPath, "config", "", "configuration `file` (default: the embedded configuration)")
	fs.StringVar(&e.dataDir, "data", "", "data `directory` for the archive, crawl state and index\n(default: $ATALAYA_DATA, else data_dir of the configuration, else "+defaultDataDir()+")")
	var g globals
	g.logLevel = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.Var(&e.color, "color", "colour `when`: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
	g.version = fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(&e.usage, fs) }
	return fs, g
}

// finish turns a command's error into the exit code, printing what the flag
// sets collected: to stdout when help was asked for (exit 0), else to
// stderr before the error.
func (e *env) finish(err error, name string) int {
	prefix := "atalaya"
	if name != "" {
		prefix += " " + name
	}
	if errors.Is(err, flag.ErrHelp) {
		e.stdout.Write(e.usage.Bytes())
		return 0
	}
	e.stderr.Write(e.usage.Bytes())
	if err == nil {
		return 0
	}
	var sub *subcommandError
	if errors.As(err, &sub) {
		prefix += " " + sub.name
	}
	var u *usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintf(e.stderr, "%s: %s\n", prefix, u.msg)
		return 2
	case errors.Is(err, errUsage), e.usageShown:
		// The usage, and any flag error, are printed already.
		return 2
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", prefix, userMessage(err))
	return 1
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
	fmt.Fprintf(w, "\nRun 'atalaya help <command>' or 'atalaya <command> --help' for a command's own flags.\n")
	fmt.Fprintf(w, "Exit status: 0 success, 1 failure (a crawl where any source failed or was blocked), 2 usage error.\n")
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

// newFlagSet returns a subcommand's flag set. Its usage and errors are
// collected in e.usage, which finish prints to stdout for -h and --help
// and to stderr otherwise.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&e.usage)
	fs.Usage = func() {
		e.usageShown = true
		fmt.Fprintf(&e.usage, "Usage: atalaya [--config FILE] [--data DIR] [--log-level L] %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
