package netguard

// Reason says why an address was allowed or denied. The strings are stable
// API: they appear in errors, in the egress proxy's X-Airlock-Error header,
// in log lines and as metric labels.
type Reason string

// Reasons an address is allowed.
const (
	// ReasonGlobal: a global unicast address outside every denied range.
	ReasonGlobal Reason = "global"
	// ReasonAllowList: denied by a rule but listed in the allow-list.
	ReasonAllowList Reason = "allow_list"
)

// Reasons an address (or a name, or a request) is denied.
const (
	ReasonInvalid            Reason = "invalid_address"      // not an address (zero netip.Addr)
	ReasonUnspecified        Reason = "unspecified"          // 0.0.0.0, ::
	ReasonThisNetwork        Reason = "this_network"         // 0.0.0.0/8 (RFC 791): Linux connects 0.x to the host
	ReasonLoopback           Reason = "loopback"             // 127.0.0.0/8, ::1, localhost
	ReasonPrivate            Reason = "private"              // RFC 1918
	ReasonSharedAddressSpace Reason = "shared_address_space" // CGNAT 100.64.0.0/10 (RFC 6598)
	ReasonLinkLocal          Reason = "link_local"           // 169.254.0.0/16, fe80::/10
	ReasonMulticast          Reason = "multicast"            // 224.0.0.0/4, ff00::/8
	ReasonBroadcast          Reason = "broadcast"            // 255.255.255.255
	ReasonDocumentation      Reason = "documentation"        // TEST-NETs, 2001:db8::/32, 3fff::/20
	ReasonBenchmarking       Reason = "benchmarking"         // 198.18.0.0/15, 2001:2::/48
	ReasonReserved           Reason = "reserved"             // 240.0.0.0/4, IPv6 outside 2000::/3
	ReasonSpecialPurpose     Reason = "special_purpose"      // other IANA special-purpose blocks
	ReasonUniqueLocal        Reason = "unique_local"         // fc00::/7
	ReasonIPv4Mapped         Reason = "ipv4_mapped"          // ::ffff:0:0/96 (only via the table; Check decodes)
	ReasonIPv4Compatible     Reason = "ipv4_compatible"      // ::/96, deprecated (RFC 4291)
	ReasonNAT64              Reason = "nat64"                // 64:ff9b:1::/48 local-use NAT64 (RFC 8215)
	ReasonSixToFour          Reason = "6to4"                 // 2002::/16 (RFC 3056, deprecated by RFC 7526)
	ReasonTeredo             Reason = "teredo"               // 2001::/32 (RFC 4380)
	ReasonMetadata           Reason = "metadata"             // cloud metadata endpoints, by address or name
	ReasonZoned              Reason = "zoned"                // an address with an IPv6 zone (%eth0)
	ReasonInvalidHost        Reason = "invalid_host"         // a host that is neither a name nor a valid address
	ReasonScheme             Reason = "scheme"               // a URL scheme other than http or https
	ReasonProxyLoop          Reason = "proxy_loop"           // the egress proxy asked to connect to itself
)

// Reasons lists every Reason, allowed ones first. Useful to pre-create
// metric series.
func Reasons() []Reason {
	return []Reason{
		ReasonGlobal, ReasonAllowList,
		ReasonInvalid, ReasonUnspecified, ReasonThisNetwork, ReasonLoopback,
		ReasonPrivate, ReasonSharedAddressSpace, ReasonLinkLocal, ReasonMulticast,
		ReasonBroadcast, ReasonDocumentation, ReasonBenchmarking, ReasonReserved,
		ReasonSpecialPurpose, ReasonUniqueLocal, ReasonIPv4Mapped,
		ReasonIPv4Compatible, ReasonNAT64, ReasonSixToFour, ReasonTeredo,
		ReasonMetadata, ReasonZoned, ReasonInvalidHost, ReasonScheme,
		ReasonProxyLoop,
	}
}

// Verdict is the outcome of a decision.
type Verdict uint8

const (
	// Allow: connect.
	Allow Verdict = iota
	// Deny: refuse the connection.
	Deny
	// WouldDeny: STRICT would refuse, but the policy is UNRESTRICTED
	// (report-only), so the connection goes ahead and is reported.
	WouldDeny
)

func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	case WouldDeny:
		return "would_deny"
	}
	return "unknown"
}

// Decision is a verdict with its reason.
type Decision struct {
	Verdict Verdict
	Reason  Reason
}

// Allowed reports whether the connection may go ahead (Allow or WouldDeny).
func (d Decision) Allowed() bool { return d.Verdict != Deny }
