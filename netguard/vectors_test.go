package netguard_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/dnstest"
	"github.com/airlockhq/airlock/netguard"
)

// vector is one SSRF attempt (or a legitimate destination) as a host would
// appear in a URL or a CONNECT request, with the verdict STRICT must give.
type vector struct {
	name string // the attack or RFC it covers
	host string
	want netguard.Reason
}

// vectors are decided through Dialer.Resolve against an in-process DNS
// server (see zone), so literal spellings and names take the same path as
// a real dial. ReasonGlobal means allowed.
var vectors = []vector{
	// Loopback in every spelling a URL parser or inet_aton accepts.
	{"loopback dotted quad", "127.0.0.1", netguard.ReasonLoopback},
	{"loopback decimal integer (http://2130706433/)", "2130706433", netguard.ReasonLoopback},
	{"loopback hex integer", "0x7f000001", netguard.ReasonLoopback},
	{"loopback octal integer", "017700000001", netguard.ReasonLoopback},
	{"loopback hex short form 0x7f.1", "0x7f.1", netguard.ReasonLoopback},
	{"loopback short form 127.1", "127.1", netguard.ReasonLoopback},
	{"loopback octal dotted 0177.0.0.1", "0177.0.0.1", netguard.ReasonLoopback},
	{"loopback hex dotted", "0x7f.0x0.0x0.0x1", netguard.ReasonLoopback},
	{"loopback mixed radix", "0x7f.0.00.1", netguard.ReasonLoopback},
	{"loopback trailing dot", "127.0.0.1.", netguard.ReasonLoopback},
	{"loopback top of 127/8", "127.255.255.254", netguard.ReasonLoopback},
	{"loopback IPv6 ::1", "::1", netguard.ReasonLoopback},
	{"loopback IPv6 bracketed", "[::1]", netguard.ReasonLoopback},
	{"loopback IPv6 long form", "0:0:0:0:0:0:0:1", netguard.ReasonLoopback},
	{"loopback IPv4-mapped IPv6", "::ffff:127.0.0.1", netguard.ReasonLoopback},
	{"loopback IPv4-mapped IPv6 hex", "::ffff:7f00:1", netguard.ReasonLoopback},
	{"loopback IPv4-mapped bracketed", "[::ffff:127.0.0.1]", netguard.ReasonLoopback},
	{"loopback IPv4-compatible ::7f00:1 (smokescreen hole)", "::7f00:1", netguard.ReasonIPv4Compatible},
	{"loopback IPv4-compatible dotted", "::127.0.0.1", netguard.ReasonIPv4Compatible},
	{"localhost name (RFC 6761)", "localhost", netguard.ReasonLoopback},
	{"localhost name upper case with root dot", "LOCALHOST.", netguard.ReasonLoopback},
	{"localhost subdomain", "app.localhost", netguard.ReasonLoopback},
	// This host / this network.
	{"unspecified 0.0.0.0 (Linux connects it to localhost)", "0.0.0.0", netguard.ReasonUnspecified},
	{"unspecified short form 0", "0", netguard.ReasonUnspecified},
	{"this network 0.1.2.3 (smokescreen hole)", "0.1.2.3", netguard.ReasonThisNetwork},
	{"unspecified IPv6 ::", "::", netguard.ReasonUnspecified},
	// RFC 1918.
	{"private 10/8", "10.0.0.1", netguard.ReasonPrivate},
	{"private 10/8 top", "10.255.255.255", netguard.ReasonPrivate},
	{"private 172.16/12 bottom", "172.16.0.1", netguard.ReasonPrivate},
	{"private 172.16/12 top", "172.31.255.255", netguard.ReasonPrivate},
	{"private 192.168/16", "192.168.1.1", netguard.ReasonPrivate},
	{"private hex short form 0xa.1", "0xa.1", netguard.ReasonPrivate},
	{"private decimal integer", "3232235777", netguard.ReasonPrivate},
	{"private octal first octet 012.0.0.1", "012.0.0.1", netguard.ReasonPrivate},
	{"private via IPv4-mapped IPv6", "::ffff:10.0.0.1", netguard.ReasonPrivate},
	// CGNAT (RFC 6598): cluster and carrier networks.
	{"CGNAT bottom", "100.64.0.1", netguard.ReasonSharedAddressSpace},
	{"CGNAT top", "100.127.255.254", netguard.ReasonSharedAddressSpace},
	// Cloud metadata.
	{"metadata AWS/GCP/Azure IMDS", "169.254.169.254", netguard.ReasonMetadata},
	{"metadata IMDS decimal integer", "2852039166", netguard.ReasonMetadata},
	{"metadata IMDS hex dotted", "0xa9.0xfe.0xa9.0xfe", netguard.ReasonMetadata},
	{"metadata IMDS IPv4-mapped", "::ffff:169.254.169.254", netguard.ReasonMetadata},
	{"metadata AWS ECS task credentials", "169.254.170.2", netguard.ReasonMetadata},
	{"metadata AWS EKS pod identity", "169.254.170.23", netguard.ReasonMetadata},
	{"metadata AWS IMDS IPv6", "fd00:ec2::254", netguard.ReasonMetadata},
	{"metadata AWS IMDS IPv6 bracketed", "[fd00:ec2::254]", netguard.ReasonMetadata},
	{"metadata Alibaba Cloud (inside CGNAT)", "100.100.100.200", netguard.ReasonMetadata},
	{"metadata Azure WireServer (a public address)", "168.63.129.16", netguard.ReasonMetadata},
	{"metadata Oracle Cloud", "192.0.0.192", netguard.ReasonMetadata},
	{"metadata name GCE", "metadata.google.internal", netguard.ReasonMetadata},
	{"metadata name GCE upper case root dot", "METADATA.GOOGLE.INTERNAL.", netguard.ReasonMetadata},
	{"metadata name metadata.goog", "metadata.goog", netguard.ReasonMetadata},
	{"metadata name resolving to a public address", "metadata.platformequinix.com", netguard.ReasonMetadata},
	{"metadata via NAT64 well-known prefix", "64:ff9b::a9fe:a9fe", netguard.ReasonMetadata},
	// Link-local and zones.
	{"link-local IPv4", "169.254.1.1", netguard.ReasonLinkLocal},
	{"link-local IPv6", "fe80::1", netguard.ReasonLinkLocal},
	{"link-local IPv6 with zone", "fe80::1%eth0", netguard.ReasonLinkLocal},
	{"link-local IPv6 bracketed with zone", "[fe80::1%eth0]", netguard.ReasonLinkLocal},
	{"link-local IPv6 top of fe80::/10", "febf::1", netguard.ReasonLinkLocal},
	{"zoned global IPv6", "2606:4700::1111%eth0", netguard.ReasonZoned},
	// Multicast, broadcast, reserved, documentation, benchmarking.
	{"multicast all-hosts", "224.0.0.1", netguard.ReasonMulticast},
	{"multicast SSDP", "239.255.255.250", netguard.ReasonMulticast},
	{"multicast IPv6 all-nodes", "ff02::1", netguard.ReasonMulticast},
	{"limited broadcast", "255.255.255.255", netguard.ReasonBroadcast},
	{"reserved 240/4 (smokescreen hole)", "240.0.0.1", netguard.ReasonReserved},
	{"benchmarking 198.18/15 (smokescreen hole)", "198.18.0.1", netguard.ReasonBenchmarking},
	{"benchmarking 198.19 top", "198.19.255.255", netguard.ReasonBenchmarking},
	{"benchmarking IPv6", "2001:2::1", netguard.ReasonBenchmarking},
	{"documentation TEST-NET-1", "192.0.2.1", netguard.ReasonDocumentation},
	{"documentation TEST-NET-2", "198.51.100.1", netguard.ReasonDocumentation},
	{"documentation TEST-NET-3", "203.0.113.1", netguard.ReasonDocumentation},
	{"documentation 2001:db8::/32 (smokescreen hole)", "2001:db8::1", netguard.ReasonDocumentation},
	{"documentation 3fff::/20", "3fff::1", netguard.ReasonDocumentation},
	{"IETF protocol assignments 192.0.0/24", "192.0.0.1", netguard.ReasonSpecialPurpose},
	{"6to4 relay anycast", "192.88.99.1", netguard.ReasonSpecialPurpose},
	{"IPv6 discard-only 100::/64", "100::1", netguard.ReasonSpecialPurpose},
	{"SRv6 SIDs", "5f00::1", netguard.ReasonSpecialPurpose},
	{"IPv6 outside 2000::/3", "4000::1", netguard.ReasonReserved},
	{"IPv6 site-local (deprecated)", "fec0::1", netguard.ReasonReserved},
	{"IPv4-compatible low address ::2", "::2", netguard.ReasonIPv4Compatible},
	// IPv6 translation and tunnels carrying IPv4.
	{"NAT64 well-known prefix to loopback", "64:ff9b::127.0.0.1", netguard.ReasonLoopback},
	{"NAT64 well-known prefix to private", "64:ff9b::10.0.0.1", netguard.ReasonPrivate},
	{"NAT64 local-use prefix", "64:ff9b:1::a00:1", netguard.ReasonNAT64},
	{"6to4 embedding loopback", "2002:7f00:1::", netguard.ReasonSixToFour},
	{"6to4 embedding a public address", "2002:c000:0204::1", netguard.ReasonSixToFour},
	{"Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", netguard.ReasonTeredo},
	{"unique-local fc00::/7", "fc00::1", netguard.ReasonUniqueLocal},
	{"unique-local fd00::/8", "fd12:3456::1", netguard.ReasonUniqueLocal},
	// Malformed hosts that a lenient resolver might still resolve.
	{"IPv4 octet out of range", "1.2.3.256", netguard.ReasonInvalidHost},
	{"five-part IPv4", "1.2.3.4.5", netguard.ReasonInvalidHost},
	{"IPv4 integer overflow", "0x100000000", netguard.ReasonInvalidHost},
	{"empty IPv4 label", "1..1", netguard.ReasonInvalidHost},
	{"IPv4 in brackets", "[127.0.0.1]", netguard.ReasonInvalidHost},
	{"unbalanced bracket", "[::1", netguard.ReasonInvalidHost},
	// Names resolved through the test DNS server.
	{"name with a private A record", "private.test", netguard.ReasonPrivate},
	{"name with one public and one loopback A record", "mixed.test", netguard.ReasonLoopback},
	{"name with a public A and a loopback AAAA record", "mixed6.test", netguard.ReasonLoopback},
	{"name resolving to IMDS", "meta.test", netguard.ReasonMetadata},
	{"name with an IPv4-mapped AAAA record", "mapped.test", netguard.ReasonPrivate},
	{"name with a NAT64 AAAA record to loopback", "nat64.test", netguard.ReasonLoopback},
	{"name with a CGNAT record", "cgnat.test", netguard.ReasonSharedAddressSpace},
	// Legitimate destinations: no false positives.
	{"public IPv4", "8.8.8.8", netguard.ReasonGlobal},
	{"public IPv4 1.1.1.1", "1.1.1.1", netguard.ReasonGlobal},
	{"public IPv4 decimal integer", "134744072", netguard.ReasonGlobal},
	{"public IPv4 hex dotted", "0x8.0x8.0x8.0x8", netguard.ReasonGlobal},
	{"public IPv6", "2606:4700:4700::1111", netguard.ReasonGlobal},
	{"public IPv6 bracketed", "[2a00:1450:4001:80b::200e]", netguard.ReasonGlobal},
	{"public via IPv4-mapped IPv6", "::ffff:8.8.8.8", netguard.ReasonGlobal},
	{"public via NAT64 well-known prefix", "64:ff9b::8.8.8.8", netguard.ReasonGlobal},
	{"just below CGNAT", "100.63.255.255", netguard.ReasonGlobal},
	{"just above CGNAT", "100.128.0.0", netguard.ReasonGlobal},
	{"just below 172.16/12", "172.15.255.255", netguard.ReasonGlobal},
	{"just above 172.16/12", "172.32.0.0", netguard.ReasonGlobal},
	{"just below benchmarking", "198.17.255.255", netguard.ReasonGlobal},
	{"just above benchmarking", "198.20.0.0", netguard.ReasonGlobal},
	{"last unicast before multicast", "223.255.255.255", netguard.ReasonGlobal},
	{"first global 1.0.0.0", "1.0.0.0", netguard.ReasonGlobal},
	{"name with public A records", "public.test", netguard.ReasonGlobal},
	{"name with only a public AAAA record", "v6only.test", netguard.ReasonGlobal},
	{"name with public A and AAAA records", "dual.test", netguard.ReasonGlobal},
}

