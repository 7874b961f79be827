package step

import (
	"errors"
	"time"
)

// Limits bound one step. Every limit is always on: a zero field means the
// default, never "unlimited".
type Limits struct {
	// MemoryBytes caps the step's memory. Zero value: DefaultMemoryBytes.
	// Range: 8 MiB (the engine's baseline plus its reserved free heap fit) to 4 GiB.
	MemoryBytes int64
	// CPUTime caps the CPU time the step may use. Zero value:
	// DefaultCPUTime. Exceeding it is CodeCPULimit (exit code 124).
	CPUTime time.Duration
	// Timeout caps the wall-clock time, including time spent waiting on
	// timers and I/O. Zero value: DefaultTimeout. Exceeding it is CodeTimeout.
	Timeout time.Duration
	// MaxPayloadBytes caps the input JSON and the output JSON, each.
	// Zero value: DefaultPayloadBytes. Range: MinPayloadBytes..MaxPayloadLimit.
	MaxPayloadBytes int
	// MaxLogBytes caps the log bytes delivered per step; the excess is
	// dropped and counted in Usage. Zero value: DefaultLogBytes.
	MaxLogBytes int64
	// MaxTimers caps the timers a step may register over its life; the
	// excess is refused and counted. Zero value: DefaultMaxTimers.
	MaxTimers int
}

// Defaults and bounds.
const (
	DefaultMemoryBytes  = 128 << 20
	MinMemoryBytes      = 8 << 20
	MaxMemoryBytes      = 4 << 30
	DefaultCPUTime      = 10 * time.Second
	DefaultTimeout      = 30 * time.Second
	DefaultPayloadBytes = 4 << 20
	MinPayloadBytes     = 1 << 10
	MaxPayloadLimit     = 64 << 20
	DefaultLogBytes     = 1 << 20
	DefaultMaxTimers    = 10000
)

// WithDefaults returns l with zero fields replaced by their defaults.
func (l Limits) WithDefaults() Limits {
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.CPUTime == 0 {
		l.CPUTime = DefaultCPUTime
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxPayloadBytes == 0 {
		l.MaxPayloadBytes = DefaultPayloadBytes
	}
	if l.MaxLogBytes == 0 {
		l.MaxLogBytes = DefaultLogBytes
	}
	if l.MaxTimers == 0 {
		l.MaxTimers = DefaultMaxTimers
	}
	return l
}

// Validate reports every out-of-range field of l (after defaults), joined,
// each as a CodeInvalidConfig *Error.
func (l Limits) Validate() error {
	l = l.WithDefaults()
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, Errorf(CodeInvalidConfig, format, args...))
		}
	}
	check(l.MemoryBytes >= MinMemoryBytes && l.MemoryBytes <= MaxMemoryBytes,
		"memory limit %d bytes out of range [%d, %d]", l.MemoryBytes, MinMemoryBytes, int64(MaxMemoryBytes))
	check(l.CPUTime > 0, "CPU time limit must be positive, got %s", l.CPUTime)
	check(l.Timeout > 0, "timeout must be positive, got %s", l.Timeout)
	check(l.MaxPayloadBytes >= MinPayloadBytes && l.MaxPayloadBytes <= MaxPayloadLimit,
		"payload limit %d bytes out of range [%d, %d]", l.MaxPayloadBytes, MinPayloadBytes, MaxPayloadLimit)
	check(l.MaxLogBytes > 0, "log limit must be positive, got %d", l.MaxLogBytes)
	check(l.MaxTimers > 0, "timer limit must be positive, got %d", l.MaxTimers)
	return errors.Join(errs...)
}
