// Package wasmpatch instruments a WebAssembly module so that the host can
// stop it at any moment, without the guest's cooperation.
//
// StopOnFlag adds one mutable i32 global, exported under a given name, and
// inserts at the head of every loop in every function body:
//
//	global.get $stop
//	if
//	  unreachable
//	end
//
// A host that sets the global to a non-zero value (from any goroutine) makes
// the guest trap at its next loop back-edge. Every unbounded computation in
// wasm either loops or recurses, recursion is bounded by the stack, and
// bulk-memory instructions are bounded by the memory size, so the time from
// setting the flag to the trap is bounded by the longest loop-free path
// through the code plus one bulk-memory operation: microseconds, whatever
// native code (a regex backtracker, a sort, JSON.stringify) the guest is in.
//
// The check costs one global load and one predictable branch per loop
// iteration. The patch only inserts a self-contained block at the start of
// each loop body, so no branch depth or index of the original module changes.
//
// # Limits
//
// Only the instruction set the module uses is decoded: MVP, sign-extension,
// saturating float-to-int, bulk memory, reference types and tail calls.
// SIMD, threads and exception-handling opcodes are rejected with an error
// rather than guessed at, so a module using them fails loudly at start-up.
package wasmpatch
