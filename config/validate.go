package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/andybalholm/cascadia"
	"github.com/robfig/cron/v3"
)

// The values the enumerated keys accept.
var (
	countries = []string{"US", "MX"}
	languages = []string{"en", "es"}
	kinds     = []string{"html", "feed"}
	fetches   = []string{"http", "browser", "auto"}
)

// exampleUserAgent shows what user_agent should look like.
const exampleUserAgent = "atalaya/0.1 (+https://github.com/atalaya-monitor/atalaya)"

// checker reports problems in one source or profile, locating each value by
// where it was set: a source's own key, or its profile's.
type checker struct {
	d *decoder
	e entry
}

// has reports whether the value at rel was set in the file.
func (c checker) has(rel string) bool {
	_, ok := c.e.origins[rel]
	return ok
}

// problemf reports that the value at rel is wrong. The value's own line is
// used, or else that of its nearest enclosing value.
func (c checker) problemf(rel, format string, args ...any) {
	for r := rel; r != ""; r = parentPath(r) {
		if loc, ok := c.e.origins[r]; ok {
			c.d.addf(loc.line, loc.path+rel[len(r):], format, args...)
			return
		}
	}
	c.missingf(rel, format, args...)
}

// missingf reports that a value the source needs is missing or unusable.
func (c checker) missingf(rel, format string, args ...any) {
	c.d.addf(c.e.line, joinPath(c.e.at.abs, rel), format, args...)
}

// parentPath returns the path enclosing p: "a.b" for "a.b.c" and "a.b[2]".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func validate(cfg *Config, d *decoder) {
	top := checker{d: d, e: entry{line: 1, origins: d.top}}
	switch {
	case cfg.UserAgent == "":
		top.missingf("user_agent", "required: name the tool and a contact URL, as in %q", exampleUserAgent)
	case strings.ContainsAny(cfg.UserAgent, "\r\n"):
		top.problemf("user_agent", "must be one line")
	case strings.ContainsFunc(cfg.UserAgent, unicode.IsControl):
		top.problemf("user_agent", "%q holds control characters; write printable text", cfg.UserAgent)
	}
	if len(cfg.Sources) == 0 {
		top.problemf("sources", "no sources; define at least one")
	}
	checkHosts(top, cfg.Hosts)
	checkServe(top, &cfg.Serve)
	if p := cfg.Browser.Path; p != "" && (strings.TrimSpace(p) == "" || strings.ContainsFunc(p, unicode.IsControl)) {
		top.problemf("browser.path", "%q is not a file path; write the browser's executable, as in \"/usr/bin/chromium\", or leave it empty to look on PATH", p)
	}
	if d.defaults != nil {
		checkFields(checker{d: d, e: d.defaultsEntry}, &cfg.Defaults)
	}
	for _, name := range sortedKeys(cfg.Profiles) {
		p := cfg.Profiles[name]
		checkFields(checker{d: d, e: d.profileEntries[name]}, &p)
	}
	first := map[string]int{}
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		c := checker{d: d, e: d.entries[i]}
		checkFields(c, s)
		checkSource(c, s)
		if j, dup := first[s.Name]; dup && s.Name != "" {
			c.problemf("name", "duplicate source name %q (also sources[%d])", s.Name, j)
		} else {
			first[s.Name] = i
		}
	}
	checkDigests(cfg, d)
}

// checkSource checks what a resolved source needs as a whole: required
// values and agreement between keys.
func checkSource(c checker, s *Source) {
	required := []struct {
		rel   string
		empty bool
	}{
		{"name", s.Name == ""},
		{"agency", s.Agency == ""},
		{"country", s.Country == ""},
		{"language", s.Language == ""},
		{"time_zone", s.TimeZone == ""},
		{"start_urls", len(s.StartURLs) == 0},
		{"article.title", len(s.Article.Title) == 0},
		{"article.body", s.Article.Body == ""},
	}
	if s.Kind == "html" {
		required = append(required, []struct {
			rel   string
			empty bool
		}{
			{"listing.item", s.Listing.Item == ""},
			{"listing.title.selector", s.Listing.Title.Selector == ""},
			{"listing.link", s.Listing.Link == ""},
		}...)
	}
	for _, r := range required {
		if r.empty {
			c.missingf(r.rel, "required for a %s source", s.Kind)
		}
	}
	checkPagination(c, s)
	checkStartHosts(c, s)
}

func checkPagination(c checker, s *Source) {
	p := s.Pagination
	switch {
	case p.Template != "" && p.NextSelector != "":
		c.problemf("pagination", "set template or next_selector, not both")
	case s.Kind == "html" && p.Template == "" && p.NextSelector == "":
		c.missingf("pagination", "set template (\"?page={n}\") or next_selector to reach listing pages after the first")
	case s.Kind == "feed" && p.Template != "":
		c.problemf("pagination.template", "a feed is not paginated; remove the template")
	}
}

