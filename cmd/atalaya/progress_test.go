package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// terminalEnv returns an env whose stderr is treated as a terminal: the
// progress line and the logs share term, as run sets them up on a
// terminal.
func terminalEnv(t *testing.T, term *bytes.Buffer) *env {
	t.Helper()
	e := &env{stdout: &bytes.Buffer{}, stderr: term, dataDir: t.TempDir()}
	e.status = &statusLine{w: term}
	e.logger = slog.New(slog.NewTextHandler(e.status, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return e
}

// logAfterProgress finds a log line drawn on the same line as progress
// text, without the line being cleared first.
var logAfterProgress = regexp.MustCompile(`[^\n\x1b\[K]time=`)

// checkTerminal checks that term shows progress matching want, that every
// log line starts on a line of its own, and that the progress line is
// cleared at the end.
func checkTerminal(t *testing.T, term string, want string) {
	t.Helper()
	if !strings.Contains(term, want) {
		t.Errorf("no progress %q on the terminal:\n%.3000q", want, term)
	}
	if m := logAfterProgress.FindStringIndex(term); m != nil {
		t.Errorf("a log line interleaves with the progress line at byte %d: %q", m[0], term[max(0, m[0]-80):m[1]+20])
	}
	if !strings.HasSuffix(term, "\r\033[K") {
		t.Errorf("the progress line is not cleared at the end: %q", term[max(0, len(term)-120):])
	}
}

// TestCrawlProgressKeepsLogsApart checks that crawl's progress goes
// through the status line, so that the crawl's log lines are written
// above it, never after it on the same line.
func TestCrawlProgressKeepsLogsApart(t *testing.T) {
	var term bytes.Buffer
	e := terminalEnv(t, &term)
	if err := runCrawl(context.Background(), e, []string{"--offline", "--source", "sre"}); err != nil {
		t.Logf("crawl: %v (the mirror fails some links on purpose)", err)
	}
	if !strings.Contains(term.String(), "time=") {
		t.Fatal("the crawl logged nothing: the test shows nothing")
	}
	checkTerminal(t, term.String(), "crawl: sre")
}

// TestBenchShowsProgress checks that bench shows progress on a terminal
// and clears it before printing its report.
func TestBenchShowsProgress(t *testing.T) {
	var term bytes.Buffer
	e := terminalEnv(t, &term)
	if err := runBench(context.Background(), e, []string{"--n", "50", "--runs", "2"}); err != nil {
		t.Fatal(err)
	}
	checkTerminal(t, term.String(), "bench: 1 of 50 releases indexed")
}

// TestRulesDiffAndReportShowProgress checks that rules diff and rules
// report count the archived releases they read on the status line.
func TestRulesDiffAndReportShowProgress(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "error", "crawl", "--offline", "--source", "sre"); code != 0 {
		t.Fatalf("crawl: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{
		{"diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml"},
		{"report"},
	} {
		var term bytes.Buffer
		e := terminalEnv(t, &term)
		e.dataDir = data
		if err := runRules(context.Background(), e, args); err != nil {
			t.Fatalf("rules %s: %v", args[0], err)
		}
		checkTerminal(t, term.String(), "rules "+args[0]+": archived releases read: 1")
	}
}
