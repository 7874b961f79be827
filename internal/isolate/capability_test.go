package isolate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/step"
)

// capFunc adapts a function to Capability.
type capFunc func(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error)

func (f capFunc) Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	return f(ctx, method, args)
}

var echo = capFunc(func(_ context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"method": method, "args": args})
})

func TestCapabilityCallResolves(t *testing.T) {
	slow := capFunc(func(ctx context.Context, _ string, args json.RawMessage) (json.RawMessage, error) {
		select {
		case <-time.After(30 * time.Millisecond):
			return args, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	src := `export const code = async () => {
		const [a, b] = await Promise.all([airlock.call("echo", "ping", {x: 1}), airlock.call("slow", "wait", [1, 2])]);
		return { a, b };
	}`
	res, err := runStep(t, src, "", step.Limits{}, Options{Capabilities: map[string]Capability{"echo": echo, "slow": slow}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `{"a":{"method":"ping","args":{"x":1}},"b":[1,2]}`)
}

// Deny by default: with nothing granted there is no airlock global, and a
// name that was not granted is refused with ERR_SANDBOX_ACCESS_DENIED.
func TestCapabilityDeniedByDefault(t *testing.T) {
	res, err := runStep(t, `typeof airlock`, "", step.Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `"undefined"`)
	src := `export const code = async () => {
		try { await airlock.call("fs", "read", "/etc/passwd"); return "granted?!" }
		catch (e) { return e.code + ": " + e.message }
	}`
	res, err = runStep(t, src, "", step.Limits{}, Options{Capabilities: map[string]Capability{"echo": echo}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `"ERR_SANDBOX_ACCESS_DENIED: capability fs is not granted"`)
}

// The guest cannot replace or extend the granted object.
func TestCapabilityObjectFrozen(t *testing.T) {
	src := `"use strict"; let r = []; try { airlock.call = null } catch (e) { r.push(e.name) }
		try { globalThis.airlock = {} } catch (e) { r.push(e.name) } r`
	res, err := runStep(t, src, "", step.Limits{}, Options{Capabilities: map[string]Capability{"echo": echo}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `["TypeError","TypeError"]`)
}

// A capability error carries its code into the guest.
func TestCapabilityErrorCode(t *testing.T) {
	blocked := capFunc(func(_ context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("dial: %w", &step.Error{Code: step.CodeNetworkBlocked, Message: "169.254.169.254 is a metadata address"})
	})
	src := `export const code = () => airlock.call("net", "fetch", "http://169.254.169.254/").catch(e => e.code + " " + e.message)`
	res, err := runStep(t, src, "", step.Limits{}, Options{Capabilities: map[string]Capability{"net": blocked}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `"ERR_SANDBOX_NETWORK_BLOCKED 169.254.169.254 is a metadata address"`)
}

// Flooding a capability is bounded: at most maxCapCalls in flight; the rest
// are refused, and every call's context ends with the step.
func TestCapabilityFloodBoundedAndCanceled(t *testing.T) {
	var inFlight, maxSeen, canceled atomic.Int64
	hang := capFunc(func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		n := inFlight.Add(1)
		for {
			m := maxSeen.Load()
			if n <= m || maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		<-ctx.Done()
		inFlight.Add(-1)
		canceled.Add(1)
		return nil, ctx.Err()
	})
	src := `export const code = async () => {
		const refused = [];
		for (let i = 0; i < 200; i++) airlock.call("hang", "x", i).catch(e => refused.push(e.code));
		await new Promise(r => setTimeout(r, 50));
		return refused.length;
	}`
	res, err := runStep(t, src, "", step.Limits{}, Options{Capabilities: map[string]Capability{"hang": hang}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), fmt.Sprint(200-maxCapCalls))
	if maxSeen.Load() != maxCapCalls {
		t.Errorf("max in flight %d, want %d", maxSeen.Load(), maxCapCalls)
	}
	deadline := time.Now().Add(5 * time.Second)
	for canceled.Load() != maxCapCalls && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if canceled.Load() != maxCapCalls {
		t.Errorf("%d of %d calls saw their context end with the step", canceled.Load(), maxCapCalls)
	}
}

// A step waiting only on a capability that never answers ends at the wall
// timeout, not never.
func TestCapabilityHangEndsAtTimeout(t *testing.T) {
	hang := capFunc(func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, err := runStep(t, `export const code = () => airlock.call("hang", "x", null)`, "",
		step.Limits{Timeout: 100 * time.Millisecond}, Options{Capabilities: map[string]Capability{"hang": hang}})
	wantCode(t, err, step.CodeTimeout)
}

// Oversized arguments and results are refused with the payload code.
func TestCapabilityPayloadLimits(t *testing.T) {
	big := capFunc(func(_ context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`"` + strings.Repeat("x", 4096) + `"`), nil
	})
	src := `export const code = async () => [
		await airlock.call("echo", "x", "y".repeat(5000)).catch(e => e.code),
		await airlock.call("big", "x", null).catch(e => e.code)]`
	res, err := runStep(t, src, "", step.Limits{MaxPayloadBytes: 2048}, Options{Capabilities: map[string]Capability{"echo": echo, "big": big}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `["ERR_SANDBOX_PAYLOAD_TOO_LARGE","ERR_SANDBOX_PAYLOAD_TOO_LARGE"]`)
}
