package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Every connection a check opens goes through dial, so that no check,
// however its target is written (an IP, a name, a redirect, a resolver),
// reaches the cloud-metadata service or a link-local address unless the
// configuration allows it. The address is checked in the dialer's
// Control, on the IP actually about to be connected to, after name
// resolution and before any packet is sent: a DNS name that points there
// is refused the same way as the IP itself. Loopback and RFC 1918
// addresses stay allowed, since small hosts probe their own LAN.

// metadataNames are host names of metadata services, refused before they
// are even resolved (metadata.google.internal resolves only inside GCP).
var metadataNames = []string{"metadata.google.internal", "metadata.goog", "metadata.azure.internal"}

// metadataAddrs are metadata services outside the link-local ranges.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// refusedError is a dial the prober refused for safety.
type refusedError struct {
	host string // as the check gave it
	ip   netip.Addr
	why  string
}

func (e *refusedError) Error() string {
	target := e.host
	if e.ip.IsValid() && e.ip.String() != e.host {
		target = fmt.Sprintf("%s (%s)", e.host, e.ip)
	}
	return fmt.Sprintf("refused to probe %s: it is %s; set checks.allow_private in the configuration to allow it", target, e.why)
}

// blockedAddr says why ip may not be probed, or "" when it may.
func blockedAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	for _, m := range metadataAddrs {
		if ip == m {
			return "a cloud-metadata address"
		}
	}
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() {
		return "a link-local address"
	}
	return ""
}

// blockedName says why a host name may not be probed, or "".
func blockedName(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range metadataNames {
		if h == n {
			return "a cloud-metadata name"
		}
	}
	return ""
}

// dial connects to addr (host:port) with the safety checks above; the
// context bounds the whole dial, name resolution included.
func (p *Prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !p.AllowPrivate {
		if why := blockedName(host); why != "" {
			return nil, &refusedError{host: host, why: why}
		}
	}
	d := &net.Dialer{Resolver: p.Resolver}
	if !p.AllowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("refused to probe %s: not an IP address and port", address)
			}
			if why := blockedAddr(ap.Addr()); why != "" {
				return &refusedError{host: host, ip: ap.Addr().Unmap(), why: why}
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}
