package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File string // file name as given to Parse
	Line int    // 1-based line of the offending key or value
	Path string // YAML path of the offending key: "sources[3].listing.item"; empty for syntax errors
	Msg  string
}

// String formats p as "file:line: path: message". Control characters
// (ESC, NUL, …) in any part, which may come from the file's bytes, are
// escaped as in Go strings ("\x1b"), so that a message never drives the
// terminal it is printed on.
func (p Problem) String() string {
	if p.Path == "" {
		return escapeControl(fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg))
	}
	return escapeControl(fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Path, p.Msg))
}

// escapeControl replaces each control character of s but the tab, and each
// byte that is not UTF-8, with its Go escape.
func escapeControl(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (unicode.IsControl(r) && r != '\t') || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Problems lists every problem found in a configuration file, in line
// order. It is the error [Parse] returns.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted returns ps without duplicates, ordered by line, path and message.
func (ps Problems) sorted() Problems {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
	return slices.Compact(out)
}
