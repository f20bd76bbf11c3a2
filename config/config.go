package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/goccy/go-yaml"

	"atalaya/internal/yamlguard"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultName is the file name problems in the embedded configuration are
// reported under.
const DefaultName = "default.yaml"

// maxFileSize bounds the configuration files Parse reads.
const maxFileSize = 4 << 20

// DefaultMaxPages is the number of listing pages a walk reads at most when
// pagination.max_pages is 0. It must equal crawler.DefaultMaxPages (a test
// in cmd/atalaya checks); config imports no other Atalaya package.
const DefaultMaxPages = 500

// Config is a whole configuration file, with its sources resolved.
type Config struct {
	// UserAgent is the User-Agent sent to every source that does not set its
	// own. It names the tool and a contact URL.
	UserAgent string `yaml:"user_agent"`
	// DataDir is the data directory; the --data flag wins over it.
	DataDir string `yaml:"data_dir"`
	// Rules is the path of a classification rules file; empty means the
	// rules embedded in the binary. Load makes a relative path (like
	// DataDir's) relative to the configuration file's directory.
	Rules string `yaml:"rules"`
	// Defaults is a partial source definition every source starts from,
	// before its profile, as written in the file.
	Defaults Source `yaml:"defaults"`
	// Profiles are the reusable partial source definitions, by name, as
	// written in the file (no defaults applied).
	Profiles map[string]Source `yaml:"profiles"`
	// Sources are the sources in file order, each resolved: defaults, then
	// the defaults section, then its profile, then its own keys.
	Sources []Source `yaml:"sources"`
	// Hosts sends the requests for a host to another address, like curl's
	// --resolve: "www.state.gov: 127.0.0.1:18101" (the URL's scheme is
	// kept) or "www.state.gov: http://127.0.0.1:18101" (plain HTTP, for a
	// mirror without TLS). It applies to every URL of the host, links
	// inside feeds included; releases keep their real URLs.
	Hosts map[string]string `yaml:"hosts"`
	// AllowPrivateNetworks lets the crawler connect to private, loopback
	// and link-local addresses, which it refuses by default: a mirror or
	// staging copy on the local network needs it.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// Browser says where the browser of the sources fetched through one
	// (fetch: browser or auto) is.
	Browser Browser `yaml:"browser"`
	// Serve configures `atalaya serve` (config/serve.go).
	Serve Serve `yaml:"serve"`
	// SMTP is the mail server digests go through; see digest.go.
	SMTP SMTP `yaml:"smtp"`
	// Digests are the email digests; see digest.go.
	Digests []Digest `yaml:"digests"`
}

// Browser configures the headless browser.
type Browser struct {
	// Path is the Chromium or Chrome executable; empty means chromium,
	// chromium-browser, google-chrome or google-chrome-stable on PATH.
	Path string `yaml:"path"`
}

// Source defines one source: what it is, where its listings are, how to read
// its pages, how politely to fetch them and when.
type Source struct {
	Name     string `yaml:"name"`              // short unique name: "state", "sre"
	Profile  string `yaml:"profile,omitempty"` // name of the profile the source starts from
	Enabled  bool   `yaml:"enabled"`           // crawled by default and by the scheduler (default true)
	Schedule string `yaml:"schedule"`          // cron spec: "*/30 * * * *", "@hourly"; empty means never scheduled
	Agency   string `yaml:"agency"`            // publishing agency: "U.S. Department of State"
	Country  string `yaml:"country"`           // "US" or "MX"
	Language string `yaml:"language"`          // "en" or "es"
	Kind     string `yaml:"kind"`              // "html" (default) or "feed"
	// Fetch says how pages are fetched: "http" (default), "browser"
	// (headless Chromium) or "auto" (HTTP until blocked, then the browser
	// for the rest of the run).
	Fetch string `yaml:"fetch"`
	// Ready is a CSS selector found only on the real page, not on a
	// challenge page: a browser fetch reads the page once it matches.
	Ready string `yaml:"ready"`

	StartURLs []string `yaml:"start_urls"` // first listing page (or feed URL) of each listing
	// AllowedDomains are the hosts links may lead to; empty means the hosts
	// of StartURLs.
	AllowedDomains []string `yaml:"allowed_domains"`

	Listing    Listing    `yaml:"listing"`
	Article    Article    `yaml:"article"`
	Pagination Pagination `yaml:"pagination"`
	TimeZone   string     `yaml:"time_zone"` // IANA zone of the site's dates: "America/Mexico_City"
	Types      TypeFilter `yaml:"types"`

	Headers      map[string]string `yaml:"headers"`       // extra request headers
	UserAgent    string            `yaml:"user_agent"`    // overrides Config.UserAgent
	BlockMarkers []string          `yaml:"block_markers"` // texts of anti-bot pages served with status 200

	Politeness Politeness `yaml:"politeness"`
	Expect     Expect     `yaml:"expect"`
	// Revisit is how long after publication a release is fetched again to
	// detect revisions; 0 never.
	Revisit time.Duration `yaml:"revisit"`
	// GoneRetry is how long an article link that answered 404 or 410 is
	// left alone before it is fetched again (default 7 days).
	GoneRetry time.Duration `yaml:"gone_retry"`
	// RunBudget bounds the time one crawl of the source may take; when it
	// runs out the crawl stops and reports it (default 1h).
	RunBudget time.Duration `yaml:"run_budget"`
	// Skip drops listing and feed items by title or URL before they are
	// fetched.
	Skip ItemFilter `yaml:"skip"`
}

