package egress

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlockhq/airlock/netguard"
)

// Config configures a Proxy. Only Policy is required; every other zero value
// selects the documented default, never "unlimited".
type Config struct {
	// Policy decides every destination. Required.
	Policy *netguard.Policy
	// Logger receives one line per decision (use a slog.JSONHandler).
	// Zero value: decisions are not logged.
	Logger *slog.Logger
	// Resolver resolves target names (every A and AAAA record is checked).
	// Zero value: net.DefaultResolver.
	Resolver netguard.Resolver
	// Upstream, if set, is an HTTP proxy every allowed request is sent
	// through after the target was decided here. It is operator
	// configuration and is dialed without a policy check. Zero value: dial
	// targets directly. Ambient HTTP_PROXY/HTTPS_PROXY are never used.
	Upstream *url.URL
	// MaxTunnels caps concurrent CONNECT tunnels; the excess gets 503 with
	// X-Airlock-Error: too_many_tunnels. Zero value: DefaultMaxTunnels.
	MaxTunnels int
	// MaxHeaderBytes caps the request line and headers of a client request
	// (http.Server.MaxHeaderBytes). Zero value: DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds reading a client's request headers. Zero
	// value: DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive client connections, idle upstream
	// connections and CONNECT tunnels that carried no byte in either
	// direction for this long. Zero value: DefaultIdleTimeout.
	IdleTimeout time.Duration
	// DialTimeout bounds connecting to a target or the upstream proxy.
	// Zero value: DefaultDialTimeout.
	DialTimeout time.Duration
}

// Defaults for zero Config fields.
const (
	DefaultMaxTunnels        = 1024
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultDialTimeout       = 10 * time.Second
)

// HeaderError is the response header carrying the reason of a refusal: a
// netguard.Reason for a policy denial, or one of the ErrorCode values below.
const HeaderError = "X-Airlock-Error"

// Proxy-specific error codes sent in HeaderError (netguard reasons are used
// for policy denials).
const (
	CodeTooManyTunnels = "too_many_tunnels"
	CodeBadRequest     = "bad_request"
	CodeResolveFailed  = "resolve_failed"
	CodeDialFailed     = "dial_failed"
	CodeUpstreamFailed = "upstream_failed"
)

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Policy == nil:
		return errors.New("egress: Config.Policy is required")
	case c.MaxTunnels < 0:
		return fmt.Errorf("egress: MaxTunnels %d < 0", c.MaxTunnels)
	case c.MaxHeaderBytes < 0:
		return fmt.Errorf("egress: MaxHeaderBytes %d < 0", c.MaxHeaderBytes)
	case c.ReadHeaderTimeout < 0, c.IdleTimeout < 0, c.DialTimeout < 0:
		return errors.New("egress: timeouts must not be negative")
	case c.Upstream != nil && (c.Upstream.Scheme != "http" || c.Upstream.Host == ""):
		return fmt.Errorf("egress: Upstream %q: want http://host:port", c.Upstream)
	}
	return nil
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxTunnels == 0 {
		c.MaxTunnels = DefaultMaxTunnels
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
}

// Proxy is an SSRF-guarding HTTP forward proxy with CONNECT tunnels. It is
// safe for concurrent use; Serve may be called on several listeners.
type Proxy struct {
	cfg     Config
	log     *slog.Logger
	dialer  *netguard.Dialer
	srv     *http.Server
	fwd     *http.Transport
	rp      *httputil.ReverseProxy
	via     string // "1.1 airlock-<random>": detects requests looping back
	metrics *metrics
	slots   chan struct{} // tunnel semaphore

	mu      sync.Mutex
	self    []netip.AddrPort // TCP addresses we listen on
	tunnels map[net.Conn]struct{}
	wg      sync.WaitGroup
	closing atomic.Bool
}

// New validates cfg and returns a Proxy ready to Serve.
//
// # Errors
//
// Config.Validate's error: a nil Policy, a negative limit, or an Upstream
// that is not http://host:port.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.withDefaults()
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	p := &Proxy{
		cfg:     cfg,
		log:     cfg.Logger,
		via:     "1.1 airlock-" + hex.EncodeToString(tok[:]),
		metrics: newMetrics(),
		slots:   make(chan struct{}, cfg.MaxTunnels),
		tunnels: map[net.Conn]struct{}{},
	}
	p.dialer = &netguard.Dialer{
		Policy:   cfg.Policy,
		Resolver: cfg.Resolver,
		Dialer:   &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second},
	}
	p.fwd = &http.Transport{
		DialContext:           p.dialForward,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       cfg.IdleTimeout,
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
	}
	if cfg.Upstream != nil {
		u := cfg.Upstream
		p.fwd.Proxy = func(*http.Request) (*url.URL, error) { return u, nil }
	}
	p.rp = &httputil.ReverseProxy{
		Transport: p.fwd,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = pr.In.URL
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Add("Via", p.via)
		},
		ErrorHandler: p.forwardError,
		BufferPool:   bufferPool{},
		ErrorLog:     slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// Serve accepts connections on ln (TCP, normally loopback, or a unix
// socket) until Shutdown. It blocks and returns http.ErrServerClosed after
// Shutdown.
//
// # Security
//
// The proxy refuses to connect to ln's own address (ReasonProxyLoop), and
// refuses requests carrying its own Via token. Serve a listener only local
// clients can reach: the proxy has no authentication.
func (p *Proxy) Serve(ln net.Listener) error {
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && ln.Addr().Network() == "tcp" {
		p.mu.Lock()
		p.self = append(p.self, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
		p.mu.Unlock()
	}
	return p.srv.Serve(ln)
}

// Shutdown stops accepting connections, waits for in-flight requests and
// CONNECT tunnels to finish until ctx is done, then closes what remains.
//
// # Errors
//
// ctx.Err() if ctx ended before everything finished (connections were then
// closed forcibly).
func (p *Proxy) Shutdown(ctx context.Context) error {
	// Set under mu so that no tunnel registers (wg.Add) once Wait may run.
	p.mu.Lock()
	p.closing.Store(true)
	p.mu.Unlock()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		_ = p.srv.Close()
	}
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.mu.Lock()
		for c := range p.tunnels {
			_ = c.Close()
		}
		p.mu.Unlock()
		<-done
		if err == nil {
			err = ctx.Err()
		}
	}
	p.fwd.CloseIdleConnections()
	return err
}

// MetricsHandler serves the proxy's Prometheus metrics.
func (p *Proxy) MetricsHandler() http.Handler { return p.metrics.handler() }

// bufferPool recycles the 32 KiB copy buffers ReverseProxy would otherwise
// allocate per response.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
