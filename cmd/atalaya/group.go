package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// subcommand runs one subcommand of a command group, with the arguments
// after its name.
type subcommand func(ctx context.Context, e *env, args []string) error

// runGroup runs "atalaya NAME SUB [arguments]". Help asked for (-h, --help,
// help) goes to stdout with exit 0, and "help SUB" shows SUB's flags; a
// missing or unknown subcommand is a usage error on stderr.
func runGroup(ctx context.Context, e *env, name, help string, subs map[string]subcommand, args []string) error {
	usage := fmt.Sprintf("Usage: atalaya %s <subcommand> [arguments]\n\n%s\n", name, help)
	if len(args) == 0 {
		e.usage.WriteString(usage)
		return &usageError{msg: "name a subcommand: " + strings.Join(subNames(subs), ", ")}
	}
	switch args[0] {
	case "-h", "--help":
		_, err := fmt.Fprint(e.stdout, usage)
		return err
	case "help":
		if len(args) == 1 {
			_, err := fmt.Fprint(e.stdout, usage)
			return err
		}
		args = []string{args[1], "--help"}
	}
	sub, ok := subs[args[0]]
	if !ok {
		e.usage.WriteString(usage)
		return &usageError{msg: fmt.Sprintf("unknown subcommand %q; subcommands: %s", args[0], strings.Join(subNames(subs), ", "))}
	}
	if err := sub(ctx, e, args[1:]); err != nil {
		return &subcommandError{name: args[0], err: err}
	}
	return nil
}

// subcommandError is the error of a subcommand of a group, so that it is
// reported as "atalaya rules explain: …", naming the subcommand.
type subcommandError struct {
	name string
	err  error
}

func (s *subcommandError) Error() string { return s.err.Error() }
func (s *subcommandError) Unwrap() error { return s.err }

func subNames(subs map[string]subcommand) []string {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
