package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// statusLine is a self-overwriting progress line on a terminal's stderr.
// Log lines are written through it: it clears the line, writes the log
// line, and draws the line again below it, so logs never overwrite or
// interleave with the progress. Safe for concurrent use.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	text  string
	drawn time.Time
}

// Write writes p (whole log lines) above the status line.
func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.text != "" {
		io.WriteString(s.w, "\r\033[K")
	}
	n, err := s.w.Write(p)
	if s.text != "" {
		io.WriteString(s.w, s.text)
	}
	return n, err
}

// set replaces the status line, at most ten times a second.
func (s *statusLine) set(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Sub(s.drawn) < 100*time.Millisecond {
		s.text = fmt.Sprintf(format, args...)
		return
	}
	s.drawn = now
	s.text = fmt.Sprintf(format, args...)
	fmt.Fprintf(s.w, "\r\033[K%s", s.text)
}

// clear removes the status line.
func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.text != "" {
		io.WriteString(s.w, "\r\033[K")
		s.text = ""
	}
}

// progress shows a status line on stderr when stderr is a terminal and
// does nothing otherwise, so that piped or redirected stderr holds only
// errors and logs.
func (e *env) progress(format string, args ...any) {
	if e.status != nil {
		e.status.set(format, args...)
	}
}

// progressDone clears the status line, if any.
func (e *env) progressDone() {
	if e.status != nil {
		e.status.clear()
	}
}
