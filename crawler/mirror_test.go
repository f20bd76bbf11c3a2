package crawler

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atalaya"
	"atalaya/internal/mirror"
)

// mirrorSources returns the test sources that crawl the mirror's source
// name: gob.mx agencies share one definition, with the agency's archive as
// start URL (and the English archive for SRE).
func mirrorSources(t testing.TB, name string) []Source {
	t.Helper()
	sources := loadSources(t)
	switch name {
	case "state", "treasury", "ofac":
		return []Source{sources[atalaya.SourceID(name)]}
	}
	es := sources["gobmx-composite"]
	es.ID = atalaya.SourceID(name)
	es.StartURLs = []string{"https://www.gob.mx/" + name + "/archivo/prensa"}
	out := []Source{es}
	if name == "sre" {
		en := sources["sre-en"]
		en.ID = "sre"
		out = append(out, en)
	}
	return out
}

// comparable is the part of a release the mirror states.
type comparable struct {
	URL, Title, Date, Type, Language, Body string
}

func startMirror(t *testing.T, opts mirror.Options) *mirror.Server {
	t.Helper()
	s, err := mirror.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// requestsSince returns the requests the mirror began to answer at or after
// mark, in the order they began. Concurrent requests are logged in the order
// their answers were decided, so the log is sorted by Request.Time, when
// handling began.
func requestsSince(srv *mirror.Server, mark time.Time) []mirror.Request {
	var out []mirror.Request
	for _, r := range srv.Requests() {
		if !r.Time.Before(mark) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b mirror.Request) int { return a.Time.Compare(b.Time) })
	return out
}

func TestMirrorCrawl(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]mirror.Article{}
	for _, a := range m.Articles {
		bySource[a.Source] = append(bySource[a.Source], a)
	}
	for name, articles := range bySource {
		t.Run(name, func(t *testing.T) {
			srv := startMirror(t, mirror.Options{})
			store := newMemStore()
			c := newCrawler(t, store, Options{Transport: srv.Transport()})
			srcs := mirrorSources(t, name)
			for _, src := range srcs {
				src.Politeness.MaxCrawlDelay = time.Millisecond
				if _, err := c.Crawl(context.Background(), src); err != nil {
					t.Fatal(err)
				}
			}
			var want, got []comparable
			paths := map[string]bool{}
			for _, a := range articles {
				paths[a.Host+a.Path] = true
				want = append(want, comparable{Canonical(a.URL), a.Title, a.Date, a.Type, a.Language, a.Body})
			}
			for _, r := range store.latest() {
				date := ""
				if r.DateOrigin != atalaya.DateMissing {
					date = r.Published.Format(time.DateOnly)
				}
				got = append(got, comparable{r.URL, r.Title, date, r.Type, string(r.Language), r.Body})
			}
			byURL := func(a, b comparable) int { return strings.Compare(a.URL, b.URL) }
			slices.SortFunc(want, byURL)
			slices.SortFunc(got, byURL)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("releases (-want +got):\n%s", diff)
			}

			// A second crawl fetches no article page.
			mark := time.Now()
			for _, src := range srcs {
				src.Politeness.MaxCrawlDelay = time.Millisecond
				run, err := c.Crawl(context.Background(), src)
				if err != nil {
					t.Fatal(err)
				}
				if run.New != 0 || run.Blocked {
					t.Errorf("second crawl of %s: %+v, want nothing new", src.ID, run)
				}
			}
			second := requestsSince(srv, mark)
			for _, r := range second {
				if paths[r.Host+r.Path] {
					t.Errorf("second crawl fetched article %s%s (status %d, all requests %+v)", r.Host, r.Path, r.Status, second)
				}
			}
		})
	}
}

