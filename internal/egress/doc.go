// Package egress is airlock's SSRF-guarding egress proxy (`airlock proxy`):
// an HTTP forward proxy for absolute-URI http:// requests, and CONNECT
// tunnels for everything else (https, any TCP protocol). Every destination
// is decided by a netguard.Policy.
//
// The jail puts a Proxy behind a unix socket handed to the jailed process:
//
//	p, err := egress.New(egress.Config{Policy: policy, Logger: logger})
//	if err != nil { ... }
//	ln, err := net.Listen("unix", sockPath)
//	go p.Serve(ln) // returns http.ErrServerClosed after Shutdown
//	...
//	p.Shutdown(ctx)
//
// Per request the proxy resolves the target once, decides every A and AAAA
// record (any denied record refuses the request), refuses targets that are
// the proxy itself, then dials the decided address (no second lookup).
// Refusals are answered with a status and an X-Airlock-Error header:
//
//	403  a netguard.Reason (private, loopback, metadata, proxy_loop, scheme, ...)
//	400  bad_request       (not a proxy request, malformed CONNECT target)
//	502  resolve_failed, dial_failed, upstream_failed
//	503  too_many_tunnels
//
// Each request or tunnel produces exactly one log line ("egress": kind,
// client, method, host, port, ips, decision, reason, status, bytes_up,
// bytes_down, duration_ms) when it ends, and the metrics
// airlock_egress_decisions_total{kind,decision,reason},
// airlock_egress_tunnels_active and airlock_egress_bytes_total{direction}
// (MetricsHandler).
//
// # Security
//
// The proxy has no authentication: serve it on loopback or a unix socket
// only the sandboxed workload can reach. Request headers Proxy-Authorization
// and other hop-by-hop headers are not forwarded; a Via token detects
// requests that loop back through the proxy. Bytes inside CONNECT tunnels
// are not inspected (no TLS interception): the decision is on the
// destination address only.
package egress
