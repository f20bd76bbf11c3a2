package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// runHelp prints the commands and global flags, or one command's usage, to
// stdout.
func runHelp(ctx context.Context, e *env, args []string) error {
	switch len(args) {
	case 0:
		fs, _ := globalFlags(&env{})
		fs.SetOutput(e.stdout)
		usage(e.stdout, fs)
		return nil
	case 1:
		cmd, ok := commands()[args[0]]
		if !ok || args[0] == "help" {
			return &usageError{msg: fmt.Sprintf("no command %q; commands: %s", args[0], strings.Join(commandNames(), ", "))}
		}
		return cmd.run(ctx, e, []string{"--help"})
	default:
		return &usageError{msg: "help takes one command name at most"}
	}
}

// buildVersion is what `atalaya version` prints: the module version (or
// "(devel)" for a build from a checkout), the VCS commit and whether the
// tree was modified, and the Go version.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "atalaya (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var commit, modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		case "vcs.time":
			when = " " + s.Value
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("atalaya %s\ncommit %s%s%s\n%s %s/%s\n", version, commit, modified, when, info.GoVersion, goos(info), goarch(info))
}

func goos(info *debug.BuildInfo) string   { return buildSetting(info, "GOOS") }
func goarch(info *debug.BuildInfo) string { return buildSetting(info, "GOARCH") }

func buildSetting(info *debug.BuildInfo, key string) string {
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return "?"
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	_, err := io.WriteString(e.stdout, buildVersion())
	return err
}

// colorMode is the --color flag: auto, always or never.
type colorMode string

func (c *colorMode) String() string {
	if *c == "" {
		return "auto"
	}
	return string(*c)
}

func (c *colorMode) Set(s string) error {
	switch s {
	case "auto", "always", "never":
		*c = colorMode(s)
		return nil
	}
	return errors.New("want auto, always or never")
}

// colorOn reports whether output to w may carry colour and bold: always
// with --color always, never with --color never, and with auto only on a
// terminal when NO_COLOR is unset (or empty) and TERM is not "dumb".
func (e *env) colorOn(w io.Writer) bool {
	switch e.color {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// runCompletion prints a completion script for the shell named.
func runCompletion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "completion", "completion bash|zsh|fish")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage(fs, "name one shell: bash, zsh or fish")
	}
	names := strings.Join(commandNames(), " ")
	flags := strings.Join(globalFlagNames(), " ")
	switch fs.Arg(0) {
	case "bash":
		fmt.Fprintf(e.stdout, bashCompletion, names, flags)
	case "zsh":
		fmt.Fprintf(e.stdout, "#compdef atalaya\nautoload -U bashcompinit && bashcompinit\n"+bashCompletion, names, flags)
	case "fish":
		fmt.Fprintf(e.stdout, "complete -c atalaya -f\n")
		cmds := commands()
		for _, name := range commandNames() {
			fmt.Fprintf(e.stdout, "complete -c atalaya -n __fish_use_subcommand -a %s -d %q\n", name, cmds[name].summary)
		}
		for _, f := range globalFlagNames() {
			fmt.Fprintf(e.stdout, "complete -c atalaya -l %s\n", strings.TrimPrefix(f, "--"))
		}
	default:
		return badUsage(fs, "unknown shell %q: want bash, zsh or fish", fs.Arg(0))
	}
	return nil
}

// globalFlagNames lists the global flags as --name.
func globalFlagNames() []string {
	fs, _ := globalFlags(&env{})
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	return names
}

// bashCompletion completes command names, then global flags and files.
// Its verbs are the command names and the global flags.
const bashCompletion = `_atalaya() {
	local cur=${COMP_WORDS[COMP_CWORD]} i cmd=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "%[2]s" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "%[1]s" -- "$cur"))
		fi
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _atalaya atalaya
`
