package browser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrPrivateNetwork: the page's host is a private, loopback or otherwise
// non-public address, and the transport does not allow private networks.
var ErrPrivateNetwork = errors.New("browser: refusing to load a page from a private network address")

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// checkPublic returns an error wrapping [ErrPrivateNetwork] unless every
// address host resolves to is globally routable. The browser resolves the
// name again itself, so unlike the crawler's dialer guard this check does
// not stop a name that changes its answer in between (DNS rebinding); it
// stops links and redirects to internal hosts.
func checkPublic(ctx context.Context, host string) error {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return fmt.Errorf("%w: resolving %s: %v", ErrLoad, host, err)
		}
		addrs = ips
	}
	for _, ip := range addrs {
		ip = ip.Unmap()
		if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || sharedAddressSpace.Contains(ip) {
			return &privateNetworkError{host: host, ip: ip}
		}
	}
	return nil
}

// privateNetworkError is a page refused for its private address. It
// matches [ErrPrivateNetwork]; the crawler, which does not import this
// package, recognises it by its PrivateNetwork method (as it recognises a
// page over the size limit by TooLarge) and does not retry it.
type privateNetworkError struct {
	host string
	ip   netip.Addr
}

func (e *privateNetworkError) Error() string {
	return fmt.Sprintf("%v: %s is %s", ErrPrivateNetwork, e.host, e.ip)
}

// PrivateNetwork reports that the page was refused for its address.
func (e *privateNetworkError) PrivateNetwork() bool { return true }
func (e *privateNetworkError) Is(target error) bool { return target == ErrPrivateNetwork }
