package crawler

import (
	"net/url"
	"strings"
)

// dropParams lists query parameters that name a language variant or track a
// visit; they never change which release a URL points at.
var dropParams = []string{"idiom", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Canonical returns the form of an absolute release URL used as its
// identity: scheme and host lower-cased, default port, fragment, language
// ("idiom") and tracking parameters removed, remaining parameters sorted,
// and no trailing slash on a non-root path (state.gov writes one, Treasury
// and gob.mx do not, so both spellings of a link map to the same release).
// A string that does not parse as an absolute URL is returned trimmed.
func Canonical(rawURL string) string {
	raw := strings.TrimSpace(rawURL)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		u.Host = u.Hostname()
	}
	u.Fragment, u.RawFragment = "", ""
	q := u.Query()
	for _, p := range dropParams {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	u.ForceQuery = false
	if len(u.Path) > 1 {
		u.Path = strings.TrimRight(u.Path, "/")
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawPath = ""
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// resolve returns ref resolved against base, or "" when either does not
// parse or the result is not http(s).
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	abs := base.ResolveReference(r)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return ""
	}
	abs.Fragment = ""
	return abs.String()
}

// hostAllowed reports whether the host of rawURL is one of domains.
func hostAllowed(rawURL string, domains []string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range domains {
		if strings.EqualFold(host, d) {
			return true
		}
	}
	return false
}
