// Package dnstest runs an in-process DNS server on loopback for tests, so
// name resolution is exercised through the real Go resolver without network
// access.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server answers A and AAAA queries from a table. Unknown names get
// NXDOMAIN. Answers have TTL 0.
type Server struct {
	addr string

	mu      sync.Mutex
	answers map[string][][]netip.Addr // fqdn -> answer sets, rotated per A query
	queries map[string]int            // fqdn/qtype -> count
}

// Start starts a server for the duration of t.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{addr: pc.LocalAddr().String(), answers: map[string][][]netip.Addr{}, queries: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return s
}

// Set makes name resolve to addrs (IPv4 as A, IPv6 as AAAA records).
func (s *Server) Set(name string, addrs ...string) {
	s.Rebind(name, addrs)
}

// Rebind makes name answer with each set in turn: the first A query gets
// sets[0], the next sets[1], and so on, cycling. The AAAA answer follows
// the same rotation (it is picked with the current A count).
func (s *Server) Rebind(name string, sets ...[]string) {
	var parsed [][]netip.Addr
	for _, set := range sets {
		var as []netip.Addr
		for _, a := range set {
			as = append(as, netip.MustParseAddr(a))
		}
		parsed = append(parsed, as)
	}
	s.mu.Lock()
	s.answers[dns.Fqdn(strings.ToLower(name))] = parsed
	s.mu.Unlock()
}

// Queries returns how many queries of qtype (dns.TypeA, dns.TypeAAAA) name
// received.
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[dns.Fqdn(strings.ToLower(name))+"/"+dns.TypeToString[qtype]]
}

// Resolver returns a pure-Go resolver that sends every query to s.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.addr)
		},
	}
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	key := name + "/" + dns.TypeToString[q.Qtype]
	sets, ok := s.answers[name]
	var set []netip.Addr
	if ok && len(sets) > 0 {
		n := s.queries[name+"/A"]
		if q.Qtype == dns.TypeA {
			set = sets[n%len(sets)]
		} else {
			set = sets[max(n-1, 0)%len(sets)]
		}
	}
	s.queries[key]++
	s.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 0}
	for _, a := range set {
		switch {
		case q.Qtype == dns.TypeA && a.Is4():
			h := hdr
			h.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: h, A: a.AsSlice()})
		case q.Qtype == dns.TypeAAAA && a.Is6():
			h := hdr
			h.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: h, AAAA: a.AsSlice()})
		}
	}
	_ = w.WriteMsg(m)
}
