package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestDefault(t *testing.T) {
	cfg, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	want := []string{"state", "state-rss", "treasury", "ofac", "sre", "sre-en", "presidencia", "sspc", "fgr", "salud"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("default source names (-want +got):\n%s", diff)
	}
	if !bytes.Equal(DefaultYAML(), defaultYAML) {
		t.Errorf("DefaultYAML differs from the embedded file")
	}
	for _, s := range cfg.Sources {
		t.Run(s.Name, func(t *testing.T) { checkDefaultSource(t, cfg, s) })
	}
}

// checkDefaultSource checks the policies the default configuration must
// keep: politeness, block markers, and one shared gob.mx profile.
func checkDefaultSource(t *testing.T, cfg *Config, s Source) {
	t.Helper()
	minDelay, maxDelay := 2*time.Second, 3*time.Second
	if strings.HasPrefix(s.Name, "state") {
		minDelay, maxDelay = 5*time.Second, time.Minute
	}
	if d := s.Politeness.Delay; d < minDelay || d > maxDelay {
		t.Errorf("politeness.delay = %v, want between %v and %v", d, minDelay, maxDelay)
	}
	if s.Politeness.Parallelism != 1 {
		t.Errorf("politeness.parallelism = %d, want 1", s.Politeness.Parallelism)
	}
	for _, m := range []string{"Technical Difficulties", "Challenge Validation", "bm-verify"} {
		if !slices.Contains(s.BlockMarkers, m) {
			t.Errorf("block_markers = %q, want it to contain %q", s.BlockMarkers, m)
		}
	}
	if s.Country == "MX" {
		if s.Profile != "gobmx" {
			t.Fatalf("profile = %q, want gobmx", s.Profile)
		}
		p := cfg.Profiles["gobmx"]
		if diff := cmp.Diff(p.Listing, s.Listing); diff != "" {
			t.Errorf("listing differs from the gobmx profile (-profile +source):\n%s", diff)
		}
		if s.Fetch != "auto" {
			t.Errorf("fetch = %q, want auto: gob.mx answers scripted clients with a JavaScript challenge", s.Fetch)
		}
		if got, want := s.Headers["Accept"], "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; got != want {
			t.Errorf("Accept header = %q, want %q", got, want)
		}
		want := "https://www.gob.mx/" + s.Name + "/archivo/prensa"
		if s.Name == "sre-en" {
			want = "https://www.gob.mx/sre/es/archivo/prensa?idiom=en"
		}
		if !slices.Equal(s.StartURLs, []string{want}) {
			t.Errorf("start_urls = %q, want [%q]", s.StartURLs, want)
		}
	}
	if strings.HasPrefix(s.Name, "state") && !slices.Contains(s.Types.Exclude, "Public Schedule") {
		t.Errorf("types.exclude = %q, want Public Schedule", s.Types.Exclude)
	}
}

