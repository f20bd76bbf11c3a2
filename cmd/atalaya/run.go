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
	dataDir        string // --data
	logger         *slog.Logger
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

// run is the whole program: it parses the global flags, picks the
// subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("atalaya", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.configPath, "config", "", "configuration `file` (default: the embedded configuration)")
	fs.StringVar(&e.dataDir, "data", defaultDataDir(), "data `directory` for the archive, crawl state and index")
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
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "atalaya %s: %v\n", name, err)
		return 1
	}
	return 0
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

// defaultDataDir is $ATALAYA_DATA, else the user's data directory.
func defaultDataDir() string {
	if d := os.Getenv("ATALAYA_DATA"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(filepath.Dir(d), ".local", "share", "atalaya")
	}
	return "atalaya-data"
}

// newFlagSet returns a subcommand's flag set, printing help to stderr.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: atalaya %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
