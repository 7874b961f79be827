package netguard_test

import (
	"net/netip"
	"testing"

	"github.com/airlockhq/airlock/netguard"
)

var addrSeeds = []string{
	"127.0.0.1", "0.0.0.0", "10.0.0.1", "8.8.8.8", "169.254.169.254", "255.255.255.255",
	"::1", "::", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "::7f00:1", "64:ff9b::1.2.3.4",
	"fe80::1%eth0", "fe80::1%", "2001:db8::1", "2606:4700::1111", "ff02::1", "1.2.3.4%eth0",
	"2130706433", "0x7f.1", "017700000001", "127.1", "01.02.03.04", "1.2.3.256", "[::1]",
	"0x", "00", "1e1", "", ".", "1.2.3.4.", "[fe80::1%25eth0]", "::ffff:1.2.3.4%x",
}

// FuzzHostSpellingParserDifferential: wherever net/netip accepts an address,
// ParseHost must read the same address (no parser differential an attacker
// could use to make the guard check one address and the dialer use
// another), and every address ParseHost returns is well formed.
func FuzzHostSpellingParserDifferential(f *testing.F) {
	for _, s := range addrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, isIP, ok := netguard.ParseHost(s)
		if want, err := netip.ParseAddr(s); err == nil {
			if !ok || !isIP || ip != want {
				t.Fatalf("ParseHost(%q) = %v %v %v, netip says %v", s, ip, isIP, ok, want)
			}
		}
		if isIP && !ip.IsValid() {
			t.Fatalf("ParseHost(%q) returned an invalid address", s)
		}
		if isIP && ip.Is4() {
			// A legacy spelling must denote the canonical address exactly.
			if again, _, _ := netguard.ParseHost(ip.String()); again != ip {
				t.Fatalf("round trip %q -> %v -> %v", s, ip, again)
			}
		}
	})
}

// FuzzNonGlobalAddressBypass: differential against net/netip's
// own predicates. Anything netip considers loopback, private, link-local,
// multicast, unspecified or not global unicast is denied; an IPv4-mapped
// address is classified exactly as its IPv4 address; allowed addresses are
// global unicast by netip's definition.
func FuzzNonGlobalAddressBypass(f *testing.F) {
	for _, s := range addrSeeds {
		if a, err := netip.ParseAddr(s); err == nil {
			f.Add(a.AsSlice())
		}
	}
	f.Add([]byte{100, 64, 0, 1})
	f.Add([]byte{198, 18, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		r := netguard.Classify(a)
		nonGlobal := a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
			a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() ||
			a.IsUnspecified() || !a.IsGlobalUnicast()
		if nonGlobal && !a.Is4In6() && r == netguard.ReasonGlobal {
			t.Fatalf("Classify(%v) = global, but netip says it is not global unicast", a)
		}
		if a.Is4In6() {
			if r4 := netguard.Classify(a.Unmap()); r != r4 {
				t.Fatalf("Classify(%v) = %s but Classify(%v) = %s", a, r, a.Unmap(), r4)
			}
		}
		if r == netguard.ReasonGlobal && !a.Unmap().IsGlobalUnicast() {
			t.Fatalf("Classify(%v) allowed a non-global-unicast address", a)
		}
	})
}

// FuzzAllowListParserDifferential: an allow-list entry netip parses as a
// canonical prefix or a zone-free, unmapped address is accepted and means
// exactly that; everything ParseAllowList accepts is a valid prefix.
func FuzzAllowListParserDifferential(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.0.0.1", "fd00::/8", "::1", "10.1.2.3/8", "1.2.3.4/33", "a,b", "  ", "::ffff:1.2.3.4", "fe80::1%x", "0.0.0.0/0", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := netguard.ParseAllowList(s)
		if err == nil {
			for _, p := range got {
				if !p.IsValid() || p.Masked() != p {
					t.Fatalf("ParseAllowList(%q) returned %v", s, p)
				}
			}
		}
		if p, perr := netip.ParsePrefix(s); perr == nil && p.Masked() == p && !p.Addr().Is4In6() && p.Addr().Zone() == "" {
			if err != nil || len(got) != 1 || got[0] != p {
				t.Fatalf("ParseAllowList(%q) = %v, %v; netip says %v", s, got, err, p)
			}
		}
		if a, aerr := netip.ParseAddr(s); aerr == nil && !a.Is4In6() && a.Zone() == "" {
			if err != nil || len(got) != 1 || got[0] != netip.PrefixFrom(a, a.BitLen()) {
				t.Fatalf("ParseAllowList(%q) = %v, %v; netip says %v", s, got, err, a)
			}
		}
	})
}
