package index

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	term := func(s string) *Term { return &Term{Text: s} }
	tests := []struct {
		in   string
		want Expr
	}{
		{"sanctions", term("sanctions")},
		{"  sanctions  ", term("sanctions")},
		{"cartel sanctions", &And{X: []Expr{term("cartel"), term("sanctions")}}},
		{"cartel AND sanctions", &And{X: []Expr{term("cartel"), term("sanctions")}}},
		{"a OR b c", &Or{X: []Expr{term("a"), &And{X: []Expr{term("b"), term("c")}}}}},
		{"(a OR b) c", &And{X: []Expr{&Or{X: []Expr{term("a"), term("b")}}, term("c")}}},
		{"a and b or not", &And{X: []Expr{term("a"), term("and"), term("b"), term("or"), term("not")}}},
		{"NOT a", &Not{X: term("a")}},
		{"-a b", &And{X: []Expr{&Not{X: term("a")}, term("b")}}},
		{"NOT -a", &Not{X: &Not{X: term("a")}}},
		{"anti-drug", term("anti-drug")},
		{"extradi*", &Term{Text: "extradi", Prefix: true}},
		{`"arms trafficking"`, &Phrase{Text: "arms trafficking"}},
		{`"say \"no\" \\ now"`, &Phrase{Text: `say "no" \ now`}},
		{"label:kingpin", &Term{Field: "label", Text: "kingpin"}},
		{"theme:drug*", &Term{Field: "theme", Text: "drug", Prefix: true}},
		{`agency:"Department of State"`, &Phrase{Field: "agency", Text: "Department of State"}},
		{"title:cartel", &Term{Field: "title", Text: "cartel"}},
		{"year:2025", &Term{Field: "year", Text: "2025"}},
		{"published:[2025-01-01 TO 2025-12-31]", &DateRange{Field: "published", From: d("2025-01-01"), To: d("2025-12-31")}},
		{"published:[* TO 2025-12-31]", &DateRange{Field: "published", To: d("2025-12-31")}},
		{"published:>=2025-06-01", &DateRange{Field: "published", From: d("2025-06-01")}},
		{"published:>2025-06-01", &DateRange{Field: "published", From: d("2025-06-02")}},
		{"published:<=2025-06-01", &DateRange{Field: "published", To: d("2025-06-01")}},
		{"published:<2025-06-01", &DateRange{Field: "published", To: d("2025-05-31")}},
		{"published:2025-06-01", &DateRange{Field: "published", From: d("2025-06-01"), To: d("2025-06-01")}},
		{"((a))", term("a")},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			again, err := Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(%q) (printed from %q): %v", got.String(), tt.in, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("Parse(%q) of printed %q mismatch (-want +got):\n%s", tt.in, got.String(), diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `query:1:1: empty query`},
		{"   ", `query:1:4: empty query`},
		{"(sanctions", `query:1:11: expected ")" to close "(" at 1:1`},
		{"(a OR (b)", `query:1:10: expected ")" to close "(" at 1:1`},
		{"a)", `query:1:2: unexpected ")"`},
		{"()", `query:1:2: empty parentheses`},
		{"a AND", `query:1:6: expected a term after AND at 1:3`},
		{"a OR", `query:1:5: expected a term after OR at 1:3`},
		{"a OR OR b", `query:1:6: expected a term after OR, found OR`},
		{"AND a", `query:1:1: unexpected AND`},
		{"NOT", `query:1:4: expected a term after NOT at 1:1`},
		{"a - b", `query:1:3: "-" must be followed by a term, without a space`},
		{`""`, `query:1:1: empty phrase`},
		{`a "  "`, `query:1:3: empty phrase`},
		{`"open`, `query:1:1: phrase has no closing quote`},
		{"colour:red", `query:1:1: unknown field "colour"; fields are title, body, label`},
		{"a colour:red", `query:1:3: unknown field "colour"`},
		{"label:", `query:1:7: expected a value after "label:"`},
		{"label: kingpin", `query:1:7: expected a value right after the colon`},
		{"label:(a)", `query:1:7: expected a value after "label:"`},
		{":x", `query:1:1: expected a field name before the colon`},
		{"label:AND", `query:1:7: "AND" cannot be a value; quote it`},
		{"published:2025-13-01", `query:1:11: bad date "2025-13-01": want YYYY-MM-DD`},
		{"published:[2025-01-01 TO 2025-02-30]", `query:1:26: bad date "2025-02-30"`},
		{"published:[2025-01-01 2025-02-01]", `query:1:11: expected a range like [2025-01-01 TO 2025-12-31]`},
		{"published:[2025-01-01 TO", `query:1:11: range has no closing "]"`},
		{"published:[2025-03-01 TO 2025-02-01]", `query:1:26: range ends on 2025-02-01, before it starts`},
		{"published:>=", `query:1:13: expected a date after >=`},
		{"published:>=June", `query:1:13: bad date "June"`},
		{"published:2025*", `query:1:11: a date takes no wildcard`},
		{"label:[a TO b]", `query:1:7: field "label" takes no range`},
		{"year:25", `query:1:6: year must be four digits`},
		{"ex*tra", `query:1:3: "*" is allowed only at the end of a word`},
		{"*", `query:1:1: "*" needs a prefix before it`},
		{"a\n(b", `query:2:3: expected ")" to close "(" at 2:1`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, e)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want prefix %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"sanctions", `"arms trafficking" AND label:kingpin`, "(a OR b) -c NOT d", "extradi*",
		"published:[2025-01-01 TO *]", "published:>=2025-06-01", `agency:"Department of State" year:2025`,
		`title:"a \"b\""`, "((a", "a AND", "theme:drug*", "published:<0001-01-02",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", in, err)
			}
			if se.Pos < 0 || se.Pos > len(in) {
				t.Fatalf("Parse(%q) error position %d outside the query", in, se.Pos)
			}
			return
		}
		if e == nil {
			t.Fatalf("Parse(%q) = nil, nil", in)
		}
		printed := e.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed as %q, which does not parse: %v", in, printed, err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("Parse(%q) printed as %q re-parses differently (-first +second):\n%s", in, printed, diff)
		}
		translate(e, true)
		translate(e, false)
	})
}
