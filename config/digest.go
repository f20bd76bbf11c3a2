package config

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"time"
)

// SMTP is the mail server digests are sent through. When the section is
// absent (Host is empty) digests are written as .eml files to the outbox
// directory under the data directory instead.
type SMTP struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default: 587 for starttls, 465 for tls, 25 for none
	// TLS is "starttls" (default), "tls" (implicit TLS) or "none".
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable that holds the password.
	PasswordEnv string `yaml:"password_env"`
	// Password is never accepted: it is decoded only to reject it with a
	// message that says where the password goes.
	Password string        `yaml:"password"`
	From     string        `yaml:"from"`    // "Atalaya <atalaya@example.org>"
	Timeout  time.Duration `yaml:"timeout"` // per connection and command; default 30s
}

// Digest is one email digest: the releases matching Query indexed since its
// last send, mailed to To on Schedule.
type Digest struct {
	Name      string   `yaml:"name"`     // lower-case letters, digits and dashes
	Schedule  string   `yaml:"schedule"` // cron spec; empty: sent only by `atalaya digest send`
	To        []string `yaml:"to"`
	Query     string   `yaml:"query"` // search query language; empty: every release
	SendEmpty bool     `yaml:"send_empty"`
	BaseURL   string   `yaml:"base_url"` // the web UI, for links to release pages; default serve.base_url
	// MaxReleases bounds the releases listed in one message (default 200);
	// the rest wait for the next digest.
	MaxReleases int             `yaml:"max_releases"`
	Templates   DigestTemplates `yaml:"templates"`
	// QueryLine is the line of the query key in the file, for problems
	// found in the query by CheckDigestQueries.
	QueryLine int `yaml:"-"`
}

// DigestTemplates are files that replace the embedded templates of a
// digest; empty keys keep the embedded ones. Subject and Text are Go
// text/template files, HTML an html/template file.
type DigestTemplates struct {
	Subject string `yaml:"subject"`
	Text    string `yaml:"text"`
	HTML    string `yaml:"html"`
}

// tlsModes are the values smtp.tls accepts.
var tlsModes = []string{"none", "starttls", "tls"}

// DefaultMaxReleases is a digest's max_releases when unset.
const DefaultMaxReleases = 200

// checkDigests checks the smtp and digests sections and fills in their
// defaults.
func checkDigests(cfg *Config, d *decoder) {
	top := checker{d: d, e: entry{line: 1, origins: d.top}}
	if top.has("smtp") {
		checkSMTP(top, &cfg.SMTP)
	}
	first := map[string]int{}
	for i := range cfg.Digests {
		dg := &cfg.Digests[i]
		c := digestChecker(d, i)
		checkDigest(c, dg, cfg.Serve.BaseURL)
		if j, dup := first[dg.Name]; dup && dg.Name != "" {
			c.problemf("name", "duplicate digest name %q (also digests[%d])", dg.Name, j)
		} else {
			first[dg.Name] = i
		}
	}
}

// digestChecker returns a checker for digests[i], whose paths are relative
// to the digest.
func digestChecker(d *decoder, i int) checker {
	prefix := fmt.Sprintf("digests[%d]", i)
	e := entry{at: pos{abs: prefix}, line: 1, origins: origins{}}
	for rel, loc := range d.top {
		switch {
		case rel == prefix:
			e.line = loc.line
		case strings.HasPrefix(rel, prefix+"."):
			e.origins[rel[len(prefix)+1:]] = loc
		}
	}
	return checker{d: d, e: e}
}