func TestParseTestdata(t *testing.T) {
	tests := []struct {
		file  string
		names []string
	}{
		{"minimal.yaml", []string{"example"}},
		{"profiles.yaml", []string{"alpha", "beta"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var names []string
			for _, s := range cfg.Sources {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff(tt.names, names); diff != "" {
				t.Errorf("source names (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProfiles checks how defaults, a profile and a source's own keys
// combine: mappings merge key by key, lists and scalars are replaced.
func TestProfiles(t *testing.T) {
	cfg, err := Load("testdata/profiles.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	listing := Listing{
		Item:  "#list article",
		Title: Field{Selector: "a.more", Attr: "aria-label"},
		Link:  "a.more",
		Date:  []DateRule{{Selector: "time", Attr: "datetime", Layouts: []string{"2006-01-02 15:04:05"}}},
	}
	base := Source{
		Profile: "cms", Enabled: true, Country: "MX", Language: "es", Kind: "html", Fetch: "http",
		AllowedDomains: []string{"news.example.org"},
		Listing:        listing,
		Article:        Article{Title: []Field{{Selector: "h1"}}, Body: "div.body", Exclude: []string{".print"}},
		Pagination:     Pagination{Template: "?page={n}", FirstNumber: 1},
		TimeZone:       "America/Mexico_City",
		Headers:        map[string]string{"Accept": "text/html", "Accept-Language": "es-MX"},
		BlockMarkers:   []string{"Please wait"},
		Politeness:     Politeness{Delay: 4 * time.Second, Parallelism: 1, Timeout: 30 * time.Second, MaxBodySize: 10 << 20, Retries: 5, RetryBackoff: time.Second},
		Expect:         Expect{MinItems: 1, MinFillRate: 0.98},
		GoneRetry:      7 * 24 * time.Hour,
		RunBudget:      time.Hour,
	}
	alpha := base
	alpha.Name, alpha.Agency = "alpha", "Alpha Agency"
	alpha.StartURLs = []string{"https://news.example.org/alpha/press"}
	beta := base
	beta.Name, beta.Agency, beta.Enabled, beta.Schedule = "beta", "Beta Agency", false, "@every 2h"
	beta.StartURLs = []string{"https://news.example.org/beta/press"}
	beta.Headers = map[string]string{"Accept": "text/html", "Accept-Language": "en-US"}
	beta.Pagination = Pagination{NextSelector: "a.next", FirstNumber: 1}
	beta.Article.Exclude = []string{}
	beta.Politeness.Delay, beta.Politeness.MaxBodySize = 1500*time.Millisecond, 512<<10
	if diff := cmp.Diff([]Source{alpha, beta}, cfg.Sources); diff != "" {
		t.Errorf("resolved sources (-want +got):\n%s", diff)
	}
}

// baseSource is a valid source, one key per line: user_agent is on line 1,
// "- name: s" on line 3, agency on line 4, and so on.
var baseSource = []string{
	`name: s`,
	`agency: A`,
	`country: US`,
	`language: en`,
	`time_zone: UTC`,
	`start_urls: ["https://a.example/"]`,
	`pagination: {template: "?p={n}"}`,
	`listing: {item: li, title: a, link: a}`,
	`article: {title: [h1], body: main}`,
}

// source returns a file with one source: baseSource with each override
// replacing the line of the same key, or appended (from line 12) if new.
// An override with no value ("listing:") deletes the key.
func source(overrides ...string) string {
	lines := slices.Clone(baseSource)
	for _, o := range overrides {
		key, value, _ := strings.Cut(o, ":")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, key+":") })
		switch {
		case i < 0:
			lines = append(lines, o)
		case strings.TrimSpace(value) == "":
			lines[i] = "# " + key + " deleted"
		default:
			lines[i] = o
		}
	}
	return "user_agent: x\nsources:\n  - " + strings.Join(lines, "\n    ") + "\n"
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, each on its own line; nil means valid
	}{
		{"valid", source(), nil},
		{"syntax", "sources: [", []string{"bad.yaml:1: "}},
		{"tab indent", "user_agent: x\nsources:\n\t- name: s\n", []string{"bad.yaml:3: "}},
		{"two documents", source() + "---\nuser_agent: y\n", []string{"bad.yaml:12: the file holds more than one YAML document"}},
		{"not a mapping", "- a\n- b\n", []string{"bad.yaml:1: want a mapping of keys to values for the file, got a list"}},
		{"empty", "", []string{`bad.yaml:1: user_agent: required`, "bad.yaml:1: sources: no sources"}},
		{"sources not a list", "user_agent: x\nsources: {name: s}\n", []string{"bad.yaml:2: sources: want a list of sources, got a mapping"}},
		{"unknown top key", source() + "colour: blue\n", []string{`bad.yaml:12: colour: unknown key "colour"; known keys here: user_agent,`}},
		{"unknown source key", source("delays: 5s"), []string{`bad.yaml:12: sources[0].delays: unknown key "delays"`}},
		{"unknown nested key", source("politeness: {delays: 5s}"), []string{`bad.yaml:12: sources[0].politeness.delays: unknown key "delays"; known keys here: delay, parallelism`}},
		{"unknown keys all reported", source("delays: 5s", "politeness: {delays: 5s}", "listing: {item: li, titel: a, link: a}"), []string{
			`bad.yaml:10: sources[0].listing.titel: unknown key`,
			`bad.yaml:12: sources[0].delays: unknown key`,
			`bad.yaml:13: sources[0].politeness.delays: unknown key`,
		}},
		{"cron", source(`schedule: "* * *"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "* * *" does not parse`}},
		{"cron descriptor", source(`schedule: "@hourly"`), nil},
		{"cron never", source(`schedule: "0 0 30 2 *"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "0 0 30 2 *" never fires`}},
		{"cron tz only", source(`schedule: "TZ=UTC"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "TZ=UTC" has a time zone but no schedule`}},
		{"selector", source(`article: {title: [h1], body: "div["}`), []string{`bad.yaml:11: sources[0].article.body: selector "div[" does not parse`}},
		{"goquery selectors", source(`article: {title: ["main h1:not(.sr-only)"], body: "section:has(.meta) > p:nth-of-type(2)", exclude: [":contains('x')"]}`), nil},
		{"shorthand field selector", source(`listing: {item: li, title: "0", link: a}`), []string{`bad.yaml:10: sources[0].listing.title: selector "0" does not parse`}},
		{"empty list selector", source(`article: {title: [h1], body: main, exclude: [""]}`), []string{`bad.yaml:11: sources[0].article.exclude[0]: empty selector`}},
		{"language", source("language: fr"), []string{`bad.yaml:6: sources[0].language: unknown value "fr"; want one of en, es`}},
		{"country", source("country: FR"), []string{`bad.yaml:5: sources[0].country: unknown value "FR"; want one of US, MX`}},
		{"kind", source("kind: json"), []string{`bad.yaml:12: sources[0].kind: unknown value "json"; want one of html, feed`}},
		{"duplicate name", source() + "  - name: s\n", []string{`bad.yaml:12: sources[1].name: duplicate source name "s" (also sources[0])`}},
		{"bad name", source("name: State Dept"), []string{`bad.yaml:3: sources[0].name: source name "State Dept" must be lower-case`}},
		{"unknown profile", source("profile: cms"), []string{`bad.yaml:12: sources[0].profile: unknown profile "cms"; profiles: `}},
		{"time zone", source("time_zone: Mars/Olympus"), []string{`bad.yaml:7: sources[0].time_zone: unknown time zone "Mars/Olympus"`}},
		{"duration", source("revisit: 3 days"), []string{`bad.yaml:12: sources[0].revisit: duration "3 days" does not parse`}},
		{"negative duration", source("politeness: {delay: -1s}"), []string{`bad.yaml:12: sources[0].politeness.delay: must not be negative`}},
		{"gone retry", source("gone_retry: 24h"), nil},
		{"gone retry zero", source("gone_retry: 0s"), []string{`bad.yaml:12: sources[0].gone_retry: must be positive, as in "168h"`}},
		{"size", source("politeness: {max_body_size: 10 lots}"), []string{`bad.yaml:12: sources[0].politeness.max_body_size: size "10 lots" does not parse`}},
		{"wrong type", source("politeness: {parallelism: many}"), []string{`bad.yaml:12: sources[0].politeness.parallelism: `}},
		{"list for a string", source("agency: [a, b]"), []string{`bad.yaml:4: sources[0].agency: `}},
		{"regex", source(`listing: {item: li, title: a, link: a, date: [{selector: time, pattern: "([", layouts: ["2006-01-02"]}]}`),
			[]string{`bad.yaml:10: sources[0].listing.date[0].pattern: regular expression "([" does not parse`}},
		{"layout", source(`article: {title: [h1], body: main, date: [{selector: time, layouts: ["Monday"]}]}`),
			[]string{`bad.yaml:11: sources[0].article.date[0].layouts[0]: layout "Monday" lacks a year, month or day`}},
		{"pick", source(`article: {title: [h1], body: main, date: [{selector: time, pick: second, layouts: ["2006-01-02"]}]}`),
			[]string{`bad.yaml:11: sources[0].article.date[0].pick: unknown pick "second"`}},
		{"pagination both", source(`pagination: {template: "?p={n}", next_selector: a.next}`), []string{`bad.yaml:9: sources[0].pagination: set template or next_selector, not both`}},
		{"pagination neither", source("pagination: {max_pages: 2}"), []string{`bad.yaml:3: sources[0].pagination: set template`}},
		{"template without n", source(`pagination: {template: "?page=1"}`), []string{`bad.yaml:9: sources[0].pagination.template: template "?page=1" has no {n}`}},
		{"relative start URL", source("start_urls: [/press]"), []string{`bad.yaml:8: sources[0].start_urls[0]: URL "/press" is not absolute`}},
		{"start URL in block list", source("start_urls:\n      - https://a.example/\n      - ftp://a.example/"), []string{`bad.yaml:10: sources[0].start_urls[1]: URL "ftp://a.example/" is not absolute`}},
		{"start host not allowed", source("allowed_domains: [b.example]"), []string{`bad.yaml:8: sources[0].start_urls[0]: host "a.example" is not in allowed_domains (b.example)`}},
		{"fill rate", source("expect: {min_fill_rate: 1.5}"), []string{`bad.yaml:12: sources[0].expect.min_fill_rate: 1.5 is outside 0..1`}},
		{"fill rate nan", source("expect: {min_fill_rate: .nan}"), []string{`bad.yaml:12: sources[0].expect.min_fill_rate: NaN is outside 0..1`}},
		{"required", "user_agent: x\nsources:\n  - name: s\n", []string{
			"bad.yaml:3: sources[0].agency: required", "bad.yaml:3: sources[0].listing.item: required", "bad.yaml:3: sources[0].article.body: required",
		}},
		{"feed needs no listing", source("listing:", "pagination:", "kind: feed"), nil},
		{"feed is not paginated", source("listing:", "kind: feed"), []string{`bad.yaml:9: sources[0].pagination.template: a feed is not paginated`}},
		{"header", source("headers: {User-Agent: x}"), []string{`bad.yaml:12: sources[0].headers.User-Agent: set the user agent with user_agent`}},
		{"aliases", source(`pagination: &p {template: "?p={n}"}`, "listing: &l {item: li, title: a, link: a}", "article: &a {title: [h1], body: main}") +
			"  - {name: t, agency: B, country: US, language: en, time_zone: UTC, start_urls: [\"https://a.example/\"], pagination: *p, listing: *l, article: *a}\n", nil},
		{"anchors and aliases", "h: &h {Accept: text/html}\n" + source("headers: *h"), []string{`bad.yaml:1: h: unknown key "h"`}},
		{"profile problem reported once", "profiles:\n  p:\n    listing: {item: \"div[\"}\n" + source("profile: p") + "  - {name: t, profile: p}\n",
			[]string{`bad.yaml:3: profiles.p.listing.item: selector "div[" does not parse`}},
		{"profile sets name", "profiles:\n  p: {name: n}\n" + source(), []string{`bad.yaml:2: profiles.p.name: only a source can set name`}},
		{"defaults problem", "defaults: {politeness: {parallelism: 0}}\n" + source(), []string{`bad.yaml:1: defaults.politeness.parallelism: must be 1 or more`}},
		{"retries above range", source("politeness: {retries: 11}"), []string{`bad.yaml:12: sources[0].politeness.retries: must be between 0 and 10`}},
		{"retries below range", source("politeness: {retries: -1}"), []string{`bad.yaml:12: sources[0].politeness.retries: must be between 0 and 10`}},
		{"retries at the ends", source("politeness: {retries: 10}") + "  - {name: t, agency: B, country: US, language: en, time_zone: UTC, start_urls: [\"https://a.example/\"], pagination: {template: \"?p={n}\"}, listing: {item: li, title: a, link: a}, article: {title: [h1], body: main}, politeness: {retries: 0}}\n", nil},
		{"every 1ns", source(`schedule: "@every 1ns"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "@every 1ns": interval 1ns is shorter than 1m0s`}},
		{"every negative", source(`schedule: "@every -5m"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "@every -5m": the interval must be positive`}},
		{"every zero", source(`schedule: "@every 0s"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "@every 0s": the interval must be positive`}},
		{"every 59s", source(`schedule: "@every 59s"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "@every 59s": interval 59s is shorter than 1m0s`}},
		{"every 1m", source(`schedule: "@every 1m"`), nil},
		{"every with a zone", source(`schedule: "TZ=America/Mexico_City @every 10s"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "TZ=America/Mexico_City @every 10s": interval 10s is shorter than 1m0s`}},
		{"every garbage", source(`schedule: "@every soon"`), []string{`bad.yaml:12: sources[0].schedule: cron spec "@every soon": interval "soon" does not parse`}},
		{"run budget", source("run_budget: 0s"), []string{`bad.yaml:12: sources[0].run_budget: must be positive`}},
		{"skip patterns", source(`skip: {titles: ["^Public Schedule", ""], urls: ["(["]}`), []string{
			`bad.yaml:12: sources[0].skip.titles[1]: empty pattern would match every item`,
			`bad.yaml:12: sources[0].skip.urls[0]: regular expression "([" does not parse`,
		}},
		{"hosts", "hosts: {www.state.gov: \"127.0.0.1:18101\", ofac.treasury.gov: \"http://[::1]:80\"}\nallow_private_networks: true\n" + source(), nil},
		{"hosts bad", "hosts:\n  WWW.X: \"127.0.0.1:1\"\n  a.example: 127.0.0.1\n  b.example: \"ftp://1.2.3.4:21\"\n  c.example: \"1.2.3.4:99999\"\n" + source(), []string{
			`bad.yaml:1: hosts.WWW.X: "WWW.X" is not a lower-case host name`,
			`bad.yaml:1: hosts.a.example: target "127.0.0.1" is not an address with a port`,
			`bad.yaml:1: hosts.b.example: target "ftp://1.2.3.4:21": scheme "ftp" is not http or https`,
			`bad.yaml:1: hosts.c.example: target "1.2.3.4:99999": port "99999" is not a number from 1 to 65535`,
		}},
		{"fetch browser with ready", source("fetch: browser", `ready: "#prensa article"`), nil},
		{"fetch auto", source("fetch: auto"), nil},
		{"fetch http", source("fetch: http"), nil},
		{"fetch unknown", source("fetch: chrome"), []string{`bad.yaml:12: sources[0].fetch: unknown value "chrome"; want one of http, browser, auto`}},
		{"fetch in a profile", "profiles:\n  p: {fetch: sometimes}\n" + source("profile: p"), []string{`bad.yaml:2: profiles.p.fetch: unknown value "sometimes"`}},
		{"ready", source(`ready: "div["`), []string{`bad.yaml:12: sources[0].ready: selector "div[" does not parse`}},
		{"ready blank", source(`ready: "  "`), []string{`bad.yaml:12: sources[0].ready: blank selector`}},
		{"browser path", "browser: {path: /usr/bin/chromium}\n" + source(), nil},
		{"browser path empty", "browser: {path: \"\"}\n" + source(), nil},
		{"browser path blank", "browser: {path: \" \"}\n" + source(), []string{`bad.yaml:1: browser.path: " " is not a file path`}},
		{"browser path control", "browser:\n  path: \"chromium\\e\"\n" + source(), []string{`bad.yaml:2: browser.path: "chromium\x1b" is not a file path`}},
		{"browser unknown key", "browser: {exe: chromium}\n" + source(), []string{`bad.yaml:1: browser.exe: unknown key "exe"; known keys here: path`}},
		{"control characters", "user_agent: \"x\\e[31m\"\nsources: [\x00]\n", []string{`bad.yaml:1: user_agent: "x\x1b[31m" holds control characters`, `got the value \x00`}},
		{"control characters in keys", "\x1b[2J: 1\n" + source(), []string{`unknown key "\x1b[2J"`}},
		{"deep nesting", "user_agent: " + strings.Repeat("[", 200_000) + "\n", []string{`bad.yaml:1: lists and mappings nested more than 32 levels deep`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.yaml), "bad.yaml")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: got error\n%v\nwant none; file:\n%s", err, tt.yaml)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse: got no error, want %q", tt.want)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b") {
				t.Errorf("Parse: error %q holds raw control characters", err)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tt.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
					t.Errorf("Parse: got error\n%v\nwant a line containing %q", err, w)
				}
			}
			if strings.Count(err.Error(), "profiles.p.listing.item") > 1 {
				t.Errorf("Parse: got error\n%v\nwant each problem once", err)
			}
		})
	}
}

