// Package yamlguard bounds the size and nesting depth of a YAML document
// before it is decoded.
//
// YAML decoders can take time and memory far out of proportion to their
// input: github.com/goccy/go-yaml is quadratic in nesting depth, so 200 KB
// of "[[[[…" runs for minutes and takes gigabytes. [Check] scans the bytes
// once, in linear time and constant memory beyond the input, and rejects a
// document that is too large or nested too deeply, with the line where the
// limit is crossed. Configuration files and rules files call it before
// decoding.
//
// The scan counts block nesting by indentation (each deeper indentation, and
// each "- " or "? " indicator, is one level) and flow nesting by brackets
// ("[" and "{"), skipping comments, quoted scalars and block scalars (| and
// >). It needs no YAML library and imports only the standard library.
package yamlguard

import (
	"bytes"
	"fmt"
)

// Default limits: far above what a configuration or rules file needs (the
// embedded ones nest 6 levels and weigh under 100 KB), far below what makes
// a decoder slow.
const (
	DefaultMaxDepth = 32
	DefaultMaxSize  = 4 << 20
)

// Limits bounds a document. A zero field means its default.
type Limits struct {
	MaxDepth int // levels of mappings, sequences and flow collections inside one another
	MaxSize  int // bytes
}

// Error is a document over a limit. Line is 1-based; 0 for the size limit.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Check returns an [*Error] when data is larger than lim.MaxSize or nests
// deeper than lim.MaxDepth, and nil otherwise. It does not check that data
// is valid YAML: the decoder does that afterwards.
func Check(data []byte, lim Limits) error {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxSize <= 0 {
		lim.MaxSize = DefaultMaxSize
	}
	if len(data) > lim.MaxSize {
		return &Error{Msg: fmt.Sprintf("the file is %d bytes, more than the limit of %d", len(data), lim.MaxSize)}
	}
	s := scanner{max: lim.MaxDepth, scalarIndent: -1}
	for n, line := range bytes.Split(data, []byte("\n")) {
		s.line = n + 1
		if err := s.scanLine(bytes.TrimSuffix(line, []byte("\r"))); err != nil {
			return err
		}
	}
	return nil
}

// scanner is the state carried from line to line.
type scanner struct {
	max   int
	line  int
	block []int // indentation columns of the enclosing block nodes
	flow  int   // depth of open flow collections
	// quote is the quote character of a quoted scalar still open at the
	// end of the previous line, or 0.
	quote byte
	// scalarIndent is the indentation of the line that opened a block
	// scalar (| or >): lines indented further are its text. -1 for none.
	scalarIndent int
}

func (s *scanner) tooDeep() error {
	return &Error{Line: s.line, Msg: fmt.Sprintf("lists and mappings nested more than %d levels deep; a configuration or rules file never needs that many", s.max)}
}

// depth checks the current nesting depth.
func (s *scanner) depth() error {
	if len(s.block)+s.flow > s.max {
		return s.tooDeep()
	}
	return nil
}

func (s *scanner) scanLine(line []byte) error {
	indent := 0
	for indent < len(line) && (line[indent] == ' ' || line[indent] == '\t') {
		indent++
	}
	blank := indent == len(line) || line[indent] == '#'
	if s.scalarIndent >= 0 {
		if blank || indent > s.scalarIndent {
			return nil
		}
		s.scalarIndent = -1
	}
	if s.quote != 0 {
		i, closed := skipQuote(line, 0, s.quote)
		if !closed {
			return nil
		}
		s.quote = 0
		if s.flow > 0 {
			return s.scanFlow(line, i)
		}
		return s.afterScalar(line, i, indent)
	}
	if s.flow > 0 {
		return s.scanFlow(line, 0)
	}
	if blank {
		return nil
	}
	if indent == 0 && (bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || line[0] == '%') {
		s.block = s.block[:0]
		return nil
	}
	for len(s.block) > 0 && s.block[len(s.block)-1] > indent {
		s.block = s.block[:len(s.block)-1]
	}
	if len(s.block) == 0 || s.block[len(s.block)-1] < indent {
		s.block = append(s.block, indent)
		if err := s.depth(); err != nil {
			return err
		}
	}
	return s.value(line, indent, indent)
}

// value scans a block-context node that starts at line[i]; indent is the
// line's indentation.
func (s *scanner) value(line []byte, i, indent int) error {
	for {
		i = skipSpace(line, i)
		if i >= len(line) {
			return nil
		}
		switch c := line[i]; {
		case (c == '-' || c == '?') && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t'):
			// A sequence entry or complex key: one level, whose content
			// starts after the indicator.
			next := skipSpace(line, i+1)
			s.block = append(s.block, next)
			if err := s.depth(); err != nil {
				return err
			}
			i = next
		case c == '"' || c == '\'':
			end, closed := skipQuote(line, i+1, c)
			if !closed {
				s.quote = c
				return nil
			}
			return s.afterScalar(line, end, indent)
		case c == '[' || c == '{':
			return s.scanFlow(line, i)
		case c == '|' || c == '>':
			s.scalarIndent = indent
			return nil
		case c == '&' || c == '!':
			i = skipToken(line, i)
		case c == '#' || c == '*':
			return nil
		default:
			return s.afterScalar(line, plainEnd(line, i), indent)
		}
	}
}

// afterScalar goes on after a scalar that ends at line[i]: a ':' makes it a
// key, and a value may follow on the same line.
func (s *scanner) afterScalar(line []byte, i, indent int) error {
	i = skipSpace(line, i)
	if i < len(line) && line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
		return s.value(line, i+1, indent)
	}
	return nil
}

// scanFlow scans line from i inside (or at the start of) a flow collection.
func (s *scanner) scanFlow(line []byte, i int) error {
	for ; i < len(line); i++ {
		switch c := line[i]; c {
		case '[', '{':
			s.flow++
			if err := s.depth(); err != nil {
				return err
			}
		case ']', '}':
			if s.flow > 0 {
				s.flow--
			}
			if s.flow == 0 {
				return nil // what follows on the line is a comment, or an error for the decoder
			}
		case '"', '\'':
			if i > 0 && !bytes.ContainsRune([]byte("[{,: \t"), rune(line[i-1])) {
				continue
			}
			end, closed := skipQuote(line, i+1, c)
			if !closed {
				s.quote = c
				return nil
			}
			i = end - 1
		case '#':
			if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' {
				return nil
			}
		}
	}
	return nil
}

// skipQuote returns the index just past the closing quote q of a quoted
// scalar whose text starts at line[i], and whether it closes on this line.
func skipQuote(line []byte, i int, q byte) (int, bool) {
	for ; i < len(line); i++ {
		switch {
		case q == '"' && line[i] == '\\':
			i++
		case line[i] == q && q == '\'' && i+1 < len(line) && line[i+1] == '\'':
			i++ // '' is an escaped quote
		case line[i] == q:
			return i + 1, true
		}
	}
	return len(line), false
}

// plainEnd returns the end of a plain scalar starting at line[i]: a ": ",
// a " #" or the end of the line.
func plainEnd(line []byte, i int) int {
	for ; i < len(line); i++ {
		switch line[i] {
		case ':':
			if i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t' {
				return i
			}
		case '#':
			if i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
				return len(line)
			}
		}
	}
	return i
}

func skipSpace(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i
}

func skipToken(line []byte, i int) int {
	for i < len(line) && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	return i
}
