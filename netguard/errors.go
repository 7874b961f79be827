package netguard

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrBlocked matches every *BlockedError with errors.Is.
var ErrBlocked = errors.New("netguard: destination blocked")

// BlockedError is a destination the policy refused. Host is the name or
// address as asked (may be empty); IP is the offending address (invalid when
// the refusal is about a name, a scheme or a malformed host).
type BlockedError struct {
	Host   string
	IP     netip.Addr
	Reason Reason
}

func (e *BlockedError) Error() string {
	dest := e.Host
	if e.IP.IsValid() {
		ip := e.IP.String()
		switch {
		case dest == "" || dest == ip:
			dest = ip
		default:
			dest = fmt.Sprintf("%s (%s)", dest, ip)
		}
	}
	msg := fmt.Sprintf("netguard: destination %q blocked: %s", dest, e.Reason)
	switch {
	case e.IP.IsValid() && e.Reason != ReasonInvalid:
		msg += fmt.Sprintf("; if this destination is legitimate, add %s to AP_SSRF_ALLOW_LIST", e.IP.WithZone("").Unmap())
	case e.Reason == ReasonMetadata || e.Reason == ReasonLoopback:
		msg += "; names are not allow-listable: if this destination is legitimate, connect to an address listed in AP_SSRF_ALLOW_LIST"
	}
	return msg
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }
