package procstep

import (
	"context"
	"time"

	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/netguard"
)

func init() { newProxy = egressProxy }

// egressProxy is the proxy of a Net "proxy" step: airlock's egress proxy
// with the policy from AP_NETWORK_MODE and AP_SSRF_ALLOW_LIST.
func egressProxy() (jail.ProxyServer, func(), error) {
	policy, err := netguard.FromEnv()
	if err != nil {
		return nil, nil, err
	}
	p, err := egress.New(egress.Config{Policy: policy})
	if err != nil {
		return nil, nil, err
	}
	return p, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}, nil
}
