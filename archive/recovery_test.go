package archive

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

var errCrash = errors.New("simulated crash")

// crashPut runs a Put that stops, as a crash would, after its WARC records
// are written and before state.db commits, then closes the archive without
// any cleanup.
func crashPut(t *testing.T, a *Archive, url, body string) {
	t.Helper()
	a.beforeCommit = func() error { return errCrash }
	_, err := a.Put(context.Background(), testPage(url, body), testRelease("sre", url, body, time.Time{}))
	if !errors.Is(err, errCrash) {
		t.Fatalf("crashing Put: got %v, want the simulated crash", err)
	}
	a.db.Close()
	for _, w := range a.writers {
		w.f.Close()
	}
}

func appendBytes(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func TestCrashRecovery(t *testing.T) {
	const url1, url2 = "https://sre.test/1", "https://sre.test/2"
	file1 := filepath.Join("warc", "atalaya-sre-00001.warc.gz")
	tests := []struct {
		name string
		// crash leaves the archive in dir as a killed process would; the
		// archive is open with one release (url1, "one") archived.
		crash func(t *testing.T, a *Archive, dir string)
		// then runs after reopening; it returns the version Put returned.
		url, body   string
		wantVersion int
		wantWARC    []string
	}{
		{
			name:        "new release written, not committed: adopted",
			crash:       func(t *testing.T, a *Archive, dir string) { crashPut(t, a, url2, "two") },
			url:         url2,
			body:        "two",
			wantVersion: 0,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "response " + url2, "metadata " + url2},
		},
		{
			name:        "revision written, not committed: adopted",
			crash:       func(t *testing.T, a *Archive, dir string) { crashPut(t, a, url1, "one, revised") },
			url:         url1,
			body:        "one, revised",
			wantVersion: 0,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "response " + url1, "metadata " + url1},
		},
		{
			name: "new file started and written, not committed: adopted",
			crash: func(t *testing.T, a *Archive, dir string) {
				a.writers["sre"].max = 1 // the next Put starts atalaya-sre-00002
				crashPut(t, a, url2, "two")
			},
			url:         url2,
			body:        "two",
			wantVersion: 0,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "warcinfo", "response " + url2, "metadata " + url2},
		},
		{
			name: "torn record past the committed length",
			crash: func(t *testing.T, a *Archive, dir string) {
				crashPut(t, a, url2, "two")
				path := filepath.Join(dir, file1)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				os.Truncate(path, fi.Size()-10) // the metadata record is cut short
			},
			url:         url2,
			body:        "two",
			wantVersion: 1,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "response " + url2, "metadata " + url2},
		},
		{
			name: "partial record at the tail",
			crash: func(t *testing.T, a *Archive, dir string) {
				a.Close()
				appendBytes(t, filepath.Join(dir, file1), []byte("\x1f\x8b\x08\x00 half a gzip member"))
			},
			url:         url2,
			body:        "two",
			wantVersion: 1,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "response " + url2, "metadata " + url2},
		},
		{
			name: "crash after commit",
			crash: func(t *testing.T, a *Archive, dir string) {
				put(t, a, "sre", url2, "two", time.Time{})
				a.db.Close()
				a.writers["sre"].f.Close()
			},
			url:         url2,
			body:        "two",
			wantVersion: 0,
			wantWARC:    []string{"warcinfo", "response " + url1, "metadata " + url1, "response " + url2, "metadata " + url2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			a, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			put(t, a, "sre", url1, "one", time.Time{})
			tt.crash(t, a, dir)

			a = openTest(t, dir, Options{})
			wantKnown := tt.wantVersion != 1 // only a first version is unknown before its Put
			if known, err := a.Known(ctx, tt.url); err != nil || known != wantKnown {
				t.Errorf("Known(%s) after recovery: got %t, %v, want %t", tt.url, known, err, wantKnown)
			}
			if got := put(t, a, "sre", tt.url, tt.body, time.Time{}); got != tt.wantVersion {
				t.Errorf("Put after recovery: got version %d, want %d", got, tt.wantVersion)
			}
			if diff := cmp.Diff(tt.wantWARC, warcRecords(t, dir)); diff != "" {
				t.Errorf("WARC records mismatch (-want +got):\n%s", diff)
			}
			for rel, err := range a.Releases(ctx, Filter{}) {
				if err != nil {
					t.Errorf("Releases: %v", err)
				}
				if _, err := a.Page(ctx, rel.ID, 0); err != nil {
					t.Errorf("Page(%s): %v", rel.URL, err)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr []string
	}{
		{
			name: "corrupt state.db",
			setup: func(t *testing.T, dir string) {
				data := []byte(strings.Repeat("this is not a bbolt database\n", 1000))
				if err := os.WriteFile(filepath.Join(dir, "state.db"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: []string{"state.db", "not a valid state database", "move it aside", "rebuilds it from the WARC files"},
		},
		{
			name: "short garbage state.db",
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "state.db"), []byte("garbage"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: []string{"state.db", "not a valid state database"},
		},
		{
			name: "committed WARC file missing",
			setup: func(t *testing.T, dir string) {
				a := openTest(t, dir, Options{})
				put(t, a, "sre", "https://sre.test/1", "one", time.Time{})
				a.Close()
				os.Remove(filepath.Join(dir, "warc", "atalaya-sre-00001.warc.gz"))
			},
			wantErr: []string{"atalaya-sre-00001.warc.gz", "missing"},
		},
		{
			name: "committed WARC bytes lost",
			setup: func(t *testing.T, dir string) {
				a := openTest(t, dir, Options{})
				put(t, a, "sre", "https://sre.test/1", "one", time.Time{})
				a.Close()
				os.Truncate(filepath.Join(dir, "warc", "atalaya-sre-00001.warc.gz"), 10)
			},
			wantErr: []string{"atalaya-sre-00001.warc.gz", "records were lost"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			a, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				a.Close()
				t.Fatal("Open: got nil error")
			}
			for _, want := range append(tt.wantErr, "archive: ") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open: got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, Options{})
	a, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		a.Close()
		t.Fatal("second Open: got nil error, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: got %v, want ErrLocked", err)
	}
	for _, want := range []string{filepath.Join(dir, "state.db"), "another atalaya process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open: got error %q, want it to contain %q", err, want)
		}
	}
}

// TestConcurrentPuts runs Puts from several goroutines (for -race) and
// checks that each release is archived once.
func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openTest(t, dir, Options{})
	sources := []atalaya.SourceID{"sre", "ofac", "state"}
	errs := make(chan error, len(sources)*2)
	for _, src := range sources {
		for range 2 { // two goroutines put the same releases
			go func() {
				for i := range 10 {
					url := "https://" + string(src) + ".test/" + string(rune('a'+i))
					_, err := a.Put(ctx, testPage(url, "b"), testRelease(src, url, "b", time.Time{}))
					if err != nil {
						errs <- err
						return
					}
					if _, err := a.Known(ctx, url); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
	}
	for range len(sources) * 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.Count(ctx); err != nil || n != 30 {
		t.Errorf("Count: got %d, %v, want 30", n, err)
	}
	if got := len(warcRecords(t, dir)); got != 3+30*2 {
		t.Errorf("WARC records: got %d, want %d", got, 3+30*2)
	}
}