// zone is the test DNS data behind the name vectors.
func zone(t testing.TB) *dnstest.Server {
	s := dnstest.Start(t)
	s.Set("public.test", "93.184.215.14", "93.184.215.15")
	s.Set("v6only.test", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
	s.Set("dual.test", "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
	s.Set("private.test", "10.0.0.5")
	s.Set("mixed.test", "93.184.215.14", "127.0.0.1")
	s.Set("mixed6.test", "93.184.215.14", "::1")
	s.Set("meta.test", "169.254.169.254")
	s.Set("mapped.test", "::ffff:10.0.0.1")
	s.Set("nat64.test", "64:ff9b::7f00:1")
	s.Set("cgnat.test", "100.64.3.4")
	s.Set("metadata.platformequinix.com", "145.40.76.1")
	return s
}

func TestVectors(t *testing.T) {
	if len(vectors) < 80 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	dns := zone(t)
	for _, mode := range []netguard.Mode{netguard.ModeStrict, netguard.ModeUnrestricted} {
		p, err := netguard.New(netguard.WithMode(mode))
		if err != nil {
			t.Fatal(err)
		}
		d := &netguard.Dialer{Policy: p, Resolver: dns.Resolver()}
		for _, v := range vectors {
			t.Run(string(mode)+"/"+v.name, func(t *testing.T) {
				_, dec, err := d.Resolve(context.Background(), v.host)
				if dec.Reason != v.want {
					t.Fatalf("Resolve(%q) reason = %q, want %q (err %v)", v.host, dec.Reason, v.want, err)
				}
				want := expectedVerdict(mode, v.want)
				if dec.Verdict != want {
					t.Fatalf("Resolve(%q) verdict = %v, want %v", v.host, dec.Verdict, want)
				}
				if (want == netguard.Deny) != errors.Is(err, netguard.ErrBlocked) {
					t.Fatalf("Resolve(%q) err = %v, want blocked=%v", v.host, err, want == netguard.Deny)
				}
			})
		}
	}
}

// expectedVerdict encodes the documented modes: UNRESTRICTED reports
// instead of denying, except metadata, invalid input and zoned addresses.
func expectedVerdict(mode netguard.Mode, r netguard.Reason) netguard.Verdict {
	switch {
	case r == netguard.ReasonGlobal:
		return netguard.Allow
	case mode == netguard.ModeStrict:
		return netguard.Deny
	case r == netguard.ReasonMetadata, r == netguard.ReasonInvalidHost, r == netguard.ReasonZoned:
		return netguard.Deny
	}
	return netguard.WouldDeny
}

func TestAllowListHonored(t *testing.T) {
	p, err := netguard.New(netguard.WithAllowList("10.0.0.5, 172.20.0.0/16 fd00:1::/64\t::1, 169.254.169.254"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip   string
		want netguard.Decision
	}{
		{"10.0.0.5", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"::ffff:10.0.0.5", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"10.0.0.6", netguard.Decision{Verdict: netguard.Deny, Reason: netguard.ReasonPrivate}},
		{"172.20.255.255", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"172.21.0.0", netguard.Decision{Verdict: netguard.Deny, Reason: netguard.ReasonPrivate}},
		{"fd00:1::abcd", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"fd00:1:0:1::1", netguard.Decision{Verdict: netguard.Deny, Reason: netguard.ReasonUniqueLocal}},
		{"::1", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"127.0.0.1", netguard.Decision{Verdict: netguard.Deny, Reason: netguard.ReasonLoopback}},
		{"169.254.169.254", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}},
		{"169.254.170.2", netguard.Decision{Verdict: netguard.Deny, Reason: netguard.ReasonMetadata}},
		{"8.8.8.8", netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonGlobal}},
	} {
		if got := p.Decide(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Decide(%s) = %+v, want %+v", c.ip, got, c.want)
		}
	}
}

func TestAllowListInvalidEntryIsNamed(t *testing.T) {
	for _, bad := range []string{"10.0.0.1/33", "not-an-ip", "10.1.2.3/8", "fe80::1%eth0", "::ffff:10.0.0.1", "1.2.3"} {
		_, err := netguard.FromEnvFunc(func(k string) string {
			if k == netguard.EnvAllowList {
				return "10.0.0.1, " + bad
			}
			return ""
		})
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), netguard.EnvAllowList) {
			t.Errorf("%q: error %q does not name the entry and the variable", bad, err)
		}
	}
}