// checkStartHosts checks that every start URL's host is an allowed domain.
func checkStartHosts(c checker, s *Source) {
	for i, raw := range s.StartURLs {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue // reported by checkFields
		}
		if !slices.Contains(s.AllowedDomains, strings.ToLower(u.Hostname())) {
			c.problemf(fmt.Sprintf("start_urls[%d]", i), "host %q is not in allowed_domains (%s)", u.Hostname(), strings.Join(s.AllowedDomains, ", "))
		}
	}
}

// checkFields checks each value set in the file on its own.
func checkFields(c checker, s *Source) {
	if c.has("name") && !validName(s.Name) {
		c.problemf("name", "source name %q must be lower-case letters, digits and dashes, starting with a letter or digit", s.Name)
	}
	checkOneOf(c, "country", s.Country, countries)
	checkOneOf(c, "language", s.Language, languages)
	checkOneOf(c, "kind", s.Kind, kinds)
	checkOneOf(c, "fetch", s.Fetch, fetches)
	if c.has("ready") && strings.TrimSpace(s.Ready) == "" && s.Ready != "" {
		c.problemf("ready", "blank selector; leave ready out to read the page once it has settled")
	}
	checkSelector(c, "ready", s.Ready)
	if c.has("schedule") && s.Schedule != "" {
		checkSchedule(c, s.Schedule, c.d.shortSchedules)
	}
	for i, raw := range s.StartURLs {
		checkURL(c, fmt.Sprintf("start_urls[%d]", i), raw)
	}
	for i, host := range s.AllowedDomains {
		if host == "" || strings.ContainsAny(host, "/:@ ") || host != strings.ToLower(host) {
			c.problemf(fmt.Sprintf("allowed_domains[%d]", i), "%q is not a lower-case host name such as \"www.gob.mx\"", host)
		}
	}
	checkListing(c, &s.Listing)
	checkArticle(c, &s.Article)
	checkPaginationFields(c, &s.Pagination)
	if c.has("time_zone") {
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
			c.problemf("time_zone", "unknown time zone %q; use an IANA name such as \"America/Mexico_City\"", s.TimeZone)
		}
	}
	checkHeaders(c, s)
	for i, m := range s.BlockMarkers {
		if strings.TrimSpace(m) == "" {
			c.problemf(fmt.Sprintf("block_markers[%d]", i), "empty block marker would match every page")
		}
	}
	checkPoliteness(c, &s.Politeness)
	checkExpect(c, &s.Expect)
	if c.has("revisit") && s.Revisit < 0 {
		c.problemf("revisit", "must not be negative")
	}
	if c.has("gone_retry") && s.GoneRetry <= 0 {
		c.problemf("gone_retry", "must be positive, as in \"168h\"")
	}
	if c.has("run_budget") && s.RunBudget <= 0 {
		c.problemf("run_budget", "must be positive, as in \"1h\"")
	}
	checkPatterns(c, "skip.titles", s.Skip.Titles)
	checkPatterns(c, "skip.urls", s.Skip.URLs)
}

// checkPatterns checks a list of regular expressions, none of which may be
// empty (an empty one matches everything).
func checkPatterns(c checker, rel string, patterns []string) {
	for i, p := range patterns {
		at := fmt.Sprintf("%s[%d]", rel, i)
		if p == "" {
			c.problemf(at, "empty pattern would match every item")
			continue
		}
		if _, err := regexp.Compile(p); err != nil {
			c.problemf(at, "regular expression %q does not parse: %v", p, err)
		}
	}
}

