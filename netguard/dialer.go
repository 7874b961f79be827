package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Resolver resolves a host name to its addresses. *net.Resolver implements
// it; tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DefaultDialTimeout is the connect timeout of a Dialer with no Dialer set.
const DefaultDialTimeout = 10 * time.Second

// Dialer connects only to addresses its Policy allows. It resolves a name
// once, decides every A and AAAA record (one denied record refuses the
// name), then dials the checked addresses themselves ("pinned"), so DNS
// rebinding between check and connect is impossible; the Policy's Control
// re-checks the socket address as a second line.
//
// The zero Dialer uses a nil (STRICT) Policy and net.DefaultResolver.
type Dialer struct {
	// Policy decides addresses. Zero value: STRICT, no allow-list.
	Policy *Policy
	// Resolver resolves names. Zero value: net.DefaultResolver.
	Resolver Resolver
	// Dialer is the base dialer (timeouts, keep-alive, local address). Its
	// Control is replaced by one that runs Policy.Control after the
	// original. Zero value: a net.Dialer with DefaultDialTimeout.
	Dialer *net.Dialer
	// Observe, if set, is called with every decision made for a dial
	// (including WouldDeny ones), for logging and metrics.
	Observe func(ctx context.Context, host string, ip netip.Addr, d Decision)
}

// Resolve decides host (a name or an address literal in any spelling) and,
// for a name, every address it resolves to. It returns the addresses to
// dial, IPv4-mapped results unmapped, and the overall decision: the first
// Deny if any, else the first WouldDeny, else Allow (with ReasonAllowList if
// any address needed the allow-list).
//
// # Errors
//
//   - *BlockedError (errors.Is(err, ErrBlocked)) if the host or any of its
//     addresses is denied; the addresses are still returned for logging.
//   - the resolver's error (wrapped) if resolution fails or returns nothing.
func (d *Dialer) Resolve(ctx context.Context, host string) ([]netip.Addr, Decision, error) {
	ip, isIP, hd := d.Policy.DecideHost(host)
	if isIP {
		d.observe(ctx, host, ip, hd)
		if !hd.Allowed() {
			return []netip.Addr{ip}, hd, &BlockedError{Host: host, IP: ip, Reason: hd.Reason}
		}
		return []netip.Addr{ip}, hd, nil
	}
	if !hd.Allowed() || hd.Verdict == WouldDeny {
		d.observe(ctx, host, netip.Addr{}, hd)
		if !hd.Allowed() {
			return nil, hd, &BlockedError{Host: host, Reason: hd.Reason}
		}
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, hd, fmt.Errorf("netguard: resolving %q: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, hd, fmt.Errorf("netguard: resolving %q: no addresses", host)
	}
	overall := hd
	var blocked error
	for i, a := range addrs {
		if a.Is4In6() {
			a = a.Unmap()
			addrs[i] = a
		}
		dec := d.Policy.Decide(a)
		d.observe(ctx, host, a, dec)
		switch {
		case dec.Verdict == Deny && blocked == nil:
			overall = dec
			blocked = &BlockedError{Host: host, IP: a, Reason: dec.Reason}
		case dec.Verdict == WouldDeny && overall.Verdict == Allow:
			overall = dec
		case dec.Reason == ReasonAllowList && overall.Verdict == Allow:
			overall = dec // allowed only thanks to the allow-list: say so
		}
	}
	return addrs, overall, blocked
}

func (d *Dialer) observe(ctx context.Context, host string, ip netip.Addr, dec Decision) {
	if d.Observe != nil {
		d.Observe(ctx, host, ip, dec)
	}
}

// DialContext connects to address ("host:port") on network ("tcp", "tcp4",
// "tcp6", "udp"...), trying the resolved addresses in order.
//
// # Errors
//
// *BlockedError if the host or any resolved address is denied; otherwise
// resolution or connection errors.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, _, err := d.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("netguard: bad port in %q", address)
	}
	return d.DialAddrs(ctx, network, addrs, uint16(pn))
}

// DialAddrs dials already-decided addresses in order and returns the first
// connection. The Policy's Control still checks each socket address.
func (d *Dialer) DialAddrs(ctx context.Context, network string, addrs []netip.Addr, port uint16) (net.Conn, error) {
	nd := d.netDialer()
	var errs []error
	for _, a := range addrs {
		if (network == "tcp4" || network == "udp4") && !a.Is4() ||
			(network == "tcp6" || network == "udp6") && !a.Is6() {
			continue
		}
		c, err := nd.DialContext(ctx, network, netip.AddrPortFrom(a, port).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("netguard: no %s address among %v", network, addrs)
	}
	return nil, errors.Join(errs...)
}

func (d *Dialer) netDialer() *net.Dialer {
	var nd net.Dialer
	if d.Dialer != nil {
		nd = *d.Dialer
	} else {
		nd.Timeout = DefaultDialTimeout
	}
	p := d.Policy
	if orig := nd.ControlContext; orig != nil {
		nd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
			if err := orig(ctx, network, address, c); err != nil {
				return err
			}
			return p.Control(network, address, c)
		}
		return &nd
	}
	orig := nd.Control
	nd.Control = func(network, address string, c syscall.RawConn) error {
		if orig != nil {
			if err := orig(network, address, c); err != nil {
				return err
			}
		}
		return p.Control(network, address, c)
	}
	return &nd
}
