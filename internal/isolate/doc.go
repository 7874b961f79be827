// Package isolate runs one JavaScript code step in a fresh QuickJS-NG
// instance compiled to WebAssembly and executed by wazero.
//
// The engine module is patched once per process (internal/wasmpatch) so the
// host can stop it at any loop back-edge, compiled once (with wazero's
// on-disk compilation cache), initialised once, and snapshotted. Every
// execution instantiates a new module, restores the snapshot into its own
// linear memory and runs the step; nothing survives into the next execution.
//
// Wiring:
//
//	e, err := isolate.Default()
//	res, err := e.Run(ctx, step.Step{Source: src, Input: in}, step.Limits{}, isolate.Options{Logs: sink})
//
// # Security
//
//   - The guest reaches the host only through the imports this package
//     implements: six WASI calls (clocks, random, writes to a discarded
//     stdout/stderr, stubs) and the env.host_* hooks. No file system, no
//     network, no environment, no arguments.
//   - Memory is capped twice: QuickJS's allocator limit (a catchable
//     out-of-memory error) and the linear memory's backing reservation,
//     which memory.grow cannot pass.
//   - CPU time is the thread CPU time of the goroutine running the guest,
//     checked by a timer armed for exactly the remaining budget; when it is
//     spent the host sets the stop flag and the guest traps at its next loop
//     back-edge, whatever native code it is in (see internal/wasmpatch).
//   - Clocks are virtual: frozen per execution by default; Math.random is
//     reseeded from crypto/rand per execution.
//
// # Limits
//
// A trap leaves QuickJS's heap mid-operation; that is safe only because the
// instance is discarded after every execution, which this package always
// does.
package isolate
