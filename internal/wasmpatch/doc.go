// Package wasmpatch instruments a WebAssembly module so that the host can
// stop it at any moment, without the guest's cooperation, and so that the
// guest calls into the host regularly whatever code it runs.
//
// Instrument adds one mutable i32 global (the loop budget), exported under
// a given name, and inserts at the head of every loop in every function
// body a countdown of it; when the budget reaches zero the guest calls an
// existing function import of type [] -> [i32] (the tick) and traps if the
// tick returns non-zero:
//
//	global.get $budget  i32.const 1  i32.sub  global.set $budget
//	global.get $budget  i32.const 0  i32.le_s
//	if  call $tick  if unreachable end  end
//
// The host's tick refills the budget, or returns 1 to stop the guest. To
// stop a guest from another goroutine, the host records why and sets the
// budget to 0: the guest ticks at its next loop back-edge. (That write can
// be lost if it races with the guest's own decrement, which then delays the
// tick by at most one budget's worth of iterations; the reason is checked
// at every tick.) Every unbounded computation in wasm either loops or
// recurses, recursion is bounded by the stack, and bulk-memory instructions
// are bounded by the memory size, so both the time to stop and the time
// between ticks are bounded whatever native code (a regex backtracker, a
// sort, JSON.stringify, a string search) the guest is in.
//
// The tick matters for Go hosts beyond stopping: compiled wasm has no Go
// preemption points, so a long call-free loop would block the Go garbage
// collector's stop-the-world, and with it every goroutine of the process,
// including the host's watchdog timers. Each tick is a call into Go, where
// the goroutine can be preempted.
//
// No import is added (that would renumber every function), and the patch
// only inserts a self-contained block at the start of each loop body, so no
// branch depth or index of the original module changes.
//
// # Limits
//
// Only the instruction set the module uses is decoded: MVP, sign-extension,
// saturating float-to-int, bulk memory, reference types and tail calls.
// SIMD, threads and exception-handling opcodes are rejected with an error
// rather than guessed at, so a module using them fails loudly at start-up.
package wasmpatch