func checkSMTP(c checker, s *SMTP) {
	if s.Host == "" {
		c.missingf("smtp.host", "required: the mail server's host name; remove the smtp section to write digests to the outbox directory instead")
	}
	if s.TLS == "" {
		s.TLS = "starttls"
	}
	checkOneOf(c, "smtp.tls", s.TLS, tlsModes)
	if s.Port == 0 {
		s.Port = map[string]int{"none": 25, "starttls": 587, "tls": 465}[s.TLS]
	}
	if s.Port < 0 || s.Port > 65535 {
		c.problemf("smtp.port", "port %d is not between 1 and 65535", s.Port)
	}
	if c.has("smtp.password") {
		c.problemf("smtp.password", "never write the password in the file: put it in an environment variable and name it with password_env (password_env: ATALAYA_SMTP_PASSWORD)")
	}
	if s.PasswordEnv != "" && s.Username == "" {
		c.problemf("smtp.password_env", "a password needs a username: set smtp.username")
	}
	if s.From == "" {
		c.missingf("smtp.from", "required: the sender address, as in \"Atalaya <atalaya@example.org>\"")
	} else {
		checkAddress(c, "smtp.from", s.From)
	}
	if s.Timeout < 0 {
		c.problemf("smtp.timeout", "timeout %s is negative", s.Timeout)
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Second
	}
}

// checkDigest checks dg and fills in its defaults: base_url is
// serveBaseURL, serve.base_url, when unset.
func checkDigest(c checker, dg *Digest, serveBaseURL string) {
	switch {
	case dg.Name == "":
		c.missingf("name", "required: a short name for the digest, as in \"daily\"")
	case !validName(dg.Name):
		c.problemf("name", "digest name %q must be lower-case letters, digits and dashes", dg.Name)
	}
	if dg.Schedule != "" {
		checkSchedule(c, dg.Schedule, true) // a digest contacts no site: no politeness minimum
	}
	if len(dg.To) == 0 {
		c.missingf("to", "required: at least one recipient address")
	}
	for i, to := range dg.To {
		checkAddress(c, fmt.Sprintf("to[%d]", i), to)
	}
	switch {
	case dg.BaseURL != "":
		checkBaseURL(c, "base_url", dg.BaseURL)
	case serveBaseURL != "":
		dg.BaseURL = serveBaseURL
	default:
		c.missingf("base_url", "required: the address of the web UI the digest links to, as in \"http://localhost:8080\"; set it here, or serve.base_url for every digest")
	}
	if dg.MaxReleases < 0 {
		c.problemf("max_releases", "max_releases %d is negative", dg.MaxReleases)
	}
	if dg.MaxReleases == 0 {
		dg.MaxReleases = DefaultMaxReleases
	}
	if loc, ok := c.e.origins["query"]; ok {
		dg.QueryLine = loc.line
	} else {
		dg.QueryLine = c.e.line
	}
}

// checkAddress checks one email address, with or without a display name.
func checkAddress(c checker, rel, addr string) {
	if _, err := mail.ParseAddress(addr); err != nil {
		c.problemf(rel, "address %q is not valid: %v; write name@example.org or \"Name <name@example.org>\"", addr, err)
	}
}

// CheckDigestQueries checks every digest's query with check (the index's
// query parser: config does not know the query language) and returns a
// problem for each that check rejects, on the query's line in file. The
// error check returns says where in the query the problem is
// ("query:1:11: expected ...").
func CheckDigestQueries(cfg *Config, file string, check func(query string) error) Problems {
	var probs Problems
	for i, dg := range cfg.Digests {
		if strings.TrimSpace(dg.Query) == "" {
			continue
		}
		if err := check(dg.Query); err != nil {
			probs = append(probs, Problem{File: file, Line: dg.QueryLine, Path: fmt.Sprintf("digests[%d].query", i), Msg: err.Error()})
		}
	}
	return probs
}

// Digest returns the digest named name.
func (c *Config) Digest(name string) (Digest, bool) {
	for _, dg := range c.Digests {
		if dg.Name == name {
			return dg, true
		}
	}
	return Digest{}, false
}

// resolveDigestPaths makes relative template paths relative to dir.
func (c *Config) resolveDigestPaths(dir string) {
	for i := range c.Digests {
		t := &c.Digests[i].Templates
		for _, p := range []*string{&t.Subject, &t.Text, &t.HTML} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
}