// checkEvery checks the interval of an "@every" spec: positive, and at
// least MinScheduleInterval unless short (then at least a second). It
// reports whether spec is worth parsing further.
func checkEvery(c checker, spec string, short bool) bool {
	body := spec
	if strings.HasPrefix(body, "TZ=") || strings.HasPrefix(body, "CRON_TZ=") {
		_, body, _ = strings.Cut(body, " ")
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(body), "@every ")
	if !ok {
		return true
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	min, why := MinScheduleInterval, "crawling a site more often is not polite; use at least \"@every 1m\""
	if short {
		min, why = time.Second, "use at least \"@every 1s\""
	}
	switch {
	case err != nil:
		c.problemf("schedule", "cron spec %q: interval %q does not parse; write a duration such as \"2h\"", spec, strings.TrimSpace(rest))
	case d <= 0:
		c.problemf("schedule", "cron spec %q: the interval must be positive", spec)
	case d < min:
		c.problemf("schedule", "cron spec %q: interval %s is shorter than %s; %s", spec, d, min, why)
	default:
		return true
	}
	return false
}

// checkHosts checks the host mapping: real host names mapped to
// "address:port" or "http(s)://address:port".
func checkHosts(c checker, hosts map[string]string) {
	for _, host := range sortedKeys(hosts) {
		rel := "hosts." + host
		if host == "" || strings.ContainsAny(host, "/:@ ") || host != strings.ToLower(host) {
			c.problemf(rel, "%q is not a lower-case host name such as \"www.state.gov\"", host)
		}
		if _, _, err := SplitHostTarget(hosts[host]); err != nil {
			c.problemf(rel, "%v", err)
		}
	}
}

// SplitHostTarget reads a value of the hosts mapping: "address:port" keeps
// the request's scheme; "http://address:port" or "https://address:port"
// sets it. scheme is "" for the first form.
func SplitHostTarget(target string) (scheme, addr string, err error) {
	addr = target
	if s, rest, ok := strings.Cut(target, "://"); ok {
		if s != "http" && s != "https" {
			return "", "", fmt.Errorf("target %q: scheme %q is not http or https", target, s)
		}
		scheme, addr = s, rest
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || strings.ContainsAny(addr, "/?#@") {
		return "", "", fmt.Errorf("target %q is not an address with a port, such as \"127.0.0.1:18101\" or \"http://127.0.0.1:18101\"", target)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("target %q: port %q is not a number from 1 to 65535", target, port)
	}
	return scheme, addr, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func validName(name string) bool {
	return nameRE.MatchString(name)
}

func checkOneOf(c checker, rel, value string, allowed []string) {
	if c.has(rel) && !slices.Contains(allowed, value) {
		c.problemf(rel, "unknown value %q; want one of %s", value, strings.Join(allowed, ", "))
	}
}

// cronEpoch is the instant schedules are checked from to see that they fire.
var cronEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func checkSchedule(c checker, spec string, short bool) {
	// cron v3.0.1 panics on a time zone prefix with nothing after it.
	if (strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")) && !strings.Contains(spec, " ") {
		c.problemf("schedule", "cron spec %q has a time zone but no schedule", spec)
		return
	}
	if !checkEvery(c, spec, short) {
		return
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		c.problemf("schedule", "cron spec %q does not parse: %v; write 5 fields (\"*/30 * * * *\") or a descriptor (\"@hourly\", \"@every 2h\")", spec, err)
		return
	}
	if sched.Next(cronEpoch).IsZero() {
		c.problemf("schedule", "cron spec %q never fires", spec)
	}
}

func checkURL(c checker, rel, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.problemf(rel, "URL %q does not parse: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		c.problemf(rel, "URL %q is not absolute; write it with https:// and the host", raw)
	}
}

// checkSelector checks an optional selector: empty means unset.
func checkSelector(c checker, rel, sel string) {
	if !c.has(rel) || sel == "" {
		return
	}
	if _, err := cascadia.ParseGroup(sel); err != nil {
		c.problemf(rel, "selector %q does not parse: %v", sel, err)
	}
}

// checkSelectors checks a list of selectors, none of which may be empty.
func checkSelectors(c checker, rel string, sels []string) {
	for i, sel := range sels {
		at := fmt.Sprintf("%s[%d]", rel, i)
		if strings.TrimSpace(sel) == "" {
			c.problemf(at, "empty selector")
			continue
		}
		checkSelector(c, at, sel)
	}
}

func checkField(c checker, rel string, f Field) {
	sel := rel + ".selector"
	if !c.has(sel) {
		sel = rel // the shorthand "title: h2" sets the field itself
	}
	checkSelector(c, sel, f.Selector)
	if f.Attr != "" && f.Selector == "" && c.has(rel) {
		c.problemf(rel, "attr %q is set without a selector", f.Attr)
	}
}

func checkListing(c checker, l *Listing) {
	checkSelector(c, "listing.item", l.Item)
	checkField(c, "listing.title", l.Title)
	checkSelector(c, "listing.link", l.Link)
	checkField(c, "listing.type", l.Type)
	checkDateRules(c, "listing.date", l.Date)
}

func checkArticle(c checker, a *Article) {
	for i, f := range a.Title {
		checkField(c, fmt.Sprintf("article.title[%d]", i), f)
	}
	checkDateRules(c, "article.date", a.Date)
	checkField(c, "article.type", a.Type)
	checkSelector(c, "article.body", a.Body)
	checkSelector(c, "article.parts", a.Parts)
	checkSelectors(c, "article.exclude", a.Exclude)
	checkSelectors(c, "article.required", a.Required)
	for i, stop := range a.Stop {
		if strings.TrimSpace(stop) == "" {
			c.problemf(fmt.Sprintf("article.stop[%d]", i), "empty stop marker would end every body at once")
		}
	}
}

// layoutCheck is formatted with each date layout: a layout that reads the
// text back to the same day holds a year, a month and a day.
var layoutCheck = time.Date(2006, time.January, 2, 15, 4, 5, 0, time.UTC)

func checkDateRules(c checker, rel string, rules []DateRule) {
	for i, r := range rules {
		at := fmt.Sprintf("%s[%d]", rel, i)
		if r.Selector == "" {
			c.problemf(at+".selector", "required: the element the date is read from")
		}
		checkSelector(c, at+".selector", r.Selector)
		if r.Pick != "" && r.Pick != "first" && r.Pick != "last" {
			if n, err := strconv.Atoi(r.Pick); err != nil || n < 1 {
				c.problemf(at+".pick", "unknown pick %q; want first, last or a position from 1", r.Pick)
			}
		}
		if r.Pattern != "" {
			if _, err := regexp.Compile(r.Pattern); err != nil {
				c.problemf(at+".pattern", "regular expression %q does not parse: %v", r.Pattern, err)
			}
		}
		if len(r.Layouts) == 0 {
			c.problemf(at+".layouts", "required: at least one Go time layout, such as \"January 2, 2006\"")
		}
		for j, layout := range r.Layouts {
			t, err := time.Parse(layout, layoutCheck.Format(layout))
			if err != nil || t.Year() != 2006 || t.Month() != time.January || t.Day() != 2 {
				c.problemf(fmt.Sprintf("%s.layouts[%d]", at, j), "layout %q lacks a year, month or day; write Go's reference date (Mon Jan 2 15:04:05 2006) in the site's format, as in \"January 2, 2006\"", layout)
			}
		}
	}
}

func checkPaginationFields(c checker, p *Pagination) {
	if p.Template != "" && !strings.Contains(p.Template, "{n}") {
		c.problemf("pagination.template", "template %q has no {n} for the page number", p.Template)
	}
	checkSelector(c, "pagination.next_selector", p.NextSelector)
	if p.FirstNumber < 0 {
		c.problemf("pagination.first_number", "must be 0 or more")
	}
	if p.MaxPages < 0 {
		c.problemf("pagination.max_pages", "must be 0 (the crawler's cap of %d pages) or more", DefaultMaxPages)
	}
}

var headerNameRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)

func checkHeaders(c checker, s *Source) {
	for _, name := range sortedKeys(s.Headers) {
		rel := "headers." + name
		switch {
		case !headerNameRE.MatchString(name):
			c.problemf(rel, "%q is not a valid header name", name)
		case strings.EqualFold(name, "User-Agent"):
			c.problemf(rel, "set the user agent with user_agent, not in headers")
		case strings.ContainsAny(s.Headers[name], "\r\n"):
			c.problemf(rel, "header value must be one line")
		case strings.ContainsFunc(s.Headers[name], unicode.IsControl):
			c.problemf(rel, "header value %q holds control characters; write printable text", s.Headers[name])
		}
	}
	switch {
	case strings.ContainsAny(s.UserAgent, "\r\n"):
		c.problemf("user_agent", "must be one line")
	case strings.ContainsFunc(s.UserAgent, unicode.IsControl):
		c.problemf("user_agent", "%q holds control characters; write printable text", s.UserAgent)
	}
}

func checkPoliteness(c checker, p *Politeness) {
	checks := []struct {
		rel string
		bad bool
		msg string
	}{
		{"politeness.delay", p.Delay < 0, "must not be negative"},
		{"politeness.parallelism", p.Parallelism < 1, "must be 1 or more"},
		{"politeness.timeout", p.Timeout <= 0, "must be positive, as in \"30s\""},
		{"politeness.max_body_size", p.MaxBodySize <= 0, "must be positive, as in \"10MiB\""},
		{"politeness.retries", p.Retries < 0 || p.Retries > 10, "must be between 0 and 10"},
		{"politeness.retry_backoff", p.RetryBackoff < 0, "must not be negative"},
		{"politeness.max_crawl_delay", p.MaxCrawlDelay < 0, "must not be negative (0 means no cap)"},
	}
	for _, ch := range checks {
		if ch.bad && c.has(ch.rel) {
			c.problemf(ch.rel, "%s", ch.msg)
		}
	}
}

func checkExpect(c checker, e *Expect) {
	if c.has("expect.min_items") && e.MinItems < 0 {
		c.problemf("expect.min_items", "must be 0 or more")
	}
	if c.has("expect.min_fill_rate") && !(e.MinFillRate >= 0 && e.MinFillRate <= 1) {
		c.problemf("expect.min_fill_rate", "%v is outside 0..1; write a share such as 0.98", e.MinFillRate)
	}
}

// hosts returns the lower-case hosts of the URLs that parse, without duplicates.
func hosts(urls []string) []string {
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		if h := strings.ToLower(u.Hostname()); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}
