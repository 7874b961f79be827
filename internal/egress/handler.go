package egress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airlockhq/airlock/netguard"
)

// event is one decision, logged once when the request or tunnel ends.
type event struct {
	kind     string // "http" or "connect"
	client   string
	method   string
	host     string
	port     uint16
	ips      []netip.Addr
	decision string // allow, deny, would_deny, error
	reason   string
	status   int
	up, down atomic.Int64
	start    time.Time
}

func (p *Proxy) finish(ctx context.Context, ev *event) {
	up, down := ev.up.Load(), ev.down.Load()
	p.metrics.decided(ev.kind, ev.decision, ev.reason, up, down)
	level := slog.LevelInfo
	if ev.decision != "allow" {
		level = slog.LevelWarn
	}
	ips := make([]string, len(ev.ips))
	for i, a := range ev.ips {
		ips[i] = a.String()
	}
	p.log.LogAttrs(ctx, level, "egress",
		slog.String("kind", ev.kind),
		slog.String("client", ev.client),
		slog.String("method", ev.method),
		slog.String("host", ev.host),
		slog.Int("port", int(ev.port)),
		slog.Any("ips", ips),
		slog.String("decision", ev.decision),
		slog.String("reason", ev.reason),
		slog.Int("status", ev.status),
		slog.Int64("bytes_up", up),
		slog.Int64("bytes_down", down),
		slog.Float64("duration_ms", float64(time.Since(ev.start).Microseconds())/1000),
	)
}

// refuse answers a refused request and records it.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, ev *event, status int, decision, reason, msg string) {
	ev.decision, ev.reason, ev.status = decision, reason, status
	w.Header().Set(HeaderError, reason)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
	p.finish(r.Context(), ev)
}

// ServeHTTP handles one proxy request: CONNECT or an absolute-URI HTTP
// request. Anything else is 400.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev := &event{client: r.RemoteAddr, method: r.Method, start: time.Now(), kind: "http"}
	if r.Method == http.MethodConnect {
		ev.kind = "connect"
	}
	for _, v := range r.Header.Values("Via") {
		if strings.Contains(v, p.via[4:]) {
			p.refuse(w, r, ev, http.StatusForbidden, "deny", string(netguard.ReasonProxyLoop),
				"airlock proxy: request looped back to this proxy")
			return
		}
	}
	if r.Method == http.MethodConnect {
		p.serveConnect(w, r, ev)
		return
	}
	if !r.URL.IsAbs() || r.URL.Host == "" {
		p.refuse(w, r, ev, http.StatusBadRequest, "error", CodeBadRequest,
			"airlock proxy: not a proxy request (want an absolute http:// URI or CONNECT)")
		return
	}
	if r.URL.Scheme != "http" {
		ev.host = r.URL.Hostname()
		p.refuse(w, r, ev, http.StatusForbidden, "deny", string(netguard.ReasonScheme),
			fmt.Sprintf("airlock proxy: scheme %q not proxied (use CONNECT for https)", r.URL.Scheme))
		return
	}
	port := uint16(80)
	if ps := r.URL.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			p.refuse(w, r, ev, http.StatusBadRequest, "error", CodeBadRequest, "airlock proxy: bad port")
			return
		}
		port = uint16(n)
	}
	ev.host, ev.port = r.URL.Hostname(), port
	addrs, ok := p.decide(w, r, ev)
	if !ok {
		return
	}
	ctx := context.WithValue(r.Context(), pinnedKey{}, pinned{addrs, port})
	r = r.WithContext(ctx)
	r.Body = &countingReader{r: r.Body, n: &ev.up}
	cw := &countingWriter{ResponseWriter: w, n: &ev.down}
	p.rp.ServeHTTP(cw, r)
	ev.status = cw.status
	p.finish(ctx, ev)
}

// decide resolves ev.host, decides every address and refuses the request if
// any is denied or the target is this proxy. It fills ev's decision.
func (p *Proxy) decide(w http.ResponseWriter, r *http.Request, ev *event) ([]netip.Addr, bool) {
	addrs, d, err := p.dialer.Resolve(r.Context(), ev.host)
	ev.ips = addrs
	var be *netguard.BlockedError
	switch {
	case errors.As(err, &be):
		p.refuse(w, r, ev, http.StatusForbidden, "deny", string(be.Reason), "airlock proxy: "+be.Error())
		return nil, false
	case err != nil:
		p.refuse(w, r, ev, http.StatusBadGateway, "error", CodeResolveFailed, "airlock proxy: "+err.Error())
		return nil, false
	}
	for _, a := range addrs {
		if p.isSelf(a, ev.port) {
			p.refuse(w, r, ev, http.StatusForbidden, "deny", string(netguard.ReasonProxyLoop),
				fmt.Sprintf("airlock proxy: %s is this proxy", netip.AddrPortFrom(a, ev.port)))
			return nil, false
		}
	}
	ev.decision, ev.reason = d.Verdict.String(), string(d.Reason)
	return addrs, true
}

