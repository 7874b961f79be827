package isolate

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/airlockhq/airlock/internal/step"
)

// Capability is a host service that a step can use only if the operator
// grants it (Options.Capabilities); nothing is granted by default. It is
// the seam through which fetch, file system or environment access are
// offered: the guest calls airlock.call(name, method, args), which returns
// a promise, and the host runs Call on its own goroutine while the step's
// event loop goes on.
type Capability interface {
	// Call handles one request. args is JSON (bounded by the step's payload
	// limit); the result must be JSON too. ctx is canceled when the step
	// ends, however it ends. An error whose cause is a *step.Error gives
	// the guest's error its code (for example ERR_SANDBOX_NETWORK_BLOCKED).
	Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)
}

// maxCapCalls bounds the capability calls one step may have in flight.
const maxCapCalls = 64

// Guest-visible answers of OP_CAP, shared with prelude.js.
const (
	capDenied   = 0
	capStarted  = 1
	capTooMany  = 2
	capTooLarge = 3
)

type capResult struct {
	id  float64
	out json.RawMessage
	err error
}

// startCap begins capability call id, or says why it cannot.
func (v *vm) startCap(ctx context.Context, id float64, name, method string, args []byte) int {
	c, ok := v.caps[name]
	if !ok {
		return capDenied
	}
	if v.capPending >= maxCapCalls {
		return capTooMany
	}
	if args == nil {
		return capTooLarge
	}
	if v.capDone == nil {
		v.capDone = make(chan capResult, maxCapCalls)
	}
	v.capPending++
	go func() {
		out, err := c.Call(ctx, method, args)
		v.capDone <- capResult{id: id, out: out, err: err}
	}()
	return capStarted
}

// settlement is the JSON the prelude receives for a finished call.
func (v *vm) settlement(r capResult) (bool, []byte) {
	if r.err == nil && len(r.out) <= v.lim.MaxPayloadBytes && json.Valid(r.out) {
		return true, r.out
	}
	d := struct {
		Message string    `json:"message"`
		Code    step.Code `json:"code,omitempty"`
	}{}
	var se *step.Error
	switch {
	case r.err == nil && len(r.out) > v.lim.MaxPayloadBytes:
		d.Message, d.Code = "capability result over the payload limit", step.CodePayloadTooLarge
	case r.err == nil:
		d.Message, d.Code = "capability returned invalid JSON", step.CodeInternal
	case errors.As(r.err, &se):
		d.Message, d.Code = se.Message, se.Code
	default:
		d.Message = r.err.Error()
	}
	b, _ := json.Marshal(d)
	return false, b
}
