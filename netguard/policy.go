package netguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Environment variables read by FromEnv.
const (
	EnvNetworkMode = "AP_NETWORK_MODE"
	EnvAllowList   = "AP_SSRF_ALLOW_LIST"
)

// Mode is how a Policy enforces its decisions.
type Mode string

const (
	// ModeStrict denies every address the rules deny. The default.
	ModeStrict Mode = "STRICT"
	// ModeUnrestricted is report-only: decisions are computed, logged and
	// counted as WouldDeny, and the connection goes ahead — except cloud
	// metadata endpoints (ReasonMetadata), which stay denied in every mode
	// unless allow-listed: no code step needs instance credentials, and
	// reaching them turns one step into a cloud-account takeover.
	ModeUnrestricted Mode = "UNRESTRICTED"
)

// ParseMode parses a mode name, case-insensitively. The empty string is
// ModeStrict.
func ParseMode(s string) (Mode, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", string(ModeStrict):
		return ModeStrict, nil
	case string(ModeUnrestricted):
		return ModeUnrestricted, nil
	}
	return "", fmt.Errorf("netguard: unknown network mode %q (want STRICT or UNRESTRICTED)", s)
}

// Policy decides which addresses may be connected to. A nil *Policy is a
// STRICT policy with an empty allow-list. A Policy is immutable and safe for
// concurrent use.
type Policy struct {
	mode   Mode
	allow  []netip.Prefix
	allow4 []range4
	allow6 []range6
}

// Option configures a Policy.
type Option func(*Policy) error

// WithMode sets the mode. Default ModeStrict.
func WithMode(m Mode) Option {
	return func(p *Policy) error {
		if m != ModeStrict && m != ModeUnrestricted {
			return fmt.Errorf("netguard: unknown network mode %q", m)
		}
		p.mode = m
		return nil
	}
}

// WithAllowList adds allow-list entries in AP_SSRF_ALLOW_LIST syntax (see
// ParseAllowList).
func WithAllowList(list string) Option {
	return func(p *Policy) error {
		pfx, err := ParseAllowList(list)
		if err != nil {
			return err
		}
		p.allow = append(p.allow, pfx...)
		return nil
	}
}

// WithAllow adds allow-listed prefixes. Addresses are /32 or /128 prefixes.
func WithAllow(prefixes ...netip.Prefix) Option {
	return func(p *Policy) error {
		for _, pf := range prefixes {
			if err := checkAllowPrefix(pf); err != nil {
				return fmt.Errorf("netguard: allow-list entry %q: %w", pf, err)
			}
		}
		p.allow = append(p.allow, prefixes...)
		return nil
	}
}

// New builds a Policy: STRICT with an empty allow-list, changed by opts.
//
// # Errors
//
// The first option error: an unknown mode or an invalid allow-list entry,
// named in the message.
func New(opts ...Option) (*Policy, error) {
	p := &Policy{mode: ModeStrict}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	for _, pf := range p.allow {
		lo := pf.Masked().Addr()
		if lo.Is4() {
			a := binary.BigEndian.Uint32(lo.AsSlice())
			p.allow4 = append(p.allow4, range4{a, a | uint32(uint64(1)<<(32-pf.Bits())-1), ReasonAllowList})
			continue
		}
		b := lo.As16()
		x := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
		h := x
		if host := 128 - pf.Bits(); host >= 64 {
			h.lo = ^uint64(0)
			h.hi |= uint64(1)<<(host-64) - 1
			if host == 128 {
				h.hi = ^uint64(0)
			}
		} else {
			h.lo |= uint64(1)<<host - 1
		}
		p.allow6 = append(p.allow6, range6{x, h, ReasonAllowList})
	}
	slices.SortFunc(p.allow4, func(a, b range4) int { return int(int64(a.lo) - int64(b.lo)) })
	slices.SortFunc(p.allow6, func(a, b range6) int {
		if a.lo.less(b.lo) {
			return -1
		}
		if b.lo.less(a.lo) {
			return 1
		}
		return 0
	})
	return p, nil
}

// FromEnv builds a Policy from AP_NETWORK_MODE (default STRICT) and
// AP_SSRF_ALLOW_LIST, then applies opts (flags), which may add allow-list
// entries or override the mode.
//
// # Errors
//
// An unknown mode or an invalid allow-list entry, named in the message; a
// service should refuse to start.
func FromEnv(opts ...Option) (*Policy, error) {
	return FromEnvFunc(os.Getenv, opts...)
}

// FromEnvFunc is FromEnv reading variables with getenv.
func FromEnvFunc(getenv func(string) string, opts ...Option) (*Policy, error) {
	m, err := ParseMode(getenv(EnvNetworkMode))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvNetworkMode, err)
	}
	all := append([]Option{WithMode(m), func(p *Policy) error {
		if err := WithAllowList(getenv(EnvAllowList))(p); err != nil {
			return fmt.Errorf("%s: %w", EnvAllowList, err)
		}
		return nil
	}}, opts...)
	return New(all...)
}

