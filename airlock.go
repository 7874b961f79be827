package airlock

import (
	"context"
	"errors"
	"fmt"

	"github.com/airlockhq/airlock/internal/isolate"
	"github.com/airlockhq/airlock/internal/step"
)

// The step contract, shared by every execution mode.
type (
	// Step is one code step: source, filename, JSON input.
	Step = step.Step
	// Result is a completed step's JSON output and usage.
	Result = step.Result
	// Usage is what a step consumed.
	Usage = step.Usage
	// Limits bound a step; zero fields take their defaults, none can be
	// disabled.
	Limits = step.Limits
	// LogLine is one console call of a step.
	LogLine = step.LogLine
	// LogSink receives log lines as they happen.
	LogSink = step.LogSink
	// Error is a failed step; Code is stable API.
	Error = step.Error
	// Code is a stable error code.
	Code = step.Code
	// Mode is an execution mode (AP_EXECUTION_MODE).
	Mode = step.Mode
	// Capability is a host service a step may call only if granted with
	// WithCapability; see isolate.Capability.
	Capability = isolate.Capability
)

// Sentinels for errors.Is: each matches any *Error with its code.
var (
	ErrStepThrew       = step.ErrStepThrew
	ErrSyntax          = step.ErrSyntax
	ErrBadStep         = step.ErrBadStep
	ErrCPULimit        = step.ErrCPULimit
	ErrTimeout         = step.ErrTimeout
	ErrMemoryLimit     = step.ErrMemoryLimit
	ErrStackOverflow   = step.ErrStackOverflow
	ErrPayloadTooLarge = step.ErrPayloadTooLarge
	ErrInvalidConfig   = step.ErrInvalidConfig
	ErrUnavailable     = step.ErrUnavailable
	ErrInternal        = step.ErrInternal
)

// Execution modes.
const (
	ModeCodeOnly = step.ModeCodeOnly
)

// Runtime runs steps. It is safe for concurrent use.
type Runtime struct {
	eng  *isolate.Engine
	opts options
}

type options struct {
	limits step.Limits
	logs   step.LogSink
	timing isolate.Timing
	caps   map[string]isolate.Capability
}

// Option configures a Runtime.
type Option func(*options) error

// WithLimits sets the per-step limits. Zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(o *options) error {
		if err := l.Validate(); err != nil {
			return err
		}
		o.limits = l
		return nil
	}
}

// WithLogSink sends every step's console output to sink as it happens.
func WithLogSink(sink LogSink) Option {
	return func(o *options) error { o.logs = sink; return nil }
}

// WithTiming sets clock hardening: "freeze" (the default: Date.now() and
// performance.now() do not advance within a step) or "off".
func WithTiming(mode string) Option {
	return func(o *options) error {
		t, err := isolate.ParseTiming(mode)
		o.timing = t
		return err
	}
}

// WithCapability grants every step the host service c under name: the
// step reaches it with `await airlock.call(name, method, args)`. Nothing is
// granted by default, and without a grant the step has no airlock global.
func WithCapability(name string, c Capability) Option {
	return func(o *options) error {
		if name == "" || c == nil {
			return step.Errorf(step.CodeInvalidConfig, "capability needs a name and an implementation")
		}
		if o.caps == nil {
			o.caps = make(map[string]isolate.Capability)
		}
		o.caps[name] = c
		return nil
	}
}

// New returns a Runtime running steps in the wasm isolate
// (SANDBOX_CODE_ONLY). The engine is compiled once per process.
//
// # Errors
//
// A *Error with ErrInvalidConfig for a bad option, or ErrInternal if the
// engine cannot be initialised.
func New(opts ...Option) (*Runtime, error) {
	r := &Runtime{}
	for _, o := range opts {
		if err := o(&r.opts); err != nil {
			return nil, err
		}
	}
	eng, err := isolate.Default()
	if errors.Is(err, isolate.ErrUnsupportedOS) {
		return nil, isolate.ErrUnsupportedOS
	}
	if err != nil {
		return nil, &Error{Code: step.CodeInternal, Message: fmt.Sprintf("initialising engine: %v", err), Err: err}
	}
	r.eng = eng
	return r, nil
}

// Run executes s in a fresh isolate and returns its output. See the package
// documentation for the errors it returns.
func (r *Runtime) Run(ctx context.Context, s Step) (Result, error) {
	return r.eng.Run(ctx, s, r.opts.limits, isolate.Options{Logs: r.opts.logs, Timing: r.opts.timing, Capabilities: r.opts.caps})
}