// TestMirrorInterruptedWalkResumes cuts a crawl short once the first
// listing page is done: the next crawl must not stop at that page, which
// brings nothing new, but go on to the releases of page 2; the crawl after
// that, the walk being complete, stops at page 1.
func TestMirrorInterruptedWalkResumes(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	const start = "https://www.gob.mx/sspc/archivo/prensa"
	firstPage := -1
	for _, l := range m.Listings {
		if l.URL == start {
			firstPage = len(l.Items)
		}
	}
	if firstPage < 1 {
		t.Fatalf("mirror has no listing %s", start)
	}
	srv := startMirror(t, mirror.Options{})
	store := newMemStore()
	src := mirrorSources(t, "sspc")[0]
	src.Politeness.MaxCrawlDelay = time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &cancellingSink{Sink: store, after: firstPage, cancel: cancel}
	c := newCrawler(t, store, Options{Transport: srv.Transport(), Sink: sink})
	if _, err := c.Crawl(ctx, src); err == nil {
		t.Fatal("interrupted crawl returned no error, want the context's")
	}

	c = newCrawler(t, store, Options{Transport: srv.Transport()})
	run, err := c.Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range m.Articles {
		if a.Source == "sspc" {
			want++
		}
	}
	if got := len(store.latest()); got != want || run.New != want-firstPage {
		t.Errorf("after the resumed crawl: %d releases archived (run %+v), want all %d", got, run, want)
	}

	mark := time.Now()
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	for _, r := range requestsSince(srv, mark) {
		if strings.Contains(r.Query, "page=2") {
			t.Errorf("a crawl after a complete walk fetched %s?%s; it should stop at page 1, which brings nothing new", r.Path, r.Query)
		}
	}
}

func TestMirrorPoliteness(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	var disallowed []string
	for _, l := range m.Listings {
		for _, it := range l.Items {
			if it.Disallowed {
				disallowed = append(disallowed, it.URL)
			}
		}
	}
	srv := startMirror(t, mirror.Options{})
	src := mirrorSources(t, "state")[0]
	src.Politeness.Delay = 50 * time.Millisecond
	src.Politeness.MaxCrawlDelay = 80 * time.Millisecond // robots.txt says 5 s
	src.Pagination.MaxPages = 2
	run, err := newCrawler(t, newMemStore(), Options{Transport: srv.Transport()}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	reqs := requestsSince(srv, time.Time{})
	if len(reqs) < 3 || reqs[0].Path != "/robots.txt" {
		t.Fatalf("requests %+v: want robots.txt first", reqs)
	}
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap < 80*time.Millisecond {
			t.Errorf("gap before %s = %v, want ≥ 80ms (Crawl-delay capped)", reqs[i].Path, gap)
		}
	}
	for _, u := range disallowed {
		for _, r := range reqs {
			if strings.HasSuffix(u, r.Path) {
				t.Errorf("fetched %s, which robots.txt disallows", u)
			}
		}
		if !slices.ContainsFunc(run.Issues, func(i atalaya.SourceIssue) bool { return i.Kind == atalaya.IssueRobots && i.URL == u }) {
			t.Errorf("no robots issue for %s in %+v", u, run.Issues)
		}
	}
	for _, r := range reqs {
		if ua := r.Header.Get("User-Agent"); ua != DefaultUserAgent {
			t.Errorf("User-Agent %q, want %q", ua, DefaultUserAgent)
		}
	}
}

func TestMirrorBackoffDoubling(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, a := range m.Articles {
		if a.Source == "treasury" && len(status) < 2 {
			status[a.Host+a.Path] = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}[len(status)]
		}
	}
	srv := startMirror(t, mirror.Options{Status: status})
	src := mirrorSources(t, "treasury")[0]
	const base = 20 * time.Millisecond
	src.Politeness.Delay = base
	src.Politeness.Retries = 2
	src.Politeness.RetryBackoff = time.Millisecond
	run, err := newCrawler(t, newMemStore(), Options{Transport: srv.Transport()}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if run.Failed < 2 {
		t.Errorf("failed = %d, want the 2 overloaded articles counted", run.Failed)
	}
	reqs := requestsSince(srv, time.Time{})
	spacing, doubled := base, 0
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap < spacing {
			t.Errorf("gap before %s = %v, want ≥ %v", reqs[i].Path, gap, spacing)
		}
		switch reqs[i].Status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			spacing *= 2
			doubled++
		default:
			spacing = base
		}
	}
	if doubled != 6 {
		t.Errorf("saw %d overloaded answers, want 6 (2 articles × 3 attempts)", doubled)
	}
}