// ItemFilter drops listing and feed items before they are fetched. Each
// entry is a regular expression (Go RE2 syntax); an item is dropped when
// any matches its title, or its absolute URL.
type ItemFilter struct {
	Titles []string `yaml:"titles"`
	URLs   []string `yaml:"urls"`
}

// Listing holds the selectors that read a listing page. Item is applied to
// the page; the others inside each item.
type Listing struct {
	Item  string     `yaml:"item"`
	Title Field      `yaml:"title"`
	Link  string     `yaml:"link"`
	Type  Field      `yaml:"type"`
	Date  []DateRule `yaml:"date"`
}

// Article holds the selectors that read a release page.
type Article struct {
	Title    []Field    `yaml:"title"` // tried in order
	Date     []DateRule `yaml:"date"`  // tried in order
	Type     Field      `yaml:"type"`
	Body     string     `yaml:"body"`     // body container
	Parts    string     `yaml:"parts"`    // blocks inside Body kept as paragraphs
	Exclude  []string   `yaml:"exclude"`  // removed from Body before reading it
	Stop     []string   `yaml:"stop"`     // texts at which the body ends
	Required []string   `yaml:"required"` // at least one must match on a real article page
}

// Field reads one text value: the text of the first element matching
// Selector, or its attribute Attr when set. In YAML a plain string is
// shorthand for a Field with that Selector.
type Field struct {
	Selector string `yaml:"selector"`
	Attr     string `yaml:"attr"`
}

// DateRule reads a date; the rules of a list are tried in order.
type DateRule struct {
	Selector string   `yaml:"selector"`
	Attr     string   `yaml:"attr"`    // read this attribute instead of the text
	Pick     string   `yaml:"pick"`    // "first" (default), "last" or a 1-based position
	Pattern  string   `yaml:"pattern"` // regular expression; its first group (or the match) is the date
	Layouts  []string `yaml:"layouts"` // Go time layouts, tried in order
}

// Pagination says how to reach listing pages after the first. Exactly one of
// Template and NextSelector is set for HTML sources; feeds set neither.
type Pagination struct {
	Template     string `yaml:"template"`      // URL reference with {n}: "page/{n}/", "?page={n}"
	FirstNumber  int    `yaml:"first_number"`  // the number of the first page: 0 or 1
	NextSelector string `yaml:"next_selector"` // the next-page link
	MaxPages     int    `yaml:"max_pages"`     // listing pages per start URL and run; 0 the crawler's hard cap
}

// TypeFilter keeps or drops releases by type (case-insensitive, exact).
type TypeFilter struct {
	Include []string `yaml:"include"` // empty means all types
	Exclude []string `yaml:"exclude"`
}

// Politeness bounds how hard the crawler presses on a host.
type Politeness struct {
	Delay        time.Duration `yaml:"delay"`       // between requests to the same host
	Parallelism  int           `yaml:"parallelism"` // concurrent requests per host
	Timeout      time.Duration `yaml:"timeout"`     // per request
	MaxBodySize  ByteSize      `yaml:"max_body_size"`
	Retries      int           `yaml:"retries"`       // on 429, 5xx and network errors
	RetryBackoff time.Duration `yaml:"retry_backoff"` // wait before the first retry; doubles on each further one
	IgnoreRobots bool          `yaml:"ignore_robots"`
	// MaxCrawlDelay caps the robots.txt Crawl-delay honoured; 0 no cap.
	MaxCrawlDelay time.Duration `yaml:"max_crawl_delay"`
}

// Expect states what a healthy crawl of the source looks like.
type Expect struct {
	MinItems    int     `yaml:"min_items"`     // items per listing page below which the listing is reported
	MinFillRate float64 `yaml:"min_fill_rate"` // share of releases with title, date and body, 0..1
}

