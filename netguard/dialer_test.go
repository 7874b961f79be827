package netguard_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockhq/airlock/internal/dnstest"
	"github.com/airlockhq/airlock/netguard"
	"github.com/miekg/dns"
)

// loopbackPolicy allow-lists 127.0.0.1 only, standing in for "a public
// server" so allowed dials need no internet.
func loopbackPolicy(t *testing.T, opts ...netguard.Option) *netguard.Policy {
	t.Helper()
	p, err := netguard.New(append([]netguard.Option{netguard.WithAllowList("127.0.0.1")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serverPort(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Port()
}

// TestDNSRebindingIsPinned: a name alternating between an allowed address
// and the metadata address is resolved once per dial and the checked
// address is the one dialed, so every dial either reaches the allowed
// server or is refused — never the metadata address.
func TestDNSRebindingIsPinned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	port := serverPort(t, srv.URL)
	z := dnstest.Start(t)
	z.Rebind("rebind.test", []string{"127.0.0.1"}, []string{"169.254.169.254"})
	d := &netguard.Dialer{Policy: loopbackPolicy(t), Resolver: z.Resolver()}
	var ok, blocked int
	for i := range 10 {
		c, err := d.DialContext(context.Background(), "tcp", "rebind.test:"+port)
		switch {
		case err == nil:
			if got := c.RemoteAddr().String(); got != "127.0.0.1:"+port {
				t.Fatalf("dial %d connected to %s", i, got)
			}
			c.Close()
			ok++
		case errors.Is(err, netguard.ErrBlocked):
			var be *netguard.BlockedError
			if !errors.As(err, &be) || be.Reason != netguard.ReasonMetadata {
				t.Fatalf("dial %d: %v", i, err)
			}
			blocked++
		default:
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	if ok != 5 || blocked != 5 {
		t.Fatalf("ok=%d blocked=%d, want 5/5", ok, blocked)
	}
	if q := z.Queries("rebind.test", dns.TypeA); q != 10 {
		t.Fatalf("%d A queries for 10 dials: the dialer must resolve exactly once per dial", q)
	}
}

// TestDNSRebindingThroughHTTPClient: the same name through the guarded
// http.Client with keep-alives off, so each request dials.
func TestDNSRebindingThroughHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	z := dnstest.Start(t)
	z.Rebind("rebind.test", []string{"127.0.0.1"}, []string{"10.0.0.1"})
	c := netguard.NewHTTPClient(loopbackPolicy(t), netguard.WithResolver(z.Resolver()))
	c.Transport.(*http.Transport).DisableKeepAlives = true
	var blocked int
	for range 6 {
		resp, err := c.Get("http://rebind.test:" + serverPort(t, srv.URL) + "/")
		if err != nil {
			if !errors.Is(err, netguard.ErrBlocked) {
				t.Fatal(err)
			}
			blocked++
			continue
		}
		resp.Body.Close()
	}
	if blocked != 3 {
		t.Fatalf("blocked %d of 6, want 3", blocked)
	}
}

func TestControlGuardsAPlainDialer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, _ := netguard.New()
	d := net.Dialer{Control: p.Control}
	_, err = d.Dial("tcp", ln.Addr().String())
	var be *netguard.BlockedError
	if !errors.As(err, &be) || be.Reason != netguard.ReasonLoopback {
		t.Fatalf("Control did not block loopback: %v", err)
	}
}

func TestDialerRefusesNameWithAnyPrivateRecord(t *testing.T) {
	z := dnstest.Start(t)
	z.Set("split.test", "127.0.0.1", "10.9.8.7")
	d := &netguard.Dialer{Policy: loopbackPolicy(t), Resolver: z.Resolver()}
	_, err := d.DialContext(context.Background(), "tcp", "split.test:80")
	var be *netguard.BlockedError
	if !errors.As(err, &be) || be.IP != netip.MustParseAddr("10.9.8.7") || be.Host != "split.test" {
		t.Fatalf("got %v", err)
	}
}

func redirector(t *testing.T, to string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
	t.Cleanup(s.Close)
	return s
}

func TestRedirectAttacks(t *testing.T) {
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "final") }))
	defer final.Close()
	z := zone(t)
	var loopSrv *httptest.Server
	loopSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loopSrv.URL+r.URL.Path+"x", http.StatusFound)
	}))
	defer loopSrv.Close()
	cases := []struct {
		name   string
		to     string
		reason netguard.Reason // "" means success
		tooMny bool
	}{
		{"redirect to metadata IP", "http://169.254.169.254/latest/meta-data/", netguard.ReasonMetadata, false},
		{"redirect to metadata in decimal", "http://2852039166/", netguard.ReasonMetadata, false},
		{"redirect to private IP", "http://10.0.0.1/", netguard.ReasonPrivate, false},
		{"redirect to IPv6 loopback", "http://[::1]/", netguard.ReasonLoopback, false},
		{"redirect to a name with a private record", "http://private.test/", netguard.ReasonPrivate, false},
		{"redirect to metadata name", "http://metadata.google.internal/computeMetadata/v1/", netguard.ReasonMetadata, false},
		{"redirect across schemes to file", "file:///etc/passwd", netguard.ReasonScheme, false},
		{"redirect across schemes to gopher", "gopher://127.0.0.1:6379/_INFO", netguard.ReasonScheme, false},
		{"redirect to https private", "https://192.168.0.1/", netguard.ReasonPrivate, false},
		{"redirect to allowed server", final.URL + "/", "", false},
		{"redirect loop capped", loopSrv.URL + "/", "", true},
	}
	c := netguard.NewHTTPClient(loopbackPolicy(t), netguard.WithResolver(z.Resolver()), netguard.WithMaxRedirects(3))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Get(redirector(t, tc.to).URL)
			switch {
			case tc.tooMny:
				if !errors.Is(err, netguard.ErrTooManyRedirects) {
					t.Fatalf("want ErrTooManyRedirects, got %v", err)
				}
			case tc.reason == "":
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "final" {
					t.Fatalf("body %q", b)
				}
			default:
				var be *netguard.BlockedError
				if !errors.As(err, &be) || be.Reason != tc.reason {
					t.Fatalf("want blocked %s, got %v", tc.reason, err)
				}
			}
		})
	}
}