func TestMirrorBlocked(t *testing.T) {
	tests := []struct {
		name   string
		host   string
		status int
		opts   func(*mirror.Options)
	}{
		{"state decoy 200", mirror.HostState, http.StatusOK, nil},
		{"state 403", mirror.HostState, http.StatusForbidden, nil},
		{"treasury decoy", mirror.HostTreasury, http.StatusOK, nil},
		{"sre challenge", mirror.HostGobMX, http.StatusOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startMirror(t, mirror.Options{Blocked: map[string]int{tt.host: tt.status}})
			name := map[string]string{mirror.HostState: "state", mirror.HostTreasury: "treasury", mirror.HostGobMX: "sre"}[tt.host]
			store := newMemStore()
			run, err := newCrawler(t, store, Options{Transport: srv.Transport()}).Crawl(context.Background(), mirrorSources(t, name)[0])
			if err != nil {
				t.Fatal(err)
			}
			if !run.Blocked || len(store.latest()) != 0 {
				t.Errorf("blocked = %v with %d releases stored, want blocked and none; issues %+v", run.Blocked, len(store.latest()), run.Issues)
			}
		})
	}
}

func TestMirrorScriptVariant(t *testing.T) {
	srv := startMirror(t, mirror.Options{ScriptVariant: true})
	src := mirrorSources(t, "sre")[0]
	store := newMemStore()
	run, err := newCrawler(t, store, Options{Transport: srv.Transport()}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if run.Blocked || run.New == 0 {
		t.Errorf("with a browser Accept header: %+v, want releases and no block", run)
	}
	for _, r := range srv.Requests() {
		if r.Header.Get("Accept") == "*/*" {
			t.Errorf("%s sent Accept: */*", r.Path)
		}
	}
	src.Headers = map[string]string{"Accept": "*/*"}
	run, err = newCrawler(t, newMemStore(), Options{Transport: srv.Transport()}).Crawl(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Blocked {
		t.Errorf("with Accept: */*: %+v, want the JavaScript variant reported as blocked", run)
	}
}

// TestMirrorRunLimitsDoNotHideReleases crawls with a one-off page limit and
// a date cutoff: a later plain crawl still archives everything behind them.
func TestMirrorRunLimitsDoNotHideReleases(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range m.Articles {
		if a.Source == "state" {
			want++
		}
	}
	for _, limited := range []Options{{MaxPages: 1}, {Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}} {
		srv := startMirror(t, mirror.Options{})
		store := newMemStore()
		src := mirrorSources(t, "state")[0]
		src.Politeness.MaxCrawlDelay = time.Millisecond
		limited.Transport = srv.Transport()
		if _, err := newCrawler(t, store, limited).Crawl(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		first := len(store.latest())
		if _, err := newCrawler(t, store, Options{Transport: srv.Transport()}).Crawl(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		if got := len(store.latest()); got != want || first >= want {
			t.Errorf("limited by %+v: %d releases, then %d after a plain crawl; want fewer, then all %d", limited, first, got, want)
		}
	}
}

// TestSinceIsACalendarDate checks that a cutoff date keeps the releases of
// that very day in the source's zone, and not those of the day before. The
// cutoff is the date of a mirror release that has older ones behind it.
func TestSinceIsACalendarDate(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	var dates []string
	for _, a := range m.Articles {
		if a.Source == "state" && a.Date != "" {
			dates = append(dates, a.Date)
		}
	}
	slices.Sort(dates)
	cutoff := dates[len(dates)/2]
	if cutoff == dates[0] {
		t.Fatalf("state dates %v: want releases older than the cutoff %s", dates, cutoff)
	}
	srv := startMirror(t, mirror.Options{})
	store := newMemStore()
	src := mirrorSources(t, "state")[0]
	src.Politeness.MaxCrawlDelay = time.Millisecond
	since, _ := time.Parse(time.DateOnly, cutoff)
	c := newCrawler(t, store, Options{Transport: srv.Transport(), Since: since})
	if _, err := c.Crawl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	onCutoff := 0
	for _, r := range store.latest() {
		day := r.Published.Format(time.DateOnly)
		if day < cutoff {
			t.Errorf("release of %s archived with --since %s: %s", day, cutoff, r.URL)
		}
		if day == cutoff {
			onCutoff++
		}
	}
	if onCutoff == 0 {
		t.Errorf("no release of the cutoff day %s archived with --since %s (releases %d)", cutoff, cutoff, len(store.latest()))
	}
}

// TestMirrorGoneLink crawls Treasury, whose listing links to a page that
// answers 404, run after run: the 404 is reported and the link recorded
// gone; later runs do not request it and report nothing until
// DefaultGoneRetry has passed, when it is requested (and reported) once
// more and the wait starts again.
func TestMirrorGoneLink(t *testing.T) {
	m, err := mirror.Expected()
	if err != nil {
		t.Fatal(err)
	}
	var dead *url.URL
	for _, l := range m.Listings {
		for _, it := range l.Items {
			if it.Status == http.StatusNotFound && strings.HasPrefix(it.URL, "https://"+mirror.HostTreasury+"/") {
				if dead, err = url.Parse(it.URL); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if dead == nil {
		t.Fatal("the mirror's Treasury listing has no dead link")
	}
	srv := startMirror(t, mirror.Options{})
	store := newMemStore()
	src := mirrorSources(t, "treasury")[0]
	src.Politeness.MaxCrawlDelay = time.Millisecond
	start := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		name            string
		at              time.Time
		requests, issue int // requests of the dead link, 404 issues reported
		gone            int // CrawlRun.Gone
	}{
		{"first run", start, 1, 1, 0},
		{"next day", start.Add(24 * time.Hour), 0, 0, 1},
		{"just before the retry", start.Add(DefaultGoneRetry - time.Minute), 0, 0, 1},
		{"retry", start.Add(DefaultGoneRetry), 1, 1, 0},
		{"day after the retry", start.Add(DefaultGoneRetry + 24*time.Hour), 0, 0, 1},
	}
	for _, step := range steps {
		c := newCrawler(t, store, Options{Transport: srv.Transport(), Now: func() time.Time { return step.at }})
		mark := time.Now()
		run, err := c.Crawl(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		requests := 0
		for _, r := range requestsSince(srv, mark) {
			if r.Host == dead.Host && r.Path == dead.Path {
				requests++
			}
		}
		issues := 0
		for _, is := range run.Issues {
			if is.Kind == atalaya.IssueFetch {
				issues++
				if is.URL != dead.String() || !strings.Contains(is.Message, "404") {
					t.Errorf("%s: issue %+v, want only the 404 of %s", step.name, is, dead)
				}
			}
		}
		if requests != step.requests || issues != step.issue || run.Gone != step.gone {
			t.Errorf("%s: dead link requested %d times, %d fetch issues, run.Gone = %d; want %d, %d, %d",
				step.name, requests, issues, run.Gone, step.requests, step.issue, step.gone)
		}
		if at, gone, _ := store.Gone(context.Background(), Canonical(dead.String())); !gone || (step.requests > 0 && !at.Equal(step.at)) {
			t.Errorf("%s: gone record = %v, %v; want it recorded at the last request", step.name, at, gone)
		}
	}
}