func TestFromEnvModes(t *testing.T) {
	for _, c := range []struct {
		env  string
		want netguard.Mode
		ok   bool
	}{
		{"", netguard.ModeStrict, true},
		{"strict", netguard.ModeStrict, true},
		{" UNRESTRICTED ", netguard.ModeUnrestricted, true},
		{"off", "", false},
	} {
		p, err := netguard.FromEnvFunc(func(k string) string {
			if k == netguard.EnvNetworkMode {
				return c.env
			}
			return ""
		})
		if (err == nil) != c.ok {
			t.Fatalf("%q: err %v", c.env, err)
		}
		if err == nil && p.Mode() != c.want {
			t.Fatalf("%q: mode %s, want %s", c.env, p.Mode(), c.want)
		}
	}
	p, err := netguard.FromEnvFunc(func(string) string { return "" }, netguard.WithMode(netguard.ModeUnrestricted))
	if err != nil || p.Mode() != netguard.ModeUnrestricted {
		t.Fatalf("option must override env: %v %v", p.Mode(), err)
	}
}

func TestNilPolicyIsStrict(t *testing.T) {
	var p *netguard.Policy
	if err := p.Check(netip.MustParseAddr("127.0.0.1")); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("nil policy allowed loopback: %v", err)
	}
	if err := p.Check(netip.MustParseAddr("8.8.8.8")); err != nil {
		t.Fatalf("nil policy denied public: %v", err)
	}
}

func TestBlockedErrorTellsOperatorWhatToDo(t *testing.T) {
	p, err := netguard.New()
	if err != nil {
		t.Fatal(err)
	}
	e := p.Check(netip.MustParseAddr("10.1.2.3"))
	var be *netguard.BlockedError
	if !errors.As(e, &be) || be.Reason != netguard.ReasonPrivate || be.IP != netip.MustParseAddr("10.1.2.3") {
		t.Fatalf("got %#v", e)
	}
	want := `netguard: destination "10.1.2.3" blocked: private; if this destination is legitimate, add 10.1.2.3 to AP_SSRF_ALLOW_LIST`
	if e.Error() != want {
		t.Fatalf("message\n got %q\nwant %q", e.Error(), want)
	}
}
