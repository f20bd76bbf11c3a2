package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// guardedTransport returns an HTTP transport whose dialer refuses private,
// loopback, link-local and other non-public addresses unless allowPrivate.
// The check runs in net.Dialer.Control on the address actually dialled, after
// DNS resolution and the hosts mapping, so a name that resolves (or
// re-resolves, or is mapped) to a private address cannot slip through.
// Proxies from the environment are ignored for the same reason.
func guardedTransport(allowPrivate bool, hosts hostMap) *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           hosts.dial(dialer),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// refusePrivate is a net.Dialer.Control function that rejects non-public
// destination addresses.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrPrivateNetwork, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !publicAddr(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateNetwork, address)
	}
	return nil
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether ip is a globally routable unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !sharedAddressSpace.Contains(ip)
}

// hostTarget is where the requests for a mapped host go.
type hostTarget struct {
	scheme string // "http" or "https" to force one; "" keeps the URL's
	addr   string // host:port dialled
}

// hostMap maps lower-case host names to their targets (Options.Hosts).
type hostMap map[string]hostTarget

// parseHosts reads Options.Hosts.
func parseHosts(hosts map[string]string) (hostMap, error) {
	m := hostMap{}
	for host, target := range hosts {
		t := hostTarget{addr: target}
		if scheme, rest, ok := strings.Cut(target, "://"); ok {
			t.scheme, t.addr = scheme, rest
		}
		if _, _, err := net.SplitHostPort(t.addr); err != nil || (t.scheme != "" && t.scheme != "http" && t.scheme != "https") {
			return nil, fmt.Errorf("crawler: hosts: %s: target %q is not address:port or http(s)://address:port", host, target)
		}
		m[strings.ToLower(host)] = t
	}
	return m, nil
}

// dial returns a DialContext that dials the mapped address of a mapped
// host, whatever the port asked for.
func (m hostMap) dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if len(m) == 0 {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if t, ok := m[strings.ToLower(host)]; ok {
				addr = t.addr
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

// wrap returns rt, made to switch the scheme of requests to mapped hosts
// whose target forces one (a plain-HTTP mirror of an https site).
func (m hostMap) wrap(rt http.RoundTripper) http.RoundTripper {
	for _, t := range m {
		if t.scheme != "" {
			return schemeSwitch{base: rt, hosts: m}
		}
	}
	return rt
}

// schemeSwitch sends requests to mapped hosts with the target's scheme. The
// request's URL and Host header stay those of the real host, and the
// response carries the original request, so the crawler sees real URLs.
type schemeSwitch struct {
	base  http.RoundTripper
	hosts hostMap
}

func (s schemeSwitch) RoundTrip(req *http.Request) (*http.Response, error) {
	t, ok := s.hosts[strings.ToLower(req.URL.Hostname())]
	if !ok || t.scheme == "" || t.scheme == req.URL.Scheme {
		return s.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.scheme
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	resp, err := s.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	resp.Request = req
	return resp, nil
}
