package egress_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/dnstest"
	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/netguard"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the decoded JSON log lines.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type harness struct {
	proxy *egress.Proxy
	addr  string // proxy host:port
	logs  *syncBuffer
	dns   *dnstest.Server
	web   *httptest.Server // allowed backend (127.0.0.1 is allow-listed)
	echo  net.Listener     // allowed TCP echo backend
}

// start runs a proxy on loopback whose policy allow-lists 127.0.0.1 (the
// stand-in for "a public server") and resolves names through an
// in-process DNS server.
func start(t *testing.T, mutate func(*egress.Config)) *harness {
	t.Helper()
	h := &harness{logs: &syncBuffer{}, dns: dnstest.Start(t)}
	h.dns.Set("public.test", "127.0.0.1")
	h.dns.Set("private.test", "10.0.0.5")
	h.dns.Set("mixed.test", "127.0.0.1", "192.168.7.7")
	h.dns.Set("meta.test", "169.254.169.254")
	h.dns.Set("v6meta.test", "fd00:ec2::254")
	h.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Via", r.Header.Get("Via"))
		w.Header().Set("X-Proxy-Authorization", r.Header.Get("Proxy-Authorization"))
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "hello %s %s", r.URL.Path, body)
	}))
	t.Cleanup(h.web.Close)
	var err error
	h.echo, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.echo.Close() })
	go func() {
		for {
			c, err := h.echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	pol, err := netguard.New(netguard.WithAllowList("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := egress.Config{
		Policy:      pol,
		Logger:      slog.New(slog.NewJSONHandler(h.logs, nil)),
		Resolver:    h.dns.Resolver(),
		DialTimeout: 2 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h.proxy, err = egress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- h.proxy.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.proxy.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return h
}

func (h *harness) client() *http.Client {
	u, _ := url.Parse("http://" + h.addr)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u), DisableKeepAlives: true}}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// connect sends a raw CONNECT and returns the response and the connection
// (positioned after the response head).
func connect(t *testing.T, dial func() (net.Conn, error), target string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp, c, br
}

func (h *harness) dial() (net.Conn, error) { return net.Dial("tcp", h.addr) }

// TestProxyVectors: named attacks through both proxy paths, each with the
// status and X-Airlock-Error the client must see.
func TestProxyVectors(t *testing.T) {
	h := start(t, nil)
	webPort := port(t, h.web.URL)
	proxyPort := port(t, h.addr)
	cases := []struct {
		name   string
		method string // GET (absolute URI) or CONNECT
		target string // URL for GET, authority for CONNECT
		status int
		reason string
	}{
		{"GET metadata IMDS", "GET", "http://169.254.169.254/latest/meta-data/iam/", 403, "metadata"},
		{"GET metadata in decimal", "GET", "http://2852039166/", 403, "metadata"},
		{"GET metadata name", "GET", "http://metadata.google.internal/computeMetadata/v1/", 403, "metadata"},
		{"GET name resolving to metadata", "GET", "http://meta.test/", 403, "metadata"},
		{"GET private IP", "GET", "http://10.0.0.1/", 403, "private"},
		{"GET name with private record", "GET", "http://private.test/", 403, "private"},
		{"GET name with one private record among allowed", "GET", "http://mixed.test:" + webPort + "/", 403, "private"},
		{"GET loopback not allow-listed (127.0.0.2)", "GET", "http://127.0.0.2:" + webPort + "/", 403, "loopback"},
		{"GET IPv6 loopback", "GET", "http://[::1]:" + webPort + "/", 403, "loopback"},
		{"GET CGNAT", "GET", "http://100.64.0.1/", 403, "shared_address_space"},
		{"GET https absolute URI (needs CONNECT)", "RAW", "https://127.0.0.1:" + webPort + "/", 403, "scheme"},
		{"GET the proxy itself", "GET", "http://127.0.0.1:" + proxyPort + "/", 403, "proxy_loop"},
		{"GET allowed backend", "GET", "http://127.0.0.1:" + webPort + "/ok", 200, ""},
		{"GET allowed name", "GET", "http://public.test:" + webPort + "/ok", 200, ""},
		{"CONNECT metadata", "CONNECT", "169.254.169.254:80", 403, "metadata"},
		{"CONNECT metadata IPv6", "CONNECT", "[fd00:ec2::254]:80", 403, "metadata"},
		{"CONNECT name resolving to IPv6 metadata", "CONNECT", "v6meta.test:443", 403, "metadata"},
		{"CONNECT private", "CONNECT", "10.0.0.1:443", 403, "private"},
		{"CONNECT private in hex", "CONNECT", "0xa000001:443", 403, "private"},
		{"CONNECT Redis on loopback in decimal", "CONNECT", "2130706434:6379", 403, "loopback"},
		{"CONNECT Kubernetes API on link-local", "CONNECT", "169.254.1.1:6443", 403, "link_local"},
		{"CONNECT IPv4-mapped private", "CONNECT", "[::ffff:192.168.0.1]:22", 403, "private"},
		{"CONNECT NAT64 to loopback", "CONNECT", "[64:ff9b::7f00:2]:80", 403, "loopback"},
		{"CONNECT ULA", "CONNECT", "[fd00::1]:80", 403, "unique_local"},
		{"CONNECT name with private record", "CONNECT", "mixed.test:443", 403, "private"},
		{"CONNECT the proxy itself", "CONNECT", "127.0.0.1:" + proxyPort, 403, "proxy_loop"},
		{"CONNECT without port", "CONNECT", "example.com", 400, "bad_request"},
		{"CONNECT port zero", "CONNECT", "example.com:0", 400, "bad_request"},
		{"CONNECT unknown name", "CONNECT", "nxdomain.test:443", 502, "resolve_failed"},
		{"CONNECT allowed backend", "CONNECT", "127.0.0.1:" + webPort, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp *http.Response
			switch c.method {
			case "CONNECT":
				resp, _, _ = connect(t, h.dial, c.target)
			case "RAW": // a request line the Go client would not send
				conn, err := h.dial()
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", c.target)
				resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatal(err)
				}
			default:
				var err error
				resp, err = h.client().Get(c.target)
				if err != nil {
					t.Fatal(err)
				}
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get(egress.HeaderError) != c.reason {
				t.Fatalf("%s %s: %d %q, want %d %q", c.method, c.target, resp.StatusCode,
					resp.Header.Get(egress.HeaderError), c.status, c.reason)
			}
		})
	}
}

