package egress_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/egress"
)

var targetSeeds = []string{
	"example.com:443", "127.0.0.1:80", "[::1]:443", "[fe80::1%25eth0]:80", "::1:443",
	"example.com", "example.com:", ":443", "example.com:0", "example.com:65536",
	"example.com:+1", "example.com:0x50", "user@example.com:443", "example.com:443/path",
	"[127.0.0.1]:80", "exa mple.com:443", "example.com:443\r\nX: y", "[::1]", "a:b:c",
	"2130706433:80", "example.com:00443",
}

// FuzzConnectTargetSmuggling: CONNECT request-target parsing never panics,
// accepts only host:port with a port in 1..65535, and what it accepts
// round-trips through net.JoinHostPort (no smuggled user info, path,
// whitespace or second target).
func FuzzConnectTargetSmuggling(f *testing.F) {
	for _, s := range targetSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := egress.ParseConnectTarget(s)
		if err != nil {
			return
		}
		if host == "" || port == 0 {
			t.Fatalf("%q: host %q port %d", s, host, port)
		}
		if strings.ContainsAny(host, "/@?# \t\r\n[]") {
			t.Fatalf("%q: host %q carries syntax", s, host)
		}
		h2, p2, err := egress.ParseConnectTarget(net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("%q: round trip gave %q %d %v", s, h2, p2, err)
		}
	})
}

func TestParseConnectTarget(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port uint16
		ok   bool
	}{
		{"example.com:443", "example.com", 443, true},
		{"[::1]:443", "::1", 443, true},
		{"example.com:00443", "example.com", 443, true},
		{"::1:443", "", 0, false},
		{"[127.0.0.1]:80", "", 0, false},
		{"user@example.com:443", "", 0, false},
		{"example.com:65536", "", 0, false},
		{"example.com", "", 0, false},
	} {
		h, p, err := egress.ParseConnectTarget(c.in)
		if (err == nil) != c.ok || h != c.host || p != c.port {
			t.Errorf("ParseConnectTarget(%q) = %q %d %v", c.in, h, p, err)
		}
	}
}
