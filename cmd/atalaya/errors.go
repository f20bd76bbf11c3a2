package main

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
)

// packagePrefix matches the "pkg: " our packages put before their errors
// (STYLE.md), at the start of a message or after another ": ".
var packagePrefix = regexp.MustCompile(`(^|: )(archive|index|classify|config|crawler|ingest|digest|schedule|rulestore|app|api): `)

// userMessage is err's message as a user reads it: without the package
// prefixes that the layers it passed through put before it, so that
// "archive: release x: archive: release not found" reads "release x:
// release not found".
func userMessage(err error) string {
	return packagePrefix.ReplaceAllString(err.Error(), "$1")
}

// fileError is a file a command was given that cannot be read, said in
// one sentence: "gold file g.jsonl does not exist".
type fileError struct {
	what, path string // "gold file", "g.jsonl"
	err        error
}

func (e *fileError) Error() string {
	var pe *fs.PathError
	switch {
	case errors.Is(e.err, fs.ErrNotExist):
		return fmt.Sprintf("%s %s does not exist", e.what, e.path)
	case errors.As(e.err, &pe):
		return fmt.Sprintf("%s %s cannot be read: %v", e.what, e.path, pe.Err)
	}
	return fmt.Sprintf("%s %s cannot be read: %v", e.what, e.path, e.err)
}

func (e *fileError) Unwrap() error { return e.err }

// notArchivedError is a release asked for by ID or URL that the archive
// does not hold.
type notArchivedError struct {
	by, key string // "id", "3f2a…"; or "URL", "https://…"
	err     error
}

func (e *notArchivedError) Error() string {
	return fmt.Sprintf("no archived release with %s %s; list them with 'atalaya releases'", e.by, e.key)
}

func (e *notArchivedError) Unwrap() error { return e.err }

// configError says why the --config file does not load.
func configError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--config %s: the file does not exist; name an existing configuration file, or leave --config out to use the embedded one", path)
	}
	return fmt.Errorf("--config %s: %w", path, err)
}
