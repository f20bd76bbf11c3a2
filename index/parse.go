package index

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// An Expr is a parsed query: one of [*And], [*Or], [*Not], [*Term],
// [*Phrase] and [*DateRange]. Its String method prints it in the query
// language, so that Parse(e.String()) returns an equal Expr.
type Expr interface {
	String() string
	expr()
}

// And matches the releases that match every one of X.
type And struct{ X []Expr }

// Or matches the releases that match at least one of X.
type Or struct{ X []Expr }

// Not matches the releases that do not match X.
type Not struct{ X Expr }

// Term matches a word in a text field or a value of a keyword field. Field is
// "" for the title and body, "title", "body", or a keyword field such as
// "label". When Prefix is set, Text is a prefix: "extradi*".
type Term struct {
	Field  string
	Text   string
	Prefix bool
}

// Phrase matches words in this order in a text field, or a whole value of a
// keyword field ("agency:\"Department of State\"").
type Phrase struct {
	Field string
	Text  string
}

// DateRange matches releases published between From and To, both inclusive
// days. A zero From or To leaves that end open.
type DateRange struct {
	Field    string
	From, To time.Time
}

func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}
func (*Term) expr()      {}
func (*Phrase) expr()    {}
func (*DateRange) expr() {}

func (e *And) String() string { return joinExprs(e.X, " AND ") }
func (e *Or) String() string  { return joinExprs(e.X, " OR ") }
func (e *Not) String() string { return "NOT " + e.X.String() }

func (e *Term) String() string {
	s := e.Text
	if e.Prefix {
		s += "*"
	}
	return fieldPrefix(e.Field) + s
}

func (e *Phrase) String() string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return fieldPrefix(e.Field) + `"` + r.Replace(e.Text) + `"`
}

func (e *DateRange) String() string {
	return fmt.Sprintf("%s:[%s TO %s]", e.Field, formatDay(e.From), formatDay(e.To))
}

func joinExprs(xs []Expr, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

func fieldPrefix(field string) string {
	if field == "" {
		return ""
	}
	return field + ":"
}

func formatDay(t time.Time) string {
	if t.IsZero() {
		return "*"
	}
	return t.Format(time.DateOnly)
}

// SyntaxError is a query that does not parse. Pos is the byte offset in the
// query where the problem was found.
type SyntaxError struct {
	Query string
	Pos   int
	Msg   string
}

// Error reports the line and column (1-based, in characters) of the problem:
// `query:1:14: expected ")"`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("query:%s: %s", position(e.Query, e.Pos), e.Msg)
}

// position returns "line:column" of the byte offset pos in s, both 1-based;
// the column counts characters, not bytes.
func position(s string, pos int) string {
	line, col := 1, pos+1
	if pos >= 0 && pos <= len(s) {
		before := s[:pos]
		line += strings.Count(before, "\n")
		col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	}
	return fmt.Sprintf("%d:%d", line, col)
}

// Fields of the query language, beside the text fields "title" and "body".
var (
	keywordFields = []string{"label", "theme", "rule", "source", "agency", "country", "language", "year"}
	textFields    = []string{"title", "body"}
	dateFields    = []string{"published"}
)

// Parse parses a query in the query language that QUERY.md describes. It
// never panics; a query that does not parse gives a *SyntaxError.
func Parse(query string) (Expr, error) {
	p := &parser{lex: lexer{src: query}}
	p.next()
	if p.tok.kind == tokEOF {
		return nil, p.errorf(p.tok.pos, "empty query")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected()
	}
	return e, nil
}

type parser struct {
	lex lexer
	tok token
}

func (p *parser) next() { p.tok = p.lex.next() }

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Query: p.lex.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unexpected() error {
	switch p.tok.kind {
	case tokError:
		return p.errorf(p.tok.pos, "%s", p.tok.text)
	case tokEOF:
		return p.errorf(p.tok.pos, "unexpected end of query")
	}
	return p.errorf(p.tok.pos, "unexpected %s", p.tok.describe())
}

