package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/netguard"
)

func init() { register("proxy", "run the SSRF-guarding egress proxy", proxyMain) }

// shutdownGrace bounds how long proxy waits for open requests and tunnels
// after SIGTERM/SIGINT.
const shutdownGrace = 10 * time.Second

// proxyReady, if set (by tests), is called with the bound addresses once
// the proxy is serving and signal handling is installed.
var proxyReady func(proxyAddr, metricsAddr net.Addr)

func proxyMain(e env, args []string) int {
	fs := flag.NewFlagSet("airlock proxy", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	listen := fs.String("listen", "127.0.0.1:3128", "listen address: loopback `host:port`, or unix:/path/to/socket")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this loopback `host:port` (default: off)")
	mode := fs.String("mode", "", "network mode STRICT or UNRESTRICTED (report-only); default $"+netguard.EnvNetworkMode+" or STRICT")
	allow := fs.String("allow", "", "allow-list `entries` (IPs, CIDRs; comma/space separated), added to $"+netguard.EnvAllowList)
	upstream := fs.String("upstream", "", "forward allowed traffic through this HTTP proxy `URL`")
	maxTunnels := fs.Int("max-tunnels", egress.DefaultMaxTunnels, "maximum concurrent CONNECT tunnels")
	maxHeader := fs.Int("max-header-bytes", egress.DefaultMaxHeaderBytes, "maximum request header bytes")
	readHeader := fs.Duration("read-header-timeout", egress.DefaultReadHeaderTimeout, "timeout to read request headers")
	idle := fs.Duration("idle-timeout", egress.DefaultIdleTimeout, "close idle connections and tunnels after this long")
	unsafeListen := fs.Bool("unsafe-listen-any", false, "allow --listen on a non-loopback address (the proxy has no authentication)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: airlock proxy [flags]\n\nHTTP forward proxy with CONNECT tunnels that refuses private, internal and metadata destinations (403, X-Airlock-Error: reason).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "airlock proxy: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var opts []netguard.Option
	if *mode != "" {
		m, err := netguard.ParseMode(*mode)
		if err != nil {
			fmt.Fprintf(e.stderr, "airlock proxy: --mode: %v\n", err)
			return exitUsage
		}
		opts = append(opts, netguard.WithMode(m))
	}
	if *allow != "" {
		opts = append(opts, func(p *netguard.Policy) error {
			if err := netguard.WithAllowList(*allow)(p); err != nil {
				return fmt.Errorf("--allow: %w", err)
			}
			return nil
		})
	}
	policy, err := netguard.FromEnv(opts...)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock proxy: %v\n", err)
		return exitUsage
	}
	cfg := egress.Config{
		Policy:            policy,
		Logger:            slog.New(slog.NewJSONHandler(e.stdout, nil)),
		MaxTunnels:        *maxTunnels,
		MaxHeaderBytes:    *maxHeader,
		ReadHeaderTimeout: *readHeader,
		IdleTimeout:       *idle,
	}
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil {
			fmt.Fprintf(e.stderr, "airlock proxy: --upstream: %v\n", err)
			return exitUsage
		}
		cfg.Upstream = u
	}
	p, err := egress.New(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock proxy: %v\n", err)
		return exitUsage
	}
	ln, err := listenProxy(*listen, *unsafeListen)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock proxy: --listen: %v\n", err)
		return exitUsage
	}
	defer ln.Close()
	var mln net.Listener
	var msrv *http.Server
	if *metricsAddr != "" {
		mln, err = listenProxy(*metricsAddr, *unsafeListen)
		if err != nil {
			fmt.Fprintf(e.stderr, "airlock proxy: --metrics: %v\n", err)
			return exitUsage
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", p.MetricsHandler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	fmt.Fprintf(e.stderr, "airlock proxy: listening on %s (mode %s, %d allow-list entries)\n",
		ln.Addr(), policy.Mode(), len(policy.AllowList()))
	if proxyReady != nil {
		var ma net.Addr
		if mln != nil {
			ma = mln.Addr()
		}
		proxyReady(ln.Addr(), ma)
	}
	select {
	case err := <-served:
		fmt.Fprintf(e.stderr, "airlock proxy: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fmt.Fprintln(e.stderr, "airlock proxy: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	if err := p.Shutdown(sctx); err != nil {
		fmt.Fprintf(e.stderr, "airlock proxy: shutdown: %v\n", err)
		return 1
	}
	<-served
	return exitOK
}

// listenProxy listens on "unix:/path" or a loopback host:port (any address
// if unsafeAny).
func listenProxy(addr string, unsafeAny bool) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, errors.New("empty unix socket path")
		}
		return net.Listen("unix", path)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !unsafeAny {
		ip, err := netip.ParseAddr(host)
		if host != "localhost" && (err != nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%s is not a loopback address (use unix:/path, or --unsafe-listen-any)", addr)
		}
	}
	return net.Listen("tcp", addr)
}