// TestBroken checks the full report on a file with many problems: all are
// reported, once each, with their lines.
func TestBroken(t *testing.T) {
	_, err := Load("testdata/broken.yaml")
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Load: got %v, want Problems", err)
	}
	got := []byte(err.Error() + "\n")
	golden := "testdata/broken.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// Every line marked "bad" in the file is reported.
	src, _ := os.ReadFile("testdata/broken.yaml")
	for i, line := range strings.Split(string(src), "\n") {
		if !strings.Contains(line, "# bad:") {
			continue
		}
		if !slices.ContainsFunc(probs, func(p Problem) bool { return p.Line == i+1 }) {
			t.Errorf("line %d (%s) is not reported", i+1, strings.TrimSpace(line))
		}
	}
}

// TestShortSchedules checks that Options.ShortSchedules lets a local
// mirror be crawled every few seconds, but never every 0s or less.
func TestShortSchedules(t *testing.T) {
	opts := Options{ShortSchedules: true}
	if _, err := opts.Parse(strings.NewReader(source(`schedule: "@every 5s"`)), "short.yaml"); err != nil {
		t.Errorf("ShortSchedules, @every 5s: got %v, want nil", err)
	}
	for _, spec := range []string{"@every 0s", "@every -5m", "@every 1ns"} {
		if _, err := opts.Parse(strings.NewReader(source(`schedule: "`+spec+`"`)), "short.yaml"); err == nil {
			t.Errorf("ShortSchedules, %s: got nil, want an error", spec)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load: got %v, want an os.ErrNotExist error", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load: got %q, want it to start with config: ", err)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"1024", 1024, false},
		{"10MiB", 10 << 20, false},
		{"512 KiB", 512 << 10, false},
		{"1.5GiB", 3 << 29, false},
		{"10MB", 10e6, false},
		{"7B", 7, false},
		{"", 0, true},
		{"10 lots", 0, true},
		{"-1", 0, true},
		{"1e9", 0, true},
		{"MiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got ByteSize
			err := got.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("UnmarshalText(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("UnmarshalText(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestMarshalRoundTrip checks that the flat YAML of a configuration parses
// back to the same sources.
func TestMarshalRoundTrip(t *testing.T) {
	for _, file := range []string{"", "testdata/minimal.yaml", "testdata/profiles.yaml"} {
		t.Run(file, func(t *testing.T) {
			cfg, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkRoundTrip(t, cfg)
		})
	}
}

func checkRoundTrip(t *testing.T, cfg *Config) {
	t.Helper()
	out, err := cfg.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := Parse(bytes.NewReader(out), "flat.yaml")
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, out)
	}
	want := slices.Clone(cfg.Sources)
	for i := range want {
		want[i].Profile = ""
	}
	if diff := cmp.Diff(want, again.Sources, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("sources after a round trip (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	for _, name := range []string{"minimal.yaml", "profiles.yaml", "broken.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("sources: [{name: a, politeness: {delay: 1s}}]\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("Parse: got %v (%T), want Problems", err, err)
			}
			for _, p := range probs {
				if p.Line < 1 || p.File != "fuzz.yaml" {
					t.Errorf("problem %q has no file and line", p)
				}
			}
			return
		}
		checkRoundTrip(t, cfg)
	})
}

// BenchmarkDefault measures parsing and validating the embedded
// configuration, which every command does at start-up.
func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}