// parseOr parses and ("OR" and)*.
func (p *parser) parseOr() (Expr, error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	xs := []Expr{x}
	for p.tok.kind == tokOr {
		opPos := p.tok.pos
		p.next()
		if !p.tok.startsOperand() {
			return nil, p.danglingOperator("OR", opPos)
		}
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &Or{X: xs}, nil
}

// parseAnd parses unary (["AND"] unary)*: terms side by side are ANDed.
func (p *parser) parseAnd() (Expr, error) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	xs := []Expr{x}
	for {
		if p.tok.kind == tokAnd {
			opPos := p.tok.pos
			p.next()
			if !p.tok.startsOperand() {
				return nil, p.danglingOperator("AND", opPos)
			}
		} else if !p.tok.startsOperand() {
			break
		}
		y, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &And{X: xs}, nil
}

func (p *parser) danglingOperator(op string, opPos int) error {
	if p.tok.kind == tokEOF {
		return p.errorf(p.tok.pos, "expected a term after %s at %s", op, position(p.lex.src, opPos))
	}
	if p.tok.kind == tokError {
		return p.unexpected()
	}
	return p.errorf(p.tok.pos, "expected a term after %s, found %s", op, p.tok.describe())
}

// parseUnary parses ("NOT" | "-")* primary.
func (p *parser) parseUnary() (Expr, error) {
	if p.tok.kind == tokNot || p.tok.kind == tokMinus {
		op, opPos := p.tok.describe(), p.tok.pos
		p.next()
		if !p.tok.startsOperand() {
			return nil, p.danglingOperator(op, opPos)
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.tok
	switch t.kind {
	case tokLParen:
		p.next()
		if p.tok.kind == tokRParen {
			return nil, p.errorf(p.tok.pos, "empty parentheses")
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokError {
				return nil, p.unexpected()
			}
			return nil, p.errorf(p.tok.pos, `expected ")" to close "(" at %s`, position(p.lex.src, t.pos))
		}
		p.next()
		return x, nil
	case tokWord, tokPhrase:
		p.next()
		return p.value("", t)
	case tokField:
		return p.parseField()
	}
	return nil, p.unexpected()
}

// parseField parses what follows "field:".
func (p *parser) parseField() (Expr, error) {
	f := p.tok
	name := f.text
	if !slices.Contains(keywordFields, name) && !slices.Contains(textFields, name) && !slices.Contains(dateFields, name) {
		return nil, p.errorf(f.pos, "unknown field %q; fields are %s", name,
			strings.Join(slices.Concat(textFields, keywordFields, dateFields), ", "))
	}
	p.lex.afterField = true
	p.next()
	v := p.tok
	switch v.kind {
	case tokWord, tokPhrase, tokRange, tokCompare:
	case tokError:
		return nil, p.unexpected()
	default:
		return nil, p.errorf(v.pos, "expected a value after %q", name+":")
	}
	p.next()
	if slices.Contains(dateFields, name) {
		return p.dateValue(name, v)
	}
	if v.kind == tokRange || v.kind == tokCompare {
		return nil, p.errorf(v.pos, "field %q takes no range; only published does", name)
	}
	if name == "year" {
		if _, err := strconv.Atoi(v.text); err != nil || len(v.text) != 4 || v.kind != tokWord || v.prefix {
			return nil, p.errorf(v.pos, "year must be four digits, like year:2025")
		}
	}
	return p.value(name, v)
}

func (p *parser) value(field string, t token) (Expr, error) {
	if t.kind == tokPhrase {
		return &Phrase{Field: field, Text: t.text}, nil
	}
	return &Term{Field: field, Text: t.text, Prefix: t.prefix}, nil
}

// dateValue parses the value of a date field: a day, a range or a
// comparison, each with dates as YYYY-MM-DD.
func (p *parser) dateValue(field string, v token) (Expr, error) {
	switch v.kind {
	case tokWord:
		if v.prefix {
			return nil, p.errorf(v.pos, "a date takes no wildcard")
		}
		d, err := p.day(v.text, v.pos)
		if err != nil {
			return nil, err
		}
		return &DateRange{Field: field, From: d, To: d}, nil
	case tokRange:
		from, err := p.openDay(v.from, v.fromPos)
		if err != nil {
			return nil, err
		}
		to, err := p.openDay(v.to, v.toPos)
		if err != nil {
			return nil, err
		}
		if !from.IsZero() && !to.IsZero() && to.Before(from) {
			return nil, p.errorf(v.toPos, "range ends on %s, before it starts", v.to)
		}
		return &DateRange{Field: field, From: from, To: to}, nil
	case tokCompare:
		d, err := p.day(v.text, v.fromPos)
		if err != nil {
			return nil, err
		}
		switch v.op {
		case ">":
			d = d.AddDate(0, 0, 1)
		case "<":
			d = d.AddDate(0, 0, -1)
		}
		if !inDateRange(d) {
			return nil, p.errorf(v.fromPos, "date %s%s is out of range: %s", v.op, v.text, dateRangeText)
		}
		if v.op[0] == '>' {
			return &DateRange{Field: field, From: d}, nil
		}
		return &DateRange{Field: field, To: d}, nil
	}
	return nil, p.errorf(v.pos, "expected a date, like %s:2025-06-01 or %s:[2025-01-01 TO 2025-12-31]", field, field)
}

func (p *parser) openDay(s string, pos int) (time.Time, error) {
	if s == "*" {
		return time.Time{}, nil
	}
	return p.day(s, pos)
}

func (p *parser) day(s string, pos int) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < 1 {
		return time.Time{}, p.errorf(pos, "bad date %q: want YYYY-MM-DD", s)
	}
	if !inDateRange(d) {
		return time.Time{}, p.errorf(pos, "date %s is out of range: %s", s, dateRangeText)
	}
	return d, nil
}

// MinDate and MaxDate are the first and last days a query can name: the
// index keeps dates as nanoseconds since 1970 in an int64 (as Bleve does),
// which reach from 1677-09-21 to 2262-04-11; the whole years inside are
// accepted.
var (
	MinDate = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDate = time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC)
)

// dateRangeText says which dates a query can name.
const dateRangeText = "dates go from 1678-01-01 to 2261-12-31"

// inDateRange reports whether d is between MinDate and MaxDate.
func inDateRange(d time.Time) bool {
	return !d.Before(MinDate) && !d.After(MaxDate)
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokError
	tokWord
	tokPhrase
	tokField
	tokRange
	tokCompare
	tokLParen
	tokRParen
	tokAnd
	tokOr
	tokNot
	tokMinus
)

type token struct {
	kind   tokenKind
	pos    int
	text   string // word, phrase or field name, compare date; error message
	prefix bool   // word ended in "*"

	op             string // tokCompare: ">=", ">", "<=", "<"
	from, to       string // tokRange ends, "*" when open
	fromPos, toPos int
}

func (t token) startsOperand() bool {
	switch t.kind {
	case tokWord, tokPhrase, tokField, tokLParen, tokNot, tokMinus:
		return true
	}
	return false
}

func (t token) describe() string {
	switch t.kind {
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokAnd:
		return "AND"
	case tokOr:
		return "OR"
	case tokNot:
		return "NOT"
	case tokMinus:
		return `"-"`
	case tokField:
		return fmt.Sprintf("field %q", t.text+":")
	case tokEOF:
		return "end of query"
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits a query into tokens. afterField makes the next token a field
// value, where ranges and comparisons are allowed.
type lexer struct {
	src        string
	pos        int
	afterField bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isWordByte reports whether c may appear in a word.
func isWordByte(c byte) bool {
	return !isSpace(c) && c != '(' && c != ')' && c != '"' && c != ':'
}

func (l *lexer) next() token {
	value := l.afterField
	l.afterField = false
	if !value {
		for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
			l.pos++
		}
	}
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: len(l.src)}
	}
	start := l.pos
	c := l.src[start]
	switch {
	case value && isSpace(c):
		return token{kind: tokError, pos: start, text: "expected a value right after the colon"}
	case value && c == '[':
		return l.lexRange()
	case value && (c == '>' || c == '<'):
		return l.lexCompare()
	case c == '(':
		l.pos++
		return token{kind: tokLParen, pos: start}
	case c == ')':
		l.pos++
		return token{kind: tokRParen, pos: start}
	case c == '"':
		return l.lexPhrase()
	case c == '-' && !value:
		l.pos++
		if l.pos >= len(l.src) || isSpace(l.src[l.pos]) {
			return token{kind: tokError, pos: start, text: `"-" must be followed by a term, without a space`}
		}
		return token{kind: tokMinus, pos: start}
	case c == ':':
		return token{kind: tokError, pos: start, text: "expected a field name before the colon"}
	}
	return l.lexWord(value)
}

func (l *lexer) lexWord(value bool) token {
	start := l.pos
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	w := l.src[start:l.pos]
	if !utf8.ValidString(w) {
		return token{kind: tokError, pos: start, text: "query is not valid UTF-8"}
	}
	if !value && l.pos < len(l.src) && l.src[l.pos] == ':' {
		l.pos++
		return token{kind: tokField, pos: start, text: w}
	}
	if !value {
		switch w {
		case "AND":
			return token{kind: tokAnd, pos: start}
		case "OR":
			return token{kind: tokOr, pos: start}
		case "NOT":
			return token{kind: tokNot, pos: start}
		}
	}
	prefix := strings.HasSuffix(w, "*")
	text := strings.TrimSuffix(w, "*")
	if i := strings.IndexByte(text, '*'); i >= 0 {
		return token{kind: tokError, pos: start + i, text: `"*" is allowed only at the end of a word`}
	}
	if text == "" {
		return token{kind: tokError, pos: start, text: `"*" needs a prefix before it, like extradi*`}
	}
	if value && !l.validValueWord(text) {
		return token{kind: tokError, pos: start, text: fmt.Sprintf("%q cannot be a value; quote it", text)}
	}
	return token{kind: tokWord, pos: start, text: text, prefix: prefix}
}

// validValueWord reports whether a field value printed bare re-reads as the
// same value (a value like "AND" or "-x" would not).
func (l *lexer) validValueWord(w string) bool {
	return w != "AND" && w != "OR" && w != "NOT" && w[0] != '-' && w[0] != '[' && w[0] != '>' && w[0] != '<'
}

func (l *lexer) lexPhrase() token {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\\' && l.pos+1 < len(l.src) && (l.src[l.pos+1] == '"' || l.src[l.pos+1] == '\\'):
			b.WriteByte(l.src[l.pos+1])
			l.pos += 2
			continue
		case c == '"':
			l.pos++
			text := b.String()
			if strings.TrimSpace(text) == "" {
				return token{kind: tokError, pos: start, text: "empty phrase"}
			}
			if !utf8.ValidString(text) {
				return token{kind: tokError, pos: start, text: "query is not valid UTF-8"}
			}
			return token{kind: tokPhrase, pos: start, text: text}
		}
		b.WriteByte(c)
		l.pos++
	}
	return token{kind: tokError, pos: start, text: "phrase has no closing quote"}
}

