package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readmeMarker precedes each README code block whose commands are run by
// TestREADMECommands.
const readmeMarker = "<!-- tested -->"

// readmeCommand is one command line of a tested README block.
type readmeCommand struct {
	line int
	text string
	args []string // after "atalaya" or "go run ./cmd/atalaya"
	code int      // expected exit status: 0 unless the line ends "# exit N"
}

// TestREADMECommands runs every command of the README's tested blocks
// against a data directory holding the crawled mirror, so that an example
// that breaks fails the tests.
func TestREADMECommands(t *testing.T) {
	cmds := readmeCommands(t, "../../README.md")
	if len(cmds) == 0 {
		t.Fatal("README.md has no tested command blocks")
	}
	data := t.TempDir()
	t.Setenv("ATALAYA_DATA", data)
	t.Chdir("../..") // README paths are relative to the repository root
	// The mirror holds links that fail on purpose, so the crawl may exit 1;
	// what matters is that it archived the mirror's releases.
	runCmd(t, "--log-level", "warn", "crawl", "--offline")
	if n := len(archivedReleases(t, data)); n == 0 {
		t.Fatal("crawl --offline archived nothing")
	}
	for _, c := range cmds {
		t.Run(strconv.Itoa(c.line), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"--log-level", "warn"}, c.args...)...)
			if code != c.code {
				t.Errorf("README.md:%d: %s\nexit %d, want %d\nstdout: %.2000s\nstderr: %.2000s", c.line, c.text, code, c.code, stdout, stderr)
			}
		})
	}
}

// readmeCommands reads the commands of the code blocks that follow
// readmeMarker.
func readmeCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCommand
	marked, inBlock := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == readmeMarker:
			marked = true
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock && marked
			if !inBlock {
				marked = false
			}
		case inBlock && line != "" && !strings.HasPrefix(line, "#"):
			cmds = append(cmds, parseReadmeCommand(t, n, line))
		}
	}
	return cmds
}

func parseReadmeCommand(t *testing.T, n int, line string) readmeCommand {
	t.Helper()
	c := readmeCommand{line: n, text: line}
	text := line
	if i := strings.Index(text, " # "); i >= 0 {
		comment := strings.TrimSpace(text[i+3:])
		text = text[:i]
		if rest, ok := strings.CutPrefix(comment, "exit "); ok {
			code, err := strconv.Atoi(strings.TrimRight(strings.Fields(rest)[0], ":"))
			if err != nil {
				t.Fatalf("README.md:%d: bad exit annotation %q", n, comment)
			}
			c.code = code
		}
	}
	words, err := shellWords(text)
	if err != nil {
		t.Fatalf("README.md:%d: %v", n, err)
	}
	switch {
	case len(words) > 0 && words[0] == "atalaya":
		c.args = words[1:]
	case len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/atalaya":
		c.args = words[3:]
	default:
		t.Fatalf("README.md:%d: a tested block may hold only atalaya commands, not %q", n, line)
	}
	return c
}

// shellWords splits a command line as a POSIX shell would for the simple
// lines the README uses: words, 'single' and "double" quotes.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("|&;<>$`\\", r):
			return nil, &shellError{s}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, &shellError{s}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// shellError is a README command line that needs more than words and quotes.
type shellError struct{ line string }

func (e *shellError) Error() string {
	return "tested README commands are plain words and quotes, without pipes, redirections or variables: " + e.line
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `atalaya search fentanyl`, want: []string{"atalaya", "search", "fentanyl"}},
		{in: `atalaya search 'label:kingpin OR "arms trafficking"' --size 3`, want: []string{"atalaya", "search", `label:kingpin OR "arms trafficking"`, "--size", "3"}},
		{in: `atalaya search "" x`, want: []string{"atalaya", "search", "", "x"}},
		{in: `atalaya releases | head`, bad: true},
		{in: `atalaya search 'open`, bad: true},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.in)
		if (err != nil) != tt.bad || !tt.bad && strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
			t.Errorf("shellWords(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestREADMEGoldExample checks that the README's example gold file is
// read by rules eval as it is written.
func TestREADMEGoldExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "### Gold files")
	_, block, ok2 := strings.Cut(after, "```json\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no json block under '### Gold files'")
	}
	gold := t.TempDir() + "/gold.jsonl"
	if err := os.WriteFile(gold, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "rules", "eval", "--gold", gold)
	if code != 0 || !strings.Contains(stdout, "3 releases") {
		t.Errorf("rules eval of the README's gold example: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
