package netguard

import (
	"context"
	"net/netip"
)

// Policy decides which IP addresses may be connected to.
type Policy struct{}

// Resolver resolves a host name to every A and AAAA record. *net.Resolver
// implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}