// lexRange lexes "[FROM TO TO]", where FROM and TO are dates or "*".
func (l *lexer) lexRange() token {
	start := l.pos
	end := strings.IndexByte(l.src[start:], ']')
	if end < 0 {
		return token{kind: tokError, pos: start, text: `range has no closing "]"`}
	}
	inner := l.src[start+1 : start+end]
	l.pos = start + end + 1
	fields := strings.Fields(inner)
	if len(fields) != 3 || fields[1] != "TO" {
		return token{kind: tokError, pos: start, text: "expected a range like [2025-01-01 TO 2025-12-31]"}
	}
	fromPos := start + 1 + strings.Index(inner, fields[0])
	toPos := start + 1 + strings.LastIndex(inner, fields[2])
	return token{kind: tokRange, pos: start, from: fields[0], to: fields[2], fromPos: fromPos, toPos: toPos}
}

// lexCompare lexes ">=DATE", ">DATE", "<=DATE" or "<DATE".
func (l *lexer) lexCompare() token {
	start := l.pos
	op := l.src[start : start+1]
	l.pos++
	if l.pos < len(l.src) && l.src[l.pos] == '=' {
		op += "="
		l.pos++
	}
	datePos := l.pos
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	if datePos == l.pos {
		return token{kind: tokError, pos: datePos, text: "expected a date after " + op}
	}
	return token{kind: tokCompare, pos: start, op: op, text: l.src[datePos:l.pos], fromPos: datePos}
}
