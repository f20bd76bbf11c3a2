package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"atalaya"
	"atalaya/crawler"
	"atalaya/internal/mirror"
)

// reachableArticles counts the mirror's articles that the default sources
// reach, by canonical URL.
func reachableArticles(t *testing.T) map[string]mirror.Article {
	t.Helper()
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]mirror.Article{}
	for _, a := range m.Articles {
		want[crawler.Canonical(a.URL)] = a
	}
	return want
}

// archivedReleases lists what `atalaya releases --json` prints.
func archivedReleases(t *testing.T, dataDir string) []atalaya.Release {
	t.Helper()
	code, out, errOut := runCmd(t, "--data", dataDir, "releases", "--json")
	if code != 0 {
		t.Fatalf("releases: exit %d: %s", code, errOut)
	}
	var rels []atalaya.Release
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var r atalaya.Release
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, r)
	}
	return rels
}

func TestCrawlOfflineIsIncremental(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline")
	if code != 0 {
		t.Fatalf("first crawl: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	want := reachableArticles(t)
	rels := archivedReleases(t, data)
	got := map[string]bool{}
	for _, r := range rels {
		if got[r.URL] {
			t.Errorf("release %s listed twice", r.URL)
		}
		got[r.URL] = true
		if _, ok := want[r.URL]; !ok {
			t.Errorf("archived %s, which is not a mirror article", r.URL)
		}
	}
	for url := range want {
		if !got[url] {
			t.Errorf("mirror article %s was not archived", url)
		}
	}
	// The mirror's dead links are reported by the first crawl.
	if code, out, errOut := runCmd(t, "--data", data, "sources"); code != 0 || !strings.Contains(out, "HTTP 404") {
		t.Errorf("sources after the first crawl: exit %d, stderr %q; want the 404s reported:\n%s", code, errOut, out)
	}

	// The mirror runs inside the process here, so the requests of the
	// second crawl are not visible; crawler's TestMirrorCrawl shows from the
	// server's log that it fetches no article page.
	code, out, errOut = runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline")
	if code != 0 {
		t.Fatalf("second crawl: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Columns: SOURCE NEW REVISED UNCHANGED FAILED GONE INDEXED STATUS.
	gone := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 || f[1] != "0" || f[2] != "0" || f[4] != "0" {
			t.Errorf("second crawl archived something new or revised, or failed: %q", line)
			continue
		}
		n, _ := strconv.Atoi(f[5])
		gone += n
	}
	if gone == 0 {
		t.Errorf("second crawl counted no gone links; the mirror's dead links must be skipped as gone:\n%s", out)
	}
	// A source whose every listing answered 304 says so.
	if !strings.Contains(out, "  no change\n") {
		t.Errorf("second crawl: no source reported \"no change\":\n%s", out)
	}
	if code, out, errOut := runCmd(t, "--data", data, "sources"); code != 0 || strings.Contains(out, "HTTP 404") {
		t.Errorf("sources after the second crawl: exit %d, stderr %q; want no 404 reported again:\n%s", code, errOut, out)
	}
	if n := len(archivedReleases(t, data)); n != len(rels) {
		t.Errorf("after the second crawl the archive holds %d releases, want %d", n, len(rels))
	}

	code, out, errOut = runCmd(t, "--data", data, "search", "--format", "jsonl", "label:kingpin")
	if code != 0 || !strings.Contains(out, `"`) {
		t.Errorf("search after crawl: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	checkArchiveCommands(t, data, rels[0])
}

// checkArchiveCommands runs the commands that read a filled archive.
func checkArchiveCommands(t *testing.T, data string, rel atalaya.Release) {
	t.Helper()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"rules", "explain", "--url", rel.URL}, []string{rel.Title, "label:"}},
		{[]string{"rules", "explain", string(rel.ID)}, []string{rel.Title}},
		{[]string{"rules", "report"}, []string{"co-firing", "dead rules"}},
		{[]string{"rules", "diff", "testdata/rules-ok/old.yaml", "testdata/rules-ok/new.yaml"}, []string{"== archive", "change label"}},
		{[]string{"sources"}, []string{"state", "GONE"}},
		{[]string{"reclassify"}, []string{"reclassified with rules"}},
		{[]string{"reindex"}, []string{"indexed"}},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, append([]string{"--data", data}, tt.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d, stderr %s", tt.args, code, errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
	code, _, errOut := runCmd(t, "--data", t.TempDir(), "releases")
	if code == 0 || !strings.Contains(errOut, "run 'atalaya crawl' first") {
		t.Errorf("releases on an empty data dir: exit %d, stderr %q; want advice to crawl first", code, errOut)
	}
}

func TestCrawlUnknownSource(t *testing.T) {
	code, _, errOut := runCmd(t, "--data", t.TempDir(), "crawl", "--offline", "--source", "nosuch")
	if code == 0 || !strings.Contains(errOut, "nosuch") || !strings.Contains(errOut, "state") {
		t.Errorf("crawl --source nosuch: exit %d, stderr %q; want an error naming the valid sources", code, errOut)
	}
}

func TestDemoRunsOffline(t *testing.T) {
	code, out, errOut := runCmd(t, "--log-level", "warn", "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"state", "treasury", "ofac", "sre", "presidencia", "sspc", "fgr", "salud", "KINGPIN", "ROOT_CAUSE", "$ atalaya search"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// TestCrawlKilledMidwayArchivesOnce kills the real binary with SIGKILL
// while it crawls, twice, then lets a third run finish: every mirror release
// must be archived, and each exactly once.
func TestCrawlKilledMidwayArchivesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := filepath.Join(t.TempDir(), "atalaya")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	warcDir := filepath.Join(data, "archive", "warc")
	for _, killAt := range []int64{30_000, 120_000} {
		cmd := exec.Command(bin, "--data", data, "--log-level", "error", "crawl", "--offline")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := waitAndKill(t, cmd, done, func() bool { n, _ := dirSize(warcDir); return n >= killAt })
		if !killed {
			t.Logf("crawl finished before %d archived bytes; the kill was not mid-run", killAt)
		}
	}
	code, out, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline")
	if code != 0 {
		t.Fatalf("crawl after kills: exit %d\n%s\n%s", code, out, errOut)
	}
	want := reachableArticles(t)
	// WARC records name the URL fetched, which may carry ?idiom=es.
	counts := warcResponses(t, warcDir)
	for url, n := range counts {
		if n != 1 {
			t.Errorf("%s archived %d times, want exactly once", url, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("WARC files hold %d pages, want the %d mirror articles", len(counts), len(want))
		for url := range want {
			if counts[url] == 0 && counts[url+"?idiom=es"] == 0 && counts[url+"/"] == 0 && counts[url+"?idiom=en"] == 0 {
				t.Errorf("missing: %s", url)
			}
		}
	}
	if n := len(archivedReleases(t, data)); n != len(want) {
		t.Errorf("archive lists %d releases, want %d", n, len(want))
	}
	if n := indexedCount(t, data); n != len(want) {
		t.Errorf("index holds %d releases, want %d: a release archived before a kill must still be indexed", n, len(want))
	}
}

// indexedCount is how many releases `atalaya search --json` finds in all.
func indexedCount(t *testing.T, data string) int {
	t.Helper()
	code, out, errOut := runCmd(t, "--data", data, "search", "--json", "")
	if code != 0 {
		t.Fatalf("search: exit %d: %s", code, errOut)
	}
	var res struct{ Total int }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("search --json: %v\n%s", err, out)
	}
	return res.Total
}

// waitAndKill polls until cond holds, then kills the process; it reports
// whether the process was killed before it exited by itself.
func waitAndKill(t *testing.T, cmd *exec.Cmd, done <-chan error, cond func() bool) bool {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return false
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("crawl did not progress in 2 minutes")
		case <-tick.C:
			if cond() {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				return true
			}
		}
	}
}

// warcResponses counts the response records per target URI in every WARC
// file of dir.
func warcResponses(t *testing.T, dir string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	files, err := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no WARC files in %s (%v)", dir, err)
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var typ, uri string
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			switch {
			case strings.HasPrefix(line, "WARC/1."):
				typ, uri = "", ""
			case strings.HasPrefix(line, "WARC-Type: "):
				typ = strings.TrimPrefix(line, "WARC-Type: ")
			case strings.HasPrefix(line, "WARC-Target-URI: "):
				uri = strings.TrimPrefix(line, "WARC-Target-URI: ")
				if typ == "response" {
					counts[uri]++
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f.Close()
	}
	return counts
}

// TestReindexKilledMidwayKeepsIndex kills the real binary with SIGKILL
// while it rebuilds the index: the old index must still answer, and the
// next rebuild must succeed.
func TestReindexKilledMidwayKeepsIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := filepath.Join(t.TempDir(), "atalaya")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	const n = 3000
	for _, args := range [][]string{{"generate", "--n", "3000"}, {"reindex"}} {
		if code, _, errOut := runCmd(t, append([]string{"--data", data, "--log-level", "warn"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	if got := indexedCount(t, data); got != n {
		t.Fatalf("index holds %d releases before the rebuild, want %d", got, n)
	}
	cmd := exec.Command(bin, "--data", data, "--log-level", "error", "reindex")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	current, err := filepath.EvalSymlinks(filepath.Join(data, "index"))
	if err != nil {
		t.Fatal(err)
	}
	// building reports whether the new generation holds part of the index.
	building := func() bool {
		gens, _ := filepath.Glob(filepath.Join(data, "index.gen-*"))
		for _, g := range gens {
			if n, _ := dirSize(g); g != current && n > 256<<10 {
				return true
			}
		}
		return false
	}
	if !waitAndKill(t, cmd, done, building) {
		t.Log("the rebuild finished before it could be killed")
	}
	if got := indexedCount(t, data); got != n {
		t.Errorf("after a killed rebuild the index answers with %d releases, want %d", got, n)
	}
	if code, out, errOut := runCmd(t, "--data", data, "--log-level", "warn", "reindex"); code != 0 || !strings.Contains(out, "indexed 3000 releases") {
		t.Errorf("reindex after the kill: exit %d, %q, %q", code, out, errOut)
	}
	if got := indexedCount(t, data); got != n {
		t.Errorf("after a full rebuild the index holds %d releases, want %d", got, n)
	}
}

// TestLostStateRebuilt checks that a data directory whose state.db was
// lost is rebuilt from its WARC files by the next command that reads it:
// releases lists every release again, and reindex rebuilds the index from
// them.
func TestLostStateRebuilt(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "warn", "crawl", "--offline"); code != 0 {
		t.Fatalf("crawl: %s", errOut)
	}
	_, before, _ := runCmd(t, "--data", data, "releases")
	state := filepath.Join(data, "archive", "state.db")
	if err := os.Rename(state, state+".lost"); err != nil {
		t.Fatal(err)
	}
	code, after, errOut := runCmd(t, "--data", data, "--log-level", "warn", "releases")
	if code != 0 {
		t.Fatalf("releases after state.db was lost: exit %d, stderr %s", code, errOut)
	}
	if after != before {
		t.Errorf("releases after state.db was rebuilt differ:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if code, _, errOut := runCmd(t, "--data", data, "--log-level", "warn", "reindex"); code != 0 {
		t.Fatalf("reindex after the rebuild: exit %d, stderr %s", code, errOut)
	}
	if got := searchJSON(t, data, "label:kingpin"); len(got.Hits) == 0 {
		t.Error("no kingpin release found after reindex")
	}
}
