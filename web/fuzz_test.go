package web

import (
	"html"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"atalaya/classify"
)

// FuzzSearchURL sends any query string to the search and trends pages:
// they answer 200 or 400 with a page, never a panic or a server error.
func FuzzSearchURL(f *testing.F) {
	for _, seed := range []string{"q=extradici%C3%B3n", "q=%28", "label=kingpin&since=2026-01-01", "size=0", "page=-1",
		"q=%22%22", "sort=date&page=99999", "q=published:%5B2025-01-01+TO+*%5D", "since=2026-02-30", "q=%ff%fe"} {
		f.Add(seed)
	}
	fx := newFixture(f, "")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/", "/trends"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path, req.URL.RawQuery = path, rawQuery
			rec := httptest.NewRecorder()
			fx.handler.ServeHTTP(rec, req)
			if rec.Code != 200 && rec.Code != 400 {
				t.Fatalf("%s?%s: status %d\n%s", path, rawQuery, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzFragmentSegments checks that a highlighted fragment comes apart into
// text without growing: no tag survives as markup, and no byte is invented.
func FuzzFragmentSegments(f *testing.F) {
	for _, seed := range []string{"…a <mark>extradición</mark> del…", "<mark>a</mark><mark>b</mark>", "&lt;script&gt;", "<mark>", "</mark>x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, frag string) {
		n := 0
		for _, s := range fragmentSegments(frag) {
			n += len(s.Text)
		}
		if max := len(html.UnescapeString(frag)) + len(frag); n > max {
			t.Errorf("fragmentSegments(%q) holds %d bytes, more than the fragment", frag, n)
		}
	})
}

func TestFragmentSegments(t *testing.T) {
	got := fragmentSegments("…a <mark>extradición</mark> del &lt;b&gt;…")
	want := []segment{{Text: "…a "}, {Text: "extradición", Mark: true}, {Text: " del <b>…"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// FuzzHighlight marks any evidence offsets in any text: the paragraphs keep
// every byte of the text (but the blank lines between them), in order, and
// never panic on offsets that do not fit.
func FuzzHighlight(f *testing.F) {
	f.Add("Se concedió la extradición.\n\nOtro párrafo.", 15, 27, 3, 9)
	f.Add("a\n\n\n\nb", 0, 4, -1, 100)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int) {
		ev := []classify.Evidence{{Rule: "r1", Field: "body", Start: s1, End: e1}, {Rule: "r2", Field: "body", Start: s2, End: e2}}
		var got strings.Builder
		for _, p := range paragraphs(text, evidenceSpans(text, "body", ev)) {
			for _, s := range p {
				got.WriteString(s.Text)
			}
		}
		var want strings.Builder
		for p := range strings.SplitSeq(text, "\n\n") {
			if strings.TrimSpace(p) != "" {
				want.WriteString(p)
			}
		}
		if got.String() != want.String() {
			t.Errorf("paragraphs(%q) hold %q, want %q", text, got.String(), want.String())
		}
	})
}

// TestPagesConcurrently serves every page from many goroutines at once, for
// the race detector.
func TestPagesConcurrently(t *testing.T) {
	f := newFixture(t, "")
	paths := []string{"/?q=extradici%C3%B3n", "/?label=kingpin&sort=date", "/releases/" + string(f.revisedID),
		"/releases/" + string(f.hostileID) + "/archived", "/trends", "/rules", "/sources", "/?q=%28"}
	want := map[string]string{}
	for _, p := range paths {
		want[p] = f.get(t, p).Body.String()
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, p := range paths {
			wg.Go(func() {
				if got := f.get(t, p).Body.String(); got != want[p] {
					t.Errorf("%s renders differently when served concurrently", p)
				}
			})
		}
	}
	wg.Wait()
}
