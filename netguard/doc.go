// Package netguard is airlock's network guard: one SSRF policy for every
// outbound connection — user-code fetch in the isolate, the egress proxy
// that jailed processes use, and the server's own outbound HTTP.
//
// A Policy denies every address that is not global unicast. The deny table
// is generated (registry_gen.go, `go generate ./netguard`) from the IANA
// IPv4 and IPv6 special-purpose address registries, vendored under
// internal/gen/registry, plus multicast, all IPv6 outside 2000::/3,
// IPv4-compatible IPv6 and the cloud metadata endpoints (169.254.169.254,
// 169.254.170.2, fd00:ec2::254, 100.100.100.200, 168.63.129.16,
// 192.0.0.192, ...). IPv4-mapped IPv6 and the NAT64 well-known prefix are
// decided as the IPv4 address they carry; 6to4, Teredo, local-use NAT64,
// ULA, link-local and zoned addresses are denied. Every verdict carries a
// Reason whose string is stable and is what errors, the proxy's
// X-Airlock-Error header, logs and metrics all show.
//
// Wiring:
//
//	policy, err := netguard.FromEnv() // AP_NETWORK_MODE, AP_SSRF_ALLOW_LIST
//	if err != nil {
//		log.Fatal(err) // names the bad allow-list entry
//	}
//	client := netguard.NewHTTPClient(policy)
//	resp, err := client.Get(userURL)
//	if errors.Is(err, netguard.ErrBlocked) {
//		var be *netguard.BlockedError
//		errors.As(err, &be) // be.Host, be.IP, be.Reason
//	}
//
// Any other dialer can be guarded with Dialer (resolve once, decide every
// record, dial the pinned address) or, at minimum, with Policy.Control as
// its net.Dialer Control function.
//
// # Modes
//
// STRICT (the default) denies. UNRESTRICTED is report-only: decisions are
// computed and reported (Verdict WouldDeny, passed to observers, logged and
// counted by the proxy) but the connection proceeds — except cloud metadata
// endpoints, malformed hosts and zoned addresses, which are denied in every
// mode. The allow-list (exact addresses and CIDR prefixes) overrides every
// deny rule in every mode, metadata included; names cannot be allow-listed.
//
// # Errors
//
// Denials are *BlockedError (Host, IP, Reason), matched by
// errors.Is(err, ErrBlocked); the message tells the operator to add the
// address to AP_SSRF_ALLOW_LIST if it is legitimate. Resolution and
// connection failures are returned wrapped, unchanged. Invalid
// configuration (mode, allow-list entry) is an error from New/FromEnv that
// names the offending value; refuse to start on it.
//
// # Security
//
// What the guard does guarantee, for connections made through Dialer or
// NewHTTPClient:
//   - the address checked is the address connected to: names are resolved
//     once, every A and AAAA record is decided (one denied record refuses
//     the name), and the pinned address is dialed, with Control re-checking
//     the socket address; DNS rebinding cannot slip between check and use;
//   - URL spelling tricks (decimal, octal, hex, short IPv4, IPv6 forms,
//     embedded IPv4) are decided as the address they denote, and hosts
//     that end in a number but are not valid IPv4 are refused;
//   - redirects are re-decided hop by hop, capped, and limited to http and
//     https; ambient HTTP_PROXY/HTTPS_PROXY are never used.
//
// What it does not do:
//   - It decides destinations, not content: an allowed host that proxies
//     or redirects server-side (an open proxy on the internet, a webhook
//     relay) is outside its view.
//   - It does not see connections made around it: code that dials with
//     its own dialer, or a process with its own network namespace access.
//     The jail removes that path by giving processes an empty network
//     namespace and only the egress proxy's socket.
//   - With WithUpstreamProxy, the upstream proxy resolves the target again;
//     pinning there is that proxy's job.
//   - Metadata names are matched exactly (metadata.google.internal, ...);
//     other names reaching metadata are caught by address.
//   - The vendored registries were transcribed without network access
//     (2025-04 revision); refresh them before a release (see
//     internal/gen/registry/README.md).
//   - A global address that is internal to your network (your own public
//     ranges, a peered VPC using public space) is allowed unless you deny
//     it elsewhere: the guard cannot know your topology.
package netguard
