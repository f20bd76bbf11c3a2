package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"atalaya/archive"
)

const archiveHelp = `Check the archive.

Subcommands:
  verify [--json]      read every record of every WARC file, checking its
                       framing, gzip checksum and digests, and that every
                       version state.db records reads; print what is damaged
                       and which releases it holds. Changes nothing. Exit 1
                       when anything is damaged or left alone.`

// runArchive runs "atalaya archive <subcommand>".
func runArchive(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "archive", archiveHelp, map[string]subcommand{"verify": archiveVerify}, args)
}

// archiveVerify runs "atalaya archive verify".
func archiveVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "archive verify", "archive verify [--json]")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := e.checkArchiveExists(); err != nil {
		return err
	}
	rep, err := archive.Verify(ctx, e.archiveDir(), archive.Options{Logger: e.logger})
	if err != nil {
		return err
	}
	if *asJSON {
		if rep.Damaged == nil {
			rep.Damaged = []archive.Damage{}
		}
		if rep.Problems == nil {
			rep.Problems = []archive.Problem{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printVerifyReport(e.stdout, e.archiveDir(), rep)
	}
	if !rep.Clean() {
		return fmt.Errorf("the archive in %s has %d damaged ranges and %d problems (listed above); readers skip the releases named, and `atalaya reindex` indexes everything else; restore the files named from a backup, or move them out of the warc directory", e.archiveDir(), len(rep.Damaged), len(rep.Problems))
	}
	return nil
}

// printVerifyReport writes rep as text.
func printVerifyReport(w io.Writer, dir string, rep archive.Report) {
	fmt.Fprintf(w, "archive %s: %d WARC files, %d records read (%d without digests), %d versions recorded in state.db\n",
		dir, rep.Files, rep.Records, rep.Undigested, rep.Versions)
	if rep.State != "" {
		fmt.Fprintf(w, "state.db: %s\n", rep.State)
	}
	for _, d := range rep.Damaged {
		fmt.Fprintf(w, "damaged: %s bytes %d to %d: %s", d.File, d.Offset, d.Offset+d.Length, d.Error)
		if len(d.Releases) > 0 {
			ids := make([]string, len(d.Releases))
			for i, id := range d.Releases {
				ids[i] = string(id)
			}
			fmt.Fprintf(w, "; releases %s", strings.Join(ids, ", "))
		}
		fmt.Fprintln(w)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "left alone: %s\n", p)
	}
	if rep.Clean() {
		fmt.Fprintln(w, "ok: no damage found")
	}
}

// checkArchiveExists says what to do when the data directory holds no
// archive yet. An archive whose state.db is gone but whose WARC files are
// there exists: opening it rebuilds state.db from them.
func (e *env) checkArchiveExists() error {
	_, err := os.Stat(filepath.Join(e.archiveDir(), "state.db"))
	if errors.Is(err, fs.ErrNotExist) {
		warcs, _ := filepath.Glob(filepath.Join(e.archiveDir(), "warc", "atalaya-*.warc.gz"))
		if len(warcs) == 0 {
			return fmt.Errorf("no archive in %s yet: run 'atalaya crawl' first (or pass --data)", e.archiveDir())
		}
	}
	return nil
}

// openArchiveReadOnly opens the archive for a command that only reads it:
// nothing in the data directory is written, so it cannot lose or change a
// byte, and it runs beside other readers (but not beside a crawl or
// `atalaya serve`, which hold the archive for writing). A lost state.db is
// rebuilt for this command only, outside the data directory.
func (e *env) openArchiveReadOnly() (*archive.Archive, error) {
	if err := e.checkArchiveExists(); err != nil {
		return nil, err
	}
	return archive.Open(e.archiveDir(), archive.Options{Logger: e.logger, ReadOnly: true})
}

// salvage passes over the releases whose records are damaged, saying which,
// so that a command goes on with everything readable.
type salvage struct {
	w       io.Writer // where each skipped release is reported
	skipped int
}

// skip reports err and returns true when it is a damaged record, which the
// caller passes over; any other error is the caller's.
func (s *salvage) skip(err error) bool {
	var damaged *archive.RecordError
	if !errors.As(err, &damaged) {
		return false
	}
	s.skipped++
	fmt.Fprintf(s.w, "atalaya: skipped release %s: %s at offset %d: %v\n", damaged.Release, damaged.File, damaged.Offset, damaged.Err)
	return true
}

// result returns the error that ends a command that skipped releases, or
// nil.
func (s *salvage) result() error {
	if s.skipped == 0 {
		return nil
	}
	return fmt.Errorf("%d releases skipped (listed above): their records in the WARC files are damaged; `atalaya archive verify` reports the damage", s.skipped)
}
