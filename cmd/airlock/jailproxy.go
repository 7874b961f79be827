package main

import (
	"context"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/netguard"
)

// newJailProxy returns the egress proxy served to a --net=proxy jail over
// the socket the jail hands out, with the policy from AP_NETWORK_MODE and
// AP_SSRF_ALLOW_LIST, and a function that shuts it down.
func newJailProxy() (jail.ProxyServer, func(), error) {
	policy, err := netguard.FromEnv()
	if err != nil {
		return nil, nil, fmt.Errorf("--net=proxy: %w", err)
	}
	p, err := egress.New(egress.Config{Policy: policy})
	if err != nil {
		return nil, nil, fmt.Errorf("--net=proxy: %w", err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}
	return p, stop, nil
}
