package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// observePut makes a's WARC syncs and state.db commits append to events,
// failing the sync with syncErr and the commit with commitErr when set.
func observePut(a *Archive, events *[]string, syncErr, commitErr error) {
	a.syncFile = func(f *os.File) error {
		*events = append(*events, "sync "+filepath.Base(f.Name()))
		if syncErr != nil {
			return syncErr
		}
		return f.Sync()
	}
	a.update = func(fn func(*bolt.Tx) error) error {
		*events = append(*events, "commit")
		if commitErr != nil {
			return commitErr
		}
		return a.db.Update(fn)
	}
}

// TestPutSyncsBeforeCommit: the WARC records of a Put are synced before
// state.db commits them.
func TestPutSyncsBeforeCommit(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	put(t, a, "sre", "https://sre.test/1", "one", time.Time{})
	var events []string
	observePut(a, &events, nil, nil)
	put(t, a, "sre", "https://sre.test/2", "two", time.Time{})
	want := []string{"sync atalaya-sre-00001.warc.gz", "commit"}
	if !slices.Equal(events, want) {
		t.Errorf("Put: got %q, want %q", events, want)
	}
}

// TestPutFailures: a Put whose WARC sync or state.db commit fails returns
// the error, records no version, and leaves the file at its committed
// length; the next Put archives the release.
func TestPutFailures(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name               string
		syncErr, commitErr error
		wantEvents         []string
	}{
		{"sync fails", errDisk, nil, []string{"sync atalaya-sre-00001.warc.gz"}},
		{"commit fails", nil, errDisk, []string{"sync atalaya-sre-00001.warc.gz", "commit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			a := openTest(t, dir, Options{})
			put(t, a, "sre", "https://sre.test/1", "one", time.Time{})
			path := filepath.Join(dir, "warc", "atalaya-sre-00001.warc.gz")
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			var events []string
			observePut(a, &events, tt.syncErr, tt.commitErr)
			url := "https://sre.test/2"
			v, err := a.Put(ctx, testPage(url, "two"), testRelease("sre", url, "two", time.Time{}))
			if err == nil || !strings.Contains(err.Error(), errDisk.Error()) || v != 0 {
				t.Errorf("Put: got %d, %v, want 0 and the failure", v, err)
			}
			if !slices.Equal(events, tt.wantEvents) {
				t.Errorf("Put: got %q, want %q", events, tt.wantEvents)
			}
			if known, err := a.Known(ctx, url); err != nil || known {
				t.Errorf("Known after the failed Put: got %t, %v, want false", known, err)
			}
			if after, err := os.Stat(path); err != nil || after.Size() != before.Size() {
				t.Errorf("WARC file after the failed Put: %d bytes (%v), want its committed %d", after.Size(), err, before.Size())
			}
			observePut(a, &events, nil, nil)
			if v := put(t, a, "sre", url, "two", time.Time{}); v != 1 {
				t.Errorf("Put after the failure: got version %d, want 1", v)
			}
			a.Close()
			a = openTest(t, dir, Options{})
			if n, err := a.Count(ctx); err != nil || n != 2 {
				t.Errorf("Count after reopening: got %d, %v, want 2", n, err)
			}
		})
	}
}
