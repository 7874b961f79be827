package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// DefaultMaxRedirects is the redirect cap of NewHTTPClient.
const DefaultMaxRedirects = 10

// ErrTooManyRedirects is returned (wrapped in *url.Error) when a client
// built by NewHTTPClient exceeds its redirect cap.
var ErrTooManyRedirects = errors.New("netguard: too many redirects")

type clientConfig struct {
	resolver     Resolver
	dialer       *net.Dialer
	tls          *tls.Config
	proxy        *url.URL
	maxRedirects int
	timeout      time.Duration
	observe      func(ctx context.Context, host string, ip netip.Addr, d Decision)
}

// ClientOption configures NewHTTPClient.
type ClientOption func(*clientConfig)

// WithResolver sets the resolver. Default net.DefaultResolver.
func WithResolver(r Resolver) ClientOption { return func(c *clientConfig) { c.resolver = r } }

// WithDialer sets the base dialer (timeouts, keep-alive). Its Control still
// gets the policy check.
func WithDialer(d *net.Dialer) ClientOption { return func(c *clientConfig) { c.dialer = d } }

// WithTLSConfig sets the TLS configuration. The policy check happens at
// connect time, before TLS, so it holds even with InsecureSkipVerify.
func WithTLSConfig(cfg *tls.Config) ClientOption { return func(c *clientConfig) { c.tls = cfg } }

// WithUpstreamProxy sends requests through an HTTP(S) proxy. The target of
// every request (and every redirect) is resolved and decided first; the
// proxy address itself is decided too, unless it is a loopback address
// (a local egress proxy). Ambient HTTP_PROXY/HTTPS_PROXY/NO_PROXY are never
// read: this option is the only way to use a proxy.
//
// # Security
//
// The proxy resolves the target again; pinning against DNS rebinding at
// that step is the proxy's job (airlock proxy does it).
func WithUpstreamProxy(u *url.URL) ClientOption { return func(c *clientConfig) { c.proxy = u } }

// WithMaxRedirects caps redirects followed per request. Default
// DefaultMaxRedirects; 0 follows none (the 3xx response is returned).
func WithMaxRedirects(n int) ClientOption { return func(c *clientConfig) { c.maxRedirects = n } }

// WithTimeout sets http.Client.Timeout. Default 0 (use request contexts).
func WithTimeout(d time.Duration) ClientOption { return func(c *clientConfig) { c.timeout = d } }

// WithObserver is called with every decision the client's dialer makes.
func WithObserver(f func(ctx context.Context, host string, ip netip.Addr, d Decision)) ClientOption {
	return func(c *clientConfig) { c.observe = f }
}

// NewHTTPClient returns an http.Client whose every connection is decided by
// p: each request and each redirect hop is dialed through a Dialer (resolve
// once, refuse a name with any denied record, dial the pinned address,
// re-check in Control). Redirects are capped and must stay on http or https.
//
// # Errors
//
// Requests fail with a *url.Error wrapping *BlockedError (errors.Is(err,
// ErrBlocked)) for a denied destination or a redirect to another scheme
// (ReasonScheme), and wrapping ErrTooManyRedirects past the cap.
func NewHTTPClient(p *Policy, opts ...ClientOption) *http.Client {
	cfg := clientConfig{maxRedirects: DefaultMaxRedirects}
	for _, o := range opts {
		o(&cfg)
	}
	d := &Dialer{Policy: p, Resolver: cfg.resolver, Dialer: cfg.dialer, Observe: cfg.observe}
	tr := &http.Transport{
		Proxy:                 nil, // never http.ProxyFromEnvironment
		DialContext:           d.DialContext,
		TLSClientConfig:       cfg.tls,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if cfg.proxy != nil {
		proxy := cfg.proxy
		proxyAddr := canonicalAddr(proxy)
		tr.Proxy = func(req *http.Request) (*url.URL, error) {
			if _, _, err := d.Resolve(req.Context(), req.URL.Hostname()); err != nil {
				return nil, err
			}
			return proxy, nil
		}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == proxyAddr && isLoopbackHost(proxy.Hostname()) {
				var nd net.Dialer
				if cfg.dialer != nil {
					nd = *cfg.dialer
				}
				return nd.DialContext(ctx, network, addr)
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return &BlockedError{Host: req.URL.Host, Reason: ReasonScheme}
			}
			if cfg.maxRedirects <= 0 {
				return http.ErrUseLastResponse
			}
			if len(via) > cfg.maxRedirects {
				return fmt.Errorf("%w (%d)", ErrTooManyRedirects, cfg.maxRedirects)
			}
			return nil
		},
	}
}

func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// isLoopbackHost reports whether host is a loopback address literal or
// "localhost".
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