func TestForwardHTTPRelaysAndLogs(t *testing.T) {
	h := start(t, nil)
	req, _ := http.NewRequest(http.MethodPost, h.web.URL+"/path", strings.NewReader("body!"))
	req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
	resp, err := h.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello /path body!" {
		t.Fatalf("body %q", b)
	}
	if !strings.HasPrefix(resp.Header.Get("X-Via"), "1.1 airlock-") {
		t.Fatalf("Via %q", resp.Header.Get("X-Via"))
	}
	if resp.Header.Get("X-Proxy-Authorization") != "" {
		t.Fatal("Proxy-Authorization leaked to the target")
	}
	lines := h.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("want one log line per decision, got %d", len(lines))
	}
	l := lines[0]
	for k, want := range map[string]any{"msg": "egress", "kind": "http", "decision": "allow", "reason": "allow_list",
		"host": "127.0.0.1", "status": float64(200), "bytes_up": float64(5), "bytes_down": float64(len(b))} {
		if l[k] != want {
			t.Errorf("log %s = %v, want %v (%v)", k, l[k], want, l)
		}
	}
	for _, k := range []string{"client", "ips", "duration_ms"} {
		if _, ok := l[k]; !ok {
			t.Errorf("log lacks %s", k)
		}
	}
}

func TestConnectTunnelRelaysBothWays(t *testing.T) {
	h := start(t, nil)
	resp, c, br := connect(t, h.dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	msg := bytes.Repeat([]byte("airlock"), 10000)
	go func() {
		_, _ = c.Write(msg)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echoed %d bytes, want %d", len(got), len(msg))
	}
	c.Close()
	// The log line is written when the tunnel ends, after the relay saw
	// both directions close; wait for it by polling the shutdown path.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.proxy.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	lines := h.logs.lines(t)
	if len(lines) != 1 || lines[0]["kind"] != "connect" || lines[0]["bytes_up"] != float64(len(msg)) ||
		lines[0]["bytes_down"] != float64(len(msg)) {
		t.Fatalf("log %v", lines)
	}
}

func TestMaxTunnels(t *testing.T) {
	h := start(t, func(c *egress.Config) { c.MaxTunnels = 1 })
	resp, _, _ := connect(t, h.dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("first tunnel: %d", resp.StatusCode)
	}
	resp2, _, _ := connect(t, h.dial, h.echo.Addr().String())
	if resp2.StatusCode != 503 || resp2.Header.Get(egress.HeaderError) != egress.CodeTooManyTunnels {
		t.Fatalf("second tunnel: %d %q", resp2.StatusCode, resp2.Header.Get(egress.HeaderError))
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	h := start(t, func(c *egress.Config) { c.MaxHeaderBytes = 1024 })
	req, _ := http.NewRequest(http.MethodGet, h.web.URL, nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8192))
	resp, err := h.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestNotAProxyRequest(t *testing.T) {
	h := start(t, nil)
	resp, err := http.Get("http://" + h.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get(egress.HeaderError) != egress.CodeBadRequest {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get(egress.HeaderError))
	}
}

// TestUnrestrictedIsReportOnly: the not-allow-listed loopback backend is
// reached with decision would_deny; metadata is still refused.
func TestUnrestrictedIsReportOnly(t *testing.T) {
	h := start(t, func(c *egress.Config) {
		c.Policy, _ = netguard.New(netguard.WithMode(netguard.ModeUnrestricted))
	})
	resp, err := h.client().Get(h.web.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, err = h.client().Get("http://169.254.169.254/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get(egress.HeaderError) != "metadata" {
		t.Fatalf("metadata: %d", resp.StatusCode)
	}
	lines := h.logs.lines(t)
	if len(lines) != 2 || lines[0]["decision"] != "would_deny" || lines[0]["reason"] != "loopback" ||
		lines[1]["decision"] != "deny" {
		t.Fatalf("logs %v", lines)
	}
}

// TestRebindingThroughProxy: each request resolves once and dials the
// address it checked; the denied answer is refused, never dialed.
func TestRebindingThroughProxy(t *testing.T) {
	h := start(t, nil)
	h.dns.Rebind("rebind.test", []string{"127.0.0.1"}, []string{"10.0.0.1"})
	var ok, denied int
	for range 6 {
		resp, err := h.client().Get("http://rebind.test:" + port(t, h.web.URL) + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200:
			ok++
		case resp.StatusCode == 403 && resp.Header.Get(egress.HeaderError) == "private":
			denied++
		default:
			t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get(egress.HeaderError))
		}
	}
	if ok != 3 || denied != 3 {
		t.Fatalf("ok %d denied %d", ok, denied)
	}
}

// TestUnixSocketListener: the jail reaches the proxy over a unix socket.
func TestUnixSocketListener(t *testing.T) {
	h := start(t, nil)
	sock := filepath.Join(t.TempDir(), "egress.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.proxy.Serve(ln) }()
	dial := func() (net.Conn, error) { return net.Dial("unix", sock) }
	resp, c, br := connect(t, dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	fmt.Fprint(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("%q %v", buf, err)
	}
	resp, _, _ = connect(t, dial, "169.254.169.254:80")
	if resp.StatusCode != 403 {
		t.Fatalf("metadata over unix socket: %d", resp.StatusCode)
	}
}

// TestShutdownClosesTunnels: an open tunnel ends when Shutdown's context
// does, and Serve returns http.ErrServerClosed (checked in the harness).
func TestShutdownClosesTunnels(t *testing.T) {
	h := start(t, nil)
	resp, _, br := connect(t, h.dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.proxy.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("tunnel still open after Shutdown")
	}
}

func TestMetrics(t *testing.T) {
	h := start(t, nil)
	resp, _ := h.client().Get("http://10.0.0.1/")
	resp.Body.Close()
	rec := httptest.NewRecorder()
	h.proxy.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`airlock_egress_decisions_total{decision="deny",kind="http",reason="private"} 1`,
		`airlock_egress_tunnels_active 0`,
		`airlock_egress_bytes_total{direction="up"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestNewValidates(t *testing.T) {
	pol, _ := netguard.New()
	for _, cfg := range []egress.Config{
		{},
		{Policy: pol, MaxTunnels: -1},
		{Policy: pol, IdleTimeout: -time.Second},
		{Policy: pol, Upstream: &url.URL{Scheme: "socks5", Host: "x:1"}},
	} {
		if _, err := egress.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestIdleTunnelIsClosed: a tunnel that carries nothing is closed after
// IdleTimeout (a slowloris holding tunnel slots forever).
func TestIdleTunnelIsClosed(t *testing.T) {
	h := start(t, func(c *egress.Config) { c.IdleTimeout = 200 * time.Millisecond })
	resp, c, br := connect(t, h.dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Safety net only: the tunnel must close long before this.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read on idle tunnel: %v, want EOF", err)
	}
}

// TestActiveTunnelOutlivesIdleTimeout: traffic in one direction keeps the
// tunnel open across several idle periods.
func TestActiveTunnelOutlivesIdleTimeout(t *testing.T) {
	h := start(t, func(c *egress.Config) { c.IdleTimeout = 400 * time.Millisecond })
	resp, c, br := connect(t, h.dial, h.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	buf := make([]byte, 1)
	for i := range 24 { // ~1.2 s, three idle periods
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if _, err := io.ReadFull(br, buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("echo %d: %v %v", i, buf, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUpstreamProxyAfterDecision chains two proxies: the first decides and
// forwards allowed traffic (HTTP and CONNECT) to the second; denied
// targets never reach the upstream.
func TestUpstreamProxyAfterDecision(t *testing.T) {
	up := start(t, nil)
	upURL, _ := url.Parse("http://" + up.addr)
	h := start(t, func(c *egress.Config) { c.Upstream = upURL })
	resp, err := h.client().Get(h.web.URL + "/via-upstream")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hello /via-upstream " {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	resp, err = h.client().Get("http://10.0.0.1/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("private via upstream: %d", resp.StatusCode)
	}
	cresp, c, br := connect(t, h.dial, h.echo.Addr().String())
	if cresp.StatusCode != 200 {
		t.Fatalf("CONNECT via upstream: %d", cresp.StatusCode)
	}
	fmt.Fprint(c, "pong")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("%q %v", buf, err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.proxy.Shutdown(ctx)
	_ = up.proxy.Shutdown(ctx)
	var hosts []string
	for _, l := range up.logs.lines(t) {
		hosts = append(hosts, fmt.Sprint(l["kind"], " ", l["host"], " ", l["decision"]))
	}
	if len(hosts) != 2 || hosts[0] != "http 127.0.0.1 allow" || hosts[1] != "connect 127.0.0.1 allow" {
		t.Fatalf("upstream saw %q", hosts)
	}
}

// TestProxyLoopThroughUpstreamIsRefused: a proxy configured (by mistake or
// by an attacker-influenced config) as its own upstream recognizes its Via
// token instead of recursing until it runs out of connections.
func TestProxyLoopThroughUpstreamIsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := url.Parse("http://" + ln.Addr().String())
	pol, _ := netguard.New(netguard.WithAllowList("127.0.0.1"))
	p, err := egress.New(egress.Config{Policy: pol, Upstream: self})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer web.Close()
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(self)}}
	resp, err := c.Get(web.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get(egress.HeaderError) != "proxy_loop" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get(egress.HeaderError))
	}
}

// TestHammerTunnelLimit: many concurrent CONNECTs and forward requests
// against a small tunnel limit. Every CONNECT is either relayed correctly
// or refused with 503, every request gets one log line, and no tunnel
// outlives Shutdown.
func TestHammerTunnelLimit(t *testing.T) {
	const limit, workers = 4, 32
	h := start(t, func(c *egress.Config) { c.MaxTunnels = limit })
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			target := h.echo.Addr().String()
			fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode == 200 {
				msg := fmt.Sprintf("worker %d", i)
				fmt.Fprint(c, msg)
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
					t.Errorf("echo %q %v", buf, err)
				}
			}
			r, err := h.client().Get(h.web.URL + "/w")
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Errorf("GET: %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	if codes[200] < 1 || codes[200]+codes[503] != workers {
		t.Fatalf("status counts %v", codes)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.proxy.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.proxy.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "airlock_egress_tunnels_active 0") {
		t.Fatalf("tunnels leaked:\n%s", rec.Body.String())
	}
	if got := len(h.logs.lines(t)); got != 2*workers {
		t.Fatalf("%d log lines, want one per decision (%d)", got, 2*workers)
	}
}
