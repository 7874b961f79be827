package egress

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

var errBadTarget = errors.New("egress: CONNECT target must be host:port")

// ParseConnectTarget splits a CONNECT request target (RFC 9110 §9.3.6:
// authority-form "host:port", IPv6 in brackets) into host and port.
//
// # Errors
//
// An error for anything else: a missing or zero port, a port outside
// 1..65535 or not decimal, an empty host, user info, a path, brackets
// around a non-IPv6 host, or control and space characters. The host itself
// is decided later by the policy.
func ParseConnectTarget(target string) (host string, port uint16, err error) {
	if target == "" || len(target) > 1024 || strings.ContainsAny(target, "/@?#\\ \t\r\n") {
		return "", 0, errBadTarget
	}
	for i := 0; i < len(target); i++ {
		if target[i] < 0x21 || target[i] == 0x7f {
			return "", 0, errBadTarget
		}
	}
	h, ps, err := net.SplitHostPort(target)
	if err != nil || h == "" || ps == "" {
		return "", 0, errBadTarget
	}
	if strings.HasPrefix(target, "[") != strings.Contains(h, ":") {
		// "[host]:port" must hold an IPv6 address, and an IPv6 address
		// must be in brackets.
		return "", 0, errBadTarget
	}
	for _, c := range ps {
		if c < '0' || c > '9' {
			return "", 0, errBadTarget
		}
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 {
		return "", 0, errBadTarget
	}
	return h, uint16(n), nil
}
