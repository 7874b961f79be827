// Package airlock runs untrusted JavaScript code steps for multi-tenant
// platforms, each in a fresh QuickJS-NG isolate compiled to WebAssembly,
// with hard limits enforced outside the guest.
//
//	rt, err := airlock.New(airlock.WithLimits(airlock.Limits{CPUTime: time.Second}))
//	res, err := rt.Run(ctx, airlock.Step{
//		Source: `export const code = async (inputs) => inputs.a + inputs.b`,
//		Input:  []byte(`{"a":1,"b":2}`),
//	})
//	// res.Output == "3"
//
// # Errors
//
// Run returns a *Error for every failure; its Code is stable API and
// errors.Is matches the Err... sentinels of this package:
//
//   - ErrCPULimit: the step used its CPU time (CLI exit code 124, message
//     "CPU time limit exceeded").
//   - ErrTimeout: the wall-clock timeout elapsed, or ctx was canceled.
//   - ErrMemoryLimit: the step exceeded its memory cap.
//   - ErrPayloadTooLarge: the input or output exceeded the payload limit.
//   - ErrStepThrew, ErrSyntax, ErrBadStep: the step itself failed.
//   - ErrInvalidConfig, ErrUnavailable, ErrInternal.
//
// # Security
//
// The guest reaches nothing of the host but what airlock implements for
// it: console output to a callback, timers, a frozen clock and a
// CSPRNG-seeded Math.random. It has no file system, network, environment
// or process access. See the README for the guarantees and their limits.
package airlock