// defaultSource returns the values a source has before its profile and its
// own keys are applied.
func defaultSource() Source {
	return Source{
		Enabled: true,
		Kind:    "html",
		Fetch:   "http",
		Politeness: Politeness{
			Delay:        3 * time.Second,
			Parallelism:  1,
			Timeout:      30 * time.Second,
			MaxBodySize:  10 << 20,
			Retries:      2,
			RetryBackoff: time.Second,
		},
		Expect:    Expect{MinItems: 1, MinFillRate: 0.98},
		GoneRetry: 7 * 24 * time.Hour,
		RunBudget: time.Hour,
	}
}

// DefaultYAML returns the text of the configuration embedded in the binary.
func DefaultYAML() []byte {
	return bytes.Clone(defaultYAML)
}

// Default returns the configuration embedded in the binary.
func Default() (*Config, error) {
	return Parse(bytes.NewReader(defaultYAML), DefaultName)
}

// MinScheduleInterval is the shortest interval an "@every" schedule may
// have, unless [Options.ShortSchedules] is set.
const MinScheduleInterval = time.Minute

// Options change how a file is read. The zero value is what [Parse] and
// [Load] use.
type Options struct {
	// ShortSchedules accepts "@every" schedules shorter than
	// [MinScheduleInterval] (down to one second), for crawls of a local
	// mirror (--offline). Zero and negative intervals are refused always.
	ShortSchedules bool
}

// Load reads the configuration file at path; an empty path means the
// embedded default.
func Load(path string) (*Config, error) {
	return Options{}.Load(path)
}

// Load is [Load] with options.
func (o Options) Load(path string) (*Config, error) {
	if path == "" {
		return o.Parse(bytes.NewReader(defaultYAML), DefaultName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	cfg, err := o.Parse(f, path)
	if err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	cfg.resolveDigestPaths(filepath.Dir(path))
	return cfg, nil
}

// resolvePaths makes the relative paths of a configuration file relative to
// the directory it lives in, so that it means the same from anywhere.
func (c *Config) resolvePaths(dir string) {
	paths := []*string{&c.Rules, &c.DataDir, &c.Browser.Path}
	for i := range c.Serve.Gold {
		paths = append(paths, &c.Serve.Gold[i])
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Marshal returns the configuration as YAML with every source written out
// in full: defaults and profiles applied, so the output needs neither. It
// parses back to the same sources.
func (c *Config) Marshal() ([]byte, error) {
	flat := struct {
		UserAgent            string            `yaml:"user_agent"`
		DataDir              string            `yaml:"data_dir,omitempty"`
		Rules                string            `yaml:"rules,omitempty"`
		Hosts                map[string]string `yaml:"hosts,omitempty"`
		AllowPrivateNetworks bool              `yaml:"allow_private_networks,omitempty"`
		Browser              *Browser          `yaml:"browser,omitempty"`
		Sources              []Source          `yaml:"sources"`
	}{UserAgent: c.UserAgent, DataDir: c.DataDir, Rules: c.Rules, Hosts: c.Hosts, AllowPrivateNetworks: c.AllowPrivateNetworks}
	if c.Browser != (Browser{}) {
		flat.Browser = &c.Browser
	}
	for _, s := range c.Sources {
		s.Profile = ""
		flat.Sources = append(flat.Sources, s)
	}
	out, err := yaml.MarshalWithOptions(flat, yaml.CustomMarshaler(func(d time.Duration) ([]byte, error) {
		return []byte(d.String()), nil
	}))
	if err != nil {
		return nil, fmt.Errorf("config: writing YAML: %w", err)
	}
	return out, nil
}

// Parse reads a configuration from r, decodes it strictly and validates it.
// name is the file name problems are reported under. The error, if any, is a
// [Problems] listing everything wrong with the file.
func Parse(r io.Reader, name string) (*Config, error) {
	return Options{}.Parse(r, name)
}

// Parse is [Parse] with options.
//
// Before decoding, the file's size and nesting depth are bounded (see
// package yamlguard): YAML decoders are slow on deeply nested input, and a
// configuration never nests deeply.
func (o Options) Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, Problems{{File: name, Line: 1, Msg: fmt.Sprintf("file is larger than %d bytes", maxFileSize)}}
	}
	if err := yamlguard.Check(data, yamlguard.Limits{MaxSize: maxFileSize}); err != nil {
		var ge *yamlguard.Error
		line := 1
		if errors.As(err, &ge) && ge.Line > 0 {
			line = ge.Line
		}
		return nil, Problems{{File: name, Line: line, Msg: ge.Msg + "; the file was not decoded"}}
	}
	d := newDecoder(name)
	d.shortSchedules = o.ShortSchedules
	cfg := d.decodeFile(data)
	if cfg != nil {
		validate(cfg, d)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}
