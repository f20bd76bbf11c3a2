package archive

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// killHelperEnv names the archive directory of the crawl TestKillHelper runs
// in a child process.
const killHelperEnv = "ATALAYA_ARCHIVE_KILL_HELPER"

// killCrawlSize is how many releases the simulated crawl archives.
const killCrawlSize = 100

// TestKillHelper is not a test: run by TestSIGKILL in a child process, it
// plays a crawl that archives releases 0, 1, … (skipping known ones) and
// prints each index once its Put returned, until it is killed.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv(killHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestSIGKILL")
	}
	ctx := context.Background()
	a, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler), MaxFileSize: 64 << 10})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := range killCrawlSize {
		page, rel := synthetic(i)
		known, err := a.Known(ctx, rel.URL)
		if err == nil && !known {
			_, err = a.Put(ctx, page, rel)
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("put", i)
	}
	a.Close()
	fmt.Println("done")
	os.Exit(0)
}

// TestSIGKILL kills a crawling process at several points and restarts it:
// in the end every release is archived exactly once.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	for _, killAfter := range []int{3, 30, 31, 70, -1} { // -1: let it finish
		reported := runKillHelper(t, dir, killAfter)
		var logs strings.Builder
		a, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), LockTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("reopening after kill at %d: %v", killAfter, err)
		}
		n, _ := a.Count(context.Background())
		t.Logf("killed after %d puts reported, %d archived; recovery: %s", reported, n, logs.String())
		for i := range reported {
			_, rel := synthetic(i)
			if known, err := a.Known(context.Background(), rel.URL); err != nil || !known {
				t.Errorf("kill at %d: release %d reported put but Known: %t, %v", killAfter, i, known, err)
			}
		}
		a.Close()
	}
	want := []string{}
	for i := range killCrawlSize {
		_, rel := synthetic(i)
		want = append(want, "response "+rel.URL, "metadata "+rel.URL)
	}
	var got []string
	for _, r := range warcRecords(t, dir) {
		if r != "warcinfo" {
			got = append(got, r)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WARC records after kills and restarts mismatch (-want +got):\n%s", diff)
	}
	a := openTest(t, dir, Options{})
	if n, err := a.Count(context.Background()); err != nil || n != killCrawlSize {
		t.Errorf("Count: got %d, %v, want %d", n, err, killCrawlSize)
	}
}

// runKillHelper runs the crawl in a child process on dir and SIGKILLs it once
// it has reported killAfter puts (never when killAfter < 0). It returns how
// many puts the child reported.
func runKillHelper(t *testing.T, dir string, killAfter int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Errorf("child: %s", line)
		}
		if strings.HasPrefix(line, "put ") {
			reported++
		}
		if reported == killAfter {
			cmd.Process.Kill() // SIGKILL on Unix
			break
		}
	}
	cmd.Wait()
	return reported
}
