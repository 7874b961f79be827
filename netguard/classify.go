package netguard

import (
	"encoding/binary"
	"net/netip"
)

//go:generate go run ./internal/gen -o registry_gen.go

type range4 struct {
	lo, hi uint32
	reason Reason
}

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

type range6 struct {
	lo, hi u128
	reason Reason
}

// Classify returns why ip is denied by the built-in rules, or ReasonGlobal
// if it is a global unicast address outside every denied range. It ignores
// allow-lists and modes; use Policy.Decide for a verdict.
//
// Decoding rules:
//   - IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address on the wire and
//     is classified as that IPv4 address.
//   - NAT64 well-known prefix 64:ff9b::/96 (RFC 6052) is classified as the
//     IPv4 address embedded in its last 32 bits: a NAT64 gateway connects
//     there. The local-use prefix 64:ff9b:1::/48 (RFC 8215) is always
//     ReasonNAT64: its embedding depends on the operator's prefix length.
//   - IPv4-compatible (::/96), 6to4 (2002::/16) and Teredo (2001::/32) are
//     always denied: deprecated or tunnelling forms with no legitimate use
//     as a fetch destination.
//   - A zoned address (fe80::1%eth0) gets the reason of its address, or
//     ReasonZoned if that address is otherwise global.
//
// Classify does not allocate.
func Classify(ip netip.Addr) Reason {
	if ip.Is4() {
		return lookup4(ip.As4())
	}
	if !ip.Is6() {
		return ReasonInvalid
	}
	zoned := ip.Zone() != ""
	var r Reason
	if ip.Is4In6() {
		r = lookup4(ip.Unmap().As4())
	} else {
		b := ip.As16()
		x := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
		if x.hi == 0x0064ff9b00000000 && x.lo>>32 == 0 {
			r = lookup4([4]byte(b[12:]))
		} else {
			r = lookup6(x)
		}
	}
	if zoned && r == ReasonGlobal {
		return ReasonZoned
	}
	return r
}

func lookup4(a [4]byte) Reason {
	x := binary.BigEndian.Uint32(a[:])
	lo, hi := 0, len(table4)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if table4[m].lo <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo > 0 && x <= table4[lo-1].hi {
		return table4[lo-1].reason
	}
	return ReasonGlobal
}

func lookup6(x u128) Reason {
	lo, hi := 0, len(table6)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !x.less(table6[m].lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo > 0 && !table6[lo-1].hi.less(x) {
		return table6[lo-1].reason
	}
	return ReasonGlobal
}