// ParseAllowList parses allow-list entries separated by commas and/or
// white space: exact addresses ("10.0.0.5", "fd00::1") and CIDR prefixes
// ("10.1.0.0/16", "2001:db8:1::/48").
//
// # Errors
//
// An error naming the first invalid entry: not an address or prefix, a
// prefix with host bits set ("10.1.2.3/8": write 10.0.0.0/8), a zone, or an
// IPv4-mapped IPv6 form (write the IPv4 address).
func ParseAllowList(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range strings.FieldsFunc(list, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		var pf netip.Prefix
		var err error
		if strings.Contains(e, "/") {
			pf, err = netip.ParsePrefix(e)
			if err == nil && pf.Masked() != pf {
				err = fmt.Errorf("host bits set (did you mean %s?)", pf.Masked())
			}
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(e)
			if err == nil {
				if a.Zone() != "" {
					err = errors.New("zones are not allowed")
				} else {
					pf = netip.PrefixFrom(a, a.BitLen())
				}
			}
		}
		if err == nil {
			err = checkAllowPrefix(pf)
		}
		if err != nil {
			return nil, fmt.Errorf("netguard: allow-list entry %q: %w", e, err)
		}
		out = append(out, pf)
	}
	return out, nil
}

func checkAllowPrefix(pf netip.Prefix) error {
	switch {
	case !pf.IsValid():
		return errors.New("invalid prefix")
	case pf.Addr().Zone() != "":
		return errors.New("zones are not allowed")
	case pf.Addr().Is4In6():
		return errors.New("IPv4-mapped IPv6: write the IPv4 form")
	}
	return nil
}

// Mode returns the policy's mode.
func (p *Policy) Mode() Mode {
	if p == nil {
		return ModeStrict
	}
	return p.mode
}

// AllowList returns a copy of the allow-listed prefixes.
func (p *Policy) AllowList() []netip.Prefix {
	if p == nil {
		return nil
	}
	return slices.Clone(p.allow)
}

// Decide returns the verdict for connecting to ip: Allow if it is global
// unicast (ReasonGlobal) or allow-listed (ReasonAllowList, checked before
// the deny rules' verdict), otherwise Deny — or WouldDeny in
// ModeUnrestricted, except ReasonMetadata, ReasonInvalid and zoned
// addresses (ReasonZoned), which are denied in every mode.
//
// Decide does not allocate; see BenchmarkPolicyCheck.
func (p *Policy) Decide(ip netip.Addr) Decision {
	r := Classify(ip)
	if r == ReasonGlobal {
		return Decision{Allow, ReasonGlobal}
	}
	if r != ReasonInvalid && p.allowed(ip) {
		return Decision{Allow, ReasonAllowList}
	}
	if p.Mode() == ModeUnrestricted && r != ReasonMetadata && r != ReasonInvalid && r != ReasonZoned {
		return Decision{WouldDeny, r}
	}
	return Decision{Deny, r}
}

func (p *Policy) allowed(ip netip.Addr) bool {
	if p == nil || len(p.allow) == 0 {
		return false
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		b := ip.As4()
		x := binary.BigEndian.Uint32(b[:])
		for _, r := range p.allow4 {
			if r.lo > x {
				break
			}
			if x <= r.hi {
				return true
			}
		}
		return false
	}
	b := ip.As16()
	x := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	for _, r := range p.allow6 {
		if x.less(r.lo) {
			break
		}
		if !r.hi.less(x) {
			return true
		}
	}
	return false
}

// Check returns nil if ip may be connected to (Allow or WouldDeny), else a
// *BlockedError with the reason.
//
// # Errors
//
// *BlockedError (errors.Is(err, ErrBlocked)) with IP set and Host empty.
func (p *Policy) Check(ip netip.Addr) error {
	d := p.Decide(ip)
	if d.Allowed() {
		return nil
	}
	return &BlockedError{IP: ip, Reason: d.Reason}
}

// Control is a net.Dialer Control function that checks the address the
// socket is about to connect to, after every name resolution: install it to
// guard any dialer (Dialer does). address is "ip:port".
//
// # Errors
//
// *BlockedError for a denied address, or ReasonInvalidHost if address is not
// a numeric ip:port.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Host: address, Reason: ReasonInvalidHost}
	}
	if err := p.Check(ap.Addr()); err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			be.Host = address
		}
		return err
	}
	return nil
}

// DecideHost decides a host as written in a URL or a CONNECT request before
// any resolution: an address literal in any spelling ParseHost accepts is
// decided as that address (ip valid, isIP true); a name denied by name
// (cloud metadata names, localhost) gets its verdict; a malformed host is
// denied with ReasonInvalidHost. For any other name, isIP is false and the
// decision is Allow: resolve it and Decide every address.
func (p *Policy) DecideHost(host string) (ip netip.Addr, isIP bool, d Decision) {
	ip, isIP, ok := ParseHost(host)
	if !ok {
		return netip.Addr{}, false, Decision{Deny, ReasonInvalidHost}
	}
	if isIP {
		return ip, true, p.Decide(ip)
	}
	if r := nameReason(host); r != "" {
		if p.Mode() == ModeUnrestricted && r != ReasonMetadata {
			return netip.Addr{}, false, Decision{WouldDeny, r}
		}
		return netip.Addr{}, false, Decision{Deny, r}
	}
	return netip.Addr{}, false, Decision{Allow, ReasonGlobal}
}
