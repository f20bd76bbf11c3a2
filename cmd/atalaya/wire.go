package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"atalaya"
	"atalaya/app"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/crawler"
	"atalaya/index"
	"atalaya/ingest"
)

// The archive is both the crawler's state and its sink, and ingest's archive;
// the rules are ingest's classifier.
var (
	_ crawler.State     = (*archive.Archive)(nil)
	_ crawler.Sink      = (*archive.Archive)(nil)
	_ ingest.Archive    = (*archive.Archive)(nil)
	_ ingest.Classifier = (*classify.Rules)(nil)
	_ ingest.Indexer    = indexer{}
)

func (e *env) archiveDir() string { return filepath.Join(e.dataDir, "archive") }
func (e *env) indexDir() string   { return filepath.Join(e.dataDir, "index") }

// openArchive opens the archive, creating it if there is none.
func (e *env) openArchive() (*archive.Archive, error) {
	return archive.Open(e.archiveDir(), archive.Options{Logger: e.logger})
}

// openExistingArchive opens the archive for commands that read it, and
// says what to do when there is none yet. An archive whose state.db is
// gone but whose WARC files are there exists: opening it rebuilds state.db
// from them.
func (e *env) openExistingArchive() (*archive.Archive, error) {
	_, err := os.Stat(filepath.Join(e.archiveDir(), "state.db"))
	if errors.Is(err, fs.ErrNotExist) {
		warcs, _ := filepath.Glob(filepath.Join(e.archiveDir(), "warc", "atalaya-*.warc.gz"))
		if len(warcs) == 0 {
			return nil, fmt.Errorf("no archive in %s yet: run 'atalaya crawl' first (or pass --data)", e.archiveDir())
		}
	}
	return e.openArchive()
}

func (e *env) openIndex() (*index.Index, error) {
	return index.Open(e.indexDir(), index.Options{Logger: e.logger})
}

// indexer adapts the index to ingest.Indexer, as the service does.
type indexer = app.Indexer

// ingestSources turns crawler sources into ingest sources that crawl with opts.
func ingestSources(srcs []crawler.Source, opts crawler.Options) []ingest.Source {
	out := make([]ingest.Source, len(srcs))
	for i, src := range srcs {
		out[i] = ingest.Source{ID: src.ID, Crawl: func(ctx context.Context, sink ingest.Sink) (atalaya.CrawlRun, error) {
			o := opts
			o.Sink = sink
			c, err := crawler.New(o)
			if err != nil {
				return atalaya.CrawlRun{}, fmt.Errorf("crawler for %s: %w", src.ID, err)
			}
			return c.Crawl(ctx, src)
		}}
	}
	return out
}