// TestAmbientProxyCannotBypass: HTTP_PROXY/HTTPS_PROXY pointing at a
// proxy that would happily fetch anything are ignored.
func TestAmbientProxyCannotBypass(t *testing.T) {
	var proxied atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		io.WriteString(w, "metadata credentials")
	}))
	defer evil.Close()
	t.Setenv("HTTP_PROXY", evil.URL)
	t.Setenv("HTTPS_PROXY", evil.URL)
	t.Setenv("NO_PROXY", "")
	c := netguard.NewHTTPClient(loopbackPolicy(t))
	_, err := c.Get("http://169.254.169.254/latest/meta-data/")
	if !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("want blocked, got %v", err)
	}
	if proxied.Load() != 0 {
		t.Fatal("ambient HTTP_PROXY was used")
	}
}

// TestUpstreamProxyChecksTargetFirst: a configured (loopback) upstream
// proxy is used for allowed targets, and never sees denied ones.
func TestUpstreamProxyChecksTargetFirst(t *testing.T) {
	var seen atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		io.WriteString(w, "via proxy")
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	z := zone(t)
	p, _ := netguard.New() // 127.0.0.1 NOT allow-listed: the loopback proxy is exempt
	c := netguard.NewHTTPClient(p, netguard.WithResolver(z.Resolver()), netguard.WithUpstreamProxy(u))
	if _, err := c.Get("http://meta.test/"); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("want blocked, got %v", err)
	}
	if seen.Load() != nil {
		t.Fatalf("proxy saw a denied target: %v", seen.Load())
	}
	resp, err := c.Get("http://public.test/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if seen.Load() != "http://public.test/x" {
		t.Fatalf("proxy saw %v", seen.Load())
	}
}

// TestInsecureSkipVerifyKeepsCheck: relaxing TLS verification does not
// relax the address check.
func TestInsecureSkipVerifyKeepsCheck(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls") }))
	defer srv.Close()
	insecure := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the point of the test
	p, _ := netguard.New()
	if _, err := netguard.NewHTTPClient(p, netguard.WithTLSConfig(insecure)).Get(srv.URL); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("want blocked, got %v", err)
	}
	resp, err := netguard.NewHTTPClient(loopbackPolicy(t), netguard.WithTLSConfig(insecure)).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestUnrestrictedReportsAndConnects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	p, _ := netguard.New(netguard.WithMode(netguard.ModeUnrestricted))
	var events []string
	c := netguard.NewHTTPClient(p, netguard.WithObserver(func(_ context.Context, host string, ip netip.Addr, d netguard.Decision) {
		events = append(events, fmt.Sprintf("%s %s %s %s", host, ip, d.Verdict, d.Reason))
	}))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(events) != 1 || events[0] != "127.0.0.1 127.0.0.1 would_deny loopback" {
		t.Fatalf("events %q", events)
	}
	if _, err := c.Get("http://169.254.169.254/"); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("metadata must stay denied in UNRESTRICTED: %v", err)
	}
	if !strings.Contains(events[len(events)-1], "deny metadata") {
		t.Fatalf("events %q", events)
	}
}

func TestResolveSaysWhenTheAllowListWasNeeded(t *testing.T) {
	z := dnstest.Start(t)
	z.Set("internal.test", "93.184.215.14", "10.1.2.3")
	p, err := netguard.New(netguard.WithAllowList("10.1.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	addrs, d, err := (&netguard.Dialer{Policy: p, Resolver: z.Resolver()}).Resolve(context.Background(), "internal.test")
	if err != nil || len(addrs) != 2 || d != (netguard.Decision{Verdict: netguard.Allow, Reason: netguard.ReasonAllowList}) {
		t.Fatalf("%v %+v %v", addrs, d, err)
	}
}

func TestMaxRedirectsZeroReturnsTheRedirect(t *testing.T) {
	c := netguard.NewHTTPClient(loopbackPolicy(t), netguard.WithMaxRedirects(0))
	resp, err := c.Get(redirector(t, "http://169.254.169.254/").URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
