package netguard

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseHost interprets host the way a URL parser and the C library would:
// an IPv6 literal (optionally in brackets, optionally zoned), a dotted-quad
// IPv4 address, or one of the legacy IPv4 spellings inet_aton and the WHATWG
// URL standard accept — 1 to 4 parts, each decimal, octal (leading 0) or hex
// (0x), the last part filling the remaining bytes: "2130706433",
// "0x7f.1", "017700000001", "127.1" all mean 127.0.0.1.
//
// It returns isIP=false for a host name. A host that ends in a numeric label
// but is not a valid IPv4 address ("1.2.3.256", "1.2.3.4.5") returns ok=false:
// URL parsers reject it, and resolving it as a name would be a spelling
// trick, so callers refuse it (ReasonInvalidHost).
func ParseHost(host string) (ip netip.Addr, isIP, ok bool) {
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return netip.Addr{}, false, false
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false, false
		}
		return a, true, true
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return netip.Addr{}, false, false
		}
		return a, true, true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true, true
	}
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if !isNumber(parts[len(parts)-1]) {
		// Not an IPv4 spelling: a name (validated by the resolver).
		if host == "" || strings.ContainsAny(host, "%/\\@ ") {
			return netip.Addr{}, false, false
		}
		return netip.Addr{}, false, true
	}
	if len(parts) > 4 {
		return netip.Addr{}, false, false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, good := parseIPv4Part(p)
		if !good {
			return netip.Addr{}, false, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for i := range last {
		if nums[i] > 255 {
			return netip.Addr{}, false, false
		}
	}
	if nums[last] >= 1<<(8*(5-len(parts))) {
		return netip.Addr{}, false, false
	}
	v := nums[last]
	for i := range last {
		v |= nums[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, true
}

// isNumber reports whether s is a WHATWG "number": digits, or 0x/0X with
// optional hex digits.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for _, c := range s[2:] {
			if !isHex(c) {
				return false
			}
		}
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isHex(c rune) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func parseIPv4Part(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	if len(s) > 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 0xffffffff {
		return 0, false
	}
	return n, true
}

// metadataNames are cloud metadata host names, denied by name whatever they
// resolve to (ReasonMetadata).
var metadataNames = map[string]bool{
	"metadata":                     true, // GCE short name
	"metadata.google.internal":     true,
	"metadata.goog":                true,
	"metadata.azure.internal":      true,
	"instance-data":                true, // AWS
	"instance-data.ec2.internal":   true,
	"metadata.tencentyun.com":      true,
	"metadata.platformequinix.com": true,
	"metadata.packet.net":          true,
}

// nameReason returns the reason a host name is denied by name, or "".
// localhost and *.localhost are loopback by definition (RFC 6761).
func nameReason(name string) Reason {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if metadataNames[name] {
		return ReasonMetadata
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return ReasonLoopback
	}
	return ""
}
