package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestHelpAndUsageStreams checks the CLI conventions: help that was asked
// for is printed on stdout with exit 0; a usage error on stderr with exit 2.
func TestHelpAndUsageStreams(t *testing.T) {
	tests := []struct {
		args      []string
		code      int
		stdoutHas string // "" means stdout must be empty
		stderrHas string // "" means stderr must be empty
		helpOnOut bool
	}{
		{args: []string{"--help"}, code: 0, stdoutHas: "Usage: atalaya [flags] <command>"},
		{args: []string{"-h"}, code: 0, stdoutHas: "Commands:"},
		{args: []string{"help"}, code: 0, stdoutHas: "Exit status: 0 success, 1 failure"},
		{args: []string{"help", "search"}, code: 0, stdoutHas: "Usage: atalaya search QUERY"},
		{args: []string{"search", "--help"}, code: 0, stdoutHas: "Usage: atalaya search QUERY"},
		{args: []string{"crawl", "-h"}, code: 0, stdoutHas: "Usage: atalaya"},
		{args: []string{"bench", "--help"}, code: 0, stdoutHas: "Usage: atalaya bench"},
		{args: []string{"version"}, code: 0, stdoutHas: "atalaya "},
		{args: []string{"--version"}, code: 0, stdoutHas: "go1."},
		{args: []string{}, code: 2, stderrHas: "Usage: atalaya [flags] <command>"},
		{args: []string{"nosuchcommand"}, code: 2, stderrHas: `unknown command "nosuchcommand"`},
		{args: []string{"help", "nosuchcommand"}, code: 2, stderrHas: `no command "nosuchcommand"`},
		{args: []string{"search", "--bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus"},
		{args: []string{"--bogus"}, code: 2, stderrHas: "flag provided but not defined: -bogus"},
		{args: []string{"--color", "sometimes", "version"}, code: 2, stderrHas: "want auto, always or never"},
		{args: []string{"version", "extra"}, code: 2, stderrHas: `unexpected argument "extra"`},
		{args: []string{"completion"}, code: 2, stderrHas: "name one shell"},
		{args: []string{"rules", "--help"}, code: 0, stdoutHas: "Usage: atalaya rules <subcommand>"},
		{args: []string{"rules", "help"}, code: 0, stdoutHas: "codebook"},
		{args: []string{"rules", "help", "eval"}, code: 0, stdoutHas: "Usage: atalaya"},
		{args: []string{"rules"}, code: 2, stderrHas: "name a subcommand"},
		{args: []string{"rules", "frobnicate"}, code: 2, stderrHas: `unknown subcommand "frobnicate"`},
		{args: []string{"config", "-h"}, code: 0, stdoutHas: "Usage: atalaya config <subcommand>"},
		{args: []string{"archive", "--help"}, code: 0, stdoutHas: "verify"},
		{args: []string{"rules", "show"}, code: 0, stdoutHas: "rules:"},
		{args: []string{"rules", "codebook"}, code: 0, stdoutHas: "languages all"},
		{args: []string{"completion", "pwsh"}, code: 2, stderrHas: `unknown shell "pwsh"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			checkStream(t, "stdout", stdout, tt.stdoutHas)
			checkStream(t, "stderr", stderr, tt.stderrHas)
		})
	}
}

func checkStream(t *testing.T, name, got, want string) {
	t.Helper()
	if want == "" && got != "" {
		t.Errorf("%s should be empty, got:\n%s", name, got)
	}
	if want != "" && !strings.Contains(got, want) {
		t.Errorf("%s lacks %q, got:\n%s", name, want, got)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := runCmd(t, "completion", shell)
		if code != 0 || stderr != "" {
			t.Fatalf("completion %s: exit %d, stderr %s", shell, code, stderr)
		}
		for _, want := range []string{"search", "crawl", "config"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("completion %s lacks %q", shell, want)
			}
		}
	}
}

// TestColorOn checks --color and the environment: colour only on a
// terminal, never with NO_COLOR or TERM=dumb, and as forced by --color.
func TestColorOn(t *testing.T) {
	var pipe bytes.Buffer
	tests := []struct {
		mode    colorMode
		noColor string
		term    string
		want    bool
	}{
		{mode: "auto", term: "xterm", want: false}, // a buffer is not a terminal
		{mode: "always", term: "xterm", want: true},
		{mode: "always", noColor: "1", term: "dumb", want: true}, // asked for explicitly
		{mode: "never", term: "xterm", want: false},
		{mode: "", noColor: "1", term: "xterm", want: false},
		{mode: "auto", term: "dumb", want: false},
	}
	for _, tt := range tests {
		t.Setenv("NO_COLOR", tt.noColor)
		t.Setenv("TERM", tt.term)
		e := &env{color: tt.mode}
		if got := e.colorOn(&pipe); got != tt.want {
			t.Errorf("--color %q NO_COLOR=%q TERM=%q: colorOn = %t, want %t", tt.mode, tt.noColor, tt.term, got, tt.want)
		}
	}
}

// TestDemoSaysWhereItsDataGoes checks that demo names its data directory
// and says it is deleted unless --keep, before it crawls.
func TestDemoSaysWhereItsDataGoes(t *testing.T) {
	code, stdout, stderr := runCmd(t, "--log-level", "warn", "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	first, _, _ := strings.Cut(stdout, "\n")
	if !strings.Contains(first, "atalaya-demo-") || !strings.Contains(first, "deleted when the demo ends") || !strings.Contains(first, "--keep") {
		t.Errorf("demo's first line = %q; want the directory and that it is deleted unless --keep", first)
	}
}

// TestStatusLineKeepsLogsApart checks that a log line written while a
// progress line is shown clears it first and draws it again after.
func TestStatusLineKeepsLogsApart(t *testing.T) {
	var term bytes.Buffer
	s := &statusLine{w: &term}
	s.set("step %d", 1)
	s.Write([]byte("level=INFO msg=hello\n"))
	s.clear()
	want := "\r\033[Kstep 1" + "\r\033[K" + "level=INFO msg=hello\n" + "step 1" + "\r\033[K"
	if got := term.String(); got != want {
		t.Errorf("terminal got %q, want %q", got, want)
	}
}

// TestNoProgressWhenPiped checks that a command run with stderr not on a
// terminal writes nothing to stderr but errors and logs.
func TestNoProgressWhenPiped(t *testing.T) {
	code, _, stderr := runCmd(t, "--data", t.TempDir(), "--log-level", "warn", "generate", "--n", "20")
	if code != 0 || stderr != "" {
		t.Errorf("generate with piped stderr: exit %d, stderr %q; want nothing on stderr", code, stderr)
	}
}

// TestBadConfigFailsEveryCommand checks that a --config file that is
// missing or does not parse is an error for every command that reads the
// configuration, not only for those that name a source.
func TestBadConfigFailsEveryCommand(t *testing.T) {
	bad := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("sources: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := t.TempDir() + "/missing.yaml"
	for _, cfg := range []string{bad, missing} {
		for _, args := range [][]string{{"releases"}, {"sources"}, {"search", "x"}, {"reindex"}, {"rules", "check"}} {
			all := append([]string{"--config", cfg, "--data", t.TempDir()}, args...)
			code, stdout, stderr := runCmd(t, all...)
			if code != 1 || !strings.Contains(stderr, "--config "+cfg) || stdout != "" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 naming the file", strings.Join(all, " "), code, stdout, stderr)
			}
		}
	}
	if code, _, _ := runCmd(t, "--config", missing, "version"); code != 0 {
		t.Errorf("version with a missing --config: exit %d, want 0", code)
	}
}