func (p *Proxy) isSelf(a netip.Addr, port uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.self {
		if s.Port() != port {
			continue
		}
		if s.Addr() == a || (s.Addr().IsUnspecified() && (a.IsLoopback() || a.IsUnspecified() || isLocal(a))) {
			return true
		}
	}
	return false
}

// isLocal reports whether a is assigned to an interface of this host.
func isLocal(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // fail closed
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == a {
				return true
			}
		}
	}
	return false
}

type pinnedKey struct{}

type pinned struct {
	addrs []netip.Addr
	port  uint16
}

// dialForward is the forward transport's DialContext: the upstream proxy if
// configured, else the addresses decided for this request.
func (p *Proxy) dialForward(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.cfg.Upstream != nil {
		d := net.Dialer{Timeout: p.cfg.DialTimeout}
		return d.DialContext(ctx, network, addr)
	}
	pin, ok := ctx.Value(pinnedKey{}).(pinned)
	if !ok {
		return nil, errors.New("egress: dial without a decision")
	}
	return p.dialer.DialAddrs(ctx, network, pin.addrs, pin.port)
}

func (p *Proxy) forwardError(w http.ResponseWriter, r *http.Request, err error) {
	code, status := CodeDialFailed, http.StatusBadGateway
	var be *netguard.BlockedError
	if errors.As(err, &be) {
		code, status = string(be.Reason), http.StatusForbidden
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	w.Header().Set(HeaderError, code)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "airlock proxy: "+err.Error()+"\n")
}

func (p *Proxy) serveConnect(w http.ResponseWriter, r *http.Request, ev *event) {
	host, port, err := ParseConnectTarget(r.RequestURI)
	if err != nil {
		p.refuse(w, r, ev, http.StatusBadRequest, "error", CodeBadRequest, "airlock proxy: "+err.Error())
		return
	}
	ev.host, ev.port = host, port
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	default:
		p.refuse(w, r, ev, http.StatusServiceUnavailable, "error", CodeTooManyTunnels,
			fmt.Sprintf("airlock proxy: %d tunnels open (MaxTunnels)", p.cfg.MaxTunnels))
		return
	}
	addrs, ok := p.decide(w, r, ev)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.DialTimeout)
	target, err := p.dialConnect(ctx, host, port, addrs)
	cancel()
	if err != nil {
		code, status := CodeDialFailed, http.StatusBadGateway
		var be *netguard.BlockedError
		if errors.As(err, &be) {
			code, status = string(be.Reason), http.StatusForbidden
		} else if errors.Is(err, errUpstream) {
			code = CodeUpstreamFailed
		}
		ev.decision = "error"
		if status == http.StatusForbidden {
			ev.decision = "deny"
		}
		p.refuse(w, r, ev, status, ev.decision, code, "airlock proxy: "+err.Error())
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = target.Close()
		p.refuse(w, r, ev, http.StatusInternalServerError, "error", CodeBadRequest, "airlock proxy: cannot hijack: "+err.Error())
		return
	}
	ev.status = http.StatusOK
	if !p.track(client, target) {
		_ = client.Close()
		_ = target.Close()
		return
	}
	defer p.untrack(client, target)
	p.metrics.tunnels.Add(1)
	defer p.metrics.tunnels.Add(-1)
	_ = client.SetDeadline(time.Time{})
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = client.Close()
		_ = target.Close()
		p.finish(r.Context(), ev)
		return
	}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		m, _ := target.Write(b)
		ev.up.Add(int64(m))
	}
	relay(client, target, p.cfg.IdleTimeout, &ev.up, &ev.down)
	p.finish(context.WithoutCancel(r.Context()), ev)
}

var errUpstream = errors.New("egress: upstream proxy refused CONNECT")

func (p *Proxy) dialConnect(ctx context.Context, host string, port uint16, addrs []netip.Addr) (net.Conn, error) {
	if p.cfg.Upstream == nil {
		return p.dialer.DialAddrs(ctx, "tcp", addrs, port)
	}
	up := p.cfg.Upstream.Host
	if p.cfg.Upstream.Port() == "" {
		up = net.JoinHostPort(p.cfg.Upstream.Hostname(), "80")
	}
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", up)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nVia: %s\r\n\r\n", target, target, p.via); err != nil {
		_ = c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = c.Close()
		return nil, fmt.Errorf("%w: %s", errUpstream, resp.Status)
	}
	if br.Buffered() > 0 {
		_ = c.Close()
		return nil, fmt.Errorf("%w: data after the 200 response", errUpstream)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// track registers a tunnel for Shutdown; false if shutting down.
func (p *Proxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing.Load() {
		return false
	}
	p.tunnels[a] = struct{}{}
	p.tunnels[b] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *Proxy) untrack(a, b net.Conn) {
	p.mu.Lock()
	delete(p.tunnels, a)
	delete(p.tunnels, b)
	p.mu.Unlock()
	p.wg.Done()
}

type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	n      *atomic.Int64
	status int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
