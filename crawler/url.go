package crawler

import (
	"net/url"
	"slices"
	"strings"
)

// dropParams lists query parameters that name a language variant or track a
// visit; they never change which release a URL points at.
var dropParams = []string{"idiom", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Canonical returns the form of an absolute release URL used as its
// identity: the URL as the site links it, with scheme and host lower-cased,
// the default port, the fragment, and language ("idiom") and tracking
// parameters removed. The path, its trailing slash and the order of the
// remaining parameters are kept. A string that does not parse as an
// absolute URL is returned trimmed.
//
// Releases archived before version 0.2 were identified by [LegacyCanonical];
// the crawler keeps their IDs (see [State]).
func Canonical(rawURL string) string {
	u, ok := normalize(rawURL)
	if !ok {
		return strings.TrimSpace(rawURL)
	}
	return u.String()
}

// LegacyCanonical is the identity form of a URL used before version 0.2:
// [Canonical], with the remaining query parameters sorted and no trailing
// slash on a non-root path. It maps state.gov's ".../slug/" and ".../slug"
// to one release, and it is how releases archived then were identified.
func LegacyCanonical(rawURL string) string {
	u, ok := normalize(rawURL)
	if !ok {
		return strings.TrimSpace(rawURL)
	}
	u.RawQuery = u.Query().Encode()
	if len(u.Path) > 1 {
		u.Path = strings.TrimRight(u.Path, "/")
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawPath = ""
	}
	return u.String()
}

// normalize parses an absolute URL and applies what [Canonical] changes.
func normalize(rawURL string) (*url.URL, bool) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		u.Host = u.Hostname()
	}
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = dropQueryParams(u.RawQuery)
	u.ForceQuery = false
	if u.Path == "" {
		u.Path = "/"
	}
	return u, true
}

// dropQueryParams removes dropParams from a raw query, keeping the other
// parameters as written and in order.
func dropQueryParams(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for _, pair := range strings.Split(rawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil && slices.Contains(dropParams, k) {
			continue
		}
		if pair != "" {
			kept = append(kept, pair)
		}
	}
	return strings.Join(kept, "&")
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
